//! Serial-tracked units as stored, and where each serial is already recorded.

use serde::Serialize;

use crate::db::{DbError, Tx};
use crate::on_tx;

/// Where a serial number is already on record, for the "already known" message.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct KnownSerial {
    /// Unit id.
    pub id: i64,
    /// Status name.
    pub status: String,
    /// Purchase order number it came on, if any.
    pub po_number: Option<String>,
    /// Stock location name, if in stock.
    pub location: Option<String>,
}

/// The unit with this manufacturer and serial, if any.
pub async fn find_serial(
    tx: &mut Tx,
    manufacturer: &str,
    serial: &str,
) -> Result<Option<KnownSerial>, DbError> {
    Ok(on_tx!(tx, |c| {
        sqlx::query_as(
            "select u.id, u.status, o.number as po_number, sl.name as location
             from units u
             left join po_lines l on l.id = u.po_line_id
             left join purchase_orders o on o.id = l.po_id
             left join stock_locations sl on sl.id = u.location_id
             where u.manufacturer = $1 and u.serial = $2",
        )
        .bind(manufacturer)
        .bind(serial)
        .fetch_optional(c)
        .await
    })?)
}

/// A unit received on an order, for the order page and API.
#[derive(Clone, Debug, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ReceivedUnit {
    /// Unit id.
    pub id: i64,
    /// Order line id.
    pub po_line_id: i64,
    /// MPN (joined).
    pub mpn: String,
    /// Serial number.
    pub serial: String,
    /// Status.
    pub status: String,
    /// Landed cost in base minor units.
    pub landed_cost_minor: i64,
    /// Base currency of the cost.
    pub cost_currency: String,
}
