//! Following a sync to its end over HTTP, as a desktop does: every page of a snapshot too.

#![allow(dead_code, reason = "each bench uses what it needs")]

/// What a sync answer says about what follows it (the rest is the bench's to read, or not:
/// the hub's work is measured, not the bench's own parsing on the same cores).
#[derive(serde::Deserialize)]
pub struct SyncHead {
    pub cursor: i64,
    pub has_more: bool,
    #[serde(default)]
    pub page: Option<String>,
}

/// Syncs from `cursor` until nothing more waits, each answer's body handed to `each`; the new
/// cursor and the bytes read (`None` once the hub is gone).
pub async fn sync_all(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    mut cursor: i64,
    mut each: impl FnMut(&[u8]),
) -> Option<(i64, usize)> {
    let (mut bytes, mut page) = (0, None::<String>);
    loop {
        let mut query = vec![("cursor", cursor.to_string())];
        if let Some(p) = page.take() {
            query.push(("page", p));
        }
        let body = http
            .get(format!("{url}/api/v1/sync"))
            .query(&query)
            .bearer_auth(token)
            .send()
            .await
            .ok()?
            .bytes()
            .await
            .ok()?;
        bytes += body.len();
        each(&body);
        let s = head(&body);
        cursor = s.cursor;
        page = s.page;
        if !s.has_more {
            return Some((cursor, bytes));
        }
    }
}

/// The answer's cursor and what follows, read from its end: the hub writes `changes` first and
/// these after it, and a key outside a string is never escaped, so the last `],"cursor":` is
/// the top level's. (Parsing the whole answer would measure the bench's own JSON reading, on the
/// same cores as the hub, not the hub.)
pub fn head(body: &[u8]) -> SyncHead {
    const KEY: &[u8] = b"],\"cursor\":";
    let at = body
        .windows(KEY.len())
        .rposition(|w| w == KEY)
        .expect("an answer with a cursor");
    let mut tail = b"{".to_vec();
    tail.extend_from_slice(&body[at + 2..]);
    serde_json::from_slice(&tail).expect("sync answer's head")
}
