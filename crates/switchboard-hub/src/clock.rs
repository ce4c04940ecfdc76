//! The hub's clock. Only the layers above storage read it: storage functions are given the
//! time of the operation they store (`now`), so a test or another backend can fix it.

pub use crate::store::format_time;

/// Now, as the hub writes times: RFC 3339 UTC with milliseconds (sorts as text).
pub fn now() -> String {
    format_time(chrono::Utc::now())
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
