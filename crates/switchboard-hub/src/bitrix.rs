//! Bitrix24 over an incoming webhook (contracts/crm-bitrix24.md): the REST client and its
//! [`CrmPort`] adapter.
//!
//! - Calls are `POST <webhook>/<method>.json` with a JSON body; answers are read as the
//!   envelope `{result, total, next, time}` or `{error, error_description}`.
//! - The client keeps its own leaky bucket (2 requests/s, burst 50, as the standard plan's
//!   server does) so it waits instead of drawing `QUERY_LIMIT_EXCEEDED`, and still treats a
//!   503 as "wait and retry".
//! - A timeline comment carries a short marker made from its idempotency key, so after an
//!   attempt whose outcome is unknown the adapter finds it (`crm.timeline.comment.list`)
//!   instead of writing it twice.
//! - The webhook URL is a secret: it is not in `Debug`, errors or logs (only the portal is).

use crate::crm::{CrmFailure, CrmPort, TimelineJob};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum BitrixError {
    #[error("not a Bitrix24 incoming webhook URL (https://<portal>/rest/<user>/<code>/)")]
    BadUrl,
    /// Worth retrying: `maybe_done` when the portal may have acted anyway.
    #[error("{reason}")]
    Transient { reason: String, maybe_done: bool },
    /// The portal said no: its `error` and `error_description`.
    #[error("{code}: {description}")]
    Refused { code: String, description: String },
}

impl From<BitrixError> for CrmFailure {
    fn from(e: BitrixError) -> CrmFailure {
        match e {
            BitrixError::Transient { reason, maybe_done } => CrmFailure::Retry {
                reason,
                maybe_written: maybe_done,
            },
            other => CrmFailure::Refused(other.to_string()),
        }
    }
}

/// Commands one `batch` call may carry.
pub const BATCH_MAX: usize = 50;

/// The client's leaky bucket: `burst` requests at once, then `per_sec`.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub burst: f64,
    pub per_sec: f64,
}

impl Rate {
    /// The standard plan (contract §2): 50 at once, 2 a second.
    pub const STANDARD: Rate = Rate {
        burst: 50.0,
        per_sec: 2.0,
    };
}

pub struct Bitrix24 {
    http: reqwest::Client,
    /// `https://<portal>/rest/<user>/<code>/` — secret.
    base: String,
    portal: String,
    user_id: String,
    rate: Rate,
    bucket: tokio::sync::Mutex<(f64, Instant)>,
    /// One request's limit.
    timeout: Duration,
}

impl std::fmt::Debug for Bitrix24 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bitrix24")
            .field("portal", &self.portal)
            .field("webhook", &"<redacted>")
            .finish()
    }
}

/// One command's outcome inside a `batch`.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchItem {
    Done(Value),
    Failed {
        code: String,
        description: String,
    },
    /// The batch halted before it.
    NotReached,
}

/// What one call answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub result: Value,
    pub total: Option<u64>,
    pub next: Option<u64>,
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        "request failed".into()
    }
}

impl Bitrix24 {
    /// Reads the webhook URL (`http` is allowed only for loopback, where tests run).
    pub fn new(webhook: &str, timeout: Duration, rate: Rate) -> Result<Bitrix24, BitrixError> {
        let url = reqwest::Url::parse(webhook.trim()).map_err(|_| BitrixError::BadUrl)?;
        let host = url.host_str().ok_or(BitrixError::BadUrl)?.to_owned();
        let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]");
        if !(url.scheme() == "https" || (url.scheme() == "http" && loopback)) {
            return Err(BitrixError::BadUrl);
        }
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let [rest, user, code] = segments.as_slice() else {
            return Err(BitrixError::BadUrl);
        };
        if *rest != "rest" || user.parse::<u64>().is_err() || code.is_empty() {
            return Err(BitrixError::BadUrl);
        }
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent("Switchboard")
            // The portal answers where it is asked; a redirect elsewhere is not followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BitrixError::Transient {
                reason: describe(&e),
                maybe_done: false,
            })?;
        Ok(Bitrix24 {
            http,
            base: format!("{}://{host}{port}/rest/{user}/{code}/", url.scheme()),
            portal: format!("{host}{port}"),
            user_id: (*user).to_owned(),
            rate,
            bucket: tokio::sync::Mutex::new((0.0, Instant::now())),
            timeout,
        })
    }

    pub fn portal(&self) -> &str {
        &self.portal
    }

    /// Waits until the bucket has room for one more request, then takes it.
    async fn take(&self) {
        let mut b = self.bucket.lock().await;
        loop {
            let now = Instant::now();
            let level = (b.0 - now.duration_since(b.1).as_secs_f64() * self.rate.per_sec).max(0.0);
            if level + 1.0 <= self.rate.burst {
                *b = (level + 1.0, now);
                return;
            }
            let wait = (level + 1.0 - self.rate.burst) / self.rate.per_sec;
            *b = (level, now);
            tokio::time::sleep(Duration::from_secs_f64(wait.max(0.01))).await;
        }
    }

    /// One REST call.
    pub async fn call(&self, method: &str, params: &Value) -> Result<Answer, BitrixError> {
        self.take().await;
        let sent = self
            .http
            .post(format!("{}{method}.json", self.base))
            .json(params)
            .send()
            .await;
        let r = match sent {
            Ok(r) => r,
            Err(e) => {
                return Err(BitrixError::Transient {
                    reason: describe(&e),
                    maybe_done: !e.is_connect(),
                })
            }
        };
        let status = r.status();
        let body: Value = match r.bytes().await {
            Ok(b) => serde_json::from_slice(&b).unwrap_or(Value::Null),
            Err(e) => {
                return Err(BitrixError::Transient {
                    reason: describe(&e),
                    maybe_done: true,
                })
            }
        };
        let code = body.get("error").and_then(Value::as_str).map(str::to_owned);
        let description = body
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if status.is_success() && code.is_none() {
            return Ok(Answer {
                total: body.get("total").and_then(Value::as_u64),
                next: body.get("next").and_then(Value::as_u64),
                result: body.get("result").cloned().unwrap_or(Value::Null),
            });
        }
        let code = code.unwrap_or_default();
        match (status.as_u16(), code.as_str()) {
            (503, _) | (429, _) | (_, "QUERY_LIMIT_EXCEEDED") | (_, "OPERATION_TIME_LIMIT") => {
                Err(BitrixError::Transient {
                    reason: format!("{status} {code}").trim().to_owned(),
                    maybe_done: false,
                })
            }
            (401, _) => Err(BitrixError::Transient {
                // The webhook may be fixed on the "CRM integration" screen; nothing is lost meanwhile.
                reason: format!("the portal refused the webhook ({code})"),
                maybe_done: false,
            }),
            (s, _) if s >= 500 => Err(BitrixError::Transient {
                reason: format!("{status} {code}").trim().to_owned(),
                maybe_done: true,
            }),
            // Redirects are not followed: say what to do instead of "HTTP 301".
            (s, _) if (300..400).contains(&s) => Err(BitrixError::Refused {
                code: "redirect".into(),
                description:
                    "the address redirects elsewhere: enter the portal's own https://… address"
                        .into(),
            }),
            _ => Err(BitrixError::Refused {
                code: if code.is_empty() {
                    format!("HTTP {}", status.as_u16())
                } else {
                    code
                },
                description,
            }),
        }
    }

    /// One `batch` call: `cmds` (`method?query`) run in the order given; with `halt` the portal
    /// stops at the first failure. One outcome per command.
    pub async fn batch(&self, cmds: &[String], halt: bool) -> Result<Vec<BatchItem>, BitrixError> {
        let a = self
            .call("batch", &json!({ "halt": u8::from(halt), "cmd": cmds }))
            .await?;
        // PHP answers a list for keys 0..n and an object otherwise (`[]` when empty).
        let pick = |part: &str, i: usize| -> Option<Value> {
            match a.result.get(part)? {
                Value::Object(m) => m.get(&i.to_string()).cloned(),
                Value::Array(l) => l.get(i).cloned(),
                _ => None,
            }
        };
        Ok((0..cmds.len())
            .map(|i| {
                if let Some(v) = pick("result", i) {
                    return BatchItem::Done(v);
                }
                match pick("result_error", i) {
                    Some(e) => BatchItem::Failed {
                        code: e
                            .get("error")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        description: e
                            .get("error_description")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    },
                    None => BatchItem::NotReached,
                }
            })
            .collect())
    }

    /// Check connection: the portal and the webhook's user.
    pub async fn check(&self) -> Result<(String, String), BitrixError> {
        let a = self
            .call("user.get", &json!({ "FILTER": { "ID": self.user_id } }))
            .await?;
        let user = a.result.get(0).cloned().unwrap_or(Value::Null);
        let name = [user.get("NAME"), user.get("LAST_NAME")]
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Ok((
            self.portal.clone(),
            if name.is_empty() {
                format!("user {}", self.user_id)
            } else {
                name
            },
        ))
    }
}

/// The marker a comment carries so it can be found again: `#sb` and 12 hex digits of the key's SHA-256.
pub fn marker(key: &str) -> String {
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(key.as_bytes()));
    format!("#sb{}", &digest[..12])
}

fn comment_fields(job: &TimelineJob) -> Value {
    json!({
        "ENTITY_ID": job.entity.id.parse::<u64>().unwrap_or(0),
        "ENTITY_TYPE": job.entity.kind.as_str(),
        "COMMENT": format!("{}\n{}", job.text, marker(&job.key)),
    })
}

/// PHP query-string form of the comment (a `batch` command is `method?query`).
fn comment_query(job: &TimelineJob) -> String {
    let f = comment_fields(job);
    let enc = |v: &Value| match v {
        Value::String(s) => crate::encode_component(s),
        other => crate::encode_component(&other.to_string()),
    };
    format!(
        "fields[ENTITY_ID]={}&fields[ENTITY_TYPE]={}&fields[COMMENT]={}",
        enc(&f["ENTITY_ID"]),
        enc(&f["ENTITY_TYPE"]),
        enc(&f["COMMENT"])
    )
}

fn entry_id(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl CrmPort for Bitrix24 {
    /// A lookup and a batch write, each bounded by the request timeout (waits for the rate
    /// limit come on top, so a margin).
    fn attempt_limit(&self) -> Duration {
        self.timeout * 3
    }

    async fn write_timeline(&self, job: &TimelineJob) -> Result<String, CrmFailure> {
        let a = self
            .call(
                "crm.timeline.comment.add",
                &json!({ "fields": comment_fields(job) }),
            )
            .await?;
        Ok(entry_id(&a.result))
    }

    async fn find_timeline(&self, job: &TimelineJob) -> Result<Option<String>, CrmFailure> {
        Ok(self
            .find_many(std::slice::from_ref(job))
            .await?
            .pop()
            .flatten())
    }

    /// One `crm.timeline.comment.list` per entity (newest first, a few pages: unsure
    /// entries are recent), matched by marker.
    async fn find_many(&self, jobs: &[TimelineJob]) -> Result<Vec<Option<String>>, CrmFailure> {
        let mut out: Vec<Option<String>> = vec![None; jobs.len()];
        let mut entities: Vec<&switchboard_core::CrmRef> = jobs.iter().map(|j| &j.entity).collect();
        entities.sort_by(|a, b| (a.kind.as_str(), &a.id).cmp(&(b.kind.as_str(), &b.id)));
        entities.dedup();
        for entity in entities {
            let wanted: Vec<(usize, String)> = jobs
                .iter()
                .enumerate()
                .filter(|(_, j)| j.entity == *entity)
                .map(|(i, j)| (i, marker(&j.key)))
                .collect();
            let mut start = 0;
            for _ in 0..4 {
                let a = self
                    .call(
                        "crm.timeline.comment.list",
                        &json!({
                            "filter": { "ENTITY_ID": entity.id, "ENTITY_TYPE": entity.kind.as_str() },
                            "select": ["ID", "COMMENT"], "order": { "ID": "DESC" }, "start": start,
                        }),
                    )
                    .await?;
                for row in a.result.as_array().into_iter().flatten() {
                    let comment = row.get("COMMENT").and_then(Value::as_str).unwrap_or("");
                    for (i, m) in &wanted {
                        if comment.contains(m.as_str()) {
                            out[*i] = Some(row.get("ID").map(entry_id).unwrap_or_default());
                        }
                    }
                }
                if wanted.iter().all(|(i, _)| out[*i].is_some()) {
                    break;
                }
                match a.next {
                    Some(n) => start = n,
                    None => break,
                }
            }
        }
        Ok(out)
    }

    fn max_batch(&self) -> usize {
        BATCH_MAX
    }

    /// One `batch` call with `halt`: in order, stopping at the first failure.
    async fn write_batch(&self, jobs: &[TimelineJob]) -> Vec<Result<String, CrmFailure>> {
        if jobs.len() == 1 {
            return vec![self.write_timeline(&jobs[0]).await];
        }
        // An array: its order is the order the portal runs them in.
        let cmds: Vec<String> = jobs
            .iter()
            .map(|j| format!("crm.timeline.comment.add?{}", comment_query(j)))
            .collect();
        let items = match self.batch(&cmds, true).await {
            Ok(items) => items,
            Err(e) => {
                let f: CrmFailure = e.into();
                return jobs.iter().map(|_| Err(f.clone())).collect();
            }
        };
        items
            .into_iter()
            .map(|item| match item {
                BatchItem::Done(v) => Ok(entry_id(&v)),
                BatchItem::Failed { code, description } => Err(
                    if code == "QUERY_LIMIT_EXCEEDED" || code == "INTERNAL_SERVER_ERROR" {
                        CrmFailure::Retry {
                            reason: format!("{code}: {description}"),
                            maybe_written: code == "INTERNAL_SERVER_ERROR",
                        }
                    } else {
                        CrmFailure::Refused(format!("{code}: {description}"))
                    },
                ),
                BatchItem::NotReached => Err(CrmFailure::Retry {
                    reason: "not reached: the batch halted earlier".into(),
                    maybe_written: false,
                }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_checked_and_never_shown() {
        let ok = Bitrix24::new(
            "https://example.bitrix24.ru/rest/1/q1w2e3r4t5y6u7i8/",
            Duration::from_secs(1),
            Rate::STANDARD,
        )
        .expect("valid");
        assert_eq!(ok.portal(), "example.bitrix24.ru");
        assert!(!format!("{ok:?}").contains("q1w2e3"));
        for bad in [
            "http://example.bitrix24.ru/rest/1/code/",
            "https://example.bitrix24.ru/rest/x/code/",
            "https://example.bitrix24.ru/api/1/code/",
            "not a url",
        ] {
            assert_eq!(
                Bitrix24::new(bad, Duration::from_secs(1), Rate::STANDARD).err(),
                Some(BitrixError::BadUrl),
                "{bad}"
            );
        }
    }

    #[test]
    fn markers_are_short_and_stable() {
        assert_eq!(marker("k"), marker("k"));
        assert_ne!(marker("k1"), marker("k2"));
        assert_eq!(marker("k").len(), 15);
    }
}
