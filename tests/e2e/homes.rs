//! Each demo role's home at 1366x768 and on a 390x844 phone: the role's own
//! cards, *Work orders* in the menu, a phone header under 15 % of the screen
//! whose menu opens, and the screenshots `home-<role>-desktop|phone`.

use fantoccini::Locator;
use serde_json::json;

use crate::harness::{World, browser_available};

/// (user, password, role, a card only that role's home shows).
const ROLES: [(&str, &str, &str, &str); 5] = [
    ("tech", "rackledger-tech", "technician", "#my-work"),
    ("buyer", "rackledger-buyer", "procurement", "#orders-late"),
    ("boss", "rackledger-boss", "manager", "#tiers-losing"),
    ("admin", "rackledger-admin", "admin", "#failed-logins"),
    ("guest", "rackledger-guest", "viewer", "#fleet-unhealthy"),
];

async fn header_height(w: &World) -> f64 {
    w.client
        .execute(
            "return document.getElementById('topbar').getBoundingClientRect().height",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap()
}

async fn shown(w: &World, css: &str) -> bool {
    let found = w.client.find_all(Locator::Css(css)).await.unwrap();
    match found.first() {
        Some(e) => e.is_displayed().await.unwrap(),
        None => false,
    }
}

async fn homes_at(width: u32, height: u32, size: &str) {
    let mut w = World::start(width, height).await;
    let phone = width < 600;
    for (user, password, role, own_card) in ROLES {
        w.client.delete_all_cookies().await.unwrap();
        w.login_with_keyboard(user, password).await;
        w.goto("/").await;
        w.find(own_card).await;
        w.check_page(200).await;
        // Fleet health is on every reading role's home; the rest is each role's own.
        for (_, _, other, card) in ROLES {
            if card != own_card && card != "#fleet-unhealthy" {
                let found = w.client.find_all(Locator::Css(card)).await.unwrap();
                assert!(found.is_empty(), "{role} home shows {other}'s {card}");
            }
        }
        if phone {
            let h = header_height(&w).await;
            assert!(
                h <= f64::from(height) * 0.15,
                "{role}: the phone header is {h} px of {height}"
            );
            assert!(
                !shown(&w, "#nav-workorders").await,
                "{role}: menu starts folded"
            );
        } else {
            assert!(
                !shown(&w, "#menu-toggle").await,
                "{role}: no menu button on a desk"
            );
            assert!(
                shown(&w, "#nav-workorders").await,
                "{role}: Work orders in the menu"
            );
        }
        w.screenshot(&format!("home-{role}-{size}")).await;
        if phone {
            w.find("#menu-toggle").await.click().await.unwrap();
            assert!(shown(&w, "#nav-workorders").await, "{role}: the menu opens");
            let expanded = w
                .client
                .execute(
                    "return document.getElementById('menu-toggle').getAttribute('aria-expanded')",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(expanded, json!("true"));
        }
        if role == "technician" {
            // The scan box opens what was scanned: one asset goes straight to it.
            let scan = w.find("#home-scan-code").await;
            scan.send_keys("SRV-C3-0001").await.unwrap();
            w.mark_page().await;
            scan.send_keys("\u{E007}").await.unwrap(); // Enter
            w.wait_new_page().await;
            let path = w.path().await;
            assert!(path.starts_with("/inventory/assets/"), "scan opened {path}");
        }
    }
    w.close().await;
}

#[tokio::test]
async fn every_role_lands_on_its_own_home_on_a_desk() {
    if !browser_available() {
        return;
    }
    homes_at(1366, 768, "desktop").await;
}

#[tokio::test]
async fn every_role_lands_on_its_own_home_on_a_phone_with_a_folded_menu() {
    if !browser_available() {
        return;
    }
    homes_at(390, 844, "phone").await;
}
