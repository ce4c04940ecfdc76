//! Structure-aware fuzzing of the hub's HTTP input, shared by `tests/hub/fuzz.rs` (bounded and
//! seeded, in `make test`) and `benches/fuzz.rs` (the long run).
//!
//! Each case is one request, in-process through the hub's router, to a seeded workspace (an
//! administrator, a supervisor, sellers, role `none`, sandbox and provider channels, CRM
//! entities, chats and messages; a second workspace has Bitrix24 connected, for its events
//! door). Bodies start from valid ones for the route and are mutated: fields dropped, wrong
//! types, nulls, huge / empty / unicode / control-character strings, deep nesting, numbers out of
//! range, duplicate keys, arrays for objects, truncation, invalid UTF-8, random bytes; query
//! strings and path segments likewise. What must hold for every case:
//!
//! - never a 5xx, never a panic (the request future is polled under `catch_unwind`), never a
//!   hang (each request has a deadline);
//! - nothing stored from a 4xx: the change-log cursor and a fingerprint of every table (row
//!   counts and a digest of every row) are the same after a 4xx as before it;
//! - a body over the limit is never accepted.
//!
//! A 2xx may store things; when one takes the workspace away from what the generators assume
//! (a seeding token revoked, a role changed, Bitrix24 disconnected), the workspace is replaced
//! by a fresh copy of its seeded template, as it is every `reset_every` cases.

#![allow(dead_code, reason = "the test and the bench use different parts")]

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, Method, Request};
use futures_util::FutureExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchboard_hub::api::EdgeHub;
use switchboard_hub::store::{self, bitrix_index, Caller};
use switchboard_hub::{api, db, encode_component, Hub};
use tower::ServiceExt;

pub const ADMIN: &str = "fuzz-admin-token";
pub const INGRESS: &str = "fuzz-ingress-secret";
/// The Bitrix24 outgoing webhook's application token in the Bitrix24 workspace.
pub const APP_TOKEN: &str = "fuzz-application-token";
const SAFE_WEBHOOK: &str = "https://127.0.0.1:9/rest/1/fuzzcode/";

// ---------------------------------------------------------------------------------------------
// Configuration and report
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub cases: u64,
    /// Only routes whose key (`POST /api/v1/messages`) contains one of these; empty: all.
    pub only: Vec<&'static str>,
    /// Routes whose key contains one of these are left out.
    pub except: Vec<&'static str>,
    /// A fresh copy of the seeded workspace every so many cases (bounds its growth).
    pub reset_every: u64,
    /// A request taking longer than this is a hang.
    pub timeout: Duration,
    /// Bodies past the webhook limit (10 MiB) now and then.
    pub huge_bodies: bool,
    /// Where to write each finding's full input (none: only the report).
    pub out_dir: Option<PathBuf>,
    /// Print a progress line every so many cases (0: never).
    pub progress_every: u64,
    /// A label for progress lines (the bench's worker number).
    pub label: String,
}

impl Config {
    pub fn new(seed: u64, cases: u64) -> Config {
        Config {
            seed,
            cases,
            only: vec![],
            except: vec![],
            reset_every: 1000,
            timeout: Duration::from_secs(20),
            huge_bodies: true,
            out_dir: None,
            progress_every: 0,
            label: String::new(),
        }
    }
}

/// One failing input and what happened.
#[derive(Clone, Debug)]
pub struct Finding {
    /// What kind of failure on which route (findings with the same key are counted together).
    pub key: String,
    pub text: String,
}

#[derive(Default, Debug)]
pub struct Report {
    pub cases: u64,
    pub elapsed: Duration,
    /// Route → status → count. A panic counts as 999, a hang as 998.
    pub statuses: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Requests the HTTP types refuse to build (an unrepresentable URI or header): not sent.
    pub unbuildable: u64,
    pub resets: u64,
    pub oversize: BTreeMap<String, BTreeMap<u16, u64>>,
    pub findings: Vec<Finding>,
    pub finding_counts: BTreeMap<String, u64>,
    /// 4xx answers without the hub's `{"error": {"code", "message"}}` body: route and status →
    /// count and one example. Not a failure (axum's own rejections answer in plain text).
    pub unshaped: BTreeMap<String, (u64, String)>,
    /// 4xx answers after which the stored state was compared with the state before.
    pub fingerprint_checks: u64,
    /// Of all checks, those that read every table (some statement had touched a row).
    pub full_fingerprints: u64,
    /// Route → time spent answering its cases (the requests only, not the checks) and the
    /// slowest case.
    pub time: BTreeMap<String, (Duration, Duration)>,
    /// Where the time went: generating, answering, checking, resetting workspaces.
    pub phases: BTreeMap<&'static str, Duration>,
}

impl Report {
    pub fn merge(&mut self, o: Report) {
        self.cases += o.cases;
        self.elapsed = self.elapsed.max(o.elapsed);
        for (r, m) in o.statuses {
            let e = self.statuses.entry(r).or_default();
            for (s, n) in m {
                *e.entry(s).or_default() += n;
            }
        }
        for (r, m) in o.oversize {
            let e = self.oversize.entry(r).or_default();
            for (s, n) in m {
                *e.entry(s).or_default() += n;
            }
        }
        self.unbuildable += o.unbuildable;
        self.resets += o.resets;
        self.fingerprint_checks += o.fingerprint_checks;
        self.full_fingerprints += o.full_fingerprints;
        for (k, d) in o.phases {
            *self.phases.entry(k).or_default() += d;
        }
        for (r, (total, max)) in o.time {
            let e = self.time.entry(r).or_default();
            e.0 += total;
            e.1 = e.1.max(max);
        }
        for f in o.findings {
            if self.findings.iter().filter(|x| x.key == f.key).count() < 3 {
                self.findings.push(f);
            }
        }
        for (k, n) in o.finding_counts {
            *self.finding_counts.entry(k).or_default() += n;
        }
        for (k, (n, ex)) in o.unshaped {
            let e = self.unshaped.entry(k).or_insert((0, ex));
            e.0 += n;
        }
    }

    pub fn failures(&self) -> u64 {
        self.finding_counts.values().sum()
    }

    /// Cases per route, and per status.
    pub fn summary(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let _ = writeln!(
            s,
            "{} cases in {:.1} s ({:.0} cases/s); {} 4xx answers checked for stored state ({} full fingerprints of every table, taken whenever any statement had touched a row); {} workspace resets; {} requests not representable (skipped)",
            self.cases,
            secs,
            self.cases as f64 / secs,
            self.fingerprint_checks,
            self.full_fingerprints,
            self.resets,
            self.unbuildable
        );
        let phases: Vec<String> = self
            .phases
            .iter()
            .map(|(k, d)| format!("{k} {:.1} s", d.as_secs_f64()))
            .collect();
        let _ = writeln!(s, "time (all workers): {}", phases.join(", "));
        let _ = writeln!(
            s,
            "statuses per route (cases, mean and slowest answer, statuses):"
        );
        for (route, m) in &self.statuses {
            let total: u64 = m.values().sum();
            let list: Vec<String> = m.iter().map(|(k, v)| format!("{k}×{v}")).collect();
            let (sum, max) = self.time.get(route).copied().unwrap_or_default();
            let mean = sum.as_secs_f64() * 1e3 / total.max(1) as f64;
            let _ = writeln!(
                s,
                "  {route:<42} {total:>8} {mean:>7.2} ms {:>8.0} ms  {}",
                max.as_secs_f64() * 1e3,
                list.join(" ")
            );
        }
        if !self.oversize.is_empty() {
            let _ = writeln!(s, "bodies over the limit, statuses:");
            for (route, m) in &self.oversize {
                let list: Vec<String> = m.iter().map(|(k, v)| format!("{k}×{v}")).collect();
                let _ = writeln!(s, "  {route:<48} {}", list.join(" "));
            }
        }
        if !self.unshaped.is_empty() {
            let _ = writeln!(
                s,
                "4xx answers without the hub's error body (not failures; axum's own rejections):"
            );
            for (k, (n, ex)) in &self.unshaped {
                let _ = writeln!(s, "  {k:<52} {n:>7}  e.g. {ex}");
            }
        }
        if self.finding_counts.is_empty() {
            let _ = writeln!(s, "findings: none");
        } else {
            let _ = writeln!(s, "FINDINGS ({} cases):", self.failures());
            for (k, n) in &self.finding_counts {
                let _ = writeln!(s, "  {n:>7} × {k}");
            }
            for f in &self.findings {
                let _ = writeln!(s, "---- {}\n{}", f.key, f.text);
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// The seeded workspace
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorldKind {
    /// The built-in CRM.
    BuiltIn,
    /// Bitrix24 connected (on an address nothing listens on), events accepted.
    Bitrix,
}

/// What the generators know about a seeded workspace (the same in every copy of it).
#[derive(Debug)]
pub struct Facts {
    pub kind: WorldKind,
    pub ids: BTreeMap<&'static str, String>,
    pub tokens: BTreeMap<&'static str, String>,
    pub events_secret: String,
    /// Tokens whose callers must stay as seeded for the generators' assumptions to hold:
    /// token → (employee id, role), or `None` for the administrator.
    pub keep: Vec<(String, Option<(String, &'static str)>)>,
    pub employees: Vec<String>,
    pub victims: Vec<String>,
    pub channels: Vec<String>,
    pub chats: Vec<String>,
    pub messages: Vec<String>,
    pub token_ids: Vec<String>,
    pub crm_ids: Vec<String>,
    /// Tokens of public links to a kept file.
    pub public_links: Vec<String>,
}

impl Facts {
    pub fn id(&self, k: &str) -> String {
        self.ids.get(k).cloned().unwrap_or_default()
    }
}

/// A fingerprint of everything the hub stores: the change-log cursor, and per table its row
/// count and an order-independent digest of its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub seq: i64,
    pub tables: Vec<(String, i64, u64)>,
}

impl Fingerprint {
    fn diff(&self, after: &Fingerprint) -> String {
        let mut out = Vec::new();
        if self.seq != after.seq {
            out.push(format!("change log cursor {} → {}", self.seq, after.seq));
        }
        let before: BTreeMap<_, _> = self.tables.iter().map(|(n, c, d)| (n, (c, d))).collect();
        for (n, c, d) in &after.tables {
            match before.get(n) {
                Some((bc, bd)) if *bc == c && *bd == d => {}
                Some((bc, _)) if *bc != c => out.push(format!("{n}: {bc} → {c} rows")),
                Some(_) => out.push(format!("{n}: rows changed")),
                None => out.push(format!("{n}: new table")),
            }
        }
        out.join("; ")
    }
}

pub fn fingerprint(c: &rusqlite::Connection) -> rusqlite::Result<Fingerprint> {
    let seq = store::last_seq(c)?;
    let names: Vec<String> = c
        .prepare_cached("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let mut stmt = c.prepare_cached(&format!("SELECT * FROM \"{name}\""))?;
        let n = stmt.column_count();
        let mut rows = stmt.query([])?;
        let (mut count, mut sum) = (0i64, 0u64);
        while let Some(row) = rows.next()? {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for i in 0..n {
                use rusqlite::types::ValueRef;
                match row.get_ref(i)? {
                    ValueRef::Null => 0u8.hash(&mut h),
                    ValueRef::Integer(v) => (1u8, v).hash(&mut h),
                    ValueRef::Real(v) => (2u8, v.to_bits()).hash(&mut h),
                    ValueRef::Text(t) => (3u8, t).hash(&mut h),
                    ValueRef::Blob(b) => (4u8, b).hash(&mut h),
                }
            }
            count += 1;
            sum = sum.wrapping_add(h.finish());
        }
        tables.push((name, count, sum));
    }
    Ok(Fingerprint { seq, tables })
}

fn open(path: &Path) -> Hub {
    let conn = db::open_hub(path).expect("open the hub's database");
    store::ensure_workspace(&conn).expect("workspace");
    store::replace_admin_token(&conn, ADMIN, &switchboard_hub::clock::now()).expect("admin token");
    // The fingerprint reads every table with a cached statement.
    conn.set_prepared_statement_cache_capacity(128);
    let hub = Hub::new(conn, INGRESS.into());
    // Every copy reads the template's kept files (the client's photo).
    hub.set_media_dir(path.with_file_name("media"));
    hub
}

async fn call(
    router: &axum::Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = if body.is_null() {
        Body::empty()
    } else {
        req = req.header(header::CONTENT_TYPE, "application/json");
        Body::from(body.to_string())
    };
    let resp = router
        .clone()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("answer");
    let status = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn ok((s, v): (u16, Value), what: &str) -> Value {
    assert!((200..300).contains(&s), "seeding ({what}): {s} {v}");
    v
}

fn str_of(v: &Value, field: &str) -> String {
    v[field].as_str().unwrap_or_default().to_owned()
}

/// Seeds a workspace at `path` through the API, as an administrator and employees would.
async fn seed(kind: WorldKind, path: &Path) -> (Hub, Facts) {
    let hub = open(path);
    let r = api::router(hub.clone());
    let admin = Some(ADMIN);
    let mut ids = BTreeMap::new();
    let mut tokens = BTreeMap::new();
    tokens.insert("admin", ADMIN.to_owned());
    for (key, name, role, receives, crm_user) in [
        ("supervisor", "Sofia", "supervisor", false, Some("3")),
        ("anna", "Anna", "seller", false, Some("7")),
        ("boris", "Boris", "seller", false, None),
        ("vera", "Vera", "seller", true, None),
        ("nina", "Nina", "none", true, None),
        ("victim", "Viktor", "seller", true, Some("9")),
        ("victim_sup", "Vasilisa", "supervisor", false, None),
    ] {
        let v = ok(
            call(&r, Method::POST, "/api/v1/employees", admin,
                json!({"name": name, "role": role, "receives_new_clients": receives, "crm_user_id": crm_user})).await,
            "employee",
        );
        ids.insert(key, str_of(&v, "id"));
        tokens.insert(key, str_of(&v, "token"));
    }
    // More sign-ins for the victim (their ids are what `DELETE /tokens/{id}` gets).
    for _ in 0..2 {
        ok(
            call(
                &r,
                Method::POST,
                &format!("/api/v1/employees/{}/tokens", ids["victim"]),
                admin,
                Value::Null,
            )
            .await,
            "token",
        );
    }
    let token_ids: Vec<String> = ok(
        call(
            &r,
            Method::GET,
            &format!("/api/v1/employees/{}/tokens", ids["victim"]),
            admin,
            Value::Null,
        )
        .await,
        "tokens",
    )
    .as_array()
    .map(|a| a.iter().map(|t| str_of(t, "id")).collect())
    .unwrap_or_default();
    let wa = ok(
        call(
            &r,
            Method::POST,
            "/api/v1/channels",
            admin,
            json!({"transport": "whatsapp", "name": "WA"}),
        )
        .await,
        "channel",
    );
    ids.insert("channel", str_of(&wa, "id"));
    let tg = ok(
        call(
            &r,
            Method::POST,
            "/api/v1/channels",
            admin,
            json!({"transport": "telegram", "name": "TG", "open_lines": true}),
        )
        .await,
        "channel",
    );
    ids.insert("channel_tg", str_of(&tg, "id"));
    ids.insert("channel_prov", "prov-wa-1".to_owned());
    hub.write(|c| {
        Ok(store::upsert_provider_channels(
            c,
            &[switchboard_hub::provider::ProviderChannel {
                channel_id: "prov-wa-1".into(),
                transport: "whatsapp".into(),
                plain_id: "79990000001".into(),
                state: "active".into(),
            }],
        )?)
    })
    .await
    .expect("provider channel");
    let mut events_secret = String::new();
    match kind {
        WorldKind::BuiltIn => {
            let lead = ok(call(&r, Method::POST, "/api/v1/crm/leads", admin,
                json!({"title": "Anna's client", "phones": ["8 (916) 111-11-11"], "responsible_id": ids["anna"], "stage": "new"})).await, "lead");
            ids.insert("lead", str_of(&lead, "id"));
            let contact = ok(
                call(
                    &r,
                    Method::POST,
                    "/api/v1/crm/contacts",
                    admin,
                    json!({"title": "Stranger", "phones": ["+7 916 222-22-22", "not a phone"]}),
                )
                .await,
                "contact",
            );
            ids.insert("contact", str_of(&contact, "id"));
            let deal = ok(call(&r, Method::POST, "/api/v1/crm/deals", admin,
                json!({"title": "Deal", "phones": [], "contact_id": ids["contact"], "responsible_id": ids["boris"]})).await, "deal");
            ids.insert("deal", str_of(&deal, "id"));
        }
        WorldKind::Bitrix => {
            let secret = hub
                .write(|c| {
                    bitrix_index::connect(
                        c,
                        &bitrix_index::BitrixConnection {
                            webhook_url: SAFE_WEBHOOK.into(),
                            portal: "127.0.0.1:9".into(),
                            user_name: "Fuzz".into(),
                            event_token: None,
                            events_secret: String::new(),
                        },
                        &switchboard_hub::clock::now(),
                    )?;
                    bitrix_index::set_event_token(c, Some(APP_TOKEN))?;
                    use switchboard_core::EntityKind;
                    bitrix_index::upsert(c, EntityKind::Lead, &[json!({"ID": "10", "TITLE": "B24 lead", "ASSIGNED_BY_ID": "7", "STATUS_ID": "NEW", "PHONE": [{"VALUE": "+7 916 111 11 11"}]})])?;
                    bitrix_index::upsert(c, EntityKind::Contact, &[json!({"ID": "20", "NAME": "Ivan", "LAST_NAME": "Petrov", "PHONE": [{"VALUE": "8 916 222 22 22"}]})])?;
                    bitrix_index::upsert(c, EntityKind::Deal, &[json!({"ID": "30", "TITLE": "B24 deal", "CONTACT_ID": "20", "ASSIGNED_BY_ID": "9", "STAGE_ID": "NEW", "CLOSED": "N"})])?;
                    store::relink_all(c)?;
                    Ok(bitrix_index::bitrix(c)?.map(|b| b.events_secret).unwrap_or_default())
                })
                .await
                .expect("connect Bitrix24");
            events_secret = secret;
            ids.insert("lead", "10".into());
            ids.insert("contact", "20".into());
            ids.insert("deal", "30".into());
        }
    }
    // Anna writes first to her client, who answers; two strangers write (one on the provider's
    // channel); Anna replies once more (that one will have failed).
    let first = ok(call(&r, Method::POST, "/api/v1/messages", Some(&tokens["anna"]),
        json!({"channel_id": ids["channel"], "phone": "+7 916 111-11-11", "text": "hi", "idempotency_key": "seed-first"})).await, "write first");
    ids.insert("chat", str_of(&first, "chat"));
    ids.insert("msg_out", str_of(&first, "message_id"));
    for (pid, channel, phone) in [
        ("p1", ids["channel"].clone(), "79161111111"),
        ("p2", ids["channel"].clone(), "79162222222"),
        ("p3", "prov-wa-1".to_owned(), "79163333333"),
    ] {
        ok(call(&r, Method::POST, &format!("/webhooks/provider/{INGRESS}"), None,
            json!({"messages": [{"messageId": pid, "channelId": channel, "chatType": "whatsapp", "chatId": phone,
                "dateTime": "2026-11-25T10:00:00.000Z", "type": "text", "status": "inbound", "text": "hello",
                "contact": {"name": format!("Client {pid}")}}]})).await, "webhook");
    }
    let failed = ok(
        call(
            &r,
            Method::POST,
            "/api/v1/messages",
            Some(&tokens["anna"]),
            json!({"chat": ids["chat"], "text": "this one fails", "idempotency_key": "seed-fail"}),
        )
        .await,
        "reply",
    );
    ids.insert("msg_failed", str_of(&failed, "message_id"));
    let msgs = ok(
        call(
            &r,
            Method::GET,
            &format!("/api/v1/chats/{}/messages", ids["chat"]),
            Some(&tokens["anna"]),
            Value::Null,
        )
        .await,
        "messages",
    );
    let inbound = msgs
        .as_array()
        .and_then(|m| m.iter().find(|m| m["direction"] == "in"))
        .map(|m| str_of(m, "id"))
        .expect("Anna's client's message");
    ids.insert("msg_in", inbound.clone());
    let all = ok(
        call(
            &r,
            Method::GET,
            "/api/v1/chats",
            Some(&tokens["supervisor"]),
            Value::Null,
        )
        .await,
        "chats",
    );
    let others: Vec<String> = all
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| str_of(c, "id"))
                .filter(|id| *id != ids["chat"])
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(others.len(), 2, "seeding: the strangers' chats: {all}");
    ids.insert("chat2", others[0].clone());
    ids.insert("chat3", others[1].clone());
    // A quick reply of the workspace's, and one of Anna's own.
    let reply = ok(
        call(
            &r,
            Method::POST,
            "/api/v1/quick-replies",
            admin,
            json!({"title": "Hello", "text": "Hello {client}"}),
        )
        .await,
        "quick reply",
    );
    ids.insert("reply", str_of(&reply, "id"));
    let own = ok(
        call(
            &r,
            Method::POST,
            "/api/v1/quick-replies",
            Some(&tokens["anna"]),
            json!({"title": "Prices", "text": "Prices, {manager}", "personal": true}),
        )
        .await,
        "quick reply",
    );
    ids.insert("reply_anna", str_of(&own, "id"));
    let (out, fail) = (ids["msg_out"].clone(), ids["msg_failed"].clone());
    hub.write(move |c| {
        // Our first message got the provider's id (statuses aim at it); the second failed; the
        // client's message's timeline entry was refused (what the two Retry routes are for).
        c.execute(
            "UPDATE messages SET provider_message_id = 'out-1', status = 'accepted' WHERE id = ?1",
            [&out],
        )?;
        c.execute(
            "UPDATE messages SET status = 'failed', error = 'x' WHERE id = ?1",
            [&fail],
        )?;
        c.execute(
            "UPDATE mirror_queue SET state = 'failed' WHERE message_id = ?1",
            [&inbound],
        )?;
        // The client's message came with a photo, kept by the hub.
        c.execute(
            "UPDATE messages SET kind = 'image', media_state = 'stored', media_name = 'photo.png', \
             media_mime = 'image/png', media_size = 4 WHERE id = ?1",
            [&inbound],
        )?;
        Ok(())
    })
    .await
    .expect("failures");
    let media = path.with_file_name("media");
    std::fs::create_dir_all(&media).expect("media dir");
    std::fs::write(media.join(&ids["msg_in"]), b"\x89PNG").expect("a kept file");
    let kept = ids["msg_in"].clone();
    let link = hub
        .write(move |c| {
            Ok(store::media_queue::public_link(
                c,
                &kept,
                switchboard_hub::clock::now_ms(),
                Duration::from_secs(24 * 3600),
            )?)
        })
        .await
        .expect("a public link");
    // What the hub's search index worker would have taken by now (no worker runs here).
    hub.write(|c| {
        while store::search::index_pending(c, store::search::INDEX_BATCH)? > 0 {}
        Ok(())
    })
    .await
    .expect("search index");
    let role = |k: &str| match k {
        "supervisor" => "supervisor",
        "nina" => "none",
        _ => "seller",
    };
    let mut keep = vec![(ADMIN.to_owned(), None)];
    for k in ["supervisor", "anna", "boris", "vera", "nina"] {
        keep.push((tokens[k].clone(), Some((ids[k].clone(), role(k)))));
    }
    let employees = [
        "supervisor",
        "anna",
        "boris",
        "vera",
        "nina",
        "victim",
        "victim_sup",
    ]
    .iter()
    .map(|k| ids[k].clone())
    .collect();
    let facts = Facts {
        kind,
        employees,
        victims: vec![ids["victim"].clone(), ids["victim_sup"].clone()],
        channels: vec![
            ids["channel"].clone(),
            ids["channel_tg"].clone(),
            ids["channel_prov"].clone(),
        ],
        chats: vec![
            ids["chat"].clone(),
            ids["chat2"].clone(),
            ids["chat3"].clone(),
        ],
        messages: vec![
            ids["msg_in"].clone(),
            ids["msg_out"].clone(),
            ids["msg_failed"].clone(),
        ],
        crm_ids: vec![
            ids["lead"].clone(),
            ids["contact"].clone(),
            ids["deal"].clone(),
        ],
        token_ids,
        public_links: vec![link],
        events_secret,
        keep,
        tokens,
        ids,
    };
    (hub, facts)
}

/// What must hold of the stored data after any answer (a 2xx may store, but not nonsense):
/// each names a violation and how many rows show it.
const INTEGRITY: [(&str, &str); 7] = [
    (
        "a quick reply without a title or text, or of an employee who does not exist",
        "SELECT count(*) FROM quick_replies WHERE trim(title) = '' OR trim(text) = '' \
         OR length(title) > 100 OR length(text) > 4000 \
         OR (owner_id IS NOT NULL AND owner_id NOT IN (SELECT id FROM employees))",
    ),
    (
        "a built-in CRM phone index row under an id that is not an entity's (canonical) id",
        "SELECT count(*) FROM crm_numbers n WHERE n.source = 'built_in' AND NOT EXISTS \
         (SELECT 1 FROM crm_entities e WHERE e.kind = n.kind AND CAST(e.id AS TEXT) = n.id)",
    ),
    (
        "a built-in deal's indexed contact that is not the contact stored on the deal",
        "SELECT count(*) FROM crm_deal_contacts d WHERE d.source = 'built_in' AND NOT EXISTS \
         (SELECT 1 FROM crm_entities e WHERE e.kind = 'deal' AND CAST(e.id AS TEXT) = d.deal \
          AND CAST(e.contact_id AS TEXT) = d.contact)",
    ),
    (
        "a chat linked to a CRM entity that does not exist (under that id)",
        "SELECT count(*) FROM chat_links l WHERE NOT EXISTS \
         (SELECT 1 FROM crm_entities e WHERE e.kind = l.kind AND CAST(e.id AS TEXT) = l.entity_id) \
         AND NOT EXISTS (SELECT 1 FROM bitrix_entities b WHERE b.kind = l.kind AND b.id = l.entity_id)",
    ),
    (
        "a message or chat time not in the hub's form (RFC 3339 UTC, milliseconds: it sorts as text)",
        "SELECT (SELECT count(*) FROM messages WHERE at NOT GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z') \
              + (SELECT count(*) FROM chats WHERE last_activity_at NOT GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z')",
    ),
    (
        "a chat with a negative unanswered count",
        "SELECT count(*) FROM chats WHERE unanswered < 0",
    ),
    (
        "an employee name, channel name or CRM title that is empty (the create routes refuse one)",
        "SELECT (SELECT count(*) FROM employees WHERE trim(name, ' ' || char(9, 10, 11, 12, 13, 160, 12288)) = '') \
              + (SELECT count(*) FROM channels WHERE trim(name, ' ' || char(9, 10, 11, 12, 13, 160, 12288)) = '') \
              + (SELECT count(*) FROM crm_entities WHERE trim(title, ' ' || char(9, 10, 11, 12, 13, 160, 12288)) = '')",
    ),
];

fn integrity(c: &rusqlite::Connection) -> rusqlite::Result<Vec<String>> {
    let mut out = Vec::new();
    for (what, sql) in INTEGRITY {
        let n: i64 = c.prepare_cached(sql)?.query_row([], |r| r.get(0))?;
        if n > 0 {
            out.push(format!("{what} ({n} rows)"));
        }
    }
    Ok(out)
}

/// Whether the workspace is still as the generators assume.
fn healthy(c: &rusqlite::Connection, f: &Facts) -> rusqlite::Result<bool> {
    for (token, expect) in &f.keep {
        let fine = match (store::caller_by_token(c, token)?, expect) {
            (Some(Caller::Admin), None) => true,
            (Some(Caller::Employee(e)), Some((id, role))) => {
                e.id == *id && e.role.as_str() == *role
            }
            _ => false,
        };
        if !fine {
            return Ok(false);
        }
    }
    let state: Option<String> = c
        .query_row(
            "SELECT state FROM channels WHERE id = ?1",
            [f.id("channel")],
            |r| r.get(0),
        )
        .ok();
    if state.as_deref() != Some("active") {
        return Ok(false);
    }
    Ok(match (f.kind, bitrix_index::bitrix(c)?) {
        (WorldKind::BuiltIn, None) => true,
        (WorldKind::Bitrix, Some(b)) => {
            b.event_token.as_deref() == Some(APP_TOKEN) && b.events_secret == f.events_secret
        }
        _ => false,
    })
}

struct World {
    facts: Arc<Facts>,
    dir: PathBuf,
    template: Hub,
    live: Hub,
    live_path: PathBuf,
    router: axum::Router,
    fp: Fingerprint,
    /// SQLite's count of rows any statement inserted, changed or deleted on the live
    /// connection (rolled back or not) when `fp` was taken: while it stands still, nothing
    /// can have changed, and the fingerprint need not be taken again.
    changes: u64,
    copies: u64,
    since_reset: u64,
}

impl World {
    async fn new(kind: WorldKind, dir: &Path) -> World {
        let template_path = dir.join(format!("template-{kind:?}.db"));
        let (template, facts) = seed(kind, &template_path).await;
        let mut w = World {
            facts: Arc::new(facts),
            dir: dir.to_owned(),
            live: template.clone(),
            live_path: template_path,
            router: api::router(template.clone()),
            template,
            fp: Fingerprint {
                seq: 0,
                tables: vec![],
            },
            changes: 0,
            copies: 0,
            since_reset: 0,
        };
        w.reset().await;
        let broken = w.integrity().await;
        assert!(
            broken.is_empty(),
            "the seeded {kind:?} workspace: {broken:?}"
        );
        w
    }

    /// Replaces the live workspace with a fresh copy of the seeded template.
    async fn reset(&mut self) {
        self.copies += 1;
        let path = self
            .dir
            .join(format!("live-{:?}-{}.db", self.facts.kind, self.copies));
        let to = path.to_string_lossy().into_owned();
        // Its own connection: VACUUM cannot run inside a transaction, and the hub's reads are.
        let from = self.dir.join(format!("template-{:?}.db", self.facts.kind));
        rusqlite::Connection::open(&from)
            .and_then(|c| c.execute("VACUUM INTO ?1", [to]))
            .expect("copy the template");
        let old = std::mem::replace(&mut self.live_path, path.clone());
        self.live = open(&path);
        self.router = api::router(self.live.clone());
        if self.copies > 1 {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", old.display()));
            }
        }
        self.fp = self.fingerprint().await;
        self.changes = self.total_changes().await;
        self.since_reset = 0;
    }

    async fn fingerprint(&self) -> Fingerprint {
        self.live
            .read(|c| Ok(fingerprint(c)?))
            .await
            .expect("fingerprint")
    }

    /// The writer connection's count (reads run on read-only connections of their own; a
    /// transaction that writes nothing leaves the count as it is).
    async fn total_changes(&self) -> u64 {
        self.live
            .write(|c| Ok(c.total_changes()))
            .await
            .expect("total changes")
    }

    async fn integrity(&self) -> Vec<String> {
        self.live
            .read(|c| Ok(integrity(c)?))
            .await
            .unwrap_or_else(|e| vec![format!("integrity check failed: {}", e.message)])
    }

    async fn healthy(&self) -> bool {
        let f = self.facts.clone();
        self.live
            .read(move |c| Ok(healthy(c, &f)?))
            .await
            .unwrap_or(false)
    }
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

/// One request.
#[derive(Clone, Debug)]
pub struct Case {
    /// The route as the OpenAPI description names it (`POST /api/v1/messages`), or `other`.
    pub route: &'static str,
    pub world: WorldKind,
    pub method: Method,
    pub uri: String,
    pub caller: &'static str,
    pub auth: Option<Vec<u8>>,
    pub content_type: Option<&'static str>,
    pub body: Bytes,
    /// Sent as a stream of chunks without a length.
    pub stream: bool,
    /// The route reads a body and this one is over its limit: it must not be accepted.
    pub oversize: bool,
    /// A 2xx on this route may take the workspace away from the generators' assumptions.
    pub disturbs: bool,
    /// Other headers, as raw bytes (those that do not make a header value are left out).
    pub headers: Vec<(&'static str, Vec<u8>)>,
}

impl Case {
    pub fn describe(&self) -> String {
        let auth = match &self.auth {
            None => "none".to_owned(),
            Some(a) => escape(a, 120),
        };
        format!(
            "{} {}\n  world: {:?}; caller: {}; authorization: {auth}; content-type: {}; {}\n  body ({} bytes): {}",
            self.method,
            clip(&self.uri, 600),
            self.world,
            self.caller,
            self.content_type.unwrap_or("none"),
            if self.stream { "streamed" } else { "whole" },
            self.body.len(),
            escape(&self.body, 1500),
        )
    }
}

/// At most `n` bytes of `s`, cut at a character boundary.
fn cut(s: &str, n: usize) -> &str {
    let mut end = n.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn clip(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_owned();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// Bytes as text, with invalid UTF-8 and control characters escaped.
pub fn escape(b: &[u8], n: usize) -> String {
    let mut out = String::new();
    for chunk in b.utf8_chunks() {
        for ch in chunk.valid().chars() {
            if out.len() >= n {
                return format!("{out}… (+{} bytes)", b.len().saturating_sub(n));
            }
            if ch.is_control() {
                out.push_str(&ch.escape_default().to_string());
            } else {
                out.push(ch);
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02X}"));
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Auth {
    /// Administrator or supervisor.
    Manage,
    AdminOnly,
    /// An employee's token.
    Employee,
    /// Any token.
    Any,
    /// Webhooks: the secret is in the path; headers change nothing.
    Webhook,
}

/// A generator with its random source and the facts of the workspace it aims at.
pub struct Gen<'a> {
    rng: StdRng,
    f: &'a Facts,
    huge: bool,
}

const CALLERS: [&str; 10] = [
    "admin",
    "supervisor",
    "anna",
    "boris",
    "vera",
    "nina",
    "victim",
    "none",
    "garbage",
    "victim_sup",
];

impl<'a> Gen<'a> {
    pub fn new(seed: u64, f: &'a Facts, huge: bool) -> Gen<'a> {
        Gen {
            rng: StdRng::seed_from_u64(seed),
            f,
            huge,
        }
    }

    fn n(&mut self, hi: usize) -> usize {
        if hi == 0 {
            0
        } else {
            self.rng.random_range(0..hi)
        }
    }
    fn p(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }
    fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.n(xs.len())].clone()
    }
    fn pick_s(&mut self, xs: &[&str]) -> String {
        self.pick(xs).to_owned()
    }
    fn id(&self, k: &str) -> String {
        self.f.id(k)
    }

    /// A length: mostly short, sometimes long, rarely very long.
    fn size(&mut self) -> usize {
        match self.n(100) {
            0..=79 => self.n(48) + 1,
            80..=94 => 200 + self.n(4000),
            95..=98 => 65_536 + self.n(3),
            _ => 300_000,
        }
    }

    fn phone(&mut self) -> String {
        const PHONES: [&str; 30] = [
            "+7 916 111-11-11",
            "8 (916) 111-11-11",
            "89161111111",
            "79161111111",
            "+79162222222",
            "8 916 222 22 22",
            "79163333333",
            "+7 916 444-44-44",
            "8",
            "+",
            "++7916",
            "+0 000",
            "+7 (916) 111-11-11 доб. 5",
            "+1 202 555 0100",
            "+44 20 7946 0958",
            "+999 123",
            "7916111111111111111111111",
            "тел. 8 916 111 11 11",
            "+7 916 456-98-12",
            "",
            "-1",
            "1e10",
            "+7\u{0}916",
            "８９１６１１１１１１１",
            "٨٩١٦١١١١١١١",
            "+7 916 111-11-11;ext=2",
            "tel:+7-916-111-11-11",
            "+7 916 111 11 11 +7 916 222 22 22",
            "0",
            "+70000000000",
        ];
        match self.n(10) {
            0..=6 => self.pick_s(&PHONES),
            7 => format!("+7916{:07}", self.n(10_000_000)),
            8 => {
                let digits: String = (0..self.n(26))
                    .map(|_| char::from(b'0' + self.n(10) as u8))
                    .collect();
                format!("{}{digits}", self.pick_s(&["", "+", "8", "+7", "00", "+ "]))
            }
            _ => self.odd_string(),
        }
    }

    fn time(&mut self) -> String {
        const TIMES: [&str; 28] = [
            "2026-11-25T10:00:00.000Z",
            "2026-11-25T10:00:00Z",
            "2026-11-25T10:00:00",
            "2026-11-25T10:00:00.123456789Z",
            "2026-11-25T10:00:00+14:00",
            "2026-11-25T10:00:00-12:00",
            "2026-02-30T10:00:00Z",
            "2026-13-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
            "+275760-09-13T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2026-11-25T23:59:60Z",
            "2026-11-25T23:59:60.999Z",
            "2026-11-25 10:00:00",
            "2026-11-25",
            "",
            "now",
            "2026-11-25T10:00:00.000+00:00",
            "1000-01-01T00:00:00",
            "2026-11-25T10:00:00.Z",
            "2026-11-25T10:00:00.0000000000000000001Z",
            "2026-11-25T10:00:00z",
            "-0001-01-01T00:00:00Z",
            "+12345-01-01T00:00:00",
            "-0001-01-01T00:00:00",
            "12345-01-01T00:00:00",
            "+2026-11-25T10:00:00",
        ];
        match self.n(10) {
            0..=3 => "2026-11-25T10:00:00.000Z".to_owned(),
            4..=7 => self.pick_s(&TIMES),
            8 => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                self.n(10_000),
                self.n(14),
                self.n(33),
                self.n(26),
                self.n(62),
                self.n(62),
                self.n(1000)
            ),
            _ => self.odd_string(),
        }
    }

    fn crm_ref(&mut self) -> String {
        let (lead, contact, deal) = (self.id("lead"), self.id("contact"), self.id("deal"));
        match self.n(12) {
            0..=2 => format!("lead:{lead}"),
            3 => format!("contact:{contact}"),
            4 => format!("deal:{deal}"),
            5 => format!(
                "{}:{}",
                self.pick_s(&["lead", "contact", "deal"]),
                self.pick(&self.f.crm_ids.clone())
            ),
            _ => self.pick_s(&[
                "lead:",
                ":1",
                "lead",
                "leads:1",
                "LEAD:1",
                "lead:999999999999999999999",
                "lead:-1",
                "lead:1:2",
                "lead: 1",
                "lead:0",
                "lead:abc",
                "company:1",
                "lead:%",
                "lead:10",
                "deal:30",
                ":",
                "lead:\u{0}",
                "lead:١",
            ]),
        }
    }

    fn any_id(&mut self) -> String {
        let all: Vec<String> = self.f.ids.values().cloned().collect();
        self.pick(&all)
    }

    /// A string from the odd corners: empty, whitespace, huge, unicode, control characters,
    /// injection-looking, numbers, JSON-looking, and the workspace's own ids and values.
    fn odd_string(&mut self) -> String {
        match self.n(26) {
            0 => String::new(),
            1 => " ".repeat(self.n(5) + 1),
            2 => "\t\n\r \u{a0}\u{3000}".into(),
            3 => {
                let n = self.size();
                "x".repeat(n)
            }
            4 => self.pick_s(&[
                "Ира Иванова",
                "Zoë Ñúñez",
                "王小明",
                "محمد",
                "ǅemal",
                "ß",
                "İ",
            ]),
            5 => "😀🇷🇺👍🏽‍".repeat(1 + self.n(4)),
            6 => "\u{202E}evil\u{200B}\u{FEFF}\u{2028}\u{2029}\u{0085}".into(),
            7 => (0..1 + self.n(12))
                .map(|_| char::from(self.n(32) as u8))
                .collect(),
            8 => "\0".into(),
            9 => "' OR '1'='1'; DROP TABLE messages; --".into(),
            10 => "%_\\\"'`$(){}[]<>".into(),
            11 => self.pick_s(&["../../etc/passwd", "/", "?", "#", "%2F", "..", "."]),
            12 => self.pick_s(&[
                "0",
                "-1",
                "1e309",
                "99999999999999999999999",
                "NaN",
                "-0",
                "0x10",
                "1.5",
                "9223372036854775807",
                "-9223372036854775808",
                "18446744073709551616",
            ]),
            13 => self.pick_s(&["{}", "[]", "null", "true", "{\"a\":1}", "\"\""]),
            14 => self.phone(),
            15 => self.any_id(),
            16 => self.crm_ref(),
            17 => self.time(),
            18 => (0..self.n(40))
                .map(|_| char::from(0x20 + self.n(95) as u8))
                .collect(),
            19 => (0..1 + self.n(20))
                .filter_map(|_| char::from_u32(self.rng.random_range(0..0x11_0000)))
                .collect(),
            20 => format!("e{}", "\u{301}".repeat(1 + self.n(300))),
            21 => self.pick_s(&["٠١٢٣٤٥٦٧٨٩", "９１６", "①②③", "𝟗𝟏𝟔"]),
            22 => "\u{10FFFF}\u{E000}\u{FFFD}\u{FFFE}".into(),
            23 => self.pick_s(&["hi", "hello", "this one fails", "seed-first", "seed-fail"]),
            24 => self.pick_s(&[INGRESS, ADMIN, APP_TOKEN, SAFE_WEBHOOK]),
            _ => "a\u{0}b\u{7f}c\u{1b}[31m".into(),
        }
    }

    fn odd_key(&mut self) -> String {
        match self.n(6) {
            0 => self.odd_string(),
            _ => self.pick_s(&[
                "",
                " ",
                "__proto__",
                "constructor",
                "NAME",
                "name ",
                " text",
                "$ref",
                "id",
                "\u{0}",
                "extra",
                "messages",
                "statuses",
                "test",
                "error",
                "role",
                "active",
            ]),
        }
    }

    fn text(&mut self) -> String {
        match self.n(10) {
            0..=5 => self.pick_s(&["hello", "hi", "Добрый день!", "ok 👍", "a", "line\nbreak"]),
            6 => "long message ".repeat(1 + self.n(2000)),
            _ => self.odd_string(),
        }
    }

    /// A quick reply's title: mostly fine, sometimes odd or past the bound.
    fn reply_title(&mut self) -> String {
        match self.n(8) {
            0..=4 => self.pick_s(&["Hello", "Цены", "Bye {client}", "A"]),
            5 => "т".repeat(100 + self.n(3)),
            _ => self.odd_string(),
        }
    }

    /// A quick reply's text: variables known, misspelt and half-written, and odd strings.
    fn reply_text(&mut self) -> String {
        match self.n(8) {
            0..=3 => self.pick_s(&[
                "Hello {client}",
                "Я {менеджер}, {компания}: {deal}",
                "Hi {clinet}",
                "{client",
                "{}",
                "{{client}}",
            ]),
            4 => "ы".repeat(4000 + self.n(3)),
            5 => self.text(),
            _ => self.odd_string(),
        }
    }

    fn name(&mut self) -> String {
        match self.n(6) {
            0..=3 => self.pick_s(&["Anna", "Борис", "Zoë", "New", "A B"]),
            _ => self.odd_string(),
        }
    }

    fn bool_or_odd(&mut self) -> Value {
        if self.p(0.9) {
            Value::Bool(self.p(0.5))
        } else {
            self.odd_value(0)
        }
    }

    fn odd_number(&mut self) -> Value {
        match self.n(12) {
            0 => json!(0),
            1 => json!(-1),
            2 => json!(i64::MAX),
            3 => json!(i64::MIN),
            4 => json!(u64::MAX),
            5 => json!(1e308),
            6 => json!(-0.0),
            7 => json!(0.5),
            8 => json!(f64::MIN_POSITIVE),
            9 => json!(4_294_967_296u64),
            10 => json!(1440),
            _ => json!(self.rng.random::<i32>()),
        }
    }

    fn odd_value(&mut self, depth: u32) -> Value {
        match self.n(if depth > 2 { 10 } else { 14 }) {
            0 => Value::Null,
            1 => Value::Bool(self.p(0.5)),
            2 | 3 => self.odd_number(),
            4..=8 => Value::String(self.odd_string()),
            9 => Value::String(String::new()),
            10 => Value::Array((0..self.n(4)).map(|_| self.odd_value(depth + 1)).collect()),
            11 => {
                let mut m = Map::new();
                for _ in 0..self.n(4) {
                    let k = self.odd_key();
                    let v = self.odd_value(depth + 1);
                    m.insert(k, v);
                }
                Value::Object(m)
            }
            12 => {
                let n = self.n(300) + 1;
                self.nested(n)
            }
            _ => json!({}),
        }
    }

    fn nested(&mut self, depth: usize) -> Value {
        let objects = self.p(0.5);
        let mut v = Value::Null;
        for _ in 0..depth {
            v = if objects {
                json!({ "a": v })
            } else {
                json!([v])
            };
        }
        v
    }

    // ----- JSON mutation -----

    fn mutate_string(&mut self, s: &str) -> String {
        match self.n(10) {
            0 => String::new(),
            1 => {
                let cut = self.n(s.len() + 1);
                let mut end = cut;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                s[..end].to_owned()
            }
            2 => format!("{s}{}", self.odd_string()),
            3 => format!(
                "{}{s}",
                self.pick_s(&[" ", "\t", "\u{FEFF}", "\n", "\u{0}"])
            ),
            4 => s.repeat(2 + self.n(50)),
            5 => {
                let mut out = s.to_owned();
                let mut at = self.n(out.len() + 1);
                while !out.is_char_boundary(at) {
                    at -= 1;
                }
                out.insert(at, char::from(self.n(32) as u8));
                out
            }
            6 => s.to_uppercase(),
            7 => s.chars().rev().collect(),
            8 => format!("{s}\u{0}"),
            _ => self.odd_string(),
        }
    }

    fn mutate_value(&mut self, root: &mut Value) {
        let mut all = Vec::new();
        paths(root, &mut Vec::new(), &mut all);
        let path = self.pick(&all);
        let op = self.n(12);
        if op == 0 && !path.is_empty() {
            let (last, parent) = path.split_last().expect("non-empty");
            if let Some(parent) = node_mut(root, parent) {
                match (last, parent) {
                    (Seg::Key(k), Value::Object(m)) => {
                        m.shift_remove(k);
                    }
                    (Seg::Idx(i), Value::Array(a)) if *i < a.len() => {
                        a.remove(*i);
                    }
                    _ => {}
                }
            }
            return;
        }
        let replacement = {
            let Some(node) = node_mut(root, &path) else {
                return;
            };
            let current = node.clone();
            match op {
                1 | 0 => None,
                2 => Some(Value::Null),
                3 => Some(match &current {
                    Value::String(s) => Value::String(self.mutate_string(s)),
                    _ => Value::String(self.odd_string()),
                }),
                4 => Some(match current {
                    Value::String(s) => s
                        .parse::<f64>()
                        .ok()
                        .map_or_else(|| self.odd_number(), |n| json!(n)),
                    Value::Number(n) => Value::String(n.to_string()),
                    Value::Bool(b) => Value::String(b.to_string()),
                    Value::Array(a) => Value::Object(
                        a.into_iter()
                            .enumerate()
                            .map(|(i, v)| (i.to_string(), v))
                            .collect(),
                    ),
                    Value::Object(m) => Value::Array(m.into_iter().map(|(_, v)| v).collect()),
                    Value::Null => json!(0),
                }),
                5 => Some(match current {
                    Value::Object(mut m) => {
                        for _ in 0..1 + self.n(3) {
                            let k = self.odd_key();
                            let v = self.odd_value(1);
                            m.insert(k, v);
                        }
                        Value::Object(m)
                    }
                    Value::Array(mut a) => {
                        let v = self.odd_value(1);
                        let at = self.n(a.len() + 1);
                        a.insert(at, v);
                        Value::Array(a)
                    }
                    other => json!([other]),
                }),
                6 => Some(match current {
                    Value::Array(a) if !a.is_empty() => {
                        let k = if self.p(0.02) { 1500 } else { 2 + self.n(40) };
                        let first = a[0].clone();
                        Value::Array(std::iter::repeat_n(first, k).chain(a).collect())
                    }
                    other => json!([other]),
                }),
                7 => Some(json!({ "value": current })),
                8 => Some(Value::String(match self.n(5) {
                    0 => self.phone(),
                    1 => self.any_id(),
                    2 => self.time(),
                    3 => self.crm_ref(),
                    _ => self.odd_string(),
                })),
                9 => Some(self.odd_number()),
                10 => Some(match current {
                    Value::Object(_) => json!({}),
                    Value::Array(_) => json!([]),
                    _ => json!(""),
                }),
                _ => {
                    let n = 1 + self.n(200);
                    Some(self.nested(n))
                }
            }
        };
        if let Some(node) = node_mut(root, &path) {
            *node = replacement.unwrap_or_else(|| self.odd_value(0));
        }
    }

    /// A raw JSON token no `serde_json::Value` can hold (out-of-range numbers, lone surrogates,
    /// invalid escapes, broken syntax).
    fn raw_token(&mut self) -> String {
        match self.n(26) {
            0 => "1e400".into(),
            1 => "-1e400".into(),
            2 => "123456789012345678901234567890".into(),
            3 => "-9223372036854775809".into(),
            4 => "18446744073709551616".into(),
            5 => "NaN".into(),
            6 => "Infinity".into(),
            7 => "-".into(),
            8 => "01".into(),
            9 => "1.".into(),
            10 => ".5".into(),
            11 => "\"\\ud800\"".into(),
            12 => "\"\\udc00\\ud800\"".into(),
            13 => "\"\\u0000\"".into(),
            14 => "\"\\x41\"".into(),
            15 => "tru".into(),
            16 => "nul".into(),
            17 => "[".into(),
            18 => "{\"a\":}".into(),
            19 => "'single'".into(),
            20 => "\"a\nb\"".into(),
            21 => "[".repeat(1 + self.n(20_000)),
            22 => format!("{}{}", "[".repeat(129), "]".repeat(129)),
            23 => "\"\\uD83D\\uDE00\"".into(),
            24 => "1E+2".into(),
            _ => "\"\u{7f}\"".into(),
        }
    }

    /// Serialises a (valid or mutated) body; sometimes with raw tokens, duplicate keys, or byte
    /// damage. `clean`: the chance it is left as it is.
    fn json_body(&mut self, mut v: Value, clean: f64) -> Vec<u8> {
        if self.p(clean) {
            return serde_json::to_vec(&v).expect("json");
        }
        const RAW: &str = "\u{1}RAW\u{1}";
        const DUP: &str = "\u{1}DUP\u{1}";
        let r = self.n(100);
        if r < 70 {
            for _ in 0..1 + self.n(3) {
                self.mutate_value(&mut v);
            }
        }
        let mut raw = None;
        let mut dup = None;
        if (55..75).contains(&r) {
            let mut all = Vec::new();
            paths(&v, &mut Vec::new(), &mut all);
            let path = self.pick(&all);
            if let Some(node) = node_mut(&mut v, &path) {
                *node = Value::String(RAW.into());
                raw = Some(self.raw_token());
            }
        } else if (75..85).contains(&r) {
            let mut all = Vec::new();
            paths(&v, &mut Vec::new(), &mut all);
            let objects: Vec<_> = all
                .into_iter()
                .filter(|p| {
                    node_mut(&mut v, p)
                        .is_some_and(|n| n.as_object().is_some_and(|m| !m.is_empty()))
                })
                .collect();
            if !objects.is_empty() {
                let path = self.pick(&objects);
                let value = self.odd_value(1);
                if let Some(Value::Object(m)) = node_mut(&mut v, &path) {
                    let keys: Vec<String> = m.keys().cloned().collect();
                    let k = self.pick(&keys);
                    m.insert(DUP.into(), value);
                    dup = Some(k);
                }
            }
        }
        let mut text = serde_json::to_string(&v).expect("json");
        if let Some(token) = raw {
            text = text.replacen("\"\\u0001RAW\\u0001\"", &token, 1);
        }
        if let Some(k) = dup {
            let key = serde_json::to_string(&k).expect("json");
            text = text.replacen("\"\\u0001DUP\\u0001\"", &key, 1);
        }
        let mut bytes = text.into_bytes();
        if r >= 85 || self.p(0.05) {
            for _ in 0..1 + self.n(2) {
                self.mutate_bytes(&mut bytes);
            }
        }
        bytes
    }

    fn mutate_bytes(&mut self, b: &mut Vec<u8>) {
        const INVALID: [&[u8]; 7] = [
            b"\xFF",
            b"\xC0\x80",
            b"\xED\xA0\x80",
            b"\xF4\x90\x80\x80",
            b"\x80",
            b"\xE2\x82",
            b"\xFE\xFF",
        ];
        match self.n(12) {
            0 => {
                let at = self.n(b.len() + 1);
                b.truncate(at);
            }
            1 => {
                let at = self.n(b.len() + 1);
                let byte = self.rng.random::<u8>();
                b.insert(at, byte);
            }
            2 if !b.is_empty() => {
                let at = self.n(b.len());
                b[at] = self.rng.random::<u8>();
            }
            3 => {
                // Invalid UTF-8, preferably inside a string.
                let quotes: Vec<usize> = b
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c == b'"')
                    .map(|(i, _)| i + 1)
                    .collect();
                let at = if quotes.is_empty() {
                    self.n(b.len() + 1)
                } else {
                    self.pick(&quotes)
                };
                let seq = self.pick(&INVALID);
                b.splice(at..at, seq.iter().copied());
            }
            4 => {
                b.splice(0..0, *b"\xEF\xBB\xBF");
            }
            5 => {
                let tail: &[u8] = self.pick(&[
                    &b"x"[..],
                    b"}",
                    b"{}",
                    b"\0",
                    b" \n",
                    b",",
                    b"]",
                    b"\"",
                    b"\\",
                ]);
                b.extend_from_slice(tail);
            }
            6 => {
                let n = self.n(256);
                *b = (0..n).map(|_| self.rng.random::<u8>()).collect();
            }
            7 => b.clear(),
            8 => {
                let n = 100 + self.n(20_000);
                let closed = self.p(0.5);
                *b = "[".repeat(n).into_bytes();
                if closed {
                    b.extend(std::iter::repeat_n(b']', n));
                }
            }
            9 => {
                b.insert(0, b'[');
                b.push(b']');
            }
            10 => {
                for c in b.iter_mut() {
                    if *c == b'"' {
                        *c = b'\'';
                    }
                }
            }
            _ => {
                let copy = b.clone();
                b.extend_from_slice(&copy);
            }
        }
    }

    // ----- requests -----

    fn caller(&mut self, auth: Auth) -> (&'static str, Option<Vec<u8>>) {
        let proper: &[&'static str] = match auth {
            Auth::Manage => &["admin", "supervisor", "supervisor"],
            Auth::AdminOnly => &["admin"],
            Auth::Employee => &["anna", "anna", "supervisor", "boris", "vera"],
            Auth::Any => &["admin", "anna", "supervisor"],
            Auth::Webhook => &["none", "none", "none", "admin"],
        };
        let who = if self.p(0.8) {
            self.pick(proper)
        } else {
            self.pick(&CALLERS)
        };
        let header = match who {
            "none" => None,
            "garbage" => Some(self.garbage_auth()),
            name => {
                let token = self.f.tokens.get(name).cloned().unwrap_or_default();
                Some(self.bearer(&token))
            }
        };
        (who, header)
    }

    fn bearer(&mut self, t: &str) -> Vec<u8> {
        if self.p(0.92) {
            return format!("Bearer {t}").into_bytes();
        }
        let short = &t[..t.len().saturating_sub(1)];
        match self.n(8) {
            0 => format!("bearer {t}"),
            1 => format!("Bearer   {t}   "),
            2 => format!("Bearer {t}\t"),
            3 => format!("Token {t}"),
            4 => t.to_owned(),
            5 => format!("Bearer {t}{t}"),
            6 => format!("Bearer {short}"),
            _ => format!("Bearer {}", t.to_uppercase()),
        }
        .into_bytes()
    }

    fn garbage_auth(&mut self) -> Vec<u8> {
        match self.n(6) {
            0 => b"Bearer".to_vec(),
            1 => b"Basic dXNlcjpwYXNz".to_vec(),
            2 => Vec::new(),
            3 => format!("Bearer {}", "t".repeat(511 + self.n(3))).into_bytes(),
            _ => {
                // Printable ASCII and obs-text (0x80-0xFF), as a header value may carry.
                let n = self.n(700);
                let mut v = b"Bearer ".to_vec();
                v.extend((0..n).map(|_| {
                    let b = self.rng.random_range(0x20u8..=0xFF);
                    if b == 0x7F {
                        b'x'
                    } else {
                        b
                    }
                }));
                v
            }
        }
    }

    /// A path segment: mostly one of `pool` (the workspace's ids), else something odd.
    fn seg(&mut self, pool: &[String]) -> String {
        if !pool.is_empty() && self.p(0.75) {
            return encode_component(&self.pick(pool));
        }
        match self.n(7) {
            0 => {
                let s = self.odd_string();
                encode_component(cut(&s, 3000))
            }
            1 => self.pick_s(&[
                ".",
                "..",
                "%2e%2e",
                "%2E",
                "%00",
                "%FF",
                "%C0%AF",
                "%2F",
                "a%2Fb",
                ";",
                ";x=1",
                "~",
                "%E2%80%AE",
                "%u0041",
                "%",
                "%zz",
                "%%",
                "x%",
                "@",
                ":",
                "!$&'()*+,=",
                "",
                "%20",
                "%0A",
                "%0D%0A",
                "%ED%A0%80",
            ]),
            2 => {
                let base = if pool.is_empty() {
                    self.any_id()
                } else {
                    self.pick(pool)
                };
                format!(
                    "{}{}",
                    encode_component(&base),
                    self.pick_s(&["%00", "%FF", "%20", ".", "%2F", "x", "/"])
                )
            }
            3 => encode_component(&self.any_id()),
            4 => (0..1 + self.n(20))
                .map(|_| format!("%{:02X}", self.rng.random::<u8>()))
                .collect(),
            5 => "a".repeat(1 + self.n(9000)),
            _ => self.pick_s(&[
                "0",
                "-1",
                "99999999999999999999",
                "1.0",
                "1e3",
                " 1",
                "0x1",
                "١",
                "01",
                "+1",
                "001",
                "+0",
                "-0",
                "1 ",
            ]),
        }
    }

    /// A query string from `pairs` (name, value), sometimes damaged.
    fn query(&mut self, pairs: Vec<(&str, String)>) -> String {
        let mut items: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(&v)))
            .collect();
        if self.p(0.35) {
            for _ in 0..1 + self.n(3) {
                match self.n(8) {
                    0 if !items.is_empty() => {
                        let i = self.n(items.len());
                        items.remove(i);
                    }
                    1 if !items.is_empty() => {
                        let i = self.n(items.len());
                        let again = items[i].clone();
                        items.push(again);
                    }
                    2 if !items.is_empty() => {
                        let i = self.n(items.len());
                        let key = items[i].split('=').next().unwrap_or("").to_owned();
                        let s = self.odd_string();
                        let v = encode_component(cut(&s, 3000));
                        items[i] = format!("{key}={v}");
                    }
                    3 if !items.is_empty() => {
                        let i = self.n(items.len());
                        let key = items[i].split('=').next().unwrap_or("").to_owned();
                        let raw = self.pick_s(&[
                            "%",
                            "%zz",
                            "%FF",
                            "%00",
                            "%C3%28",
                            "+",
                            "%2B",
                            "a=b=c",
                            ";",
                            "%ED%A0%80",
                            "",
                            "=",
                            "%E2%82",
                        ]);
                        items[i] = format!("{key}={raw}");
                    }
                    4 if !items.is_empty() => {
                        let i = self.n(items.len());
                        let key = items[i].split('=').next().unwrap_or("").to_owned();
                        items[i] = key;
                    }
                    5 => {
                        let k = self.odd_key();
                        let k = encode_component(cut(&k, 200));
                        let v = self.odd_string();
                        let v = encode_component(cut(&v, 200));
                        items.push(format!("{k}={v}"));
                    }
                    6 => items.push(self.pick_s(&["&", "=", "&&=&", "%", "[]=1", "a[b]=c"])),
                    _ => items.reverse(),
                }
            }
        }
        if items.is_empty() {
            if self.p(0.1) {
                "?".into()
            } else {
                String::new()
            }
        } else {
            format!("?{}", items.join("&"))
        }
    }

    fn case(&mut self, method: Method, route: &'static str, path: String, auth: Auth) -> Case {
        let (caller, auth) = self.caller(auth);
        Case {
            route,
            world: self.f.kind,
            method,
            uri: path,
            caller,
            auth,
            content_type: None,
            body: Bytes::new(),
            stream: false,
            oversize: false,
            disturbs: false,
            headers: Vec::new(),
        }
    }

    /// Attaches a JSON body, now and then one past the API limit (or right at it).
    fn with_json(&mut self, mut c: Case, v: Value, clean: f64) -> Case {
        let limit = if c.route.contains(" /webhooks/") {
            api::WEBHOOK_BODY_LIMIT
        } else {
            api::API_BODY_LIMIT
        };
        let (body, over) = if self.p(0.004) {
            // Past the API limit, or right at it (for a webhook: a large body well inside its own).
            let over = self.p(0.5);
            let api = api::API_BODY_LIMIT;
            let size = if over {
                api + 1 + self.n(1000)
            } else {
                api - 64
            };
            (oversized_json(&v, size), over)
        } else {
            (self.json_body(v, clean), false)
        };
        c.oversize = over && body.len() > limit;
        c.stream = self.p(0.05) || (c.oversize && self.p(0.5));
        c.content_type = self.json_content_type();
        c.body = Bytes::from(body);
        c
    }

    fn json_content_type(&mut self) -> Option<&'static str> {
        if self.p(0.9) {
            return Some("application/json");
        }
        self.pick(&[
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/json; charset=utf-16"),
            Some("multipart/form-data; boundary=x"),
        ])
    }

    /// Sometimes a body where none is read.
    fn stray_body(&mut self, mut c: Case) -> Case {
        if self.p(0.1) {
            let v = self.odd_value(0);
            c.body = Bytes::from(self.json_body(v, 0.3));
            c.content_type = self.json_content_type();
        }
        c
    }

    fn subset(&mut self, fields: Vec<(&str, Value)>, keep: f64) -> Value {
        let mut m = Map::new();
        for (k, v) in fields {
            if self.p(keep) {
                m.insert(k.to_owned(), v);
            }
        }
        Value::Object(m)
    }

    fn safe_webhook_url(&mut self) -> String {
        // Only loopback addresses on a port nothing listens on, or things that are no URL at
        // all: no case may reach the network.
        let host = self.pick_s(&["127.0.0.1:9", "localhost:9", "[::1]:9", "127.0.0.1:9"]);
        let scheme = self.pick_s(&["https", "https", "http", "ftp", "HTTPS", "file", ""]);
        let user = self.pick_s(&[
            "1",
            "1",
            "0",
            "-1",
            "x",
            "99999999999999999999999",
            "",
            "1/2",
        ]);
        let code = match self.n(4) {
            0 => {
                let s = self.odd_string();
                encode_component(cut(&s, 2000))
            }
            _ => self.pick_s(&[
                "fuzzcode",
                "q1w2e3",
                "",
                "%00",
                "a/b",
                "code?x=1",
                "code#frag",
            ]),
        };
        let path = self.pick_s(&["rest", "rest", "REST", "api", ""]);
        let tail = self.pick_s(&["/", "", "//", "/profile.json", "/x/y"]);
        match self.n(12) {
            0 => String::new(),
            1 => {
                // Not a URL: no colon, so no scheme and no host.
                self.odd_string().replace(':', "_")
            }
            2 => format!("  {SAFE_WEBHOOK}  "),
            3 => SAFE_WEBHOOK.to_owned(),
            _ => {
                let sep = if scheme.is_empty() { "" } else { "://" };
                format!("{scheme}{sep}{host}/{path}/{user}/{code}{tail}")
            }
        }
    }
}

fn oversized_json(v: &Value, size: usize) -> Vec<u8> {
    // The valid body with one more field that brings it to `size` bytes.
    let mut m = match v {
        Value::Object(m) => m.clone(),
        other => {
            let mut m = Map::new();
            m.insert("value".into(), other.clone());
            m
        }
    };
    m.insert("padding".into(), Value::String(String::new()));
    let base = serde_json::to_vec(&Value::Object(m.clone()))
        .expect("json")
        .len();
    m.insert(
        "padding".into(),
        Value::String("x".repeat(size.saturating_sub(base))),
    );
    serde_json::to_vec(&Value::Object(m)).expect("json")
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Idx(usize),
}

fn paths(v: &Value, prefix: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    if out.len() > 2000 {
        return;
    }
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                prefix.push(Seg::Key(k.clone()));
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate().take(32) {
                prefix.push(Seg::Idx(i));
                paths(c, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'v>(v: &'v mut Value, path: &[Seg]) -> Option<&'v mut Value> {
    let mut cur = v;
    for s in path {
        cur = match s {
            Seg::Key(k) => cur.get_mut(k.as_str())?,
            Seg::Idx(i) => cur.get_mut(*i)?,
        };
    }
    Some(cur)
}

// ---------------------------------------------------------------------------------------------
// Route generators
// ---------------------------------------------------------------------------------------------

/// A generator for one route of the OpenAPI route list (or `other`).
pub struct RouteGen {
    pub method: &'static str,
    pub route: &'static str,
    pub key: &'static str,
    pub weight: u32,
    /// The share of its cases that run on the Bitrix24 workspace.
    pub bitrix: f64,
    gen: fn(&mut Gen) -> Case,
}

impl RouteGen {
    pub fn generate(&self, g: &mut Gen) -> Case {
        (self.gen)(g)
    }
}

macro_rules! route {
    ($method:literal, $route:literal, $weight:expr, $gen:expr) => {
        route!($method, $route, $weight, 0.12, $gen)
    };
    ($method:literal, $route:literal, $weight:expr, $bitrix:expr, $gen:expr) => {
        RouteGen {
            method: $method,
            route: $route,
            key: concat!($method, " ", $route),
            weight: $weight,
            bitrix: $bitrix,
            gen: $gen,
        }
    };
}

const ROLES: [&str; 3] = ["seller", "supervisor", "none"];
const TRANSPORTS: [&str; 9] = [
    "whatsapp",
    "wapi",
    "tgapi",
    "telegram",
    "viber",
    "instagram",
    "vk",
    "avito",
    "max",
];
const STATES: [&str; 14] = [
    "active",
    "init",
    "disabled",
    "phoneUnavailable",
    "qr",
    "openElsewhere",
    "notEnoughMoney",
    "foreignphone",
    "unauthorized",
    "waitForPassword",
    "onModeration",
    "rejected",
    "deleted",
    "qridle",
];

fn kind_seg(g: &mut Gen) -> String {
    if g.p(0.85) {
        g.pick_s(&["leads", "contacts", "deals"])
    } else {
        g.pick_s(&[
            "lead",
            "LEADS",
            "Leads",
            "",
            "leads%00",
            "..",
            "deals;",
            "companies",
            "%6Ceads",
            "leads%2F1",
        ])
    }
}

fn crm_path(g: &mut Gen) -> (String, String) {
    let kind_and_id = g.n(4);
    let kinds = ["leads", "contacts", "deals"];
    let ids = g.f.crm_ids.clone();
    if kind_and_id < 3 && g.p(0.7) {
        // A matching kind and id.
        let id = if g.p(0.9) {
            ids[kind_and_id].clone()
        } else {
            // The same number written otherwise.
            format!("{}{}", g.pick_s(&["0", "00", "+"]), ids[kind_and_id])
        };
        return (kinds[kind_and_id].to_owned(), encode_component(&id));
    }
    let kind = kind_seg(g);
    let id = g.seg(&ids);
    (kind, id)
}

fn employee_body(g: &mut Gen) -> Value {
    let name = g.name();
    let role = g.pick_s(&ROLES);
    let rnc = g.bool_or_odd();
    let prio = if g.p(0.8) {
        Value::String(g.pick(&g.f.channels.clone()))
    } else {
        Value::Null
    };
    let crm = if g.p(0.7) {
        Value::String(g.pick_s(&["7", "8", "100", "0"]))
    } else {
        Value::Null
    };
    let mut v = g.subset(
        vec![
            ("receives_new_clients", rnc),
            ("priority_channel_id", prio),
            ("crm_user_id", crm),
        ],
        0.4,
    );
    v["name"] = Value::String(name);
    v["role"] = Value::String(role);
    v
}

fn employee_patch(g: &mut Gen) -> Value {
    let name = Value::String(g.name());
    let role = Value::String(g.pick_s(&ROLES));
    let rnc = g.bool_or_odd();
    let prio = if g.p(0.6) {
        Value::String(g.pick(&g.f.channels.clone()))
    } else {
        Value::Null
    };
    let crm = if g.p(0.6) {
        Value::String(g.pick_s(&["7", "8", "100"]))
    } else {
        Value::Null
    };
    let active = Value::Bool(g.p(0.7));
    g.subset(
        vec![
            ("name", name),
            ("role", role),
            ("receives_new_clients", rnc),
            ("priority_channel_id", prio),
            ("crm_user_id", crm),
            ("active", active),
        ],
        0.35,
    )
}

fn crm_entity_body(g: &mut Gen, patch: bool) -> Value {
    let title = Value::String(g.name());
    let phones = Value::Array((0..g.n(4)).map(|_| Value::String(g.phone())).collect());
    let resp = if g.p(0.8) {
        Value::String(g.pick(&g.f.employees.clone()))
    } else {
        Value::Null
    };
    let contact = match g.n(10) {
        0..=5 => Value::String(g.id("contact")),
        6 => Value::Null,
        _ => {
            let c = g.id("contact");
            Value::String(format!("{}{c}", g.pick_s(&["0", "+", " ", "x"])))
        }
    };
    let closed = g.bool_or_odd();
    let stage = if g.p(0.8) {
        Value::String(g.pick_s(&["new", "won", "lost", ""]))
    } else {
        Value::Null
    };
    let mut v = g.subset(
        vec![
            ("phones", phones),
            ("responsible_id", resp),
            ("contact_id", contact),
            ("closed", closed),
            ("stage", stage),
        ],
        0.5,
    );
    if !patch || g.p(0.6) {
        v["title"] = title;
    }
    v
}

fn provider_message(g: &mut Gen) -> Value {
    let message_id = if g.p(0.8) {
        format!("fz-{:016x}", g.rng.random::<u64>())
    } else {
        g.pick_s(&["p1", "p2", "p3", "out-1"])
    };
    let channel = match g.n(20) {
        0..=10 => g.id("channel"),
        11..=14 => g.id("channel_prov"),
        15 => g.id("channel_tg"),
        16 | 17 => "no-such-channel".into(),
        _ => g.odd_string(),
    };
    let chat_type = if g.p(0.75) {
        "whatsapp".to_owned()
    } else {
        g.pick_s(&[
            "telegram",
            "viber",
            "whatsgroup",
            "instagram",
            "tgapi",
            "vk",
            "avito",
            "max",
            "telegroup",
            "maxgroup",
            "WHATSAPP",
            "x",
        ])
    };
    let chat_id = match g.n(10) {
        0..=4 => g.pick_s(&["79161111111", "79162222222", "79163333333"]),
        5..=7 => format!("7916{:07}", g.n(10_000_000)),
        8 => g.phone(),
        _ => g.odd_string(),
    };
    let kind = if g.p(0.75) {
        "text".to_owned()
    } else {
        g.pick_s(&[
            "image",
            "audio",
            "video",
            "document",
            "vcard",
            "geo",
            "wapi_template",
            "unsupported",
            "missing_call",
            "unknown",
            "TEXT",
            "",
        ])
    };
    let mut m = json!({
        "messageId": message_id,
        "channelId": channel,
        "chatType": chat_type,
        "chatId": chat_id,
        "dateTime": g.time(),
        "type": kind,
        "status": if g.p(0.9) { "inbound".to_owned() } else { g.pick_s(&["sent", "delivered", "read", "error", "x"]) },
    });
    if g.p(0.9) {
        m["text"] = Value::String(g.text());
    }
    if g.p(0.2) {
        m["contentUri"] = Value::String(g.pick_s(&[
            "https://store.example/f.jpg?filename=a.was",
            "",
            "not a uri",
            "javascript:alert(1)",
        ]));
    }
    if g.p(0.3) {
        let echo = g.p(0.5);
        m["isEcho"] = Value::Bool(echo);
        if echo && g.p(0.5) {
            m["authorName"] = Value::String(g.name());
        }
    }
    if g.p(0.3) {
        let author = match g.n(4) {
            0 => g.pick_s(&["7", "3", "9", "100"]),
            1 => g.pick(&g.f.employees.clone()),
            _ => g.odd_string(),
        };
        m["authorId"] = Value::String(author);
    }
    if g.p(0.5) {
        let name = g.name();
        let phone = g.phone();
        let contact = g.subset(
            vec![
                ("name", Value::String(name)),
                ("phone", Value::String(phone)),
                ("username", json!("user")),
                ("avatarUri", json!("https://x/a.png")),
            ],
            0.6,
        );
        m["contact"] = contact;
    }
    if g.p(0.05) {
        m["isEdited"] = Value::Bool(true);
        m["oldInfo"] = json!({"oldText": "before", "oldAuthorId": "7"});
    }
    if g.p(0.03) {
        m["quotedMessage"] = g.odd_value(0);
        m["interactive"] = json!([{"text": "button"}]);
    }
    m
}

fn provider_body(g: &mut Gen) -> Value {
    let mut o = Map::new();
    if g.p(0.08) {
        o.insert(
            "test".into(),
            if g.p(0.8) {
                json!(true)
            } else {
                g.odd_value(0)
            },
        );
        return Value::Object(o);
    }
    let count = |g: &mut Gen| match g.n(100) {
        0..=9 => 0,
        10..=84 => 1,
        85..=94 => 2 + g.n(4),
        95..=98 => 10 + g.n(40),
        _ => 300 + g.n(700),
    };
    if g.p(0.75) {
        let n = count(g);
        o.insert(
            "messages".into(),
            Value::Array((0..n).map(|_| provider_message(g)).collect()),
        );
    }
    if g.p(0.35) {
        let n = count(g);
        let statuses = (0..n)
            .map(|_| {
                let mut s = json!({
                    "messageId": g.pick_s(&["out-1", "out-1", "p1", "p2", "nope", "fz-x"]),
                    "timestamp": g.time(),
                    "status": if g.p(0.85) { g.pick_s(&["sent", "delivered", "read", "error", "edited"]) } else { g.pick_s(&["inbound", "accepted", "queued", "failed", "", "READ"]) },
                });
                if g.p(0.3) {
                    let code = g.pick_s(&["BAD_CONTACT", "TOO_LONG_TEXT", "SPAM", "24_HOURS_EXCEEDED", "", "UNKNOWN_ERROR"]);
                    let desc = g.text();
                    s["error"] = g.subset(vec![("error", Value::String(code)), ("description", Value::String(desc)), ("data", json!(1))], 0.7);
                }
                s
            })
            .collect();
        o.insert("statuses".into(), Value::Array(statuses));
    }
    if g.p(0.25) {
        let n = count(g);
        let updates = (0..n)
            .map(|_| {
                let channel = match g.n(6) {
                    0..=2 => g.id("channel_prov"),
                    3 => g.id("channel"),
                    4 => "no-such-channel".into(),
                    _ => g.odd_string(),
                };
                json!({"channelId": channel, "state": g.pick_s(&STATES), "timestamp": 1_603_977_171_000u64, "qr": "data:image/png;base64,iVBORw0"})
            })
            .collect();
        o.insert("channelsUpdates".into(), Value::Array(updates));
    }
    if g.p(0.1) {
        o.insert("test".into(), g.bool_or_odd());
    }
    if g.p(0.05) {
        o.insert(
            "templateStatus".into(),
            json!({"templateGuid": "8d255e5d", "name": "Test", "status": "APPROVED"}),
        );
        o.insert(
            "createContact".into(),
            json!({"responsibleUserId": "7", "name": "x"}),
        );
    }
    Value::Object(o)
}

fn provider_webhook(g: &mut Gen) -> Case {
    let secret = if g.p(0.88) {
        INGRESS.to_owned()
    } else {
        match g.n(3) {
            0 => g.pick_s(&[
                "fuzz-ingress-secreT",
                "fuzz-ingress-secret%00",
                "fuzz-ingress-secre",
                "fuzz-ingress-secret%20",
                "FUZZ-INGRESS-SECRET",
            ]),
            1 => encode_component(&g.f.events_secret.clone()),
            _ => g.seg(&[]),
        }
    };
    let c = g.case(
        Method::POST,
        "POST /webhooks/provider/{secret}",
        format!("/webhooks/provider/{secret}"),
        Auth::Webhook,
    );
    let mut c = if g.huge && g.p(0.0007) {
        // Past the webhook limit, or right at it (a valid delivery of one huge message).
        let over = g.p(0.5);
        let limit = api::WEBHOOK_BODY_LIMIT;
        let mut m = provider_message(g);
        m["text"] = Value::String(String::new());
        let base = serde_json::to_vec(&json!({"messages": [m.clone()]}))
            .expect("json")
            .len();
        let size = if over { limit + 1 } else { limit - 16 };
        m["text"] = Value::String("x".repeat(size - base));
        let body = serde_json::to_vec(&json!({"messages": [m]})).expect("json");
        let mut c = c;
        c.oversize = body.len() > limit;
        c.stream = g.p(0.5);
        c.content_type = Some("application/json");
        c.body = Bytes::from(body);
        c
    } else {
        let v = provider_body(g);
        g.with_json(c, v, 0.35)
    };
    if c.content_type.is_some() && g.p(0.3) {
        // What the provider actually sends (sic).
        c.content_type = Some("application/json; charset-utf-8");
    }
    c
}

fn bitrix_form(g: &mut Gen) -> Vec<u8> {
    const EVENTS: [&str; 9] = [
        "ONCRMLEADUPDATE",
        "ONCRMLEADADD",
        "ONCRMLEADDELETE",
        "ONCRMDEALUPDATE",
        "ONCRMDEALADD",
        "ONCRMDEALDELETE",
        "ONCRMCONTACTUPDATE",
        "ONCRMCONTACTADD",
        "ONCRMCONTACTDELETE",
    ];
    let event = if g.p(0.8) {
        g.pick_s(&EVENTS)
    } else {
        match g.n(3) {
            0 => g.pick_s(&[
                "onCrmLeadUpdate",
                "ONCRMLEAD",
                "ONCRMLEADUPDATEX",
                "ONCRMACTIVITYADD",
                "OnOpenLineMessageAdd",
                "ONCRMCOMPANYADD",
                "",
                "ONCRM",
                "oncrmdealdelete",
            ]),
            _ => g.odd_string(),
        }
    };
    let id = if g.p(0.75) {
        g.pick_s(&["10", "20", "30", "1000983", "11"])
    } else {
        match g.n(2) {
            0 => g.pick_s(&[
                "0",
                "-1",
                "99999999999999999999999999",
                "1e3",
                "0x1F",
                " 10",
                "10 ",
                "١٠",
                "",
                "10.0",
            ]),
            _ => g.odd_string(),
        }
    };
    let token = if g.p(0.85) {
        APP_TOKEN.to_owned()
    } else {
        g.pick_s(&[
            "",
            "fuzz-application-tokeN",
            "FUZZ-APPLICATION-TOKEN",
            "fuzz-application-token ",
            INGRESS,
        ])
    };
    let mut pairs: Vec<(String, String)> = vec![
        ("event".into(), event),
        ("event_handler_id".into(), "709".into()),
        ("data[FIELDS][ID]".into(), id),
        ("ts".into(), "1742807189".into()),
        ("auth[domain]".into(), "portal.bitrix24.ru".into()),
        (
            "auth[client_endpoint]".into(),
            "https://portal.bitrix24.ru/rest/".into(),
        ),
        (
            "auth[server_endpoint]".into(),
            "https://oauth.bitrix.info/rest/".into(),
        ),
        (
            "auth[member_id]".into(),
            "a223c6b3710f85df22e9377d6c4f7553".into(),
        ),
        ("auth[application_token]".into(), token),
    ];
    if g.p(0.4) {
        for _ in 0..1 + g.n(3) {
            match g.n(9) {
                0 if !pairs.is_empty() => {
                    let i = g.n(pairs.len());
                    pairs.remove(i);
                }
                1 if !pairs.is_empty() => {
                    let i = g.n(pairs.len());
                    let k = pairs[i].0.clone();
                    let v = g.odd_string();
                    pairs.push((k, v));
                }
                2 => {
                    let k = g.pick_s(&[
                        "data[FIELDS][ID][]",
                        "data[FIELDS][ID][x]",
                        "data[FIELDS]",
                        "data",
                        "data[FIELDS][ID][a][b][c][d]",
                        "data[[ID]]",
                        "data]FIELDS[",
                        "[",
                        "]",
                        "[]",
                        "a[b]c",
                        "event[]",
                        "event[0]",
                        "auth",
                        "auth[application_token][]",
                        "data[FIELDS][0]",
                        "data[FIELDS][ID",
                        "",
                        "data[][]",
                        "data[FIELDS][ID]=x",
                        "auth[application_token][a][b][c][d][e]",
                    ]);
                    let v = g.pick_s(&["10", "", "x", APP_TOKEN]);
                    pairs.push((k, v));
                }
                3 if !pairs.is_empty() => {
                    let i = g.n(pairs.len());
                    pairs[i].1 = g.odd_string();
                }
                4 => {
                    let n = 100 + g.n(3000);
                    for i in 0..n {
                        pairs.push((format!("data[FIELDS][X{i}]"), "1".into()));
                    }
                }
                5 => {
                    let k = "k".repeat(1 + g.n(5000));
                    pairs.push((k, "v".into()));
                }
                6 => {
                    let i = g.n(pairs.len().max(1));
                    if i < pairs.len() {
                        pairs[i].0 = g.odd_key();
                    }
                }
                7 => {
                    let depth = 1 + g.n(40);
                    pairs.push((format!("data{}", "[a]".repeat(depth)), "1".into()));
                }
                _ => {
                    let n = pairs.len();
                    if n > 1 {
                        let (a, b) = (g.n(n), g.n(n));
                        pairs.swap(a, b);
                    }
                }
            }
        }
    }
    let encode_key = |g: &mut Gen, k: &str| -> String {
        if g.p(0.8) {
            // Brackets as PHP forms send them; the rest encoded.
            encode_component(k).replace("%5B", "[").replace("%5D", "]")
        } else {
            encode_component(k)
        }
    };
    let mut body: Vec<u8> = Vec::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        body.extend(encode_key(g, k).into_bytes());
        if g.p(0.98) {
            body.push(b'=');
        }
        let value: Vec<u8> = match g.n(30) {
            0 => g
                .pick_s(&[
                    "%",
                    "%zz",
                    "%FF%FE",
                    "%00",
                    "+",
                    "%2B",
                    "a=b",
                    ";",
                    "%E2%82",
                    "%ED%A0%80",
                ])
                .into_bytes(),
            1 => v.as_bytes().to_vec(),
            2 => vec![0xFF, 0xFE, b'x'],
            _ => encode_component(v).replace("%20", "+").into_bytes(),
        };
        body.extend(value);
    }
    if g.p(0.08) {
        g.mutate_bytes(&mut body);
    }
    body
}

fn bitrix_events(g: &mut Gen) -> Case {
    let secret = if g.p(0.85) && !g.f.events_secret.is_empty() {
        g.f.events_secret.clone()
    } else {
        match g.n(3) {
            0 => INGRESS.to_owned(),
            1 => format!("{}x", g.f.events_secret),
            _ => g.seg(&[]),
        }
    };
    let mut c = g.case(
        Method::POST,
        "POST /webhooks/bitrix24/{secret}",
        format!("/webhooks/bitrix24/{secret}"),
        Auth::Webhook,
    );
    if g.p(0.08) {
        let v = json!({"event": "ONCRMLEADUPDATE", "data": {"FIELDS": {"ID": "10"}}, "auth": {"application_token": APP_TOKEN}});
        return g.with_json(c, v, 0.3);
    }
    if g.huge && g.p(0.0007) {
        let limit = api::WEBHOOK_BODY_LIMIT;
        let over = g.p(0.5);
        let size = if over { limit + 1 } else { limit - 100 };
        let head = format!(
            "event=ONCRMLEADUPDATE&data[FIELDS][ID]=10&auth[application_token]={APP_TOKEN}&pad="
        );
        let mut body = head.into_bytes();
        body.resize(size, b'x');
        c.oversize = over;
        c.stream = g.p(0.5);
        c.body = Bytes::from(body);
    } else {
        c.body = Bytes::from(bitrix_form(g));
        c.stream = g.p(0.05);
    }
    c.content_type = if g.p(0.9) {
        Some("application/x-www-form-urlencoded")
    } else {
        g.json_content_type()
    };
    c
}

fn send_message_body(g: &mut Gen) -> Value {
    let key = if g.p(0.75) {
        format!("fz-{:016x}", g.rng.random::<u64>())
    } else {
        g.pick_s(&["seed-first", "seed-fail", "k", ""])
    };
    let text = g.text();
    let chats = g.f.chats.clone();
    let channels = g.f.channels.clone();
    let mut v = match g.n(10) {
        0..=3 => json!({"chat": g.pick(&chats)}),
        4..=6 => json!({"channel_id": g.pick(&channels), "phone": g.phone()}),
        7 | 8 => json!({"channel_id": g.pick(&channels), "crm": g.crm_ref()}),
        _ => {
            json!({"chat": g.pick(&chats), "channel_id": g.pick(&channels), "phone": g.phone(), "crm": g.crm_ref()})
        }
    };
    v["text"] = Value::String(text);
    v["idempotency_key"] = Value::String(key);
    v
}

/// Every route of the OpenAPI route list, and `other` (methods and paths that are no route).
pub fn routes() -> Vec<RouteGen> {
    vec![
        route!("POST", "/api/v1/employees", 3, |g| {
            let c = g.case(
                Method::POST,
                "POST /api/v1/employees",
                "/api/v1/employees".into(),
                Auth::Manage,
            );
            let v = employee_body(g);
            g.with_json(c, v, 0.3)
        }),
        route!("GET", "/api/v1/employees", 1, |g| {
            let q = g.query(vec![]);
            let c = g.case(
                Method::GET,
                "GET /api/v1/employees",
                format!("/api/v1/employees{q}"),
                Auth::Manage,
            );
            g.stray_body(c)
        }),
        route!("PATCH", "/api/v1/employees/{id}", 3, |g| {
            let pool = if g.p(0.85) {
                g.f.victims.clone()
            } else {
                g.f.employees.clone()
            };
            let id = g.seg(&pool);
            let mut c = g.case(
                Method::PATCH,
                "PATCH /api/v1/employees/{id}",
                format!("/api/v1/employees/{id}"),
                Auth::Manage,
            );
            c.disturbs = true;
            let v = employee_patch(g);
            g.with_json(c, v, 0.3)
        }),
        route!("POST", "/api/v1/employees/{id}/tokens", 2, |g| {
            let pool = if g.p(0.8) {
                g.f.victims.clone()
            } else {
                g.f.employees.clone()
            };
            let id = g.seg(&pool);
            let c = g.case(
                Method::POST,
                "POST /api/v1/employees/{id}/tokens",
                format!("/api/v1/employees/{id}/tokens"),
                Auth::AdminOnly,
            );
            g.stray_body(c)
        }),
        route!("GET", "/api/v1/employees/{id}/tokens", 1, |g| {
            let id = g.seg(&g.f.employees.clone());
            let c = g.case(
                Method::GET,
                "GET /api/v1/employees/{id}/tokens",
                format!("/api/v1/employees/{id}/tokens"),
                Auth::Manage,
            );
            g.stray_body(c)
        }),
        route!("DELETE", "/api/v1/tokens/{id}", 2, |g| {
            let id = g.seg(&g.f.token_ids.clone());
            let mut c = g.case(
                Method::DELETE,
                "DELETE /api/v1/tokens/{id}",
                format!("/api/v1/tokens/{id}"),
                Auth::Manage,
            );
            c.disturbs = true;
            g.stray_body(c)
        }),
        route!("GET", "/api/v1/me", 1, |g| {
            let c = g.case(
                Method::GET,
                "GET /api/v1/me",
                "/api/v1/me".into(),
                Auth::Any,
            );
            g.stray_body(c)
        }),
        route!("DELETE", "/api/v1/me/token", 1, |g| {
            let mut c = g.case(
                Method::DELETE,
                "DELETE /api/v1/me/token",
                "/api/v1/me/token".into(),
                Auth::Any,
            );
            if g.p(0.7) {
                // Mostly the victim signs out (the seeded callers stay signed in).
                c.caller = "victim";
                let t = g.f.tokens.get("victim").cloned().unwrap_or_default();
                c.auth = Some(g.bearer(&t));
            }
            c.disturbs = true;
            g.stray_body(c)
        }),
        route!("POST", "/api/v1/channels", 2, |g| {
            let c = g.case(
                Method::POST,
                "POST /api/v1/channels",
                "/api/v1/channels".into(),
                Auth::Manage,
            );
            let transport = g.pick_s(&TRANSPORTS);
            let name = g.name();
            let ol = g.bool_or_odd();
            let mut v = g.subset(vec![("open_lines", ol)], 0.5);
            v["transport"] = Value::String(transport);
            v["name"] = Value::String(name);
            g.with_json(c, v, 0.3)
        }),
        route!("GET", "/api/v1/channels", 1, |g| {
            let c = g.case(
                Method::GET,
                "GET /api/v1/channels",
                "/api/v1/channels".into(),
                Auth::Any,
            );
            g.stray_body(c)
        }),
        route!("PATCH", "/api/v1/channels/{id}", 2, |g| {
            let pool = if g.p(0.8) {
                vec![g.id("channel_tg"), g.id("channel_prov")]
            } else {
                g.f.channels.clone()
            };
            let id = g.seg(&pool);
            let mut c = g.case(
                Method::PATCH,
                "PATCH /api/v1/channels/{id}",
                format!("/api/v1/channels/{id}"),
                Auth::Manage,
            );
            c.disturbs = true;
            let state = Value::String(g.pick_s(&STATES));
            let name = Value::String(g.name());
            let ol = g.bool_or_odd();
            let v = g.subset(
                vec![("state", state), ("name", name), ("open_lines", ol)],
                0.5,
            );
            g.with_json(c, v, 0.3)
        }),
        route!("GET", "/api/v1/settings", 1, |g| {
            let c = g.case(
                Method::GET,
                "GET /api/v1/settings",
                "/api/v1/settings".into(),
                Auth::Any,
            );
            g.stray_body(c)
        }),
        route!("PUT", "/api/v1/settings", 2, |g| {
            let c = g.case(
                Method::PUT,
                "PUT /api/v1/settings",
                "/api/v1/settings".into(),
                Auth::Manage,
            );
            let (a, b, d) = (g.bool_or_odd(), g.bool_or_odd(), g.bool_or_odd());
            let transfer = g.bool_or_odd();
            let esc = match g.n(5) {
                0 => Value::Null,
                1 => g.odd_number(),
                _ => json!(g.pick(&[1, 5, 30, 1440, 0, 1441])),
            };
            let v = g.subset(
                vec![
                    ("save_to_crm_timeline", a),
                    ("eight_as_plus7", b),
                    ("notify_supervisors_all", d),
                    ("escalate_after_minutes", esc),
                    ("sellers_may_transfer", transfer),
                ],
                0.5,
            );
            g.with_json(c, v, 0.3)
        }),
        route!("GET", "/api/v1/quick-replies", 1, |g| {
            g.case(
                Method::GET,
                "GET /api/v1/quick-replies",
                "/api/v1/quick-replies".into(),
                Auth::Any,
            )
        }),
        route!("POST", "/api/v1/quick-replies", 2, |g| {
            let personal = g.bool_or_odd();
            let auth = if personal == Value::Bool(true) {
                Auth::Employee
            } else {
                Auth::Manage
            };
            let c = g.case(
                Method::POST,
                "POST /api/v1/quick-replies",
                "/api/v1/quick-replies".into(),
                auth,
            );
            let (title, text) = (g.reply_title(), g.reply_text());
            let v = g.subset(
                vec![
                    ("title", Value::String(title)),
                    ("text", Value::String(text)),
                    ("personal", personal),
                ],
                0.85,
            );
            g.with_json(c, v, 0.3)
        }),
        route!("PATCH", "/api/v1/quick-replies/{id}", 2, |g| {
            let pool = vec![g.id("reply"), g.id("reply_anna")];
            let id = g.seg(&pool);
            let auth = if id == g.id("reply_anna") {
                Auth::Employee
            } else {
                Auth::Manage
            };
            let c = g.case(
                Method::PATCH,
                "PATCH /api/v1/quick-replies/{id}",
                format!("/api/v1/quick-replies/{id}"),
                auth,
            );
            let (title, text) = (g.reply_title(), g.reply_text());
            let v = g.subset(
                vec![
                    ("title", Value::String(title)),
                    ("text", Value::String(text)),
                ],
                0.6,
            );
            g.with_json(c, v, 0.3)
        }),
        route!("DELETE", "/api/v1/quick-replies/{id}", 1, |g| {
            let pool = vec![g.id("reply"), g.id("reply_anna")];
            let id = g.seg(&pool);
            let auth = if id == g.id("reply_anna") {
                Auth::Employee
            } else {
                Auth::Manage
            };
            g.case(
                Method::DELETE,
                "DELETE /api/v1/quick-replies/{id}",
                format!("/api/v1/quick-replies/{id}"),
                auth,
            )
        }),
        route!("PUT", "/api/v1/quick-replies/company", 1, |g| {
            let c = g.case(
                Method::PUT,
                "PUT /api/v1/quick-replies/company",
                "/api/v1/quick-replies/company".into(),
                Auth::Manage,
            );
            let name = if g.p(0.2) {
                Value::Null
            } else {
                Value::String(g.name())
            };
            let v = g.subset(vec![("company", name)], 0.9);
            g.with_json(c, v, 0.3)
        }),
        route!("GET", "/api/v1/settings/audit", 1, |g| {
            let c = g.case(
                Method::GET,
                "GET /api/v1/settings/audit",
                "/api/v1/settings/audit".into(),
                Auth::Manage,
            );
            g.stray_body(c)
        }),
        route!("POST", "/api/v1/crm/{kind}", 3, |g| {
            let kind = kind_seg(g);
            let c = g.case(
                Method::POST,
                "POST /api/v1/crm/{kind}",
                format!("/api/v1/crm/{kind}"),
                Auth::Manage,
            );
            let v = crm_entity_body(g, false);
            g.with_json(c, v, 0.3)
        }),
        route!("GET", "/api/v1/crm", 2, 0.3, |g| {
            let q = match g.n(6) {
                0 => g.pick_s(&["Anna", "client", "916", "111", "", "%", "_", "+7", "B24"]),
                1 => g.phone(),
                _ => g.odd_string(),
            };
            let q = g.query(vec![("q", q)]);
            let c = g.case(
                Method::GET,
                "GET /api/v1/crm",
                format!("/api/v1/crm{q}"),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("GET", "/api/v1/crm/connection", 1, 0.4, |g| {
            let c = g.case(
                Method::GET,
                "GET /api/v1/crm/connection",
                "/api/v1/crm/connection".into(),
                Auth::Manage,
            );
            g.stray_body(c)
        }),
        route!("PUT", "/api/v1/crm/connection", 2, |g| {
            let mut c = g.case(
                Method::PUT,
                "PUT /api/v1/crm/connection",
                "/api/v1/crm/connection".into(),
                Auth::Manage,
            );
            c.disturbs = true;
            let v = json!({"webhook_url": g.safe_webhook_url()});
            safe_url_body(g, c, v)
        }),
        route!("DELETE", "/api/v1/crm/connection", 1, 0.4, |g| {
            let mut c = g.case(
                Method::DELETE,
                "DELETE /api/v1/crm/connection",
                "/api/v1/crm/connection".into(),
                Auth::Manage,
            );
            c.disturbs = true;
            g.stray_body(c)
        }),
        route!("POST", "/api/v1/crm/connection/check", 2, |g| {
            let c = g.case(
                Method::POST,
                "POST /api/v1/crm/connection/check",
                "/api/v1/crm/connection/check".into(),
                Auth::Manage,
            );
            let v = json!({"webhook_url": g.safe_webhook_url()});
            safe_url_body(g, c, v)
        }),
        route!("PUT", "/api/v1/crm/connection/events", 2, 0.6, |g| {
            let mut c = g.case(
                Method::PUT,
                "PUT /api/v1/crm/connection/events",
                "/api/v1/crm/connection/events".into(),
                Auth::Manage,
            );
            c.disturbs = true;
            let t = if g.p(0.5) {
                APP_TOKEN.to_owned()
            } else {
                g.odd_string()
            };
            let v = json!({"application_token": t});
            g.with_json(c, v, 0.3)
        }),
        route!("GET", "/api/v1/crm/{kind}/{id}", 2, 0.3, |g| {
            let (kind, id) = crm_path(g);
            let c = g.case(
                Method::GET,
                "GET /api/v1/crm/{kind}/{id}",
                format!("/api/v1/crm/{kind}/{id}"),
                Auth::Any,
            );
            g.stray_body(c)
        }),
        route!("PATCH", "/api/v1/crm/{kind}/{id}", 3, 0.2, |g| {
            let (kind, id) = crm_path(g);
            let c = g.case(
                Method::PATCH,
                "PATCH /api/v1/crm/{kind}/{id}",
                format!("/api/v1/crm/{kind}/{id}"),
                Auth::Manage,
            );
            let v = crm_entity_body(g, true);
            g.with_json(c, v, 0.3)
        }),
        route!("GET", "/api/v1/crm/{kind}/{id}/timeline", 1, 0.3, |g| {
            let (kind, id) = crm_path(g);
            let c = g.case(
                Method::GET,
                "GET /api/v1/crm/{kind}/{id}/timeline",
                format!("/api/v1/crm/{kind}/{id}/timeline"),
                Auth::Any,
            );
            g.stray_body(c)
        }),
        route!("POST", "/webhooks/provider/{secret}", 12, provider_webhook),
        route!("POST", "/webhooks/bitrix24/{secret}", 6, 1.0, bitrix_events),
        route!("GET", "/api/v1/chats", 1, |g| {
            let c = g.case(
                Method::GET,
                "GET /api/v1/chats",
                "/api/v1/chats".into(),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("GET", "/api/v1/chats/{id}/messages", 2, |g| {
            let id = g.seg(&g.f.chats.clone());
            let mut pairs = Vec::new();
            if g.p(0.5) {
                let before = if g.p(0.6) {
                    g.pick(&g.f.messages.clone())
                } else {
                    g.odd_string()
                };
                pairs.push(("before", before));
            }
            if g.p(0.5) {
                let limit = g.pick_s(&[
                    "0",
                    "1",
                    "50",
                    "500",
                    "501",
                    "-1",
                    "4294967296",
                    "abc",
                    "",
                    "1.5",
                    "18446744073709551616",
                    "+5",
                    " 5",
                ]);
                pairs.push(("limit", limit));
            }
            let q = g.query(pairs);
            let c = g.case(
                Method::GET,
                "GET /api/v1/chats/{id}/messages",
                format!("/api/v1/chats/{id}/messages{q}"),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("GET", "/api/v1/messages/{id}/media", 2, |g| {
            let id = g.seg(&g.f.messages.clone());
            let c = g.case(
                Method::GET,
                "GET /api/v1/messages/{id}/media",
                format!("/api/v1/messages/{id}/media"),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("GET", "/public/files/{token}", 1, |g| {
            let token = if g.p(0.3) {
                "0".repeat(64)
            } else {
                g.seg(&g.f.public_links.clone())
            };
            let c = g.case(
                Method::GET,
                "GET /public/files/{token}",
                format!("/public/files/{token}"),
                Auth::Webhook,
            );
            g.stray_body(c)
        }),
        route!("GET", "/public/files/{token}/{name}", 1, |g| {
            let token = g.seg(&g.f.public_links.clone());
            let name = g.seg(&["photo.png".to_owned(), "%D1%84.pdf".to_owned()]);
            let c = g.case(
                Method::GET,
                "GET /public/files/{token}/{name}",
                format!("/public/files/{token}/{name}"),
                Auth::Webhook,
            );
            g.stray_body(c)
        }),
        route!("POST", "/api/v1/chats/{id}/files", 3, |g| {
            let id = g.seg(&g.f.chats.clone());
            let mut c = g.case(
                Method::POST,
                "POST /api/v1/chats/{id}/files",
                format!("/api/v1/chats/{id}/files"),
                Auth::Employee,
            );
            let key = match g.n(6) {
                0 => g.odd_string(),
                1 => String::new(),
                2 => "k".repeat(201),
                _ => format!("file-{}", g.n(1_000_000)),
            };
            let name = g.pick_s(&[
                "invoice.pdf",
                "%D1%81%D1%87%D1%91%D1%82.pdf",
                "",
                "..%2F..%2Fhub.db",
                "%E2%80%AEfdp.exe",
                "%FF%FE",
                "a%00b.pdf",
            ]);
            let name = if g.p(0.1) { g.odd_string() } else { name };
            for (h, v, p) in [("idempotency-key", key, 0.95), ("x-file-name", name, 0.9)] {
                if g.p(p) {
                    c.headers.push((h, v.into_bytes()));
                }
            }
            let mut body = match g.n(7) {
                0 => b"%PDF-1.4\n".to_vec(),
                1 => b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
                2 => b"<!DOCTYPE html><script>alert(1)</script>".to_vec(),
                3 => Vec::new(),
                4 => b"MZ\x90\0".to_vec(),
                5 => g.odd_string().into_bytes(),
                _ => b"plain words, \xd1\x81\xd0\xbb\xd0\xbe\xd0\xb2\xd0\xb0".to_vec(),
            };
            if g.p(0.01) {
                // Past the largest file a channel takes.
                body.resize(
                    switchboard_core::SEND_MAX_BYTES as usize + 1 + g.n(100),
                    b'%',
                );
                c.oversize = true;
            } else {
                body.extend(std::iter::repeat_n(b'x', g.n(2000)));
            }
            c.stream = g.p(0.2) || c.oversize;
            c.content_type = g.pick(&[
                None,
                Some("application/octet-stream"),
                Some("text/plain"),
                Some("text/csv; charset=utf-8"),
                Some("image/png"),
                Some("text/html"),
            ]);
            c.body = Bytes::from(body);
            c
        }),
        route!("POST", "/api/v1/chats/{id}/answered", 2, |g| {
            let id = g.seg(&g.f.chats.clone());
            let c = g.case(
                Method::POST,
                "POST /api/v1/chats/{id}/answered",
                format!("/api/v1/chats/{id}/answered"),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("POST", "/api/v1/chats/{id}/unanswered", 2, |g| {
            let id = g.seg(&g.f.chats.clone());
            let c = g.case(
                Method::POST,
                "POST /api/v1/chats/{id}/unanswered",
                format!("/api/v1/chats/{id}/unanswered"),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("GET", "/api/v1/search", 2, |g| {
            let q = if g.p(0.1) {
                g.pick_s(&["ab\u{0}cd", "счёт\u{0}", "\u{1b}[31mзаказ", "a\u{7f}bc"])
            } else {
                g.text()
            };
            let mut pairs = vec![("q", q)];
            if g.p(0.3) {
                pairs.push((
                    "limit",
                    g.pick_s(&["0", "1", "50", "200", "201", "-1", "x"]),
                ));
            }
            if g.p(0.2) {
                let ch = g.f.channels.clone();
                pairs.push(("channel", g.pick(&ch)));
            }
            if g.p(0.2) {
                pairs.push(("mine", g.pick_s(&["true", "false", "1", "yes"])));
            }
            if g.p(0.2) {
                pairs.push(("since", g.time()));
            }
            if g.p(0.2) {
                let pool = g.f.messages.clone();
                let before = if g.p(0.8) {
                    g.pick(&pool)
                } else {
                    g.odd_string()
                };
                pairs.push(("before", before));
            }
            let query: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", encode_component(v)))
                .collect();
            g.case(
                Method::GET,
                "GET /api/v1/search",
                format!("/api/v1/search?{}", query.join("&")),
                Auth::Employee,
            )
        }),
        route!("GET", "/api/v1/chats/{id}/transfer", 1, |g| {
            let id = g.seg(&g.f.chats.clone());
            g.case(
                Method::GET,
                "GET /api/v1/chats/{id}/transfer",
                format!("/api/v1/chats/{id}/transfer"),
                Auth::Employee,
            )
        }),
        route!("POST", "/api/v1/chats/{id}/transfer", 2, |g| {
            let id = g.seg(&g.f.chats.clone());
            let mut c = g.case(
                Method::POST,
                "POST /api/v1/chats/{id}/transfer",
                format!("/api/v1/chats/{id}/transfer"),
                Auth::Employee,
            );
            // Who answers which chat moves: the world is checked after.
            c.disturbs = true;
            let to = if g.p(0.8) {
                let all = g.f.employees.clone();
                Value::String(g.pick(&all))
            } else {
                g.odd_value(0)
            };
            let v = g.subset(vec![("to", to)], 0.9);
            g.with_json(c, v, 0.3)
        }),
        route!("GET", "/api/v1/transfers", 1, |g| {
            g.case(
                Method::GET,
                "GET /api/v1/transfers",
                "/api/v1/transfers".into(),
                Auth::Manage,
            )
        }),
        route!("GET", "/api/v1/compose", 2, |g| {
            let pairs = match g.n(8) {
                0..=3 => vec![("phone", g.phone())],
                4..=6 => vec![("crm", g.crm_ref())],
                _ => {
                    if g.p(0.5) {
                        vec![("phone", g.phone()), ("crm", g.crm_ref())]
                    } else {
                        vec![]
                    }
                }
            };
            let q = g.query(pairs);
            let c = g.case(
                Method::GET,
                "GET /api/v1/compose",
                format!("/api/v1/compose{q}"),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("POST", "/api/v1/messages", 5, |g| {
            let c = g.case(
                Method::POST,
                "POST /api/v1/messages",
                "/api/v1/messages".into(),
                Auth::Employee,
            );
            let v = send_message_body(g);
            g.with_json(c, v, 0.35)
        }),
        route!("POST", "/api/v1/messages/{id}/retry", 2, |g| {
            let id = g.seg(&g.f.messages.clone());
            let c = g.case(
                Method::POST,
                "POST /api/v1/messages/{id}/retry",
                format!("/api/v1/messages/{id}/retry"),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("POST", "/api/v1/messages/{id}/mirror/retry", 2, |g| {
            let id = g.seg(&g.f.messages.clone());
            let c = g.case(
                Method::POST,
                "POST /api/v1/messages/{id}/mirror/retry",
                format!("/api/v1/messages/{id}/mirror/retry"),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("GET", "/api/v1/me/counters", 1, |g| {
            let c = g.case(
                Method::GET,
                "GET /api/v1/me/counters",
                "/api/v1/me/counters".into(),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("GET", "/api/v1/sync", 2, |g| {
            let cursor = g.pick_s(&[
                "0",
                "0",
                "1",
                "5",
                "20",
                "1000",
                "-1",
                "9223372036854775807",
                "-9223372036854775808",
                "9223372036854775808",
                "abc",
                "",
                "1e3",
                "1.0",
                "+1",
                "0x10",
            ]);
            let q = if g.p(0.9) {
                g.query(vec![("cursor", cursor)])
            } else {
                g.query(vec![])
            };
            let c = g.case(
                Method::GET,
                "GET /api/v1/sync",
                format!("/api/v1/sync{q}"),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("GET", "/api/v1/events", 1, |g| {
            let c = g.case(
                Method::GET,
                "GET /api/v1/events",
                "/api/v1/events".into(),
                Auth::Employee,
            );
            g.stray_body(c)
        }),
        route!("OTHER", "other", 2, |g| {
            let method = g.pick(&[
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
                Method::HEAD,
                Method::OPTIONS,
                Method::TRACE,
                Method::CONNECT,
                Method::from_bytes(b"FUZZ").expect("method"),
            ]);
            let chat = g.seg(&g.f.chats.clone());
            let path = match g.n(10) {
                0 => "/".to_owned(),
                1 => "/openapi.json".to_owned(),
                2 => format!("/api/v1/chats/{chat}"),
                3 => "/api/v1/".to_owned(),
                4 => "/api/v1/employees/".to_owned(),
                5 => format!("/api/v1/{}", g.seg(&[])),
                6 => format!("/webhooks/provider/{INGRESS}/x"),
                7 => "/api/v2/chats".to_owned(),
                8 => format!("/api/v1/chats/{chat}/messages/x"),
                _ => format!("//api/v1/me/{}", g.seg(&[])),
            };
            let c = g.case(method, "other", path, Auth::Any);
            g.stray_body(c)
        }),
    ]
}

/// A body holding a webhook URL: mutated like any other, but the URL only ever becomes one
/// of the safe ones (a mutation must not turn it into a reachable host).
fn safe_url_body(g: &mut Gen, c: Case, v: Value) -> Case {
    let mut c = g.with_json(c, v, 0.4);
    let text = String::from_utf8_lossy(&c.body).into_owned();
    if text.contains("://") && !SAFE_HOSTS.iter().any(|h| text.contains(h)) {
        // The mutation moved the host somewhere real: send the plain body instead.
        c.body =
            Bytes::from(serde_json::to_vec(&json!({"webhook_url": SAFE_WEBHOOK})).expect("json"));
    }
    c
}

const SAFE_HOSTS: [&str; 3] = ["://127.0.0.1:9/", "://localhost:9/", "://[::1]:9/"];

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

enum Outcome {
    Answered { status: u16, body: Bytes },
    Panicked(String),
    Hung(&'static str),
    BodyError(String),
    Unbuildable,
}

fn build(case: &Case) -> Option<Request<Body>> {
    let mut b = Request::builder()
        .method(case.method.clone())
        .uri(case.uri.as_str());
    if let Some(a) = &case.auth {
        b = b.header(header::AUTHORIZATION, HeaderValue::from_bytes(a).ok()?);
    }
    if let Some(ct) = case.content_type {
        b = b.header(header::CONTENT_TYPE, ct);
    }
    for (name, value) in &case.headers {
        if let Ok(v) = HeaderValue::from_bytes(value) {
            b = b.header(*name, v);
        }
    }
    let body = if case.stream {
        let chunks: Vec<Result<Bytes, std::io::Error>> = case
            .body
            .chunks(64 * 1024)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    } else {
        Body::from(case.body.clone())
    };
    b.body(body).ok()
}

static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records every panic's message (handlers may panic on the blocking pool, where only a 500
/// shows), then lets the default hook print it.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut p) = PANICS.lock() {
                let thread = std::thread::current().name().unwrap_or("?").to_owned();
                p.push(format!("{info} (thread {thread})"));
            }
            previous(info);
        }));
    });
}

/// Panics since the `n`th on this thread or on the threads of `pool` (this runtime's blocking
/// pool): other tests run beside this one in the same process.
fn panics_since(n: usize, pool: &str) -> Vec<String> {
    let me = std::thread::current().name().unwrap_or("?").to_owned();
    let mine = |p: &&String| {
        p.ends_with(&format!("(thread {me})")) || p.ends_with(&format!("(thread {pool})"))
    };
    PANICS
        .lock()
        .map(|p| {
            p.get(n..)
                .unwrap_or_default()
                .iter()
                .filter(mine)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn panic_count() -> usize {
    PANICS.lock().map(|p| p.len()).unwrap_or(0)
}

async fn exec(router: &axum::Router, case: &Case, timeout: Duration) -> Outcome {
    let Some(req) = build(case) else {
        return Outcome::Unbuildable;
    };
    let fut = AssertUnwindSafe(router.clone().oneshot(req)).catch_unwind();
    let resp = match tokio::time::timeout(timeout, fut).await {
        Err(_) => return Outcome::Hung("no answer"),
        Ok(Err(p)) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic".into());
            return Outcome::Panicked(msg);
        }
        Ok(Ok(Ok(resp))) => resp,
        Ok(Ok(Err(never))) => match never {},
    };
    let status = resp.status().as_u16();
    let sse = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if sse {
        // An endless stream: the status is what counts.
        return Outcome::Answered {
            status,
            body: Bytes::new(),
        };
    }
    let collect =
        AssertUnwindSafe(http_body_util::BodyExt::collect(resp.into_body())).catch_unwind();
    match tokio::time::timeout(timeout, collect).await {
        Err(_) => Outcome::Hung("the body never ended"),
        Ok(Err(_)) => Outcome::Panicked("while streaming the answer".into()),
        Ok(Ok(Err(e))) => Outcome::BodyError(e.to_string()),
        Ok(Ok(Ok(b))) => Outcome::Answered {
            status,
            body: b.to_bytes(),
        },
    }
}

fn hub_shaped(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .is_ok_and(|v| v["error"]["code"].is_string() && v["error"]["message"].is_string())
}

fn error_code(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

struct Runner {
    cfg: Config,
    /// The name of this runtime's blocking threads.
    pool: String,
    report: Report,
    written: u64,
}

impl Runner {
    fn finding(&mut self, key: String, case: &Case, what: String) {
        *self.report.finding_counts.entry(key.clone()).or_default() += 1;
        let text = format!("{}\n  → {what}", case.describe());
        if let (Some(dir), true) = (&self.cfg.out_dir, self.report.finding_counts[&key] <= 20) {
            // The first 20 inputs of each kind of finding, whole.
            self.written += 1;
            let _ = std::fs::create_dir_all(dir);
            let stem = format!(
                "{}-{}-{}",
                self.cfg.label.replace(' ', "-"),
                self.cfg.seed,
                self.written
            );
            let _ = std::fs::write(
                dir.join(format!("{stem}.txt")),
                format!("{key}\n{text}\nauthorization (raw): {:?}\n", case.auth),
            );
            let _ = std::fs::write(dir.join(format!("{stem}.body")), &case.body);
        }
        if self.report.findings.iter().filter(|f| f.key == key).count() < 3 {
            self.report.findings.push(Finding { key, text });
        }
    }

    fn count(&mut self, route: &str, status: u16) {
        *self
            .report
            .statuses
            .entry(route.to_owned())
            .or_default()
            .entry(status)
            .or_default() += 1;
    }

    async fn one(&mut self, w: &mut World, case: &Case) {
        w.since_reset += 1;
        let panics = panic_count();
        let started = Instant::now();
        let outcome = exec(&w.router, case, self.cfg.timeout).await;
        let took = started.elapsed();
        *self.report.phases.entry("answering").or_default() += took;
        let t = self.report.time.entry(case.route.to_owned()).or_default();
        t.0 += took;
        t.1 = t.1.max(took);
        let new_panics = panics_since(panics, &self.pool);
        let route = case.route;
        match outcome {
            Outcome::Unbuildable => {
                self.report.unbuildable += 1;
            }
            Outcome::Hung(what) => {
                self.count(route, 998);
                self.finding(
                    format!("hang on {route}"),
                    case,
                    format!("{what} within {:?}", self.cfg.timeout),
                );
                self.reset(w).await;
            }
            Outcome::Panicked(msg) => {
                self.count(route, 999);
                self.finding(
                    format!("panic on {route}"),
                    case,
                    format!("panicked: {msg}"),
                );
                self.reset(w).await;
            }
            Outcome::BodyError(e) => {
                self.count(route, 997);
                self.finding(format!("broken answer body on {route}"), case, e);
            }
            Outcome::Answered { status, body } => {
                self.count(route, status);
                if case.oversize {
                    *self
                        .report
                        .oversize
                        .entry(route.to_owned())
                        .or_default()
                        .entry(status)
                        .or_default() += 1;
                    if (200..300).contains(&status) {
                        self.finding(
                            format!("body over the limit accepted on {route}"),
                            case,
                            format!("{status} {}", escape(&body, 500)),
                        );
                    }
                }
                if status >= 500 {
                    let extra = if new_panics.is_empty() {
                        String::new()
                    } else {
                        format!("\n  panics meanwhile: {}", new_panics.join(" | "))
                    };
                    self.finding(
                        format!(
                            "{status} on {route} ({})",
                            if new_panics.is_empty() {
                                error_code(&body)
                            } else {
                                "panic".into()
                            }
                        ),
                        case,
                        format!("{status} {}{extra}", escape(&body, 800)),
                    );
                    self.reset(w).await;
                    return;
                }
                if !new_panics.is_empty() {
                    self.finding(
                        format!("panic on {route} (answered {status})"),
                        case,
                        new_panics.join(" | "),
                    );
                }
                if (400..500).contains(&status) {
                    // Nothing stored: unless some statement touched a row (and was rolled
                    // back, or not), nothing can have changed; if one did, every table is
                    // compared.
                    self.report.fingerprint_checks += 1;
                    let changes = w.total_changes().await;
                    if changes != w.changes {
                        self.report.full_fingerprints += 1;
                        let after = w.fingerprint().await;
                        if after != w.fp {
                            let diff = w.fp.diff(&after);
                            self.finding(
                                format!(
                                    "stored from a {status} on {route} ({})",
                                    error_code(&body)
                                ),
                                case,
                                format!("{status} {}\n  changed: {diff}", escape(&body, 500)),
                            );
                            w.fp = after;
                        }
                        w.changes = changes;
                    }
                    if !hub_shaped(&body) {
                        let k = format!("{route} {status}");
                        let e = self
                            .report
                            .unshaped
                            .entry(k)
                            .or_insert((0, escape(&body, 160)));
                        e.0 += 1;
                    }
                } else if (200..300).contains(&status) {
                    let changes = w.total_changes().await;
                    if changes == w.changes {
                        // Nothing written (a read, or a write of nothing new).
                        return;
                    }
                    let broken = w.integrity().await;
                    if !broken.is_empty() {
                        for b in &broken {
                            self.finding(
                                format!(
                                    "integrity after a {status} on {route}: {}",
                                    b.split(" (").next().unwrap_or(b)
                                ),
                                case,
                                format!("{status} {}\n  stored: {b}", escape(&body, 300)),
                            );
                        }
                        self.reset(w).await;
                        return;
                    }
                    w.fp = w.fingerprint().await;
                    w.changes = changes;
                    self.report.full_fingerprints += 1;
                    if case.disturbs && !w.healthy().await {
                        self.reset(w).await;
                    }
                } else {
                    // 1xx/3xx: nothing the hub answers; the state is checked as after a 4xx.
                    let after = w.fingerprint().await;
                    if after != w.fp {
                        self.finding(
                            format!("stored from a {status} on {route}"),
                            case,
                            w.fp.diff(&after),
                        );
                        w.fp = after;
                    }
                    w.changes = w.total_changes().await;
                }
            }
        }
    }

    async fn reset(&mut self, w: &mut World) {
        let t = Instant::now();
        w.reset().await;
        *self
            .report
            .phases
            .entry("resetting workspaces")
            .or_default() += t.elapsed();
    }
}

fn pool_name(cfg: &Config) -> String {
    format!("fuzz-pool-{}-{}", cfg.label, cfg.seed)
}

/// Mixes a seed and a case number into one case's seed.
fn case_seed(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A scratch directory for the workspaces: in memory when the machine has one.
pub fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::Builder::new()
            .prefix("switchboard-fuzz-")
            .tempdir_in(shm)
        {
            return d;
        }
    }
    tempfile::Builder::new()
        .prefix("switchboard-fuzz-")
        .tempdir()
        .expect("tempdir")
}

/// Runs `cfg.cases` cases on a fresh pair of seeded workspaces (on its own runtime).
pub fn run(cfg: &Config) -> Report {
    install_panic_hook();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name(pool_name(cfg))
        .build()
        .expect("runtime");
    rt.block_on(run_async(cfg.clone()))
}

async fn run_async(cfg: Config) -> Report {
    let dir = scratch();
    let gens: Vec<RouteGen> = routes()
        .into_iter()
        .filter(|r| cfg.only.is_empty() || cfg.only.iter().any(|o| r.key.contains(o)))
        .filter(|r| !cfg.except.iter().any(|o| r.key.contains(o)))
        .collect();
    assert!(!gens.is_empty(), "no route matches {:?}", cfg.only);
    let needs_builtin = gens.iter().any(|r| r.bitrix < 1.0);
    let mut builtin = if needs_builtin {
        Some(World::new(WorldKind::BuiltIn, dir.path()).await)
    } else {
        None
    };
    let mut bitrix = World::new(WorldKind::Bitrix, dir.path()).await;
    let total: u32 = gens.iter().map(|r| r.weight).sum();
    let mut runner = Runner {
        cfg: cfg.clone(),
        pool: pool_name(&cfg),
        report: Report::default(),
        written: 0,
    };
    let start = Instant::now();
    let mut last = Instant::now();
    for i in 0..cfg.cases {
        let s = case_seed(cfg.seed, i);
        let mut pick = StdRng::seed_from_u64(s ^ 0xA5A5);
        let mut x = pick.random_range(0..total);
        let rg = gens
            .iter()
            .find(|r| {
                if x < r.weight {
                    true
                } else {
                    x -= r.weight;
                    false
                }
            })
            .expect("a route");
        let on_bitrix = builtin.is_none() || pick.random_bool(rg.bitrix);
        let w = if on_bitrix {
            &mut bitrix
        } else {
            builtin.as_mut().expect("built-in world")
        };
        if w.since_reset >= cfg.reset_every {
            let t = Instant::now();
            w.reset().await;
            *runner
                .report
                .phases
                .entry("resetting workspaces")
                .or_default() += t.elapsed();
        }
        let t0 = Instant::now();
        let case = {
            let facts = w.facts.clone();
            let mut g = Gen::new(s, &facts, cfg.huge_bodies);
            rg.generate(&mut g)
        };
        let t1 = Instant::now();
        runner.one(w, &case).await;
        let t2 = Instant::now();
        *runner.report.phases.entry("generating").or_default() += t1 - t0;
        *runner
            .report
            .phases
            .entry("answering, checking, resetting")
            .or_default() += t2 - t1;
        runner.report.cases += 1;
        if cfg.progress_every > 0 && (i + 1) % cfg.progress_every == 0 {
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "[{}] {} cases, {:.0} s, {:.0} cases/s overall ({:.0} recent), {} findings",
                cfg.label,
                i + 1,
                secs,
                (i + 1) as f64 / secs,
                cfg.progress_every as f64 / last.elapsed().as_secs_f64(),
                runner.report.failures()
            );
            last = Instant::now();
        }
    }
    runner.report.elapsed = start.elapsed();
    runner.report.resets += builtin.as_ref().map_or(0, |w| w.copies - 1) + bitrix.copies - 1;
    drop(builtin);
    drop(bitrix);
    runner.report
}

/// The routes of the OpenAPI description without a generator here, and generators for routes
/// it does not describe.
pub fn uncovered_routes() -> (Vec<String>, Vec<String>) {
    let documented: BTreeSet<String> = api::operations()
        .into_iter()
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    let generated: BTreeSet<String> = routes()
        .iter()
        .filter(|r| r.method != "OTHER")
        .map(|r| r.key.to_owned())
        .collect();
    (
        documented.difference(&generated).cloned().collect(),
        generated.difference(&documented).cloned().collect(),
    )
}
