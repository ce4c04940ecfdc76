//! End-to-end tests, one binary: the real desktop binary under Xvfb, driven through WebDriver,
//! against a real hub. Run one at a time (`--test-threads=1`): they share the display and bus.

mod access;
mod bitrix24;
mod chat_list;
mod composer;
mod demo;
mod media;
mod no_tray;
mod quick_replies;
mod search;
mod transfer;
mod tray;
mod two_desktops;
mod volume;
