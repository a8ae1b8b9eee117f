//! Demo data: a believable small company to click through (`serve --demo`).

pub mod bmcs;
pub mod sim;

use crate::audit::Actor;
use crate::auth::service::{self as accounts, NewUserInput};
use crate::db::Db;
use crate::procurement::model::{PartModelInput, SupplierInput};
use crate::procurement::service as procurement;

/// Log-ins created by [`seed`]: (user name, role, password).
pub const DEMO_USERS: [(&str, &str, &str); 5] = [
    ("admin", "admin", "rackledger-admin"),
    ("buyer", "procurement", "rackledger-buyer"),
    ("tech", "technician", "rackledger-tech"),
    ("boss", "manager", "rackledger-boss"),
    ("guest", "viewer", "rackledger-guest"),
];

const SUPPLIERS: [(&str, &str, &str, i32, &str); 6] = [
    ("Supermicro Computer B.V.", "NL", "EUR", 21, "NET 30"),
    (
        "Kingston Technology Far East",
        "TW",
        "USD",
        14,
        "T/T in advance",
    ),
    ("Samsung Semiconductor", "KR", "KRW", 7, "NET 45"),
    ("Mellanox (NVIDIA) Networking", "US", "USD", 28, "NET 30"),
    (
        "Shenzhen FiberLink Optics",
        "CN",
        "CNY",
        18,
        "T/T 30% deposit",
    ),
    ("Delta Electronics", "TW", "USD", 20, "NET 30"),
];

/// One demo catalogue entry.
struct DemoPart {
    manufacturer: &'static str,
    mpn: &'static str,
    category: &'static str,
    description: &'static str,
    serial_tracked: bool,
    price: &'static str,
    currency: &'static str,
    /// `key=value;...` spec fields.
    specs: &'static str,
}

const fn part(
    manufacturer: &'static str,
    mpn: &'static str,
    category: &'static str,
    description: &'static str,
    serial_tracked: bool,
    (price, currency): (&'static str, &'static str),
    specs: &'static str,
) -> DemoPart {
    DemoPart {
        manufacturer,
        mpn,
        category,
        description,
        serial_tracked,
        price,
        currency,
        specs,
    }
}

const PARTS: [DemoPart; 12] = [
    part(
        "AMD",
        "100-000001463",
        "cpu",
        "EPYC 9354 32C 3.25GHz 280W",
        true,
        ("2730.00", "USD"),
        "cores=32;power_watts=280;speed=3.25 GHz",
    ),
    part(
        "Samsung",
        "M321R4GA3BB6-CQK",
        "memory",
        "32 GiB DDR5-4800 RDIMM",
        true,
        ("118.50", "USD"),
        "memory_gib=32;speed=DDR5-4800;form_factor=RDIMM",
    ),
    part(
        "Samsung",
        "MZQL23T8HCLS-00A07",
        "nvme",
        "PM9A3 3.84 TB U.2 NVMe",
        true,
        ("389.00", "USD"),
        "capacity_gb=3840;form_factor=U.2;speed=PCIe 4.0 x4",
    ),
    part(
        "Kingston",
        "SEDC600M/960G",
        "ssd",
        "DC600M 960 GB SATA boot",
        true,
        ("96.40", "USD"),
        "capacity_gb=960;form_factor=2.5in SATA",
    ),
    part(
        "Mellanox",
        "MCX631432AN-ADAB",
        "nic",
        "ConnectX-6 Lx dual 25GbE",
        true,
        ("312.00", "USD"),
        "speed=2x25GbE;form_factor=OCP 3.0",
    ),
    part(
        "Delta",
        "DPS-1600AB-13 A",
        "psu",
        "1600 W Titanium PSU",
        true,
        ("148.00", "USD"),
        "power_watts=1600;form_factor=CRPS",
    ),
    part(
        "Supermicro",
        "CSE-119UH-R1K62P",
        "chassis",
        "1U 10x NVMe chassis",
        true,
        ("610.00", "EUR"),
        "form_factor=1U",
    ),
    part(
        "Supermicro",
        "H13SSL-NT",
        "motherboard",
        "SP5 single socket board",
        true,
        ("690.00", "EUR"),
        "form_factor=ATX",
    ),
    part(
        "FiberLink",
        "SFP28-25G-SR",
        "transceiver",
        "25G SR 850nm 100m",
        true,
        ("58.00", "CNY"),
        "speed=25G;form_factor=SFP28",
    ),
    part(
        "FiberLink",
        "DAC-SFP28-1M",
        "cable",
        "25G DAC 1 m",
        false,
        ("72.00", "CNY"),
        "speed=25G;form_factor=SFP28 DAC",
    ),
    part(
        "Mellanox",
        "MSN2410-CB2F",
        "switch",
        "SN2410 48x25G + 8x100G",
        true,
        ("9800.00", "USD"),
        "speed=48x25G+8x100G;form_factor=1U",
    ),
    part(
        "Supermicro",
        "MCP-290-00053-0N",
        "rail_kit",
        "1U rail kit",
        false,
        ("35.00", "EUR"),
        "",
    ),
];

/// Fills a part form's spec fields from `key=value;...`.
fn with_specs(mut input: PartModelInput, specs: &str) -> PartModelInput {
    for pair in specs.split(';').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = Some(v.to_owned());
        match k {
            "cores" => input.cores = v,
            "memory_gib" => input.memory_gib = v,
            "capacity_gb" => input.capacity_gb = v,
            "power_watts" => input.power_watts = v,
            "speed" => input.speed = v,
            "form_factor" => input.form_factor = v,
            _ => {}
        }
    }
    input
}

/// Fills an empty database with demo users, suppliers and catalogue.
/// Does nothing (returns false) if any user exists.
pub async fn seed(db: &Db, time_zone: &str) -> anyhow::Result<bool> {
    if crate::auth::repo::count_users(db).await? > 0 {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    for (username, role, password) in DEMO_USERS {
        let input = NewUserInput {
            username: username.into(),
            display_name: String::new(),
            password: password.into(),
            role: role.into(),
            home_site_id: None,
        };
        accounts::create_user(db, &actor, &input, time_zone)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    for (name, country, currency, lead, terms) in SUPPLIERS {
        let input = SupplierInput {
            name: name.into(),
            country: country.into(),
            currency: currency.into(),
            lead_time_days: Some(lead.to_string()),
            payment_terms: terms.into(),
            ..SupplierInput::default()
        };
        procurement::create_supplier(db, &actor, &input)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    for p in PARTS {
        let input = PartModelInput {
            manufacturer: p.manufacturer.into(),
            mpn: p.mpn.into(),
            category: p.category.into(),
            description: p.description.into(),
            serial_tracked: p.serial_tracked.then(|| "true".into()),
            last_price: Some(p.price.into()),
            last_price_currency: Some(p.currency.into()),
            ..PartModelInput::default()
        };
        let input = with_specs(input, p.specs);
        procurement::create_part_model(db, &actor, &input)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    seed_orders(db, &actor)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(true)
}

async fn part_id(db: &Db, mpn: &str) -> crate::error::AppResult<i64> {
    let (rows, _) = crate::procurement::repo::list_part_models(db, Some(mpn), None, 1, 0).await?;
    rows.first()
        .map(|r| r.id)
        .ok_or(crate::error::AppError::NotFound)
}

async fn supplier_id(db: &Db, name: &str) -> crate::error::AppResult<i64> {
    let (rows, _) = crate::procurement::repo::list_suppliers(db, Some(name), "name", 1, 0).await?;
    rows.first()
        .map(|r| r.id)
        .ok_or(crate::error::AppError::NotFound)
}

/// Rates, a warehouse, and three orders: one received with serials and extra
/// costs, one partly received, one draft.
async fn seed_orders(db: &Db, actor: &Actor) -> crate::error::AppResult<()> {
    use crate::inventory::locations::{self, LocationInput};
    use crate::procurement::fx;
    use crate::procurement::orders::{self, CostInput, LineInput, PoInput};
    use crate::procurement::receiving::{self, ReceiptInput, ReceiveLine};

    let base = crate::money::Currency::KRW;
    let today = fx::today();
    let month_ago = today - time::Duration::days(30);
    for (ccy, now_rate, old_rate) in [
        ("USD", "1385.20", "1362.45"),
        ("EUR", "1460.10", "1441.80"),
        ("CNY", "190.35", "188.90"),
        ("TWD", "43.10", "42.75"),
    ] {
        for (date, rate) in [(month_ago, old_rate), (today, now_rate)] {
            let r = fx::parse_rate(ccy, &date.to_string(), rate, "KEB Hana (demo)", base)
                .map_err(crate::error::AppError::Validation)?;
            fx::set_rate(db, actor, base, &r).await?;
        }
    }
    let warehouse = locations::create(
        db,
        actor,
        &LocationInput {
            name: "Seoul DC1 warehouse".into(),
            kind: "warehouse".into(),
            parent_id: None,
            site_id: None,
        },
    )
    .await?;
    let cabinet = locations::create(
        db,
        actor,
        &LocationInput {
            name: "Spare cabinet A".into(),
            kind: "cabinet".into(),
            parent_id: Some(warehouse.to_string()),
            site_id: None,
        },
    )
    .await?;

    let line = |part, quantity: &str, price: &str, weight: Option<&str>| LineInput {
        part_model_id: part,
        quantity: quantity.into(),
        unit_price: price.into(),
        unit_weight_g: weight.map(str::to_owned),
        warranty_months: None,
    };
    let cost =
        |kind: &str, amount: &str, currency: &str, basis: &str, description: &str| CostInput {
            kind: kind.into(),
            description: description.into(),
            amount: amount.into(),
            currency: Some(currency.into()),
            fx_rate: None,
            basis: basis.into(),
        };

    // 1. DIMMs and boot SSDs from Kingston, in USD at last month's rate: received in full.
    let po1 = orders::create_po(
        db,
        actor,
        base,
        &PoInput {
            supplier_id: supplier_id(db, "Kingston").await?,
            fx_rate_date: Some(month_ago.to_string()),
            order_date: Some(month_ago.to_string()),
            expected_date: Some((month_ago + time::Duration::days(14)).to_string()),
            notes: "Q4 memory refresh".into(),
            ..PoInput::default()
        },
    )
    .await?;
    let dimm = orders::add_line(
        db,
        actor,
        po1,
        &line(
            part_id(db, "M321R4GA3BB6").await?,
            "32",
            "118.50",
            Some("30"),
        ),
    )
    .await?;
    let ssd = orders::add_line(
        db,
        actor,
        po1,
        &line(part_id(db, "SEDC600M").await?, "8", "96.40", Some("60")),
    )
    .await?;
    orders::transition(db, actor, po1, "ordered").await?;
    orders::add_cost(
        db,
        actor,
        base,
        po1,
        &cost(
            "freight",
            "420.00",
            "USD",
            "weight",
            "DHL AWB 4411 2093 551",
        ),
    )
    .await?;
    orders::add_cost(
        db,
        actor,
        base,
        po1,
        &cost(
            "customs_duty",
            "150000",
            "KRW",
            "value",
            "Import declaration 2026-11",
        ),
    )
    .await?;
    orders::add_cost(
        db,
        actor,
        base,
        po1,
        &cost(
            "brokerage",
            "55000",
            "KRW",
            "quantity",
            "Customs broker fee",
        ),
    )
    .await?;
    orders::add_cost(
        db,
        actor,
        base,
        po1,
        &cost(
            "import_vat",
            "580000",
            "KRW",
            "value",
            "Recoverable import VAT",
        ),
    )
    .await?;
    let serials = |prefix: &str, n: usize| {
        (1..=n)
            .map(|i| format!("{prefix}{i:06}"))
            .collect::<Vec<_>>()
    };
    receiving::receive(
        db,
        actor,
        base,
        po1,
        &ReceiptInput {
            location_id: cabinet,
            lines: vec![
                ReceiveLine {
                    po_line_id: dimm,
                    quantity: 0,
                    serials: serials("S4EMNX0W", 32),
                },
                ReceiveLine {
                    po_line_id: ssd,
                    quantity: 0,
                    serials: serials("50026B7382", 8),
                },
            ],
            confirm_over: false,
            notes: "Delivery note KT-88213".into(),
        },
    )
    .await?;

    // 2. NICs and a switch from Mellanox: four NICs arrived so far.
    let po2 = orders::create_po(
        db,
        actor,
        base,
        &PoInput {
            supplier_id: supplier_id(db, "Mellanox").await?,
            order_date: Some(today.to_string()),
            expected_date: Some((today + time::Duration::days(28)).to_string()),
            ..PoInput::default()
        },
    )
    .await?;
    let nic = orders::add_line(
        db,
        actor,
        po2,
        &line(part_id(db, "MCX631432AN").await?, "10", "312.00", None),
    )
    .await?;
    orders::add_line(
        db,
        actor,
        po2,
        &line(part_id(db, "MSN2410").await?, "2", "9800.00", None),
    )
    .await?;
    orders::transition(db, actor, po2, "ordered").await?;
    orders::add_cost(
        db,
        actor,
        base,
        po2,
        &cost("freight", "650.00", "USD", "value", "Air freight"),
    )
    .await?;
    receiving::receive(
        db,
        actor,
        base,
        po2,
        &ReceiptInput {
            location_id: warehouse,
            lines: vec![ReceiveLine {
                po_line_id: nic,
                quantity: 0,
                serials: serials("MT2231X", 4),
            }],
            confirm_over: false,
            notes: String::new(),
        },
    )
    .await?;

    // 3. DAC cables from Shenzhen, counted by quantity, still a draft in CNY.
    let po3 = orders::create_po(
        db,
        actor,
        base,
        &PoInput {
            supplier_id: supplier_id(db, "FiberLink").await?,
            ..PoInput::default()
        },
    )
    .await?;
    orders::add_line(
        db,
        actor,
        po3,
        &line(
            part_id(db, "DAC-SFP28-1M").await?,
            "50",
            "72.00",
            Some("90"),
        ),
    )
    .await?;
    Ok(())
}

/// More to click through for `serve --demo` (tests use [`seed`] alone): a
/// larger delivery, warranty terms, a build template, assembled servers, a
/// swap with its RMA, and a minimum stock rule.
pub async fn seed_showcase(db: &Db) -> anyhow::Result<()> {
    showcase(db).await.map_err(|e| anyhow::anyhow!("{e:?}"))
}

async fn showcase(db: &Db) -> crate::error::AppResult<()> {
    use crate::inventory::assembly::{self, AssemblyInput};
    use crate::inventory::assets::{self, SwapInput};
    use crate::inventory::reorder::{self, MinStockInput};
    use crate::inventory::rma::{self, OpenInput};
    use crate::inventory::templates::{self, TemplateInput};
    use crate::inventory::warranty::{self, TermInput};
    use crate::procurement::orders::{self, LineInput, PoInput};
    use crate::procurement::receiving::{self, ReceiptInput, ReceiveLine};

    let actor = Actor::system("demo");
    let base = crate::money::Currency::KRW;
    let samsung = supplier_id(db, "Samsung").await?;
    let dimm = part_id(db, "M321R4GA3BB6").await?;
    let nvme = part_id(db, "MZQL23T8HCLS").await?;
    let cpu = part_id(db, "100-000001463").await?;
    let psu = part_id(db, "DPS-1600AB").await?;
    for (part, months) in [(dimm, "36"), (nvme, "60"), (cpu, "36"), (psu, "24")] {
        warranty::set_term(
            db,
            &actor,
            &TermInput {
                supplier_id: samsung,
                part_model_id: part,
                months: months.into(),
            },
        )
        .await?;
    }
    // A Samsung delivery in won: enough parts for a few compute nodes.
    let po = orders::create_po(
        db,
        &actor,
        base,
        &PoInput {
            supplier_id: samsung,
            order_date: Some(fx_today()),
            ..PoInput::default()
        },
    )
    .await?;
    let mut lines = Vec::new();
    for (part, qty, price, prefix) in [
        (dimm, 128, "162000", "S4EMNX1A"),
        (nvme, 24, "528000", "S64HNE0T"),
        (cpu, 8, "3780000", "9M3KX1"),
        (psu, 8, "205000", "DPS16A"),
    ] {
        let input = LineInput {
            part_model_id: part,
            quantity: qty.to_string(),
            unit_price: price.into(),
            unit_weight_g: None,
            warranty_months: None,
        };
        let id = orders::add_line(db, &actor, po, &input).await?;
        lines.push((id, qty, prefix));
    }
    orders::transition(db, &actor, po, "ordered").await?;
    orders::add_cost(
        db,
        &actor,
        base,
        po,
        &orders::CostInput {
            kind: "freight".into(),
            description: "Hanjin domestic".into(),
            amount: "380000".into(),
            currency: Some("KRW".into()),
            fx_rate: None,
            basis: "value".into(),
        },
    )
    .await?;
    let warehouse = crate::on!(db, |p| sqlx::query_scalar::<_, i64>(
        "select id from stock_locations where parent_id is null"
    )
    .fetch_one(p)
    .await)?;
    let receipt_lines = lines
        .iter()
        .map(|(id, qty, prefix)| ReceiveLine {
            po_line_id: *id,
            quantity: 0,
            serials: (1..=*qty).map(|i| format!("{prefix}{i:05}")).collect(),
        })
        .collect();
    receiving::receive(
        db,
        &actor,
        base,
        po,
        &ReceiptInput {
            location_id: warehouse,
            lines: receipt_lines,
            confirm_over: false,
            notes: "Samsung DN-5521".into(),
        },
    )
    .await?;

    let template = templates::create(db, &actor, &TemplateInput {
        name: "compute node gen3".into(),
        asset_kind: "server".into(),
        height_u: "1".into(),
        nameplate_watts: "650".into(),
        assembly_labour: "80000".into(),
        slots: "CPU1: 100-000001463\nDIMM A1-A8: M321R4GA3BB6-CQK\nNVMe0-1: MZQL23T8HCLS-00A07\nBOOT1: SEDC600M/960G\nNIC1: MCX631432AN-ADAB\nPSU1: DPS-1600AB-13 A\nGPU1?: MSN2410-CB2F".into(),
        notes: String::new(),
        ports: "eth0-1: 25G\nbmc: 1G".into(),
    })
    .await?;
    let mut built = Vec::new();
    for n in 1..=3 {
        let input = AssemblyInput {
            template_id: template,
            asset_tag: format!("SRV-C3-{n:04}"),
            hostname: Some(format!("cn3-{n:03}.sel1")),
        };
        let order = assembly::start(db, &actor, &input).await?;
        if n < 3 {
            built.push(assembly::complete(db, &actor, order).await?);
        }
    }
    // A DIMM failed in the first server: swapped, and sent back to Samsung.
    if let Some(&asset) = built.first() {
        let spare = crate::on!(db, |p| {
            sqlx::query_scalar::<_, String>("select serial from units where status = 'in_stock' and serial like 'S4EMNX1A%' order by id desc limit 1").fetch_one(p).await
        })?;
        let failed = crate::on!(db, |p| sqlx::query_scalar::<_, String>(
            "select serial from units where asset_id = $1 and slot_name = 'DIMM A3'"
        )
        .bind(asset)
        .fetch_one(p)
        .await)?;
        assets::swap(
            db,
            &actor,
            asset,
            &SwapInput {
                slot_name: "DIMM A3".into(),
                new_serial: spare,
                old_to: "faulty".into(),
                location_id: warehouse,
            },
        )
        .await?;
        rma::open(
            db,
            &actor,
            &OpenInput {
                serial: failed,
                reason: "Uncorrectable ECC errors (BMC SEL)".into(),
            },
        )
        .await?;
    }
    // Two sites with a few racks; the built servers are racked in Seoul.
    use crate::datacenter::placement::{self, PlaceInput};
    use crate::datacenter::racks::{self, RackInput};
    use crate::inventory::locations::{self, LocationInput};
    let mut first_rack = None;
    for (site, row, names, kw) in [
        ("Seoul DC1", "Row A", ["A01", "A02", "A03", "A04"], "8"),
        ("Seoul DC1", "Row B", ["B01", "B02", "B03", "B04"], "8"),
        ("Busan DC2", "Row A", ["A01", "A02", "A03", "A04"], "6.5"),
    ] {
        for name in names {
            let input = RackInput {
                site: site.into(),
                room: "Hall 1".into(),
                row: row.into(),
                name: name.into(),
                height_u: Some("42".into()),
                power_budget_kw: Some(kw.into()),
                numbering: None,
            };
            let id = racks::create(db, &actor, &input).await?;
            first_rack.get_or_insert(id);
        }
    }
    if let Some(rack) = first_rack {
        for (i, asset) in built.iter().enumerate() {
            let input = PlaceInput {
                rack_id: rack,
                u_position: (10 + i).to_string(),
                face: "front".into(),
                depth: "full".into(),
            };
            placement::place(db, &actor, *asset, &input).await?;
        }
    }
    // Each site keeps its spares in its own warehouse.
    let sites = crate::datacenter::racks::sites(db).await?;
    let site = |name: &str| sites.iter().find(|(_, n)| n == name).map(|(id, _)| *id);
    locations::set_site(db, &actor, warehouse, site("Seoul DC1")).await?;
    let busan = site("Busan DC2");
    locations::create(
        db,
        &actor,
        &LocationInput {
            name: "Busan DC2 warehouse".into(),
            kind: "warehouse".into(),
            parent_id: None,
            site_id: busan.map(|b| b.to_string()),
        },
    )
    .await?;
    // A top-of-rack switch above the servers, cabled to their first port.
    if let Some(rack) = first_rack {
        use crate::datacenter::cabling::{self, CableInput};
        let leaf = templates::create(
            db,
            &actor,
            &TemplateInput {
                name: "leaf switch 48x25G".into(),
                asset_kind: "switch".into(),
                height_u: "1".into(),
                nameplate_watts: "350".into(),
                assembly_labour: "20000".into(),
                slots: "PSU1: DPS-1600AB-13 A".into(),
                notes: String::new(),
                ports: "swp1-48: 25G\nswp49-54: 100G\nmgmt0: 1G".into(),
            },
        )
        .await?;
        let order = assembly::start(
            db,
            &actor,
            &AssemblyInput {
                template_id: leaf,
                asset_tag: "SW-A01-1".into(),
                hostname: Some("leaf-a01-1".into()),
            },
        )
        .await?;
        let switch = assembly::complete(db, &actor, order).await?;
        let top = PlaceInput {
            rack_id: rack,
            u_position: "42".into(),
            face: "front".into(),
            depth: "full".into(),
        };
        placement::place(db, &actor, switch, &top).await?;
        for (i, asset) in built.iter().enumerate() {
            let Some(eth0) = cabling::ports_of(db, *asset)
                .await?
                .into_iter()
                .find(|p| p.name == "eth0")
            else {
                continue;
            };
            let cable = CableInput {
                port_id: eth0.id,
                peer_asset_tag: "SW-A01-1".into(),
                peer_port: format!("swp{}", i + 1),
                label: format!("A01-{:03}", i + 1),
            };
            cabling::connect(db, &actor, &cable).await?;
        }
        // An open work order for the technician: replace a DIMM in the first server.
        if let Some(first) = built.first() {
            let tag = crate::inventory::assets::get(db, *first).await?.asset_tag;
            let input = crate::workorders::WorkOrderInput {
                kind: "replace".into(),
                asset_tag: tag,
                slot_name: "DIMM A3".into(),
                notes: "Correctable ECC errors rising on DIMM A3 (BMC SEL).".into(),
                due_date: (crate::clock::now().date() + time::Duration::days(2)).to_string(),
                ..crate::workorders::WorkOrderInput::default()
            };
            crate::workorders::create(
                db,
                &actor,
                &input,
                &crate::workorders::Origin::default(),
                crate::i18n::Lang::default(),
            )
            .await?;
        }
    }
    reorder::set_min_stock(
        db,
        &actor,
        &MinStockInput {
            part_model_id: dimm,
            location_id: warehouse,
            min_quantity: "200".into(),
            preferred_supplier_id: Some(samsung.to_string()),
        },
    )
    .await?;
    showcase_cost(db, &actor, first_rack).await
}

/// Cost parameters, a rack cost, instance types, tiers (one losing money),
/// a competitor and a scenario, so `/cost` shows a full page.
async fn showcase_cost(db: &Db, actor: &Actor, rack: Option<i64>) -> crate::error::AppResult<()> {
    use crate::cost::catalog::{
        self, CompetitorInput, CompetitorPriceInput, InstanceTypeInput, TierInput,
    };
    use crate::cost::params::{self, ClassInput, ParamsInput, SiteInput};
    use crate::cost::service;
    let base = crate::money::Currency::KRW;
    if let Some(rack) = rack {
        crate::datacenter::racks::set_monthly_cost(db, actor, rack, 1_500_000).await?;
    }
    let sites = crate::datacenter::racks::sites(db).await?;
    let today = crate::procurement::fx::today();
    let s = |v: &str| v.to_owned();
    let input = ParamsInput {
        effective_from: format!("{}-01-01", today.year()),
        depreciation_method: s("straight_line"),
        vcpus_per_core: s("2"),
        cpu_overcommit: s("4"),
        ram_overcommit: s("1"),
        host_reserved_vcpus: s("4"),
        host_reserved_ram_gib: s("16"),
        ceph_replication: s("3"),
        ceph_target_fill: s("0.75"),
        utilisation: s("0.7"),
        watts_window_days: s("7"),
        note: s("Demo parameters"),
        sites: sites
            .iter()
            .map(|(id, name)| SiteInput {
                site_id: *id,
                electricity_per_kwh: s(if name.starts_with("Seoul") {
                    "130"
                } else {
                    "118"
                }),
                pue: s(if name.starts_with("Seoul") {
                    "1.4"
                } else {
                    "1.5"
                }),
                rack_monthly: s("1200000"),
                network_monthly: s("450000"),
                network_share: s("per_asset"),
                traffic_gb_month: s("400000"),
            })
            .collect(),
        classes: [
            ("server", "60", "150000"),
            ("storage", "60", "150000"),
            ("switch", "84", "30000"),
        ]
        .iter()
        .map(|(k, m, l)| ClassInput {
            asset_kind: s(k),
            depreciation_months: s(m),
            support_monthly: s(l),
        })
        .collect(),
    };
    params::add_version(db, actor, base, &input).await?;
    let mut types = Vec::new();
    for (name, vcpus, ram, disk, traffic) in [
        ("m.large", "4", "16", "100", "500"),
        ("m.xlarge", "8", "32", "200", "1000"),
        ("c.large", "4", "8", "50", "500"),
    ] {
        let t = InstanceTypeInput {
            name: s(name),
            vcpus: s(vcpus),
            ram_gib: s(ram),
            disk_gb: s(disk),
            included_traffic_gb: s(traffic),
        };
        types.push(catalog::create_instance_type(db, actor, &t).await?);
    }
    for (name, t, price) in [
        ("Standard L", 0, "2900"),
        ("Promo L", 0, "1500"),
        ("Standard XL", 1, "5500"),
        ("Compute L", 2, "1600"),
        // Priced just above cost: the tier a weaker won turns into a loss.
        ("Compute L launch offer", 2, "860"),
    ] {
        let tier = TierInput {
            name: s(name),
            instance_type_id: types[t],
            price_per_day: s(price),
            included_traffic_gb: String::new(),
            extra_gb_price: s("60"),
        };
        catalog::create_tier(db, actor, &tier).await?;
    }
    let price = |t: usize, name: &str, p: &str| CompetitorPriceInput {
        instance_type_id: types[t],
        their_name: s(name),
        price: s(p),
        per: s("hour"),
    };
    let other = CompetitorInput {
        name: s("GlobalCloud (list price)"),
        currency: s("USD"),
        fx_rate: s("1390"),
        egress_per_gb: s("0.09"),
        free_egress_gb: s("100"),
        prices: vec![
            price(0, "gp.xlarge", "0.192"),
            price(1, "gp.2xlarge", "0.384"),
            price(2, "cpu.xlarge", "0.17"),
        ],
    };
    catalog::create_competitor(db, actor, &other).await?;
    let ov = crate::cost::scenario::Overrides {
        part_price_pct: [(s("memory"), rust_decimal::Decimal::from(40))].into(),
        utilisation: Some(rust_decimal::Decimal::new(6, 1)),
        ..Default::default()
    };
    service::save_scenario(db, actor, "DIMMs +40%, 60% utilisation", &ov).await?;
    Ok(())
}

fn fx_today() -> String {
    crate::procurement::fx::today().to_string()
}
