//! The desktop's integration tests, one binary: the local store, composing offline, and the
//! sync client against a real hub in-process.

mod compose;
mod local;
mod sync;
