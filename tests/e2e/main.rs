//! The user journeys of the product brief, end to end in a real headless
//! Chromium (Debian's `chromium` and `chromium-driver`) against
//! `rackledger serve --demo` on 127.0.0.1 with a fresh database.
//!
//! Without the browser the journeys are skipped with a message; CI sets
//! `RACKLEDGER_REQUIRE_BROWSER=1` so a missing browser fails instead.
//! `RACKLEDGER_SCREENSHOTS=docs` writes the screenshots into docs/screenshots.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod crawl;
mod harness;
mod homes;
mod management;
mod procurement;
#[path = "../support/mod.rs"]
mod support;
mod technician;
