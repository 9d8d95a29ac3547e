//! End-to-end tests through the `kaohe` binary: commands, files, databases (SQLite, and
//! PostgreSQL when `KAOHE_TEST_DATABASE_URL` is set), the server and a headless browser.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod util;
mod webdriver;

mod a11y;
mod assess;
mod audit;
mod browser;
mod charts;
mod commands;
mod cycle;
mod files;
mod pickers;
mod poll;
mod print;
mod ratings;
mod server;
mod tables;
mod user;
