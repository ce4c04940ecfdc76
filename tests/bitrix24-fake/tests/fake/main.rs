//! The Bitrix24 fake's tests, one binary: its contract, and real clients against it.

mod clients;
mod contract;
