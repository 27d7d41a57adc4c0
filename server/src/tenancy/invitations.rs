//! Invitations: single-use links, bound to one organisation and one email address, that
//! expire after [`TTL_MS`].

use serde::Serialize;

use crate::auth::secret::{random_token, token_digest};
use crate::db::Tx;
use crate::with_tx;

/// How long an invitation stays valid.
pub const TTL_MS: i64 = 7 * 24 * 3_600_000;

/// An invitation as admins see it (never with its token).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    /// Random id.
    pub id: String,
    /// The organisation.
    #[serde(skip)]
    pub org_id: String,
    /// Who may accept it.
    pub email: String,
    /// Role key given on acceptance.
    pub role: String,
    /// Team joined on acceptance, if any.
    pub team_id: Option<String>,
    /// Who sent it.
    pub invited_by: String,
    /// When.
    pub created_at_ms: i64,
    /// Until when it can be accepted.
    pub expires_at_ms: i64,
    /// When it was accepted.
    pub accepted_at_ms: Option<i64>,
    /// When it was withdrawn.
    pub revoked_at_ms: Option<i64>,
}

/// What to create.
pub struct NewInvitation<'a> {
    /// Organisation.
    pub org_id: &'a str,
    /// Invitee.
    pub email: &'a str,
    /// Role key.
    pub role: &'a str,
    /// Team to join.
    pub team_id: Option<&'a str>,
    /// Inviting user.
    pub invited_by: &'a str,
}

/// Creates an invitation and returns it with its token (to mail, never to store).
pub async fn insert(
    tx: &mut Tx,
    new: &NewInvitation<'_>,
    now: i64,
) -> Result<(Invitation, String), sqlx::Error> {
    let token = random_token(32);
    let invitation = Invitation {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: new.org_id.to_owned(),
        email: new.email.to_owned(),
        role: new.role.to_owned(),
        team_id: new.team_id.map(str::to_owned),
        invited_by: new.invited_by.to_owned(),
        created_at_ms: now,
        expires_at_ms: now + TTL_MS,
        accepted_at_ms: None,
        revoked_at_ms: None,
    };
    with_tx!(tx, c => sqlx::query(
        r"insert into invitations (id, org_id, email, role, team_id, token_hash, invited_by, created_at_ms, expires_at_ms)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&invitation.id)
    .bind(&invitation.org_id)
    .bind(&invitation.email)
    .bind(&invitation.role)
    .bind(&invitation.team_id)
    .bind(token_digest(&token))
    .bind(&invitation.invited_by)
    .bind(now)
    .bind(invitation.expires_at_ms)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok((invitation, token))
}

/// The organisation's invitations, newest first.
pub async fn list(tx: &mut Tx, org_id: &str) -> Result<Vec<Invitation>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select id, org_id, email, role, team_id, invited_by, created_at_ms, expires_at_ms, accepted_at_ms, revoked_at_ms
          from invitations where org_id = $1 order by created_at_ms desc",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await)
}

/// The invitation a token belongs to.
pub async fn by_token(tx: &mut Tx, token: &str) -> Result<Option<Invitation>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select id, org_id, email, role, team_id, invited_by, created_at_ms, expires_at_ms, accepted_at_ms, revoked_at_ms
          from invitations where token_hash = $1",
    )
    .bind(token_digest(token))
    .fetch_optional(&mut *c)
    .await)
}

/// Marks an invitation accepted, if it still is open; false when someone got there first.
pub async fn mark_accepted(
    tx: &mut Tx,
    id: &str,
    user_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"update invitations set accepted_at_ms = $3, accepted_by = $2
          where id = $1 and accepted_at_ms is null and revoked_at_ms is null and expires_at_ms > $3",
    )
    .bind(id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Withdraws an open invitation of the organisation.
pub async fn revoke(tx: &mut Tx, org_id: &str, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"update invitations set revoked_at_ms = $3
          where org_id = $1 and id = $2 and accepted_at_ms is null and revoked_at_ms is null",
    )
    .bind(org_id)
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}
