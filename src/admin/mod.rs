//! Administration pages: users and roles, API tokens, the audit log.
//! Everything here needs the `ManageUsers` permission (admins only).

mod web;

pub use web::routes;
