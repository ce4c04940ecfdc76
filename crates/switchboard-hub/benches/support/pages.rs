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
        let s: SyncHead = serde_json::from_slice(&body).expect("sync answer");
        cursor = s.cursor;
        page = s.page;
        if !s.has_more {
            return Some((cursor, bytes));
        }
    }
}
