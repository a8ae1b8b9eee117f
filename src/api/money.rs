//! Money hiding for the whole JSON API, in one place.
//!
//! Every handler answers through [`Shown`], which serialises the body and,
//! for a caller without `ViewMoney`, removes every field named in
//! [`MONEY_FIELDS`], at any depth. Handlers build one body for everyone.
//! [`MarkMoney`] marks the same fields in the OpenAPI document.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::Modify;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{OpenApi, RefOr};

use crate::auth::{CurrentUser, Permission};

/// The names of the API's money fields: amounts, prices, rates and the
/// currency of an amount. A field with one of these names is removed from
/// every response to a role without `ViewMoney`.
pub const MONEY_FIELDS: &[&str] = &[
    // racks
    "monthly_cost_minor",
    // build templates and assets
    "assembly_labour_minor",
    "units_cost_minor",
    "cost_minor",
    "cost_currency",
    // units, pick lines, installations, received units
    "landed_cost_minor",
    "landed_cost",
    // part catalogue and reorder list
    "last_price",
    "last_price_currency",
    // RMAs
    "credit",
    "credit_amount",
    "credit_currency",
    // purchase orders: header, lines, extra costs, totals
    "fx_rate",
    "fx_rate_date",
    "unit_price",
    "landed",
    "unit_landed_cost_runs",
    "costs",
    "totals",
];

/// A JSON body for one caller: as is for roles that see money, without the
/// [`MONEY_FIELDS`] for the others.
pub struct Shown<T> {
    status: StatusCode,
    body: T,
    money: bool,
}

impl<T> Shown<T> {
    /// `body` with status 200, as `user` may see it.
    pub fn to(user: &CurrentUser, body: T) -> Shown<T> {
        Shown::with_status(user, StatusCode::OK, body)
    }

    /// `body` with status 201, as `user` may see it.
    pub fn created(user: &CurrentUser, body: T) -> Shown<T> {
        Shown::with_status(user, StatusCode::CREATED, body)
    }

    /// `body` with `status`, as `user` may see it.
    pub fn with_status(user: &CurrentUser, status: StatusCode, body: T) -> Shown<T> {
        Shown {
            status,
            body,
            money: user.can(Permission::ViewMoney),
        }
    }
}

impl<T: Serialize> IntoResponse for Shown<T> {
    fn into_response(self) -> Response {
        if self.money {
            return (self.status, Json(self.body)).into_response();
        }
        match serde_json::to_value(&self.body) {
            Ok(mut v) => {
                strip_money(&mut v);
                (self.status, Json(v)).into_response()
            }
            Err(e) => crate::error::AppError::Internal(e.into()).into_response(),
        }
    }
}

/// Removes every [`MONEY_FIELDS`] key from `v`, at any depth.
pub fn strip_money(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|k, _| !MONEY_FIELDS.contains(&k.as_str()));
            o.values_mut().for_each(strip_money);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_money),
        _ => {}
    }
}

/// Marks every [`MONEY_FIELDS`] property of the document's response schemas
/// as optional and omitted for roles without `ViewMoney`. Request bodies are
/// left alone: there the field is an input (refused from such roles where it
/// sets money, see `CurrentUser::require_money_input`).
pub struct MarkMoney;

const OMITTED: &str =
    "Money: omitted for roles without `ViewMoney` (see `GET /me`, `can_see_money`).";

impl Modify for MarkMoney {
    fn modify(&self, openapi: &mut OpenApi) {
        let inputs = request_bodies(openapi);
        let Some(c) = openapi.components.as_mut() else {
            return;
        };
        for (name, schema) in c.schemas.iter_mut() {
            if let RefOr::T(s) = schema
                && !inputs.contains(name)
            {
                mark(s);
            }
        }
    }
}

/// Names of the component schemas used as request bodies.
fn request_bodies(openapi: &OpenApi) -> Vec<String> {
    let mut out = Vec::new();
    for item in openapi.paths.paths.values() {
        let ops = [&item.get, &item.post, &item.put, &item.patch, &item.delete];
        for op in ops.into_iter().flatten() {
            let Some(RefOr::T(body)) = &op.request_body else {
                continue;
            };
            for content in body.content.values() {
                if let RefOr::T(c) = content
                    && let Some(RefOr::Ref(r)) = &c.schema
                    && let Some(name) = r.ref_location.rsplit('/').next()
                {
                    out.push(name.to_owned());
                }
            }
        }
    }
    out
}

fn mark(schema: &mut Schema) {
    match schema {
        Schema::Object(o) => {
            o.required.retain(|r| !MONEY_FIELDS.contains(&r.as_str()));
            for (name, prop) in o.properties.iter_mut() {
                if let (true, RefOr::T(Schema::Object(p))) =
                    (MONEY_FIELDS.contains(&name.as_str()), prop)
                {
                    p.description = Some(match p.description.take() {
                        Some(d) => format!("{d} {OMITTED}"),
                        None => OMITTED.to_owned(),
                    });
                }
            }
        }
        Schema::AllOf(all) => all.items.iter_mut().for_each(|i| {
            if let RefOr::T(s) = i {
                mark(s);
            }
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_fields_go_at_every_depth_and_nothing_else_does() {
        let mut v = serde_json::json!({
            "rack": {"id": 1, "monthly_cost_minor": 5},
            "lines": [{"unit_price": {"amount": "1", "currency": "USD"}, "quantity": 2}],
            "totals": {"goods": 1}, "total": 3
        });
        strip_money(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"rack": {"id": 1}, "lines": [{"quantity": 2}], "total": 3})
        );
    }
}
