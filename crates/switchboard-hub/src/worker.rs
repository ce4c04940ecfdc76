//! One loop for every background worker of the hub (the outbox, the CRM mirror, the Bitrix24
//! index, the provider's channel list, escalation): a round of work, then a wait until the
//! round's own deadline or the worker's doorbell, until the hub stops. The loop is owned by
//! the running hub (`RunningHub::stop` awaits it, and what the worker still has in flight).
//!
//! Durable work (the outbox, the mirror) is claimed the same way: the rows due now are read
//! again and marked in the transaction that starts the attempt, with a lease (`next_attempt_ms`
//! moves past the attempt's expected longest run), so a hub stopped or killed mid-attempt takes
//! them up again once the lease ends (after a restart that can mean waiting out the lease), and
//! a second hub on the same database would skip them while it runs. A round cut off by the
//! stop may leave a write in flight: `Hub::shut` waits for it and refuses any later one.

use crate::hub::Hub;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Why a round runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Woke {
    /// The first round after start.
    Start,
    /// The doorbell rang (new work was written), or the last round asked to go on at once.
    Bell,
    /// The round's own deadline passed.
    Timer,
}

/// A background worker: rounds of work.
pub trait Worker: Send + 'static {
    /// One round; answers how long to wait at most before the next (zero: at once).
    fn round(&mut self, hub: &Hub, woke: Woke) -> impl Future<Output = Duration> + Send;

    /// The hub stops: finish or abandon what is in flight (the default has nothing).
    fn stopped(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// Runs `worker` until the hub closes; `bell` wakes it early.
pub fn spawn<W: Worker>(
    hub: Hub,
    bell: Option<Arc<Notify>>,
    mut worker: W,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut closed = std::pin::pin!(hub.closed());
        let mut woke = Woke::Start;
        loop {
            let pause = tokio::select! {
                // Closing wins over another round (the hub refuses writes once stopped).
                biased;
                _ = &mut closed => break,
                pause = worker.round(&hub, woke) => pause,
            };
            if pause.is_zero() {
                woke = Woke::Bell;
                continue;
            }
            let rung = async {
                match &bell {
                    Some(b) => b.notified().await,
                    None => std::future::pending().await,
                }
            };
            woke = tokio::select! {
                biased;
                _ = &mut closed => break,
                _ = rung => Woke::Bell,
                _ = tokio::time::sleep(pause) => Woke::Timer,
            };
        }
        worker.stopped().await;
    })
}

/// The pause until a queue's next row is due (`at`, ms), between 10 ms and a second; a second
/// when nothing is queued.
pub fn until_due(at: Option<i64>, now_ms: i64) -> Duration {
    match at {
        Some(at) => Duration::from_millis((at - now_ms).clamp(10, 1000) as u64),
        None => Duration::from_secs(1),
    }
}
