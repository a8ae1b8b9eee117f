//! Journey 1: procurement orders in USD with freight and duty, imports the
//! supplier's XLSX packing list with a few bad rows, reads the preview,
//! commits the good rows, and sees the landed cost of each received unit.
//! Off the path: the same packing list uploaded again, then the full list
//! (the received serials, two more and a Total row) imported with one click.

use crate::harness::{World, browser_available};

/// A packing list for six DIMMs, with three rows that cannot be received:
/// an unknown part number, a serial given twice, and a row without a serial.
fn packing_list(path: &std::path::Path) -> Vec<String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "Carton No",
        "Part Number",
        "Manufacturer",
        "Serial Number",
        "Qty",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let good: Vec<String> = (1..=6).map(|i| format!("S4EMNXE2E{i:05}")).collect();
    let mut rows: Vec<[String; 4]> = good
        .iter()
        .map(|s| {
            [
                "C-1".into(),
                "M321R4GA3BB6-CQK".into(),
                "Samsung".into(),
                s.clone(),
            ]
        })
        .collect();
    rows.push([
        "C-2".into(),
        "NOT-A-PART-9".into(),
        "Nobody".into(),
        "X0000001".into(),
    ]);
    rows.push([
        "C-2".into(),
        "M321R4GA3BB6-CQK".into(),
        "Samsung".into(),
        good[0].clone(),
    ]);
    rows.push([
        "C-2".into(),
        "M321R4GA3BB6-CQK".into(),
        "Samsung".into(),
        String::new(),
    ]);
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32 + 1, c as u16, v).unwrap();
            }
            sheet.write_number(r as u32 + 1, 4, 1).unwrap();
        }
    }
    book.save(path).unwrap();
    good
}

/// The supplier's full packing list: every serial of the first delivery, two
/// more, and a `Total` row at the foot, as suppliers send it.
fn full_list(path: &std::path::Path, first: &[String]) -> Vec<String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "Carton No",
        "Part Number",
        "Manufacturer",
        "Serial Number",
        "Qty",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let mut serials = first.to_vec();
    serials.extend((7..=8).map(|i| format!("S4EMNXE2E{i:05}")));
    for (r, s) in serials.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, "C-1").unwrap();
        sheet.write_string(r, 1, "M321R4GA3BB6-CQK").unwrap();
        sheet.write_string(r, 2, "Samsung").unwrap();
        sheet.write_string(r, 3, s).unwrap();
        sheet.write_number(r, 4, 1).unwrap();
    }
    let total = serials.len() as u32 + 1;
    sheet.write_string(total, 0, "Total").unwrap();
    sheet.write_number(total, 4, serials.len() as f64).unwrap();
    book.save(path).unwrap();
    serials
}

/// Uploads `file` as a packing list for order `id` into the first stock
/// location, and waits for its preview.
async fn upload_packing_list(w: &mut World, id: &str, file: &std::path::Path) {
    w.goto("/procurement/imports").await;
    w.check_page(200).await;
    w.client
        .execute(
            "document.querySelector('#upload select[name=kind]').value = 'packing_list';
             document.querySelector('#upload select[name=po_id]').value = arguments[0];
             const l = document.querySelector('#upload select[name=location_id]'); l.value = l.options[1].value;",
            vec![id.into()],
        )
        .await
        .unwrap();
    w.find("#upload input[type=file]")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    submit(w, "#upload").await;
    w.wait_until_path(|p| p.starts_with("/procurement/imports/"))
        .await;
}

/// Picks the first option of a select whose text contains `text`.
async fn choose(w: &World, select: &str, text: &str) -> String {
    let v = w
        .client
        .execute(
            "const [sel, text] = arguments; const s = document.querySelector(sel);
             const o = [...s.options].find(o => o.text.includes(text));
             if (!o) { return null; } s.value = o.value; return o.value;",
            vec![select.into(), text.into()],
        )
        .await
        .unwrap();
    v.as_str()
        .unwrap_or_else(|| panic!("no option with {text:?} in {select}"))
        .to_owned()
}

async fn fill(w: &World, form: &str, field: &str, value: &str) {
    let e = w.find(&format!("{form} [name=\"{field}\"]")).await;
    if !e.is_displayed().await.unwrap() {
        // Folded away like a person would find it: open its <details>.
        let summary = w
            .client
            .execute(
                "const d = document.querySelector(arguments[0]).closest('details');
                 return d ? d.querySelector('summary') !== null : false;",
                vec![form.into()],
            )
            .await
            .unwrap();
        assert_eq!(
            summary,
            serde_json::json!(true),
            "{form} is hidden but not folded"
        );
        let details = w.find(&format!("details:has({form}) > summary")).await;
        details.click().await.unwrap();
    }
    if let Err(err) = e.clear().await {
        let html = e.html(false).await.unwrap_or_default();
        panic!(
            "{} {form} {field}: {err}: {html} {:?}",
            w.path().await,
            e.rectangle().await
        );
    }
    e.send_keys(value).await.unwrap();
}

async fn submit(w: &World, form: &str) {
    w.click_and_wait(&format!("{form} button[type=submit]"))
        .await;
}

#[tokio::test]
async fn procurement_orders_imports_a_packing_list_and_sees_landed_costs() {
    if !browser_available() {
        return;
    }
    let mut w = World::start(1280, 900).await;
    w.login_with_keyboard("buyer", "rackledger-buyer").await;
    w.check_page(200).await;
    // The first Tab on a page offers to skip the navigation.
    let body = w.find("body").await;
    body.send_keys("\u{E004}").await.unwrap();
    let first = w.client.active_element().await.unwrap();
    assert_eq!(
        first.attr("class").await.unwrap().as_deref(),
        Some("skip-link"),
        "the first Tab stop is the skip link"
    );

    // A purchase order in USD at today's rate.
    w.goto("/procurement/orders").await;
    w.check_page(200).await;
    let new_order = "form[action=\"/procurement/orders\"][method=\"post\"]";
    let supplier = choose(
        &w,
        &format!("{new_order} select[name=supplier_id]"),
        "(USD)",
    )
    .await;
    assert!(!supplier.is_empty());
    submit(&w, new_order).await;
    let order_path = w
        .wait_until_path(|p| {
            p.starts_with("/procurement/orders/")
                && p.split('/')
                    .nth(3)
                    .is_some_and(|id| id.split('?').next().unwrap().parse::<i64>().is_ok())
        })
        .await;
    let order_path = order_path.split('?').next().unwrap().to_owned();
    w.check_page(200).await;

    // Eight DIMMs at 118.50 USD, freight in USD and customs duty in KRW.
    let lines = format!("form[action=\"{order_path}/lines\"]");
    choose(
        &w,
        &format!("{lines} select[name=part_model_id]"),
        "M321R4GA3BB6-CQK",
    )
    .await;
    fill(&w, &lines, "quantity", "8").await;
    fill(&w, &lines, "unit_price", "118.50").await;
    submit(&w, &lines).await;
    w.wait_until_path(|p| p.contains("flash=")).await;
    let costs = format!("form[action=\"{order_path}/costs\"]");
    for (kind, amount, currency) in [
        ("freight", "120.00", "USD"),
        ("customs_duty", "62000", "KRW"),
    ] {
        choose(&w, &format!("{costs} select[name=kind]"), "").await;
        w.client
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1]",
                vec![format!("{costs} select[name=kind]").into(), kind.into()],
            )
            .await
            .unwrap();
        fill(&w, &costs, "amount", amount).await;
        fill(&w, &costs, "currency", currency).await;
        submit(&w, &costs).await;
        w.wait_until_path(|p| p.contains("flash=")).await;
        w.check_page(200).await;
    }
    assert_eq!(
        w.client
            .find_all(fantoccini::Locator::Css("#costs tbody tr"))
            .await
            .unwrap()
            .len(),
        2,
        "freight and duty are on the order"
    );
    w.click_and_wait("button[name=status][value=ordered]").await;
    w.wait_until_path(|p| p.contains("flash=")).await;
    w.screenshot("procurement-order").await;

    // The supplier's packing list, with three bad rows.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("packing-list.xlsx");
    let good = packing_list(&file);
    let id = order_path.rsplit('/').next().unwrap().to_owned();
    upload_packing_list(&mut w, &id, &file).await;
    // The preview runs in the background; the page refreshes itself until done.
    let errors = w.text("#count-error").await;
    assert_eq!(errors, "3", "three rows cannot be received");
    assert_eq!(w.text("#count-create").await, "6");
    let rows = w.text("#rows").await;
    assert!(
        rows.contains("NOT-A-PART-9"),
        "the unknown part is named: {rows}"
    );
    w.check_page(200).await;
    w.screenshot("import-preview").await;

    // One click imports the six good rows and skips the bad ones.
    let button = w.text("#commit-button").await;
    assert!(
        button.contains("good rows (6)") && button.contains("bad ones (3)"),
        "{button}"
    );
    submit(&w, "#commit").await;
    w.find("#committed").await;
    w.check_page(200).await;
    let first_import = w.path().await;
    let first_import = first_import.split('?').next().unwrap().to_owned();
    assert!(
        !w.text("#link-receipt").await.is_empty(),
        "links the receipt"
    );

    // Off the path: the same file uploaded again says so, links the first
    // import, and would receive nothing twice.
    upload_packing_list(&mut w, &id, &file).await;
    assert_eq!(w.text("#count-unchanged").await, "6");
    assert_eq!(w.text("#count-create").await, "0");
    let earlier = w
        .find("#earlier-import")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(earlier, first_import);
    w.check_page(200).await;

    // The full list: the six received serials, two new ones and a Total row.
    // It previews as 6 unchanged and 2 new with no bad row, and imports
    // with one click, no skipping.
    let full = dir.path().join("packing-list-full.xlsx");
    let all = full_list(&full, &good);
    upload_packing_list(&mut w, &id, &full).await;
    assert_eq!(
        w.text("#count-error").await,
        "0",
        "{}",
        w.text("#rows").await
    );
    assert_eq!(w.text("#count-unchanged").await, "6");
    assert_eq!(w.text("#count-create").await, "2");
    assert!(
        w.text("#summary-rows")
            .await
            .contains("1 total rows ignored")
    );
    assert_eq!(w.text("#commit-button").await, "Import all rows (8)");
    w.screenshot("import-again-with-total").await;
    submit(&w, "#commit").await;
    w.find("#committed").await;
    w.check_page(200).await;

    // Each received unit has its landed cost.
    w.goto(&order_path).await;
    w.check_page(200).await;
    let units = w.text("#units").await;
    for serial in &all {
        assert!(
            units.contains(serial.as_str()),
            "{serial} received: {units}"
        );
    }
    assert!(units.contains('₩'), "landed cost in won: {units}");
    w.screenshot("procurement-landed-costs").await;
    w.close().await;
}
