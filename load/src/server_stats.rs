//! The server's CPU time and resident memory, read from /proc (Linux) when the
//! benchmark names its pid.

use std::time::Duration;

/// Linux reports process CPU time in clock ticks of USER_HZ, 100 on every mainstream
/// architecture (the kernel's ABI, not the kernel's internal HZ).
const TICKS_PER_SEC: u64 = 100;

#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
    /// User + system CPU time since the process started.
    pub cpu: Duration,
    /// Resident set size, bytes.
    pub rss: u64,
}

pub fn sample(pid: u32) -> Result<Sample, String> {
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
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .ok_or("no VmRSS in /proc status")?;
    Ok(Sample {
        cpu: Duration::from_millis(cpu_ticks * 1000 / TICKS_PER_SEC),
        rss: rss_kb * 1024,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss > 0);
    }
}
