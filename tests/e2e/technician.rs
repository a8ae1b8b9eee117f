//! Journey 2, on a phone-sized window: a BMC (a real DMTF mockup served by
//! sushy-static, one DIMM changed to report Critical with the serial of a
//! DIMM in the demo's first server) makes the poller open a work order; the
//! technician finds the rack and U, scans the spare, completes the swap,
//! prints the label, and sees the failed DIMM at RMA.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{World, browser_available, poll_until};

/// sushy-static from `SUSHY_STATIC` or the venv .ci/run makes; None (after
/// saying so) when neither exists and CI does not require it.
fn sushy_static() -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/sushy-venv/bin/sushy-static");
    let found = std::env::var_os("SUSHY_STATIC")
        .map(PathBuf::from)
        .filter(|p| p.exists())
        .or_else(|| venv.exists().then_some(venv));
    if found.is_none() {
        assert!(
            std::env::var("RACKLEDGER_REQUIRE_SUSHY").is_err(),
            "RACKLEDGER_REQUIRE_SUSHY is set but sushy-static is not installed"
        );
        eprintln!("TECHNICIAN JOURNEY SKIPPED: sushy-static (PyPI sushy-tools) is not installed");
    }
    found
}

/// The DMTF public-rackmount1 mockup with DIMM1 failing under `serial`.
fn failing_mockup(dir: &Path, serial: &str) -> PathBuf {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/redfish-mockups/public-rackmount1");
    let tree = dir.join("bmc");
    crate::support::copy_tree(&shared, &tree);
    let systems = tree.join("Systems");
    let system = std::fs::read_dir(&systems)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().is_dir())
        .unwrap()
        .path();
    let dimm = system.join("Memory/DIMM1/index.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&dimm).unwrap()).unwrap();
    doc["SerialNumber"] = serial.into();
    doc["Status"]["Health"] = "Critical".into();
    std::fs::write(&dimm, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    tree
}

struct Sushy(std::process::Child);

impl Drop for Sushy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_failing_dimm_is_replaced_from_its_work_order_on_a_phone() {
    if !browser_available() {
        return;
    }
    let Some(sushy) = sushy_static() else {
        return;
    };
    let mut w = World::start(390, 844).await;
    w.login_with_keyboard("tech", "rackledger-tech").await;

    // The demo's first server and the serial of its DIMM A5.
    w.goto("/inventory/assets?q=SRV-C3-0001").await;
    w.click_and_wait("#main a[href^=\"/inventory/assets/\"], main a[href^=\"/inventory/assets/\"]:not([href=\"/inventory/assets\"])").await;
    let asset_path = w.path().await;
    let installed = w.text("#installed").await;
    let failing = installed
        .lines()
        .find(|l| l.contains("DIMM A5"))
        .and_then(|l| l.split_whitespace().find(|t| t.starts_with("S4EMNX")))
        .unwrap_or_else(|| panic!("DIMM A5 in {installed}"))
        .to_owned();

    // Off the path: the swap's location is the server's own site (Seoul),
    // not the first warehouse in the list (Busan); a wrong scan into it is
    // named at the field that was touched, with the scan and the defaults kept.
    let selected = "const s = document.querySelector('#swap-location'); return s.options[s.selectedIndex].text;";
    let chosen = w.client.execute(selected, vec![]).await.unwrap();
    let chosen = chosen.as_str().unwrap_or_default().to_owned();
    assert!(
        chosen.starts_with("Seoul DC1"),
        "the swap defaults to the server's site: {chosen}"
    );
    let field = w.find("#swap-new-serial").await;
    field.click().await.unwrap();
    w.mark_page().await;
    field.send_keys("NOT-A-SERIAL\u{E007}").await.unwrap(); // a scan, then Enter
    w.wait_new_page().await;
    w.check_refused(422).await;
    let said = w.text("#new_serial-error").await;
    assert!(
        said.contains("NOT-A-SERIAL"),
        "said at the serial field: {said}"
    );
    let kept = w
        .find("#swap-new-serial")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("NOT-A-SERIAL"), "the scan is kept");
    let chosen = w.client.execute(selected, vec![]).await.unwrap();
    assert!(
        chosen.as_str().unwrap_or_default().starts_with("Seoul DC1"),
        "{chosen}"
    );
    w.screenshot("technician-swap-refused").await;
    w.goto(&asset_path).await;

    // Its BMC: the mockup served on loopback by sushy-static.
    let dir = tempfile::tempdir().unwrap();
    let tree = failing_mockup(dir.path(), &failing);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _bmc = Sushy(
        Command::new(&sushy)
            .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m"])
            .arg(&tree)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sushy-static starts"),
    );
    let form = "form[action$=\"/bmc\"]";
    let url = w.find(&format!("{form} input[name=url]")).await;
    if !url.is_displayed().await.unwrap() {
        w.find(&format!("details:has({form}) > summary"))
            .await
            .click()
            .await
            .unwrap();
    }
    // The demo's own simulator already fills the field: replace it.
    url.clear().await.unwrap();
    url.send_keys(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    w.click_and_wait(&format!("{form} button[type=submit]"))
        .await;
    assert!(w.path().await.starts_with(&asset_path));
    w.click_and_wait("form[action$=\"/poll\"] button").await;

    // The poller inside the server polls it and opens the work order.
    let wo_path = poll_until(Duration::from_secs(60), "a work order from the BMC", || async {
        w.goto("/workorders").await;
        // Alert work orders are titled in the reader's language: find the
        // one from an alert on this server's memory.
        w.client
            .execute(
                "return [...document.querySelectorAll('#workorders tbody tr')]
                   .filter(tr => tr.querySelector('small.badge') && tr.textContent.includes('DIMM')
                     && tr.textContent.includes('SRV-C3-0001'))
                   .map(tr => tr.querySelector('a[href^=\"/workorders/\"]').getAttribute('href'))[0] || null;",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .map(str::to_owned)
    })
    .await;
    w.check_page(200).await;
    w.screenshot("technician-workorders").await;
    w.goto(&wo_path).await;
    w.check_page(200).await;
    let location = w.text("#wo-location").await;
    assert!(
        location.contains("A01") && location.contains("U10"),
        "{location}"
    );
    let notes = w.text("#wo-notes").await;
    assert!(notes.contains(&failing), "names the failing DIMM: {notes}");
    w.screenshot("technician-work-order").await;

    // Tick the checklist, scan the spare the pick list names, complete.
    let checks = w
        .client
        .find_all(fantoccini::Locator::Css("#checklist form"))
        .await
        .unwrap()
        .len();
    for _ in 0..checks {
        w.click_and_wait("#checklist button[aria-pressed=false]")
            .await;
    }
    let spare = w.text("#pick-list tbody tr:first-child code").await;
    let site = w.text("#pick-list tbody tr:first-child .spare-site").await;
    assert!(
        site.contains("Seoul DC1"),
        "the pick list says where the spare is: {site}"
    );
    let pull = w.text("#wo-pull").await;
    assert!(pull.contains(&failing), "the part to pull: {pull}");
    // The spare field starts empty, the suggestion beside it: a scan is not
    // appended to anything. A wrong scan first: named at that field, kept.
    let field = w.find("#complete input[name=spare_serial]").await;
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some(""));
    field.click().await.unwrap();
    w.mark_page().await;
    field.send_keys("S4WRONG0001\u{E007}").await.unwrap();
    w.wait_new_page().await;
    w.check_refused(422).await;
    let said = w.text("#spare_serial-error").await;
    assert!(
        said.contains("S4WRONG0001"),
        "said at the spare field: {said}"
    );
    let problem = w.text("#problem").await;
    assert!(
        problem.starts_with("Spare"),
        "names the field touched: {problem}"
    );
    let field = w.find("#complete input[name=spare_serial]").await;
    assert_eq!(
        field.prop("value").await.unwrap().as_deref(),
        Some("S4WRONG0001")
    );
    w.screenshot("technician-wrong-scan").await;
    // Scanning again replaces the wrong scan (the field selects all on focus).
    field.click().await.unwrap();
    w.mark_page().await;
    field.send_keys(&format!("{spare}\u{E007}")).await.unwrap(); // a scanner types, then Enter
    w.wait_new_page().await;
    assert_eq!(w.text("#wo-status").await, "Done");
    w.check_page(200).await;
    w.screenshot("technician-work-order-done").await;

    // The spare's label, then the failed DIMM at RMA.
    w.click_and_wait("#print-spare-label").await;
    w.check_page(200).await;
    let svg = w.find("svg").await;
    assert!(svg.is_displayed().await.unwrap());
    w.screenshot("technician-label").await;
    w.goto("/inventory/rma").await;
    w.check_page(200).await;
    let rma = w.text("#rmas").await;
    assert!(rma.contains(&failing), "the failed DIMM is at RMA: {rma}");
    w.close().await;
}
