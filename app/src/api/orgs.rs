//! An organisation's administration: members, invitations, roles, teams, API tokens, settings
//! and the audit log. Each server function calls the JSON API in-process.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::account::urlencode;
use super::error::ApiError;

/// An organisation with the caller's role and permissions in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    /// Id.
    pub id: String,
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Members must use a second factor.
    pub require_mfa: bool,
    /// The caller's role key.
    pub role: String,
    /// The caller's permissions.
    pub permissions: Vec<String>,
}

impl OrgView {
    /// Whether the caller holds `permission`.
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }
}

/// A member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    /// User id.
    pub user_id: String,
    /// Email.
    pub email: String,
    /// Role key.
    pub role: String,
    /// Has a second factor.
    pub mfa: bool,
    /// Joined.
    pub joined_at_ms: i64,
}

/// A role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleView {
    /// Key to assign.
    pub key: String,
    /// Name.
    pub name: String,
    /// Built in or custom.
    pub builtin: bool,
    /// Permissions.
    pub permissions: Vec<String>,
}

/// A team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Members.
    pub member_count: i64,
    /// Who is in it (filled by [`load_org_admin`]).
    #[serde(default)]
    pub members: Vec<TeamMemberView>,
}

/// Someone in a team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMemberView {
    /// User id.
    pub user_id: String,
    /// Email.
    pub email: String,
}

/// An invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    /// Id.
    pub id: String,
    /// Invitee.
    pub email: String,
    /// Role on acceptance.
    pub role: String,
    /// Valid until.
    pub expires_at_ms: i64,
    /// Accepted at.
    pub accepted_at_ms: Option<i64>,
    /// Withdrawn at.
    pub revoked_at_ms: Option<i64>,
}

/// An API token (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    /// Id.
    pub id: String,
    /// `personal` or `org`.
    pub kind: String,
    /// Label.
    pub name: String,
    /// Recognisable prefix.
    pub prefix: String,
    /// Scopes.
    pub scopes: Vec<String>,
    /// Expiry.
    pub expires_at_ms: i64,
    /// Last use.
    pub last_used_at_ms: Option<i64>,
    /// Revoked at.
    pub revoked_at_ms: Option<i64>,
}

/// An audit entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain.
    pub seq: i64,
    /// When.
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// To what.
    pub target: String,
    /// From where.
    pub ip: String,
    /// Facts (JSON).
    pub detail: String,
}

/// Everything the organisation page shows; lists the caller may not see are `None`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAdmin {
    /// The organisation.
    pub org: OrgView,
    /// Members.
    pub members: Vec<MemberView>,
    /// Roles.
    pub roles: Vec<RoleView>,
    /// Teams.
    pub teams: Vec<TeamView>,
    /// Invitations (needs `manage_members`).
    pub invitations: Option<Vec<InvitationView>>,
    /// Tokens the caller can see.
    pub tokens: Vec<TokenView>,
}

#[cfg(feature = "ssr")]
use crate::ssr::call;
#[cfg(feature = "ssr")]
use http::Method;

#[cfg(feature = "ssr")]
fn org_path(org: &str, rest: &str) -> String {
    format!("/orgs/{}{rest}", urlencode(org))
}

/// The organisation page's data.
#[server(prefix = "/rpc", endpoint = "org_admin")]
pub async fn load_org_admin(org: String) -> Result<OrgAdmin, ApiError> {
    let view: OrgView = call(Method::GET, &org_path(&org, ""), None).await?;
    let invitations = if view.can("manage_members") {
        Some(call(Method::GET, &org_path(&org, "/invitations"), None).await?)
    } else {
        None
    };
    let mut teams: Vec<TeamView> = call(Method::GET, &org_path(&org, "/teams"), None).await?;
    for team in &mut teams {
        let path = org_path(&org, &format!("/teams/{}/members", urlencode(&team.id)));
        team.members = call(Method::GET, &path, None).await?;
    }
    Ok(OrgAdmin {
        members: call(Method::GET, &org_path(&org, "/members"), None).await?,
        roles: call(Method::GET, &org_path(&org, "/roles"), None).await?,
        teams,
        tokens: call(Method::GET, &org_path(&org, "/tokens"), None).await?,
        invitations,
        org: view,
    })
}

/// Creates an organisation owned by the caller; returns its slug.
#[server(prefix = "/rpc", endpoint = "create_org")]
pub async fn create_org(name: String) -> Result<String, ApiError> {
    let reply: serde_json::Value = call(
        Method::POST,
        "/orgs",
        Some(serde_json::json!({"name": name})),
    )
    .await?;
    Ok(reply["slug"].as_str().unwrap_or_default().to_owned())
}

/// Renames the organisation and sets whether it requires MFA.
#[server(prefix = "/rpc", endpoint = "update_org")]
pub async fn update_org(org: String, name: String, require_mfa: bool) -> Result<(), ApiError> {
    let body = serde_json::json!({"name": name, "require_mfa": require_mfa});
    call::<serde_json::Value>(Method::PATCH, &org_path(&org, ""), Some(body))
        .await
        .map(drop)
}

/// Deletes the organisation (owner only; `confirm` is its slug).
#[server(prefix = "/rpc", endpoint = "delete_org")]
pub async fn delete_org(org: String, confirm: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::DELETE,
        &org_path(&org, ""),
        Some(serde_json::json!({"confirm": confirm})),
    )
    .await
    .map(drop)
}

/// Makes another member the owner (owner only); the caller becomes an admin.
#[server(prefix = "/rpc", endpoint = "transfer_ownership")]
pub async fn transfer_ownership(org: String, user_id: String) -> Result<(), ApiError> {
    let body = serde_json::json!({"user_id": user_id});
    call::<serde_json::Value>(
        Method::POST,
        &org_path(&org, "/transfer-ownership"),
        Some(body),
    )
    .await
    .map(drop)
}

/// Invites someone by email.
#[server(prefix = "/rpc", endpoint = "invite_member")]
pub async fn invite_member(org: String, email: String, role: String) -> Result<(), ApiError> {
    let body = serde_json::json!({"email": email, "role": role});
    call::<serde_json::Value>(Method::POST, &org_path(&org, "/invitations"), Some(body))
        .await
        .map(drop)
}

/// Withdraws an invitation.
#[server(prefix = "/rpc", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(org: String, id: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::DELETE,
        &org_path(&org, &format!("/invitations/{}", urlencode(&id))),
        None,
    )
    .await
    .map(drop)
}

/// Accepts an invitation; returns the organisation's slug.
#[server(prefix = "/rpc", endpoint = "accept_invitation")]
pub async fn accept_invitation(org: String, token: String) -> Result<String, ApiError> {
    let reply: serde_json::Value = call(
        Method::POST,
        &org_path(&org, "/invitations/accept"),
        Some(serde_json::json!({"token": token})),
    )
    .await?;
    Ok(reply["slug"].as_str().unwrap_or_default().to_owned())
}

/// Gives a member another role.
#[server(prefix = "/rpc", endpoint = "change_member_role")]
pub async fn change_member_role(
    org: String,
    user_id: String,
    role: String,
) -> Result<(), ApiError> {
    let path = org_path(&org, &format!("/members/{}", urlencode(&user_id)));
    call::<serde_json::Value>(
        Method::PATCH,
        &path,
        Some(serde_json::json!({"role": role})),
    )
    .await
    .map(drop)
}

/// Removes a member.
#[server(prefix = "/rpc", endpoint = "remove_member")]
pub async fn remove_member(org: String, user_id: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::DELETE,
        &org_path(&org, &format!("/members/{}", urlencode(&user_id))),
        None,
    )
    .await
    .map(drop)
}

/// Creates a team.
#[server(prefix = "/rpc", endpoint = "create_team")]
pub async fn create_team(org: String, name: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::POST,
        &org_path(&org, "/teams"),
        Some(serde_json::json!({"name": name})),
    )
    .await
    .map(drop)
}

/// Renames a team.
#[server(prefix = "/rpc", endpoint = "rename_team")]
pub async fn rename_team(org: String, team: String, name: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::PATCH,
        &org_path(&org, &format!("/teams/{}", urlencode(&team))),
        Some(serde_json::json!({"name": name})),
    )
    .await
    .map(drop)
}

/// Deletes a team (its members stay in the organisation).
#[server(prefix = "/rpc", endpoint = "delete_team")]
pub async fn delete_team(org: String, team: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::DELETE,
        &org_path(&org, &format!("/teams/{}", urlencode(&team))),
        None,
    )
    .await
    .map(drop)
}

/// Adds a member of the organisation to a team.
#[server(prefix = "/rpc", endpoint = "add_team_member")]
pub async fn add_team_member(org: String, team: String, user_id: String) -> Result<(), ApiError> {
    let path = format!(
        "/teams/{}/members/{}",
        urlencode(&team),
        urlencode(&user_id)
    );
    call::<serde_json::Value>(Method::PUT, &org_path(&org, &path), None)
        .await
        .map(drop)
}

/// Takes someone out of a team.
#[server(prefix = "/rpc", endpoint = "remove_team_member")]
pub async fn remove_team_member(
    org: String,
    team: String,
    user_id: String,
) -> Result<(), ApiError> {
    let path = format!(
        "/teams/{}/members/{}",
        urlencode(&team),
        urlencode(&user_id)
    );
    call::<serde_json::Value>(Method::DELETE, &org_path(&org, &path), None)
        .await
        .map(drop)
}

/// Changes a custom role's name and permissions (comma-separated).
#[server(prefix = "/rpc", endpoint = "update_role")]
pub async fn update_role(
    org: String,
    role: String,
    name: String,
    permissions: String,
) -> Result<(), ApiError> {
    let permissions: Vec<&str> = permissions
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let body = serde_json::json!({"name": name, "permissions": permissions});
    call::<serde_json::Value>(
        Method::PATCH,
        &org_path(&org, &format!("/roles/{}", urlencode(&role))),
        Some(body),
    )
    .await
    .map(drop)
}

/// Deletes a custom role (refused while someone holds it).
#[server(prefix = "/rpc", endpoint = "delete_role")]
pub async fn delete_role(org: String, role: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::DELETE,
        &org_path(&org, &format!("/roles/{}", urlencode(&role))),
        None,
    )
    .await
    .map(drop)
}

/// Creates a custom role from comma-separated permission names.
#[server(prefix = "/rpc", endpoint = "create_role")]
pub async fn create_role(org: String, name: String, permissions: String) -> Result<(), ApiError> {
    let permissions: Vec<&str> = permissions
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let body = serde_json::json!({"name": name, "permissions": permissions});
    call::<serde_json::Value>(Method::POST, &org_path(&org, "/roles"), Some(body))
        .await
        .map(drop)
}

/// Creates an API token from comma-separated scopes; returns the secret, shown once.
#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(
    org: String,
    name: String,
    scopes: String,
    kind: String,
    expires_in_days: i64,
) -> Result<String, ApiError> {
    let scopes: Vec<&str> = scopes
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let body = serde_json::json!({"name": name, "scopes": scopes, "kind": kind, "expires_in_days": expires_in_days});
    let reply: serde_json::Value =
        call(Method::POST, &org_path(&org, "/tokens"), Some(body)).await?;
    Ok(reply["token"].as_str().unwrap_or_default().to_owned())
}

/// Revokes an API token.
#[server(prefix = "/rpc", endpoint = "revoke_token")]
pub async fn revoke_token(org: String, id: String) -> Result<(), ApiError> {
    call::<serde_json::Value>(
        Method::DELETE,
        &org_path(&org, &format!("/tokens/{}", urlencode(&id))),
        None,
    )
    .await
    .map(drop)
}

/// What the audit page filters by: an action prefix, an actor id and a time range (ms).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Action prefix (`auth.`, `member.`).
    pub action: String,
    /// Actor user id; empty for anyone.
    pub actor: String,
    /// From, ms since the epoch.
    pub since_ms: Option<i64>,
    /// Until (exclusive), ms since the epoch.
    pub until_ms: Option<i64>,
}

/// Audit entries, newest first, filtered.
#[server(prefix = "/rpc", endpoint = "audit_log")]
pub async fn audit_log(org: String, filter: AuditFilter) -> Result<Vec<AuditEntry>, ApiError> {
    let mut path = org_path(&org, "/audit?limit=200");
    if !filter.action.trim().is_empty() {
        path.push_str(&format!("&action={}", urlencode(filter.action.trim())));
    }
    if !filter.actor.trim().is_empty() {
        path.push_str(&format!("&actor={}", urlencode(filter.actor.trim())));
    }
    if let Some(since) = filter.since_ms {
        path.push_str(&format!("&since={since}"));
    }
    if let Some(until) = filter.until_ms {
        path.push_str(&format!("&until={until}"));
    }
    call(Method::GET, &path, None).await
}
