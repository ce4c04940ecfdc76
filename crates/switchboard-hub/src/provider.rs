//! The messenger provider's API v3 client (contracts/messenger-provider.md): channels,
//! webhook subscription and sending. Every outcome of a send is classified for the
//! outbox: accepted, already accepted (a repeated `crmMessageId`), worth retrying (and
//! whether the provider may have accepted it after all), or refused for good.
//! The API key never leaves this module: it is not in `Debug`, errors or logs.

use serde_json::Value;
use std::time::Duration;

/// Where the provider is and how to authenticate.
#[derive(Clone)]
pub struct ProviderConfig {
    /// e.g. `https://api.wazzup24.com` (without `/v3`).
    pub base_url: String,
    pub api_key: String,
    /// Per-request timeout: past it, a send's outcome is unknown.
    pub timeout: Duration,
    /// Sends started per 5 s at most: under the provider's documented 500 requests / 5 s.
    pub pace_per_5s: usize,
}

impl ProviderConfig {
    pub fn new(base_url: &str, api_key: &str, timeout: Duration) -> ProviderConfig {
        ProviderConfig {
            base_url: base_url.to_owned(),
            api_key: api_key.to_owned(),
            timeout,
            pace_per_5s: 450,
        }
    }
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("pace_per_5s", &self.pace_per_5s)
            .finish()
    }
}

/// `GET /v3/channels` items (stored as they come: `store::upsert_provider_channels`).
pub use crate::store::ProviderChannel;

/// The body of `POST /v3/message` and what became of one attempt: the outbox's records.
pub use crate::store::outbox_queue::{Outgoing, SendOutcome};

/// A send with a file waits at least this long: the provider fetches the file (up to 10 MB)
/// from our public link before it answers.
pub const FILE_SEND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    #[error("provider answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("provider answered something unreadable: {0}")]
    Unreadable(String),
}

#[derive(Clone)]
pub struct ProviderClient {
    http: reqwest::Client,
    config: ProviderConfig,
}

/// Text of a reqwest error without the URL (which could carry a secret in the query).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "broken body"
    } else {
        "request failed"
    };
    kind.to_owned()
}

/// `repeatedCrmMessageId` / `REPEATED_CRM_MESSAGE_ID`, compared case- and underscore-blind.
fn is_repeated(code: &str) -> bool {
    code.replace('_', "")
        .eq_ignore_ascii_case("repeatedcrmmessageid")
}

impl ProviderClient {
    pub fn new(config: ProviderConfig) -> Result<ProviderClient, ProviderError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ProviderError::Unreachable(describe(&e)))?;
        Ok(ProviderClient { http, config })
    }

    /// How long one request may take (its outcome is unknown past it).
    pub fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// Sends started per 5 s at most.
    pub fn pace(&self) -> usize {
        self.config.pace_per_5s.max(1)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.bearer_auth(&self.config.api_key)
    }

    pub async fn channels(&self) -> Result<Vec<ProviderChannel>, ProviderError> {
        let r = self
            .auth(self.http.get(self.url("/v3/channels")))
            .send()
            .await
            .map_err(|e| ProviderError::Unreachable(describe(&e)))?;
        let status = r.status();
        let body = r
            .bytes()
            .await
            .map_err(|e| ProviderError::Unreachable(describe(&e)))?;
        if !status.is_success() {
            return Err(ProviderError::Status {
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            });
        }
        serde_json::from_slice(&body).map_err(|e| ProviderError::Unreadable(e.to_string()))
    }

    /// `PATCH /v3/webhooks`: the provider probes `uri` with `{"test": true}` before it answers.
    pub async fn subscribe(&self, uri: &str) -> Result<(), ProviderError> {
        let body = serde_json::json!({
            "webhooksUri": uri,
            "subscriptions": { "messagesAndStatuses": true, "channelsUpdates": true, "contactsAndDealsCreation": false },
        });
        let r = self
            .auth(self.http.patch(self.url("/v3/webhooks")))
            .json(&body)
            .send()
            .await
            .map_err(|e| ProviderError::Unreachable(describe(&e)))?;
        let status = r.status();
        if status.is_success() {
            return Ok(());
        }
        let body = r.text().await.unwrap_or_default();
        Err(ProviderError::Status {
            status: status.as_u16(),
            body: body.chars().take(300).collect(),
        })
    }

    /// How long a send may take: the provider downloads a file before it answers.
    pub fn timeout_for(&self, m: &Outgoing) -> Duration {
        if m.content_uri.is_some() {
            self.config.timeout.max(FILE_SEND_TIMEOUT)
        } else {
            self.config.timeout
        }
    }

    /// `POST /v3/message`, classified.
    pub async fn send(&self, m: &Outgoing) -> SendOutcome {
        let sent = self
            .auth(self.http.post(self.url("/v3/message")))
            .timeout(self.timeout_for(m))
            .json(m)
            .send()
            .await;
        let r = match sent {
            Ok(r) => r,
            Err(e) => {
                // A refused connection never reached the provider; anything later may have.
                return SendOutcome::Retry {
                    reason: describe(&e),
                    maybe_accepted: !e.is_connect(),
                    rate_limited: false,
                };
            }
        };
        let status = r.status();
        let body = match r.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return SendOutcome::Retry {
                    reason: describe(&e),
                    maybe_accepted: true,
                    rate_limited: false,
                }
            }
        };
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if status.is_success() {
            return match json.get("messageId").and_then(Value::as_str) {
                Some(id) => SendOutcome::Accepted(id.to_owned()),
                None => SendOutcome::Retry {
                    reason: format!("{status} without a messageId"),
                    maybe_accepted: true,
                    rate_limited: false,
                },
            };
        }
        let code = json.get("error").and_then(Value::as_str).unwrap_or("");
        let description = json
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        if status.as_u16() == 429 {
            return SendOutcome::Retry {
                reason: "rate limited (429)".into(),
                maybe_accepted: false,
                rate_limited: true,
            };
        }
        if status.is_server_error() || status.as_u16() == 408 {
            return SendOutcome::Retry {
                reason: format!("provider error {}", status.as_u16()),
                maybe_accepted: true,
                rate_limited: false,
            };
        }
        if is_repeated(code) {
            return SendOutcome::AlreadyAccepted;
        }
        if status.is_redirection() {
            // Redirects are not followed; a wrong --provider-url is fixed by an administrator
            // and the message waits meanwhile.
            return SendOutcome::Retry {
                reason: format!(
                    "the provider's address redirects ({}): check --provider-url",
                    status.as_u16()
                ),
                maybe_accepted: false,
                rate_limited: false,
            };
        }
        if status.as_u16() == 401 || status.as_u16() == 403 {
            // The key may be fixed by an administrator; the message waits rather than fails.
            return SendOutcome::Retry {
                reason: format!("provider refused the API key ({})", status.as_u16()),
                maybe_accepted: false,
                rate_limited: false,
            };
        }
        let code = if code.is_empty() {
            format!("HTTP {}", status.as_u16())
        } else {
            code.to_owned()
        };
        let fields = json
            .pointer("/data/fields")
            .map(|f| format!(" {f}"))
            .unwrap_or_default();
        SendOutcome::Refused(format!("{code}: {description}{fields}").trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_of_the_repeat_error_are_recognised() {
        assert!(is_repeated("REPEATED_CRM_MESSAGE_ID"));
        assert!(is_repeated("repeatedCrmMessageId"));
        assert!(!is_repeated("INVALID_MESSAGE_DATA"));
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let c = ProviderConfig::new(
            "http://x",
            "c8cf90444023482f909520d454368d27",
            Duration::from_secs(1),
        );
        assert!(!format!("{c:?}").contains("c8cf9044"));
    }
}
