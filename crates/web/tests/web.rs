//! Integration tests of the web layer: the real server on `127.0.0.1:0`, over HTTP, against a
//! fresh SQLite database and, when `KAOHE_TEST_DATABASE_URL` is set, a fresh PostgreSQL one.

#[path = "web/accounts.rs"]
mod accounts;
#[path = "web/admin.rs"]
mod admin;
#[path = "web/api.rs"]
mod api;
#[path = "web/charts.rs"]
mod charts;
#[path = "web/cycle_pages.rs"]
mod cycle_pages;
#[path = "web/cycles.rs"]
mod cycles;
#[path = "web/helpers.rs"]
mod helpers;
#[path = "web/pages.rs"]
mod pages;
#[path = "web/polls.rs"]
mod polls;
#[path = "web/ratings.rs"]
mod ratings;
#[path = "web/records.rs"]
mod records;
#[path = "web/tables.rs"]
mod tables;
#[path = "web/trend.rs"]
mod trend;
