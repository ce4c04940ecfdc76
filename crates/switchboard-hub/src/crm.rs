//! The CRM port: what the hub asks of a CRM, whichever it is. The built-in CRM (the hub's own
//! tables, the embedded default) is one adapter; Bitrix24 is the other.
//!
//! Mirroring (setting 1) goes through [`crate::mirror`]'s durable queue, which calls
//! [`CrmPort::write_timeline`] once per queue row and, after an attempt whose outcome is
//! unknown, [`CrmPort::find_timeline`] before writing again — so an entry lands exactly once
//! even where the CRM itself has no idempotency key.

use crate::Hub;
use std::future::Future;
use std::time::Duration;

/// One timeline entry to write, and why a CRM call did not do what was asked: the mirror
/// queue's records.
pub use crate::store::mirror_queue::{CrmFailure, TimelineJob};

/// What the hub needs from a CRM.
pub trait CrmPort: Send + Sync + 'static {
    /// Writes one timeline entry; answers the CRM's id of it.
    fn write_timeline(
        &self,
        job: &TimelineJob,
    ) -> impl Future<Output = Result<String, CrmFailure>> + Send;

    /// The CRM's id of the entry `job` describes, if it is already there.
    fn find_timeline(
        &self,
        job: &TimelineJob,
    ) -> impl Future<Output = Result<Option<String>, CrmFailure>> + Send;

    /// [`CrmPort::find_timeline`] for several entries (one answer per job, in order).
    fn find_many(
        &self,
        jobs: &[TimelineJob],
    ) -> impl Future<Output = Result<Vec<Option<String>>, CrmFailure>> + Send {
        async move {
            let mut out = Vec::with_capacity(jobs.len());
            for job in jobs {
                out.push(self.find_timeline(job).await?);
            }
            Ok(out)
        }
    }

    /// How many entries one [`CrmPort::write_batch`] takes.
    fn max_batch(&self) -> usize {
        1
    }

    /// The longest one attempt may take: the entries it claims are leased for this long
    /// (another hub skips them; a hub stopped mid-attempt takes them up again after it).
    fn attempt_limit(&self) -> Duration {
        Duration::from_secs(60)
    }

    /// Writes entries in order, stopping at the first that fails: one outcome per job (the
    /// ones after a failure answer `Retry`, not written). One at a time unless overridden.
    fn write_batch(
        &self,
        jobs: &[TimelineJob],
    ) -> impl Future<Output = Vec<Result<String, CrmFailure>>> + Send {
        async move {
            let mut out = Vec::with_capacity(jobs.len());
            let mut stopped = false;
            for job in jobs {
                if stopped {
                    out.push(Err(CrmFailure::Retry {
                        reason: "an earlier entry failed".into(),
                        maybe_written: false,
                    }));
                    continue;
                }
                let r = self.write_timeline(job).await;
                stopped = r.is_err();
                out.push(r);
            }
            out
        }
    }
}

/// The built-in CRM: timeline entries are rows of the hub's `timeline` table, unique per
/// entity and message (or per entity and chat for the Open Lines activity).
#[derive(Clone)]
pub struct BuiltInCrm {
    hub: Hub,
}

impl BuiltInCrm {
    pub fn new(hub: Hub) -> BuiltInCrm {
        BuiltInCrm { hub }
    }
}

impl CrmPort for BuiltInCrm {
    /// Local writes: seconds at most.
    fn attempt_limit(&self) -> Duration {
        Duration::from_secs(10)
    }

    fn max_batch(&self) -> usize {
        50
    }

    async fn write_timeline(&self, job: &TimelineJob) -> Result<String, CrmFailure> {
        let job = job.clone();
        self.hub
            .store_write(move |c| Ok(crate::store::timeline_write(c, &job)?))
            .await
            .map_err(|e| CrmFailure::Retry {
                reason: e.to_string(),
                maybe_written: false,
            })
    }

    async fn find_timeline(&self, job: &TimelineJob) -> Result<Option<String>, CrmFailure> {
        let job = job.clone();
        self.hub
            .store_read(move |c| Ok(crate::store::timeline_find(c, &job)?))
            .await
            .map_err(|e| CrmFailure::Retry {
                reason: e.to_string(),
                maybe_written: false,
            })
    }
}
