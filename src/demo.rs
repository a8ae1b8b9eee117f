//! Demo data: a believable small company to click through (`serve --demo`).

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

const PARTS: [(&str, &str, &str, &str, bool, &str, &str); 12] = [
    (
        "AMD",
        "100-000001463",
        "cpu",
        "EPYC 9354 32C 3.25GHz 280W",
        true,
        "2730.00",
        "USD",
    ),
    (
        "Samsung",
        "M321R4GA3BB6-CQK",
        "memory",
        "32 GiB DDR5-4800 RDIMM",
        true,
        "118.50",
        "USD",
    ),
    (
        "Samsung",
        "MZQL23T8HCLS-00A07",
        "nvme",
        "PM9A3 3.84 TB U.2 NVMe",
        true,
        "389.00",
        "USD",
    ),
    (
        "Kingston",
        "SEDC600M/960G",
        "ssd",
        "DC600M 960 GB SATA boot",
        true,
        "96.40",
        "USD",
    ),
    (
        "Mellanox",
        "MCX631432AN-ADAB",
        "nic",
        "ConnectX-6 Lx dual 25GbE",
        true,
        "312.00",
        "USD",
    ),
    (
        "Delta",
        "DPS-1600AB-13 A",
        "psu",
        "1600 W Titanium PSU",
        true,
        "148.00",
        "USD",
    ),
    (
        "Supermicro",
        "CSE-119UH-R1K62P",
        "chassis",
        "1U 10x NVMe chassis",
        true,
        "610.00",
        "EUR",
    ),
    (
        "Supermicro",
        "H13SSL-NT",
        "motherboard",
        "SP5 single socket board",
        true,
        "690.00",
        "EUR",
    ),
    (
        "FiberLink",
        "SFP28-25G-SR",
        "transceiver",
        "25G SR 850nm 100m",
        true,
        "58.00",
        "CNY",
    ),
    (
        "FiberLink",
        "DAC-SFP28-1M",
        "cable",
        "25G DAC 1 m",
        false,
        "72.00",
        "CNY",
    ),
    (
        "Mellanox",
        "MSN2410-CB2F",
        "switch",
        "SN2410 48x25G + 8x100G",
        true,
        "9800.00",
        "USD",
    ),
    (
        "Supermicro",
        "MCP-290-00053-0N",
        "rail_kit",
        "1U rail kit",
        false,
        "35.00",
        "EUR",
    ),
];

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
    for (manufacturer, mpn, category, description, serial, price, currency) in PARTS {
        let input = PartModelInput {
            manufacturer: manufacturer.into(),
            mpn: mpn.into(),
            category: category.into(),
            description: description.into(),
            serial_tracked: serial.then(|| "true".into()),
            last_price: Some(price.into()),
            last_price_currency: Some(currency.into()),
        };
        procurement::create_part_model(db, &actor, &input)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    Ok(true)
}
