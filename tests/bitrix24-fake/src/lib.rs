//! A contract fake of Bitrix24's classic REST API over an incoming webhook, as written down in
//! `shared/spec/contracts/crm-bitrix24.md` (§15 is the summary it follows).
//!
//! - `/rest/<user>/<code>/<method>[.json]`; parameters from a GET query (PHP brackets), a JSON
//!   body or a form-urlencoded body. A wrong `<user>/<code>` → 401 `NO_AUTH_FOUND`.
//! - Envelope `{result, total?, next?, time}`; errors `{error, error_description}`.
//! - A real leaky bucket: each request +1, drains 2/s, over 50 → 503 `QUERY_LIMIT_EXCEEDED`
//!   (`batch` counts once).
//! - Leads, contacts, deals: `add`, `update`, `delete`, `get` (legacy not-found: 400 with
//!   `"error": ""`), `list` (50 a page, `total`/`next`, multi-fields only when selected);
//!   `crm.status.list` (the standard lead statuses and deal stages);
//!   `crm.deal.contact.items.get`; `crm.duplicate.findbycomm` (≤20 values, integer ids, `[]`
//!   when none); `crm.timeline.comment.add` (lower-case `fields`) and `.list`; `user.get`;
//!   `batch` (≤50 commands, `halt`).
//!
//! - The outgoing webhook (§10): once a handler is set, every add, update and delete of a lead,
//!   contact or deal is POSTed to it form-encoded (`event=ONCRMDEALUPDATE&data[FIELDS][ID]=…&
//!   auth[application_token]=…`), in order, once — the portal never resends.
//!
//! Fake-only, under `/_fake/` (same webhook): faults for the next calls (500, 503, a hang
//! after the write), an outage for a while, the outgoing webhook's handler, and the timeline
//! comments written so far.

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Records per page of a list method.
pub const PAGE: usize = 50;
/// Commands per batch.
pub const BATCH_MAX: usize = 50;

#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// `USER_ID/CODE` of the incoming webhook.
    pub user_id: u64,
    pub code: String,
    /// The leaky bucket: capacity (X) and drain per second (Y). Standard plan: 50 and 2.
    pub burst: f64,
    pub drain_per_sec: f64,
    /// How long a hanging fault holds its request.
    pub hang: Duration,
}

impl FakeConfig {
    pub fn new(user_id: u64, code: &str) -> FakeConfig {
        FakeConfig {
            user_id,
            code: code.to_owned(),
            burst: 50.0,
            drain_per_sec: 2.0,
            hang: Duration::from_secs(30),
        }
    }

    /// Reads `USER_ID/CODE`.
    pub fn parse_webhook(s: &str) -> Result<(u64, String), String> {
        let (user, code) = s
            .split_once('/')
            .ok_or_else(|| format!("webhook {s:?}: expected USER_ID/CODE"))?;
        let user = user
            .parse()
            .map_err(|_| format!("webhook {s:?}: USER_ID must be a number"))?;
        if code.is_empty() {
            return Err(format!("webhook {s:?}: CODE is empty"));
        }
        Ok((user, code.to_owned()))
    }
}

/// A failure to inject into the next request (one per request, in order).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Fault {
    /// 500 `INTERNAL_SERVER_ERROR` without doing anything.
    ServerError,
    /// 503 `QUERY_LIMIT_EXCEEDED` whatever the bucket says.
    QueryLimit,
    /// Do it, then hang before answering: the caller never learns.
    HangAfterWrite,
}

/// A timeline comment as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub entity_type: String,
    pub entity_id: u64,
    pub comment: String,
    pub author_id: u64,
    pub created: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Lead,
    Contact,
    Deal,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s.to_ascii_lowercase().as_str() {
            "lead" => Some(Kind::Lead),
            "contact" => Some(Kind::Contact),
            "deal" => Some(Kind::Deal),
            _ => None,
        }
    }
    fn upper(self) -> &'static str {
        match self {
            Kind::Lead => "LEAD",
            Kind::Contact => "CONTACT",
            Kind::Deal => "DEAL",
        }
    }
    fn has_phones(self) -> bool {
        self != Kind::Deal
    }
}

#[derive(Default)]
struct Portal {
    next_id: u64,
    entities: BTreeMap<(Kind, u64), Map<String, Value>>,
    comments: Vec<Comment>,
    bucket: Option<(f64, Instant)>,
    faults: VecDeque<Fault>,
    outage_until: Option<Instant>,
    requests: u64,
    /// Every authorised call, refused ones (outage, rate limit) included.
    calls: u64,
}

struct Inner {
    config: FakeConfig,
    portal: Mutex<Portal>,
    /// Events for the outgoing webhook, sent in order by one task.
    events: tokio::sync::mpsc::UnboundedSender<(String, u64)>,
    outgoing: Mutex<Option<Outgoing>>,
}

/// Where the outgoing webhook posts, and the application token the portal showed for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outgoing {
    pub handler: String,
    pub application_token: String,
}

/// A handle on a running fake (cheap to clone).
#[derive(Clone)]
pub struct Fake {
    inner: Arc<Inner>,
}

pub struct RunningFake {
    pub url: String,
    /// `http://127.0.0.1:<port>/rest/<user>/<code>/`
    pub webhook: String,
    pub fake: Fake,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RunningFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(listen: SocketAddr, config: FakeConfig) -> anyhow::Result<RunningFake> {
    let webhook_path = format!("/rest/{}/{}/", config.user_id, config.code);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, u64)>();
    let fake = Fake {
        inner: Arc::new(Inner {
            config,
            portal: Mutex::new(Portal {
                next_id: 1,
                ..Portal::default()
            }),
            events: tx,
            outgoing: Mutex::new(None),
        }),
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let sender = fake.clone();
    let domain = url.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        let mut handler_id = 700;
        while let Some((event, id)) = rx.recv().await {
            let Some(out) = sender.outgoing() else {
                continue;
            };
            handler_id += 1;
            let ts = chrono::Utc::now().timestamp().to_string();
            let form = [
                ("event", event.clone()),
                ("event_handler_id", handler_id.to_string()),
                ("data[FIELDS][ID]", id.to_string()),
                ("ts", ts),
                ("auth[domain]", domain.clone()),
                ("auth[client_endpoint]", format!("http://{domain}/rest/")),
                (
                    "auth[server_endpoint]",
                    "https://oauth.bitrix.info/rest/".to_owned(),
                ),
                (
                    "auth[member_id]",
                    "a223c6b3710f85df22e9377d6c4f7553".to_owned(),
                ),
                ("auth[application_token]", out.application_token.clone()),
            ];
            // Sent once: a handler that is down or answers an error loses the event.
            match http.post(&out.handler).form(&form).send().await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::info!(%event, status = %r.status(), "event handler refused; not resent")
                }
                Err(e) => {
                    tracing::info!(%event, error = %e, "event handler unreachable; not resent")
                }
            }
        }
    });
    let app = router(fake.clone());
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "bitrix24 fake stopped");
        }
    });
    Ok(RunningFake {
        webhook: format!("{url}{webhook_path}"),
        url,
        fake,
        task,
    })
}

impl Fake {
    fn portal(&self) -> MutexGuard<'_, Portal> {
        self.inner.portal.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        self.portal().faults.extend(faults);
    }

    /// Every call answers 503 for `d` from now.
    pub fn outage(&self, d: Duration) {
        self.portal().outage_until = Some(Instant::now() + d);
    }

    /// Sets (or clears) the outgoing webhook: the handler and its application token.
    pub fn set_outgoing(&self, outgoing: Option<Outgoing>) {
        *self
            .inner
            .outgoing
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = outgoing;
    }

    fn outgoing(&self) -> Option<Outgoing> {
        self.inner
            .outgoing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Queues an event for the outgoing webhook (when one is set).
    fn emit(&self, kind: Kind, op: &str, id: u64) {
        let _ = self
            .inner
            .events
            .send((format!("ONCRM{}{op}", kind.upper()), id));
    }

    /// Changes an entity directly, as a person would in the portal.
    pub fn update(&self, kind: &str, id: u64, fields: Value) -> Result<(), String> {
        let kind = Kind::parse(kind).ok_or_else(|| format!("unknown kind {kind}"))?;
        let fields = fields.as_object().cloned().unwrap_or_default();
        {
            let mut p = self.portal();
            let e = p
                .entities
                .get_mut(&(kind, id))
                .ok_or_else(|| format!("no {kind:?} {id}"))?;
            let mut next = id * 1000 + 500;
            apply_fields(e, kind, &fields, &mut next);
        }
        self.emit(kind, "UPDATE", id);
        Ok(())
    }

    pub fn comments(&self) -> Vec<Comment> {
        self.portal().comments.clone()
    }

    /// Deletes an entity directly, as a person would in the portal.
    pub fn delete(&self, kind: &str, id: u64) -> Result<(), String> {
        let kind = Kind::parse(kind).ok_or_else(|| format!("unknown kind {kind}"))?;
        self.portal()
            .entities
            .remove(&(kind, id))
            .ok_or_else(|| format!("no {kind:?} {id}"))?;
        self.emit(kind, "DELETE", id);
        Ok(())
    }

    /// Calls made, answered or refused (an outage, the rate limit).
    pub fn calls(&self) -> u64 {
        self.portal().calls
    }

    /// HTTP requests served (batch counts once).
    pub fn requests(&self) -> u64 {
        self.portal().requests
    }

    /// Creates an entity directly (tests fill the portal this way or through `crm.*.add`).
    pub fn add(&self, kind: &str, fields: Value) -> Result<u64, String> {
        let kind = Kind::parse(kind).ok_or_else(|| format!("unknown kind {kind}"))?;
        let fields = fields.as_object().cloned().unwrap_or_default();
        let id = add_entity(&mut self.portal(), kind, &fields, self.inner.config.user_id);
        self.emit(kind, "ADD", id);
        Ok(id)
    }

    /// Leaky bucket: `true` when this request fits.
    fn admit(&self) -> bool {
        let cfg = &self.inner.config;
        let mut p = self.portal();
        let now = Instant::now();
        let level = match p.bucket {
            Some((level, at)) => {
                (level - now.duration_since(at).as_secs_f64() * cfg.drain_per_sec).max(0.0)
            }
            None => 0.0,
        };
        if level + 1.0 > cfg.burst {
            p.bucket = Some((level, now));
            return false;
        }
        p.bucket = Some((level + 1.0, now));
        p.requests += 1;
        true
    }
}

fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}

fn time_block() -> Value {
    let t = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    json!({ "start": t, "finish": t + 0.01, "duration": 0.01, "processing": 0.0,
            "date_start": now_iso(), "date_finish": now_iso(), "operating_reset_at": t as i64 + 600, "operating": 0 })
}

/// A method's failure: HTTP status, `error`, `error_description`.
#[derive(Debug, Clone)]
pub struct Failure(StatusCode, String, String);

impl Failure {
    fn new(status: StatusCode, code: &str, description: &str) -> Failure {
        Failure(status, code.to_owned(), description.to_owned())
    }
    fn bad(code: &str, description: &str) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, code, description)
    }
    fn body(&self) -> Value {
        json!({ "error": self.1, "error_description": self.2 })
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.0, Json(self.body())).into_response()
    }
}

/// A method's success: `result` and, for lists, `total`/`next`.
struct Success {
    result: Value,
    total: Option<usize>,
    next: Option<usize>,
}

impl Success {
    fn of(result: Value) -> Success {
        Success {
            result,
            total: None,
            next: None,
        }
    }
}

pub fn router(fake: Fake) -> Router {
    Router::new()
        .route("/rest/{user}/{code}/{method}", get(call).post(call))
        .route("/_fake/{user}/{code}/faults", post(faults))
        .route("/_fake/{user}/{code}/outage", post(outage))
        .route("/_fake/{user}/{code}/comments", get(comments))
        .route("/_fake/{user}/{code}/outgoing", post(outgoing))
        .with_state(fake)
}

fn authorised(fake: &Fake, user: &str, code: &str) -> bool {
    user == fake.inner.config.user_id.to_string() && code == fake.inner.config.code
}

#[derive(Deserialize)]
struct FaultsBody(Vec<Fault>);

async fn faults(
    State(fake): State<Fake>,
    Path((user, code)): Path<(String, String)>,
    Json(FaultsBody(f)): Json<FaultsBody>,
) -> StatusCode {
    if !authorised(&fake, &user, &code) {
        return StatusCode::UNAUTHORIZED;
    }
    fake.inject(f);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct OutageQuery {
    ms: u64,
}

async fn outage(
    State(fake): State<Fake>,
    Path((user, code)): Path<(String, String)>,
    Query(q): Query<OutageQuery>,
) -> StatusCode {
    if !authorised(&fake, &user, &code) {
        return StatusCode::UNAUTHORIZED;
    }
    fake.outage(Duration::from_millis(q.ms));
    StatusCode::NO_CONTENT
}

async fn outgoing(
    State(fake): State<Fake>,
    Path((user, code)): Path<(String, String)>,
    Json(o): Json<Option<Outgoing>>,
) -> StatusCode {
    if !authorised(&fake, &user, &code) {
        return StatusCode::UNAUTHORIZED;
    }
    fake.set_outgoing(o);
    StatusCode::NO_CONTENT
}

async fn comments(
    State(fake): State<Fake>,
    Path((user, code)): Path<(String, String)>,
) -> Response {
    if !authorised(&fake, &user, &code) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(fake.comments()).into_response()
}

fn qs(s: &str) -> Result<Value, Failure> {
    if s.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_qs::Config::new()
        .max_depth(6)
        .use_form_encoding(true)
        .deserialize_str::<Value>(s)
        .map_err(|e| Failure::bad("INVALID_REQUEST", &format!("cannot read parameters: {e}")))
}

/// Parameters from the query string and the body (JSON or form-urlencoded), body winning.
fn params(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Value, Failure> {
    let mut p = qs(query.unwrap_or(""))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(p);
    }
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let b: Value = if ct.contains("json") || body.first() == Some(&b'{') {
        serde_json::from_slice(body)
            .map_err(|e| Failure::bad("INVALID_REQUEST", &format!("body is not JSON: {e}")))?
    } else {
        qs(&String::from_utf8_lossy(body))?
    };
    if let (Some(p), Some(b)) = (p.as_object_mut(), b.as_object()) {
        for (k, v) in b {
            p.insert(k.clone(), v.clone());
        }
    }
    Ok(p)
}

async fn call(
    State(fake): State<Fake>,
    Path((user, code, method)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !authorised(&fake, &user, &code) {
        return Failure::new(
            StatusCode::UNAUTHORIZED,
            "NO_AUTH_FOUND",
            "Wrong authorization data",
        )
        .into_response();
    }
    fake.portal().calls += 1;
    let limited = fake
        .portal()
        .outage_until
        .is_some_and(|t| Instant::now() < t);
    if limited || !fake.admit() {
        return Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "QUERY_LIMIT_EXCEEDED",
            "Too many requests",
        )
        .into_response();
    }
    let fault = fake.portal().faults.pop_front();
    match fault {
        Some(Fault::ServerError) => {
            return Failure::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                "Internal server error",
            )
            .into_response()
        }
        Some(Fault::QueryLimit) => {
            return Failure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "QUERY_LIMIT_EXCEEDED",
                "Too many requests",
            )
            .into_response()
        }
        Some(Fault::HangAfterWrite) | None => {}
    }
    let method = method.strip_suffix(".json").unwrap_or(&method).to_owned();
    let p = match params(query.as_deref(), &headers, &body) {
        Ok(p) => p,
        Err(f) => return f.into_response(),
    };
    let answer = if method == "batch" {
        batch(&fake, &p)
    } else {
        dispatch(&fake, &method, &p)
    };
    if fault == Some(Fault::HangAfterWrite) {
        tokio::time::sleep(fake.inner.config.hang).await;
    }
    match answer {
        Ok(s) => {
            let mut body = json!({ "result": s.result, "time": time_block() });
            if let Some(t) = s.total {
                body["total"] = json!(t);
            }
            if let Some(n) = s.next {
                body["next"] = json!(n);
            }
            (StatusCode::OK, Json(body)).into_response()
        }
        Err(f) => f.into_response(),
    }
}

fn batch(fake: &Fake, p: &Value) -> Result<Success, Failure> {
    let halt = matches!(p.get("halt"), Some(Value::Bool(true)))
        || p.get("halt").and_then(Value::as_str) == Some("1")
        || p.get("halt").and_then(Value::as_i64) == Some(1);
    let cmds: Vec<(String, String)> = match p.get("cmd") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v.as_str().unwrap_or_default().to_owned()))
            .collect(),
        _ => {
            return Err(Failure::bad(
                "INVALID_REQUEST",
                "Parameter 'cmd' is required",
            ))
        }
    };
    if cmds.len() > BATCH_MAX {
        return Err(Failure::bad(
            "ERROR_BATCH_LENGTH_EXCEEDED",
            "Max batch length exceeded",
        ));
    }
    let (mut result, mut errors, mut totals, mut nexts, mut times) =
        (Map::new(), Map::new(), Map::new(), Map::new(), Map::new());
    for (key, cmd) in cmds {
        let (method, query) = cmd.split_once('?').unwrap_or((cmd.as_str(), ""));
        let method = method.trim_start_matches('/');
        let outcome = if method == "batch" {
            Err(Failure::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "ERROR_BATCH_METHOD_NOT_ALLOWED",
                "Method is not allowed for batch usage",
            ))
        } else {
            qs(query).and_then(|q| dispatch(fake, method, &q))
        };
        match outcome {
            Ok(s) => {
                result.insert(key.clone(), s.result);
                if let Some(t) = s.total {
                    totals.insert(key.clone(), json!(t));
                }
                if let Some(n) = s.next {
                    nexts.insert(key.clone(), json!(n));
                }
                times.insert(key, time_block());
            }
            Err(f) => {
                errors.insert(key, f.body());
                if halt {
                    break;
                }
            }
        }
    }
    // PHP serialises an array keyed 0..n (and an empty one) as a JSON list.
    let obj = |m: Map<String, Value>| {
        let sequential = m.keys().enumerate().all(|(i, k)| *k == i.to_string());
        if sequential {
            Value::Array(m.into_iter().map(|(_, v)| v).collect())
        } else {
            Value::Object(m)
        }
    };
    Ok(Success::of(json!({
        "result": obj(result), "result_error": obj(errors), "result_total": obj(totals),
        "result_next": obj(nexts), "result_time": obj(times),
    })))
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "Y" } else { "N" }.to_owned()),
        _ => None,
    }
}

fn id_param(p: &Value) -> Result<u64, Failure> {
    p.get("id")
        .or_else(|| p.get("ID"))
        .and_then(str_of)
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|i| *i > 0)
        .ok_or_else(|| Failure::bad("", "ID is not defined or invalid."))
}

fn fields_param(p: &Value) -> Result<Map<String, Value>, Failure> {
    match p.get("fields") {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(Failure::bad("", "Parameter 'fields' must be array.")),
    }
}

/// Stores an entity: scalar values as strings, multi-fields with ids, as Bitrix24 answers them.
fn add_entity(p: &mut Portal, kind: Kind, fields: &Map<String, Value>, author: u64) -> u64 {
    let id = p.next_id;
    p.next_id += 1;
    let mut e = Map::new();
    e.insert("ID".into(), json!(id.to_string()));
    e.insert("ASSIGNED_BY_ID".into(), json!(author.to_string()));
    e.insert("DATE_CREATE".into(), json!(now_iso()));
    match kind {
        Kind::Deal => {
            e.insert("CLOSED".into(), json!("N"));
            e.insert("STAGE_ID".into(), json!("NEW"));
            e.insert("STAGE_SEMANTIC_ID".into(), json!("P"));
            e.insert("CATEGORY_ID".into(), json!("0"));
            e.insert("CONTACT_ID".into(), Value::Null);
        }
        Kind::Lead => {
            e.insert("STATUS_ID".into(), json!("NEW"));
            e.insert("STATUS_SEMANTIC_ID".into(), json!("P"));
        }
        Kind::Contact => {}
    }
    let mut next_multi = id * 1000;
    apply_fields(&mut e, kind, fields, &mut next_multi);
    p.entities.insert((kind, id), e);
    id
}

fn apply_fields(
    e: &mut Map<String, Value>,
    kind: Kind,
    fields: &Map<String, Value>,
    next_multi: &mut u64,
) {
    for (k, v) in fields {
        let key = k.to_ascii_uppercase();
        match (key.as_str(), v) {
            ("PHONE" | "EMAIL" | "IM" | "WEB", Value::Array(items)) if kind.has_phones() => {
                let list: Vec<Value> = items
                    .iter()
                    .filter_map(|i| {
                        let value = i.get("VALUE").and_then(str_of)?;
                        *next_multi += 1;
                        Some(json!({
                            "ID": next_multi.to_string(),
                            "VALUE_TYPE": i.get("VALUE_TYPE").and_then(str_of).unwrap_or_else(|| "WORK".into()),
                            "VALUE": value,
                            "TYPE_ID": key,
                        }))
                    })
                    .collect();
                e.insert(key.clone(), Value::Array(list));
            }
            ("CONTACT_IDS", Value::Array(ids)) if kind == Kind::Deal => {
                let ids: Vec<String> = ids.iter().filter_map(str_of).collect();
                e.insert(
                    "CONTACT_ID".into(),
                    ids.first().map_or(Value::Null, |i| json!(i)),
                );
                e.insert("CONTACT_IDS".into(), json!(ids));
            }
            (_, v) => {
                if let Some(s) = str_of(v) {
                    e.insert(key.clone(), json!(s));
                    if key == "CONTACT_ID" && kind == Kind::Deal {
                        e.insert("CONTACT_IDS".into(), json!([s]));
                    }
                    if key == "CLOSED" && kind == Kind::Deal {
                        let won = s == "Y";
                        e.insert(
                            "STAGE_SEMANTIC_ID".into(),
                            json!(if won { "S" } else { "P" }),
                        );
                    }
                }
            }
        }
    }
    e.insert("DATE_MODIFY".into(), json!(now_iso()));
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The entity as `get` answers it: multi-fields included, deals' CONTACT_IDS kept out.
fn as_get(e: &Map<String, Value>) -> Value {
    let mut e = e.clone();
    e.remove("CONTACT_IDS");
    Value::Object(e)
}

fn not_found() -> Failure {
    Failure::bad("", "Not found")
}

fn dispatch(fake: &Fake, method: &str, p: &Value) -> Result<Success, Failure> {
    let author = fake.inner.config.user_id;
    let mut portal = fake.portal();
    let parts: Vec<&str> = method.split('.').collect();
    match parts.as_slice() {
        ["crm", kind, op] if Kind::parse(kind).is_some() => {
            let kind = Kind::parse(kind).ok_or_else(not_found)?;
            match *op {
                "add" => {
                    let fields = fields_param(p)?;
                    let id = add_entity(&mut portal, kind, &fields, author);
                    fake.emit(kind, "ADD", id);
                    Ok(Success::of(json!(id)))
                }
                "update" => {
                    let id = id_param(p)?;
                    let fields = fields_param(p)?;
                    let e = portal.entities.get_mut(&(kind, id)).ok_or_else(not_found)?;
                    let mut next = id * 1000 + 500;
                    apply_fields(e, kind, &fields, &mut next);
                    fake.emit(kind, "UPDATE", id);
                    Ok(Success::of(json!(true)))
                }
                "delete" => {
                    let id = id_param(p)?;
                    portal.entities.remove(&(kind, id)).ok_or_else(not_found)?;
                    fake.emit(kind, "DELETE", id);
                    Ok(Success::of(json!(true)))
                }
                "get" => {
                    let id = id_param(p)?;
                    let e = portal.entities.get(&(kind, id)).ok_or_else(not_found)?;
                    Ok(Success::of(as_get(e)))
                }
                "list" => list(&portal, kind, p),
                _ => Err(method_not_found(method)),
            }
        }
        ["crm", "deal", "contact", "items", "get"] => {
            let id = id_param(p)?;
            let e = portal
                .entities
                .get(&(Kind::Deal, id))
                .ok_or_else(|| Failure::bad("", "Not found."))?;
            let ids: Vec<Value> = e
                .get("CONTACT_IDS")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let items: Vec<Value> = ids
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let c: u64 = str_of(c)?.parse().ok()?;
                    Some(json!({"CONTACT_ID": c, "SORT": (i + 1) * 100, "ROLE_ID": 0, "IS_PRIMARY": if i == 0 { "Y" } else { "N" }}))
                })
                .collect();
            Ok(Success::of(json!(items)))
        }
        ["crm", "duplicate", "findbycomm"] => {
            match p.get("type").and_then(str_of).as_deref() {
                None => {
                    return Err(Failure::bad(
                        "Communication type is not defined",
                        "Parameter 'type' is required.",
                    ))
                }
                Some("PHONE") => {}
                Some(other) => {
                    return Err(Failure::bad(
                        &format!(
                            "Communication type '{other}' is not supported in current context"
                        ),
                        "",
                    ))
                }
            }
            let values: Vec<String> = match p.get("values") {
                Some(Value::Array(a)) => a.iter().filter_map(str_of).collect(),
                Some(Value::Object(m)) => m.values().filter_map(str_of).collect(),
                _ => Vec::new(),
            };
            if values.is_empty() {
                return Err(Failure::bad("Communication values is not defined", ""));
            }
            if values.len() > 20 {
                return Err(Failure::bad(
                    "Too many communication values",
                    "Maximum is 20.",
                ));
            }
            let only = p
                .get("entity_type")
                .and_then(str_of)
                .and_then(|k| Kind::parse(&k));
            let wanted: Vec<String> = values
                .iter()
                .map(|v| digits(v))
                .filter(|d| !d.is_empty())
                .collect();
            let mut found: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
            for ((kind, id), e) in &portal.entities {
                if !kind.has_phones() || only.is_some_and(|o| o != *kind) {
                    continue;
                }
                let hit = e
                    .get("PHONE")
                    .and_then(Value::as_array)
                    .is_some_and(|phones| {
                        phones.iter().any(|ph| {
                            ph.get("VALUE")
                                .and_then(Value::as_str)
                                .is_some_and(|v| wanted.contains(&digits(v)))
                        })
                    });
                if hit {
                    found.entry(kind.upper()).or_default().push(*id);
                }
            }
            Ok(Success::of(if found.is_empty() {
                json!([])
            } else {
                json!(found)
            }))
        }
        ["crm", "timeline", "comment", "add"] => {
            if p.get("FIELDS").is_some() || p.get("Fields").is_some() || p.get("arFields").is_some()
            {
                return Err(Failure::bad("100", "Required fields: fields"));
            }
            let fields = match p.get("fields") {
                Some(Value::Object(m)) => m.clone(),
                _ => return Err(Failure::bad("100", "Required fields: fields")),
            };
            let entity_type = fields
                .get("ENTITY_TYPE")
                .and_then(str_of)
                .unwrap_or_default();
            let entity_id: u64 = fields
                .get("ENTITY_ID")
                .and_then(str_of)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let comment = fields.get("COMMENT").and_then(str_of).unwrap_or_default();
            if comment.trim().is_empty() {
                return Err(Failure::bad("INVALID_ARG_VALUE", "Comment is empty."));
            }
            let kind =
                Kind::parse(&entity_type).ok_or_else(|| Failure::bad("NOT_FOUND", "Not found."))?;
            if !portal.entities.contains_key(&(kind, entity_id)) {
                return Err(Failure::bad("OWNER_NOT_FOUND", "Not found."));
            }
            let id = portal.comments.len() as u64 + 1;
            portal.comments.push(Comment {
                id,
                entity_type: entity_type.to_ascii_lowercase(),
                entity_id,
                comment,
                author_id: author,
                created: now_iso(),
            });
            Ok(Success::of(json!(id)))
        }
        ["crm", "timeline", "comment", "list"] => {
            let filter = p.get("filter").cloned().unwrap_or_else(|| json!({}));
            let want_type = filter
                .get("ENTITY_TYPE")
                .and_then(str_of)
                .map(|s| s.to_ascii_lowercase());
            let want_id = filter.get("ENTITY_ID").and_then(str_of);
            let desc = p
                .pointer("/order/ID")
                .and_then(str_of)
                .is_some_and(|o| o.eq_ignore_ascii_case("desc"));
            let mut rows: Vec<Value> = portal
                .comments
                .iter()
                .filter(|c| want_type.as_deref().is_none_or(|t| t == c.entity_type))
                .filter(|c| want_id.as_deref().is_none_or(|i| i == c.entity_id.to_string()))
                .map(|c| json!({"ID": c.id.to_string(), "CREATED": c.created, "ENTITY_ID": c.entity_id.to_string(),
                                 "ENTITY_TYPE": c.entity_type, "AUTHOR_ID": c.author_id.to_string(), "COMMENT": c.comment}))
                .collect();
            if desc {
                rows.reverse();
            }
            Ok(page(rows, p))
        }
        ["crm", "status", "list"] => {
            let want = p.pointer("/filter/ENTITY_ID").and_then(str_of);
            let rows: Vec<Value> = STATUSES
                .iter()
                .enumerate()
                .filter(|(_, (list, ..))| want.as_deref().is_none_or(|w| w == *list))
                .map(|(i, (list, id, name, semantics))| {
                    json!({"ID": (i + 1).to_string(), "ENTITY_ID": list, "STATUS_ID": id, "NAME": name,
                           "NAME_INIT": name, "SORT": ((i + 1) * 10).to_string(), "SYSTEM": "Y",
                           "CATEGORY_ID": if list.starts_with("DEAL_STAGE") { json!("0") } else { Value::Null },
                           "SEMANTICS": semantics})
                })
                .collect();
            let n = rows.len();
            Ok(Success {
                result: json!(rows),
                total: Some(n),
                next: None,
            })
        }
        ["user", "get"] => {
            let want = p
                .pointer("/FILTER/ID")
                .or_else(|| p.get("ID"))
                .and_then(str_of);
            let users: Vec<Value> = [(author, "Webhook", "User")]
                .iter()
                .filter(|(id, ..)| want.as_deref().is_none_or(|w| w == id.to_string()))
                .map(|(id, name, last)| json!({"ID": id.to_string(), "ACTIVE": true, "NAME": name, "LAST_NAME": last, "USER_TYPE": "employee"}))
                .collect();
            let n = users.len();
            Ok(Success {
                result: json!(users),
                total: Some(n),
                next: None,
            })
        }
        _ => Err(method_not_found(method)),
    }
}

/// The statuses of a new Russian portal: lead statuses and the general funnel's deal stages
/// (list, code, name, semantics).
const STATUSES: [(&str, &str, &str, Option<&str>); 12] = [
    ("STATUS", "NEW", "Не обработан", None),
    ("STATUS", "IN_PROCESS", "В работе", None),
    ("STATUS", "PROCESSED", "Обработан", None),
    ("STATUS", "CONVERTED", "Качественный лид", Some("S")),
    ("STATUS", "JUNK", "Некачественный лид", Some("F")),
    ("DEAL_STAGE", "NEW", "Новая", None),
    ("DEAL_STAGE", "PREPARATION", "Подготовка документов", None),
    (
        "DEAL_STAGE",
        "PREPAYMENT_INVOICE",
        "Счёт на предоплату",
        None,
    ),
    ("DEAL_STAGE", "EXECUTING", "В работе", None),
    ("DEAL_STAGE", "FINAL_INVOICE", "Финальный счёт", None),
    ("DEAL_STAGE", "WON", "Сделка успешна", Some("S")),
    ("DEAL_STAGE", "LOSE", "Сделка провалена", Some("F")),
];

fn method_not_found(method: &str) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "ERROR_METHOD_NOT_FOUND",
        &format!("Method not found: {method}"),
    )
}

/// One page of 50 from `start`.
fn page(rows: Vec<Value>, p: &Value) -> Success {
    let start: usize = p
        .get("start")
        .and_then(str_of)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let total = rows.len();
    let slice: Vec<Value> = rows.into_iter().skip(start).take(PAGE).collect();
    let next = (start + PAGE < total).then_some(start + PAGE);
    Success {
        result: json!(slice),
        total: Some(total),
        next,
    }
}

/// `*.list`: `filter` with `=` (default), `>`, `<`, `>=`, `<=`, `!`; `select` (multi-fields only
/// when named); `order` by ID; `start`.
fn list(portal: &Portal, kind: Kind, p: &Value) -> Result<Success, Failure> {
    let filter = match p.get("filter") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(Value::Array(a)) if a.is_empty() => Map::new(),
        Some(_) => return Err(Failure::bad("", "Parameter 'filter' must be array.")),
    };
    let select: Vec<String> = match p.get("select") {
        Some(Value::Array(a)) => a.iter().filter_map(str_of).collect(),
        Some(Value::Object(m)) => m.values().filter_map(str_of).collect(),
        _ => vec!["*".into()],
    };
    let desc = p
        .pointer("/order/ID")
        .and_then(str_of)
        .is_some_and(|o| o.eq_ignore_ascii_case("desc"));
    let mut rows: Vec<Value> = portal
        .entities
        .iter()
        .filter(|((k, _), _)| *k == kind)
        .filter(|(_, e)| filter.iter().all(|(k, v)| matches_filter(e, k, v)))
        .map(|(_, e)| {
            let mut out = Map::new();
            for (k, v) in e {
                let multi = matches!(k.as_str(), "PHONE" | "EMAIL" | "IM" | "WEB");
                let wanted = if multi {
                    select.iter().any(|s| s == k)
                } else {
                    k != "CONTACT_IDS" && select.iter().any(|s| s == "*" || s == k)
                };
                if wanted || k == "ID" {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Object(out)
        })
        .collect();
    if desc {
        rows.reverse();
    }
    Ok(page(rows, p))
}

fn matches_filter(e: &Map<String, Value>, key: &str, want: &Value) -> bool {
    let (op, field) = [">=", "<=", "!=", ">", "<", "!", "="]
        .iter()
        .find_map(|op| key.strip_prefix(op).map(|f| (*op, f)))
        .unwrap_or(("=", key));
    let have = e.get(field).and_then(str_of).unwrap_or_default();
    let Some(want) = str_of(want) else {
        return true;
    };
    let cmp = match (have.parse::<i64>(), want.parse::<i64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => have.as_str().cmp(want.as_str()),
    };
    use std::cmp::Ordering::*;
    match op {
        ">=" => cmp != Less,
        "<=" => cmp != Greater,
        ">" => cmp == Greater,
        "<" => cmp == Less,
        "!=" | "!" => cmp != Equal,
        _ => cmp == Equal,
    }
}
