//! The tenant context: which organisation a request acts in, as whom, with which permissions.
//!
//! Resolving it is the tenancy check. An organisation the caller does not belong to answers
//! 404 — never 403 and never data — so its existence does not leak. Every tenant-scoped
//! operation takes an [`OrgContext`] first and reads `ctx.org.id` from it, never from input.

use super::orgs::{self, Org};
use super::permission::{BuiltinRole, Permission, PermissionSet};
use super::roles;
use crate::audit::Event;
use crate::auth::caller::{Caller, Credential};
use crate::db::{Db, Scope, Tx};
use crate::http::error::AppError;

/// The caller acting in one organisation.
#[derive(Debug, Clone)]
pub struct OrgContext {
    /// The organisation.
    pub org: Org,
    /// The caller.
    pub caller: Caller,
    /// The caller's role key (`owner`…, a custom role id, or `token` for org tokens).
    pub role: String,
    /// What the caller may do here.
    pub permissions: PermissionSet,
}

impl OrgContext {
    /// Succeeds if the caller holds `permission`, else 403.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.permissions.contains(permission) {
            Ok(())
        } else {
            Err(AppError::missing(permission))
        }
    }

    /// Succeeds for the owner signed in as themselves, else 403.
    pub fn require_owner(&self) -> Result<(), AppError> {
        let owner_session = self.role == BuiltinRole::Owner.key()
            && matches!(self.caller.credential, Credential::Session { .. });
        if owner_session {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "owner_only",
                "Only the organisation's owner can do this.".into(),
            ))
        }
    }

    /// Begins a writing transaction that can touch this organisation's rows only.
    pub async fn begin(&self, db: &Db) -> Result<Tx, sqlx::Error> {
        db.begin(Scope::Org(&self.org.id)).await
    }

    /// Begins a reading transaction that can see this organisation's rows only.
    pub async fn begin_read(&self, db: &Db) -> Result<Tx, sqlx::Error> {
        db.begin_read(Scope::Org(&self.org.id)).await
    }

    /// An audit event in this organisation by this caller.
    pub fn event(
        &self,
        action: &'static str,
        target: impl Into<String>,
        detail: serde_json::Value,
    ) -> Event {
        self.caller.event(&self.org.id, action, target, detail)
    }
}

/// What a role key grants in `org_id`: a built-in role's set, a custom role's set, or nothing
/// for a key that no longer resolves.
pub async fn role_permissions(
    tx: &mut Tx,
    org_id: &str,
    role: &str,
) -> Result<PermissionSet, sqlx::Error> {
    if let Some(builtin) = BuiltinRole::parse(role) {
        return Ok(builtin.permissions());
    }
    Ok(roles::get(tx, org_id, role)
        .await?
        .map_or(PermissionSet::EMPTY, |r| {
            PermissionSet::from_db(&r.permissions)
        }))
}

/// Resolves `caller` in the organisation named by `key` (slug or id).
pub async fn resolve(tx: &mut Tx, caller: Caller, key: &str) -> Result<OrgContext, AppError> {
    let org = orgs::by_key(tx, key).await?.ok_or(AppError::NotFound)?;
    let (role, permissions) = match &caller.credential {
        Credential::Token(token) if token.org_id != org.id => return Err(AppError::NotFound),
        Credential::Token(token) if token.kind == "org" => {
            ("token".to_owned(), PermissionSet::from_db(&token.scopes))
        }
        credential => {
            let role = orgs::role_of(tx, &org.id, &caller.user.id)
                .await?
                .ok_or(AppError::NotFound)?;
            let mut permissions = role_permissions(tx, &org.id, &role).await?;
            if let Credential::Token(token) = credential {
                permissions = permissions.intersection(PermissionSet::from_db(&token.scopes));
            }
            (role, permissions)
        }
    };
    let is_person = match &caller.credential {
        Credential::Session { .. } => true,
        Credential::Token(token) => token.kind == "personal",
    };
    if org.require_mfa && is_person && !caller.user.has_mfa() {
        return Err(AppError::Forbidden(
            "mfa_enrolment_required",
            format!(
                "{} requires two-factor authentication. Set it up in your account settings to continue.",
                org.name
            ),
        ));
    }
    Ok(OrgContext {
        org,
        caller,
        role,
        permissions,
    })
}
