//! What the desktop's benches time with.

#![allow(dead_code, reason = "each bench uses what it needs")]

use std::time::{Duration, Instant};

/// (median, p95) of `n` runs of `f`.
pub fn time(n: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut runs: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    runs.sort();
    (runs[n / 2], runs[(n * 95).div_ceil(100) - 1])
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
