//! What every load driver measures with: its settings from the environment, the databases it
//! runs on, and latencies as quantiles in milliseconds.

use std::time::Duration;

use crate::support::Backend;

/// A setting of the benchmark's own (not the node's), or its default.
#[allow(clippy::disallowed_methods)] // the benchmark's own settings, not the node's
pub fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The databases to run on: both, or the one ZHIYUAN_BENCH_BACKEND names (sqlite, postgres).
#[allow(clippy::disallowed_methods)] // the benchmark's own settings, not the node's
pub fn backends() -> Vec<Backend> {
    match std::env::var("ZHIYUAN_BENCH_BACKEND").as_deref() {
        Ok("sqlite") => vec![Backend::Sqlite],
        Ok("postgres") => vec![Backend::Postgres],
        _ => vec![Backend::Sqlite, Backend::Postgres],
    }
}

/// The latency at quantile `q` (0.5 the median), by nearest rank.
pub fn quantile(latencies: &mut [Duration], q: f64) -> Duration {
    latencies.sort();
    latencies[((latencies.len() as f64 - 1.0) * q).round() as usize]
}

pub fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1000.0)
}
