//! Roles, permissions and the logged-in user.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// What a user is, which decides what they may do. See `docs/permissions.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including users, tokens and the audit log.
    Admin,
    /// Suppliers, catalogue, orders, receiving, imports; sees money.
    Procurement,
    /// Stock, assembly, racks, work orders, BMCs; never sees money.
    Technician,
    /// Reads everything including money; owns cost parameters and scenarios.
    Manager,
    /// Reads everything except money.
    Viewer,
}

impl Role {
    /// Every role, in the order menus list them.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Procurement,
        Role::Technician,
        Role::Manager,
        Role::Viewer,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Procurement => "procurement",
            Role::Technician => "technician",
            Role::Manager => "manager",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
    }

    /// Whether this role holds `p`. The whole matrix lives here.
    pub fn can(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Procurement => matches!(p, ViewMoney | EditProcurement | EditInventory),
            Role::Technician => matches!(p, EditInventory | EditDatacenter | EditHealth),
            Role::Manager => matches!(p, ViewMoney | EditCost),
            Role::Viewer => false,
        }
    }

    /// Whether this role may change anything beyond its own account.
    pub fn writes_anything(self) -> bool {
        Permission::WRITES.into_iter().any(|p| self.can(p))
    }
}

/// One thing a role may or may not do. Reading non-money data needs only a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// See prices, landed costs, valuations and cost pages.
    ViewMoney,
    /// Create and change users, roles and API tokens.
    ManageUsers,
    /// Browse the audit log.
    ViewAudit,
    /// Change suppliers, catalogue, purchase orders, receipts, imports, FX rates.
    EditProcurement,
    /// Change stock, builds, swaps and RMAs.
    EditInventory,
    /// Change sites, racks, placements, cables and work orders.
    EditDatacenter,
    /// Change BMC settings and trigger polls.
    EditHealth,
    /// Change cost parameters, instance types, tiers and scenarios.
    EditCost,
}

impl Permission {
    /// Every permission that changes something.
    pub const WRITES: [Permission; 6] = [
        Permission::ManageUsers,
        Permission::EditProcurement,
        Permission::EditInventory,
        Permission::EditDatacenter,
        Permission::EditHealth,
        Permission::EditCost,
    ];
}

/// How the current request proved who it is.
#[derive(Clone, Debug)]
pub enum AuthVia {
    /// A browser session; state-changing requests must carry its CSRF token.
    Session {
        /// SHA-256 of the session cookie (the `sessions.id`).
        session_id: String,
        /// The token forms must echo back.
        csrf_token: String,
    },
    /// `Authorization: Bearer` API token.
    Token {
        /// `api_tokens.id`.
        token_id: i64,
    },
}

/// The authenticated user of the current request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// `users.id`.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Name shown in the interface.
    pub display_name: String,
    /// Role in force for this request.
    pub role: Role,
    /// Chosen interface language, if any.
    pub lang: Option<Lang>,
    /// IANA time zone for showing times.
    pub time_zone: String,
    /// Session or token.
    pub via: AuthVia,
}

impl CurrentUser {
    /// Whether the user's role holds `p`.
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }

    /// `Ok(())` if the role holds `p`, else `Forbidden`.
    pub fn require(&self, p: Permission) -> Result<(), crate::error::AppError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(crate::error::AppError::Forbidden)
        }
    }

    /// `Ok(())` unless `input` sets money and the role may not see money:
    /// then `ForbiddenMoney`, naming the fields, and nothing is written.
    pub fn require_money_input(
        &self,
        input: &impl crate::money::MoneyInput,
    ) -> Result<(), crate::error::AppError> {
        if self.can(Permission::ViewMoney) {
            return Ok(());
        }
        let fields = input.money_fields();
        if fields.is_empty() {
            Ok(())
        } else {
            Err(crate::error::AppError::ForbiddenMoney(fields))
        }
    }

    /// The actor recorded in the audit log.
    pub fn actor(&self) -> crate::audit::Actor {
        crate::audit::Actor {
            user_id: Some(self.id),
            name: self.username.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_money_roles_see_money() {
        let see: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.can(Permission::ViewMoney))
            .collect();
        assert_eq!(see, vec![Role::Admin, Role::Procurement, Role::Manager]);
    }

    #[test]
    fn every_role_that_edits_prices_or_costs_sees_money() {
        // Procurement and cost inputs are all money; their handlers check only
        // EditProcurement or EditCost. EditInventory inputs that carry money
        // (labour, RMA credit) check `require_money_input` as well.
        for r in Role::ALL {
            if r.can(Permission::EditProcurement) || r.can(Permission::EditCost) {
                assert!(r.can(Permission::ViewMoney), "{r:?}");
            }
        }
    }

    #[test]
    fn only_admin_manages_users_and_reads_audit() {
        for r in Role::ALL {
            assert_eq!(r.can(Permission::ManageUsers), r == Role::Admin);
            assert_eq!(r.can(Permission::ViewAudit), r == Role::Admin);
        }
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
