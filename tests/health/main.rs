//! Health: the Redfish client against real mockups and faulty servers, the
//! poller, leases, alerts, history and reconciliation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

#[path = "../web/app.rs"]
mod app;

mod cli;
mod collect;
mod components;
mod demo;
mod explain;
mod fake;
mod fuzz;
mod poller;
mod redirects;
mod store;
mod sushy;
mod tls;
mod web;
