//! The scenarios of MLPerf Inference's LoadGen, driven by a [`Clock`] so that tests can run
//! them on a fake one: single-stream (one query after another, latency per query), offline
//! (back-to-back batches, throughput) and server (Poisson arrivals handled in order by one
//! worker; latency counts the time a query waited).

#[cfg(test)]
use std::cell::Cell;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::measure::{self, Latency};

/// How long a scenario runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    /// This many timed calls.
    Iters(usize),
    /// Calls until this much time has passed (at least one).
    Time(Duration),
}

/// The most calls a time budget makes (the samples are kept in memory).
pub const MAX_CALLS: usize = 1_000_000;

impl Budget {
    /// Whether `calls` made in `elapsed` use it up.
    fn spent(self, calls: usize, elapsed: Duration) -> bool {
        match self {
            Budget::Iters(n) => calls >= n,
            Budget::Time(t) => calls >= MAX_CALLS || (calls > 0 && elapsed >= t),
        }
    }

    /// The total of a progress bar: calls, or milliseconds.
    pub fn total(self) -> u64 {
        match self {
            Budget::Iters(n) => n as u64,
            Budget::Time(t) => t.as_millis() as u64,
        }
    }

    /// The position of a progress bar after `calls` in `elapsed`.
    pub fn done(self, calls: usize, elapsed: Duration) -> u64 {
        match self {
            Budget::Iters(_) => calls as u64,
            Budget::Time(_) => elapsed.as_millis() as u64,
        }
    }
}

/// Time as the scenarios see it.
pub trait Clock {
    /// Time since the clock started.
    fn now(&self) -> Duration;
    /// Waits until [`now`](Clock::now) reaches `t` (returns at once when it has).
    fn sleep_until(&self, t: Duration);
}

/// The wall clock.
pub struct Wall(Instant);

impl Wall {
    /// A clock starting now.
    pub fn start() -> Self {
        Wall(Instant::now())
    }
}

impl Clock for Wall {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }

    fn sleep_until(&self, t: Duration) {
        if let Some(rest) = t.checked_sub(self.now()) {
            std::thread::sleep(rest);
        }
    }
}

/// A clock that only moves when told to (tests), shared by reference with the "model".
#[cfg(test)]
#[derive(Default)]
pub struct Manual(pub Cell<Duration>);

#[cfg(test)]
impl Clock for Manual {
    fn now(&self) -> Duration {
        self.0.get()
    }

    fn sleep_until(&self, t: Duration) {
        self.0.set(self.0.get().max(t));
    }
}

/// Calls `call` until `budget` is spent, timing each; `tick(calls, elapsed)` after each.
fn timed(clock: &impl Clock, budget: Budget, mut call: impl FnMut() -> anyhow::Result<()>, tick: &mut dyn FnMut(usize, Duration)) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let start = clock.now();
    let mut samples = Vec::new();
    while !budget.spent(samples.len(), clock.now() - start) {
        let t = clock.now();
        call()?;
        samples.push(clock.now() - t);
        tick(samples.len(), clock.now() - start);
    }
    Ok((samples, clock.now() - start))
}

/// Single-stream: one query of batch 1 after another.
pub fn single_stream(clock: &impl Clock, budget: Budget, call: impl FnMut() -> anyhow::Result<()>, tick: &mut dyn FnMut(usize, Duration)) -> anyhow::Result<Option<Latency>> {
    Ok(Latency::of(&timed(clock, budget, call, tick)?.0))
}

/// Offline at one batch size: what back-to-back calls of `batch` items achieve.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Offline {
    /// Items per call.
    pub batch: usize,
    /// Timed calls.
    pub calls: usize,
    /// Items per second over all the calls.
    pub throughput_per_s: f64,
    /// The median time of one call of `batch` items.
    pub p50_call_ms: f64,
}

/// Offline: calls of `batch` items back to back.
pub fn offline(clock: &impl Clock, budget: Budget, batch: usize, call: impl FnMut() -> anyhow::Result<()>, tick: &mut dyn FnMut(usize, Duration)) -> anyhow::Result<Option<Offline>> {
    let (samples, elapsed) = timed(clock, budget, call, tick)?;
    let (Some(latency), Some(throughput_per_s)) = (Latency::of(&samples), measure::throughput(samples.len() * batch, elapsed)) else { return Ok(None) };
    Ok(Some(Offline { batch, calls: samples.len(), throughput_per_s, p50_call_ms: latency.p50_ms }))
}

/// The server scenario's figures.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Server {
    /// The target arrival rate (queries per second).
    pub qps: f64,
    /// The rate the worker kept up: queries over the time until the last one completed.
    pub achieved_qps: f64,
    /// The latency bound.
    pub latency_bound_ms: f64,
    /// The share (0 to 1) of queries whose latency exceeded the bound.
    pub over_bound_fraction: f64,
    /// Latency from scheduled arrival to completion (waiting in the queue included).
    pub latency: Latency,
}

/// Server: queries arrive at the times `arrivals` (from the clock's start); one worker takes
/// them in order, each as soon as it has arrived and the previous one is done.
pub fn server(clock: &impl Clock, arrivals: &[Duration], qps: f64, bound: Duration, mut call: impl FnMut() -> anyhow::Result<()>, tick: &mut dyn FnMut(usize, Duration)) -> anyhow::Result<Option<Server>> {
    let start = clock.now();
    let mut latencies = Vec::with_capacity(arrivals.len());
    for &arrival in arrivals {
        clock.sleep_until(start + arrival);
        call()?;
        let done = clock.now() - start;
        latencies.push(done.saturating_sub(arrival));
        tick(latencies.len(), done);
    }
    let (Some(latency), Some(achieved_qps)) = (Latency::of(&latencies), measure::throughput(latencies.len(), clock.now() - start)) else { return Ok(None) };
    Ok(Some(Server { qps, achieved_qps, latency_bound_ms: bound.as_secs_f64() * 1e3, over_bound_fraction: measure::share_over(&latencies, bound), latency }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// A "model" whose calls take `service` on the manual clock.
    fn model(clock: &Manual, service: Duration) -> impl FnMut() -> anyhow::Result<()> + '_ {
        move || {
            clock.0.set(clock.0.get() + service);
            Ok(())
        }
    }

    #[test]
    fn single_stream_times_each_call() {
        let clock = Manual::default();
        let mut ticks = 0;
        let l = single_stream(&clock, Budget::Iters(4), model(&clock, ms(10)), &mut |_, _| ticks += 1).unwrap().unwrap();
        assert_eq!((l.count, ticks), (4, 4));
        assert_eq!((l.p50_ms, l.p99_ms, l.max_ms), (10.0, 10.0, 10.0));
    }

    #[test]
    fn a_time_budget_stops_after_the_time_and_makes_at_least_one_call() {
        let clock = Manual::default();
        let l = single_stream(&clock, Budget::Time(ms(95)), model(&clock, ms(10)), &mut |_, _| {}).unwrap().unwrap();
        assert_eq!(l.count, 10);
        let l = single_stream(&clock, Budget::Time(ms(1)), model(&clock, ms(10)), &mut |_, _| {}).unwrap().unwrap();
        assert_eq!(l.count, 1);
    }

    #[test]
    fn offline_throughput_counts_items() {
        let clock = Manual::default();
        let o = offline(&clock, Budget::Iters(5), 8, model(&clock, ms(40)), &mut |_, _| {}).unwrap().unwrap();
        assert_eq!(o.calls, 5);
        assert!((o.throughput_per_s - 200.0).abs() < 1e-9, "8 items per 40 ms");
        assert_eq!(o.p50_call_ms, 40.0);
    }

    #[test]
    fn server_latency_includes_the_wait_in_the_queue() {
        let clock = Manual::default();
        // Three queries at once, 10 ms each: done at 10, 20, 30 ms; then one at 100 ms, idle worker.
        let arrivals = [ms(0), ms(0), ms(0), ms(100)];
        let s = server(&clock, &arrivals, 40.0, ms(15), model(&clock, ms(10)), &mut |_, _| {}).unwrap().unwrap();
        assert_eq!(s.latency.count, 4);
        assert_eq!((s.latency.p50_ms, s.latency.max_ms), (10.0, 30.0));
        assert!((s.latency.mean_ms - 17.5).abs() < 1e-9);
        assert_eq!(s.over_bound_fraction, 0.5, "20 and 30 ms exceed 15 ms");
        assert!((s.achieved_qps - 4.0 / 0.110).abs() < 1e-9, "the last query completes at 110 ms");
        assert_eq!(clock.now(), ms(110), "the worker slept until the late arrival");
    }

    #[test]
    fn errors_stop_a_scenario() {
        let clock = Manual::default();
        let r = single_stream(&clock, Budget::Iters(3), || anyhow::bail!("boom"), &mut |_, _| {});
        assert_eq!(r.unwrap_err().to_string(), "boom");
    }
}
