//! What a scenario prints: a table for people and one JSON line for scripts.

use serde_json::{Map, Value};
use std::time::Duration;

pub struct Report {
    scenario: &'static str,
    rows: Vec<(String, String)>,
    json: Map<String, Value>,
}

impl Report {
    pub fn new(scenario: &'static str) -> Self {
        let mut json = Map::new();
        json.insert("scenario".into(), scenario.into());
        Self {
            scenario,
            rows: Vec::new(),
            json,
        }
    }

    /// A figure: `key` in the JSON line, `label` and `shown` in the table.
    pub fn add(&mut self, key: &str, label: &str, value: impl Into<Value>, shown: String) {
        self.json.insert(key.into(), value.into());
        self.rows.push((label.into(), shown));
    }

    pub fn count(&mut self, key: &str, label: &str, n: u64) {
        self.add(key, label, n, n.to_string());
    }

    pub fn millis(&mut self, key: &str, label: &str, d: Duration) {
        let ms = d.as_secs_f64() * 1000.0;
        self.add(
            key,
            label,
            (ms * 1000.0).round() / 1000.0,
            format!("{ms:.2} ms"),
        );
    }

    /// The p50 and p99 of `sorted`, as `{key}_p50` / `{key}_p99` and "`label` p50 / p99".
    pub fn percentiles(&mut self, key: &str, label: &str, sorted: &[Duration]) {
        for p in [50, 99] {
            let (key, label) = (format!("{key}_p{p}"), format!("{label} p{p}"));
            self.millis(&key, &label, percentile(sorted, p));
        }
    }

    pub fn print(&self) {
        let width = self.rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
        println!("== {}", self.scenario);
        for (label, shown) in &self.rows {
            println!("{label:<width$}  {shown}");
        }
        println!("{}", Value::Object(self.json.clone()));
    }
}

/// The `p`th percentile (0..=100) of `sorted`, nearest rank.
pub fn percentile(sorted: &[Duration], p: u32) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&ms, 50), Duration::from_millis(50));
        assert_eq!(percentile(&ms, 99), Duration::from_millis(99));
        assert_eq!(percentile(&ms, 100), Duration::from_millis(100));
        assert_eq!(percentile(&ms[..1], 99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
    }
}
