//! The hub's integration tests, one binary (one link, one shared kit in [`common`]), by area.

mod common;
mod fuzz_gen;

mod api;
mod authz;
mod bitrix;
mod bitrix_workspace;
mod events;
mod fuzz;
mod layers;
mod limits;
mod media;
mod mirror;
mod outbox;
mod scenarios;
mod store_conformance;
