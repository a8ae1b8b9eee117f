//! HTTP tests: the real router on a fresh database, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod alert_orders;
mod api_gaps;
mod api_money;
mod app;
mod assembly;
mod audit_page;
mod auth;
mod build_templates;
mod concurrency;
mod cost;
mod datacenter;
mod edges;
mod formkit;
mod forms;
mod forms2;
mod history;
mod home;
mod imports;
mod inventory;
mod labels;
mod lists;
mod login;
mod netbox;
mod orders;
mod permissions;
mod procurement;
mod redirects;
mod reports;
mod security;
mod stocktake;
mod structure;
mod workorders;
