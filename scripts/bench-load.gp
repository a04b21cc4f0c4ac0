# Server CPU against subscribers of one 1.5 Mbit/s publisher (scripts/bench-load.sh).
set terminal png size 800,500
set output outfile
set title "Server CPU, one publisher fanned out (same machine, same run)"
set xlabel "subscribers"
set ylabel "server CPU (% of one core)"
set key left top
set grid
plot datafile using 1:2 with linespoints title "emedia-server", \
     datafile using 1:3 with linespoints title "Janus 1.1.2 VideoRoom"
