//! `DbDecimal`: an exact decimal stored as TEXT on SQLite and NUMERIC on PostgreSQL.

use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

/// A decimal column value (unit prices, FX rates); never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DbDecimal(pub Decimal);

impl Type<Sqlite> for DbDecimal {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for DbDecimal {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<'_, Sqlite>>::encode(self.0.normalize().to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for DbDecimal {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(DbDecimal(text.parse::<Decimal>()?.normalize()))
    }
}

impl Type<Postgres> for DbDecimal {
    fn type_info() -> PgTypeInfo {
        <Decimal as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Decimal as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for DbDecimal {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Decimal as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for DbDecimal {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        // NUMERIC(20, 6) pads to six places; the value, not the padding, is what was stored.
        Ok(DbDecimal(
            <Decimal as Decode<'r, Postgres>>::decode(value)?.normalize(),
        ))
    }
}
