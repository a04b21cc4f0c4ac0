//! The server's CPU time and resident memory, read from /proc (Linux) when the
//! benchmark names its pid; the generator's own CPU time the same way.

use std::time::Duration;

/// Linux reports process CPU time in clock ticks of USER_HZ, 100 on every mainstream
/// architecture (the kernel's ABI, not the kernel's internal HZ).
const TICKS_PER_SEC: u64 = 100;

#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// CPU time used so far: the live threads' run time (see `threads_cpu`), else user +
    /// system time from /proc/PID/stat. Meaningful as a difference between samples.
    pub cpu: Duration,
    /// Resident set size, bytes.
    pub rss: u64,
}

pub fn sample(pid: u32) -> Result<Sample, String> {
    let cpu = match threads_cpu(pid) {
        Some(cpu) => cpu,
        None => stat_cpu(pid)?,
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or("no VmRSS in /proc status")?;
    Ok(Sample {
        cpu,
        rss: rss_kb * 1024,
    })
}

/// User + system CPU time since the process started, in 10 ms ticks: the fallback
/// where the kernel keeps no schedstats.
fn stat_cpu(pid: u32) -> Result<Duration, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // Fields after the command name (which may hold spaces) close with ')'.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or("unreadable /proc stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line (1-based): 11 and 12 here.
    let ticks = |i: usize| -> Result<u64, String> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| "unreadable /proc stat".to_owned())
    };
    let cpu_ticks = ticks(11)? + ticks(12)?;
    Ok(Duration::from_millis(cpu_ticks * 1000 / TICKS_PER_SEC))
}

/// The summed run time of the process's live threads, in nanoseconds (schedstat's first
/// field): a join storm lasts tens of milliseconds, finer than /proc/stat's 10 ms ticks.
/// Threads that have ended are missing, so it only serves for differences over a
/// scenario during which the server's threads live on. `None` without schedstats.
fn threads_cpu(pid: u32) -> Option<Duration> {
    let mut nanos = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let path = task.ok()?.path().join("schedstat");
        // A thread may end between the listing and the read.
        let Ok(stat) = std::fs::read_to_string(path) else {
            continue;
        };
        nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let began = std::time::Instant::now();
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss > 0);
        // Busy until the reading has grown by 20 ms of CPU: on a loaded machine that
        // takes longer than 20 ms, but no reading in the wrong unit gets there, and
        // none can grow faster than every core busy since the start.
        let mut grown = Duration::ZERO;
        while grown < Duration::from_millis(20) && began.elapsed() < Duration::from_secs(10) {
            let busy = std::time::Instant::now();
            while busy.elapsed() < Duration::from_millis(5) {
                std::hint::black_box(busy.elapsed());
            }
            grown = sample(std::process::id())
                .unwrap()
                .cpu
                .saturating_sub(s.cpu);
        }
        assert!(grown >= Duration::from_millis(20), "grew {grown:?}");
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        // One /proc/stat tick of rounding at each end.
        let most = began.elapsed() * cores + Duration::from_millis(20);
        assert!(grown <= most, "grew {grown:?}, at most {most:?}");
    }
}
