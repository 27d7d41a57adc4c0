//! Organisations (tenants) and memberships.

use serde::Serialize;

use crate::db::Tx;
use crate::with_tx;

/// An organisation.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Org {
    /// Random id.
    pub id: String,
    /// URL name, unique.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Whether members must enrol a second factor before reaching its data.
    pub require_mfa: bool,
    /// Creation time.
    pub created_at_ms: i64,
}

/// A user's membership with the role key (`owner`, `admin`, `member`, `viewer` or a custom
/// role id).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Member {
    /// The member.
    pub user_id: String,
    /// Their email.
    pub email: String,
    /// Role key.
    pub role: String,
    /// Whether they have a second factor.
    pub mfa: bool,
    /// When they joined.
    pub joined_at_ms: i64,
}

/// Creates an organisation.
pub async fn insert(tx: &mut Tx, org: &Org) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into orgs (id, slug, name, require_mfa, created_at_ms) values ($1, $2, $3, $4, $5)",
    )
    .bind(&org.id)
    .bind(&org.slug)
    .bind(&org.name)
    .bind(org.require_mfa)
    .bind(org.created_at_ms)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Whether a slug is taken.
pub async fn slug_taken(tx: &mut Tx, slug: &str) -> Result<bool, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_scalar(r"select exists(select 1 from orgs where slug = $1)")
        .bind(slug)
        .fetch_one(&mut *c)
        .await)
}

/// The organisation whose slug or id is `key`.
pub async fn by_key(tx: &mut Tx, key: &str) -> Result<Option<Org>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(r"select * from orgs where slug = $1 or id = $1 order by (id = $1) desc limit 1")
        .bind(key)
        .fetch_optional(&mut *c)
        .await)
}

/// The organisations `user_id` belongs to, with their role key, oldest first.
pub async fn for_user(tx: &mut Tx, user_id: &str) -> Result<Vec<(Org, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        org: Org,
        role: String,
    }
    let rows: Vec<Row> = with_tx!(tx, c => sqlx::query_as(
        r"select o.*, m.role from orgs o join memberships m on m.org_id = o.id
          where m.user_id = $1 order by m.created_at_ms, o.slug",
    )
    .bind(user_id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows.into_iter().map(|r| (r.org, r.role)).collect())
}

/// Renames and sets the MFA requirement.
pub async fn update(
    tx: &mut Tx,
    org_id: &str,
    name: &str,
    require_mfa: bool,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(r"update orgs set name = $2, require_mfa = $3 where id = $1")
        .bind(org_id)
        .bind(name)
        .bind(require_mfa)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes the organisation; every tenant-owned row goes with it (foreign keys cascade), and
/// so does its audit chain.
pub async fn delete(tx: &mut Tx, org_id: &str) -> Result<(), sqlx::Error> {
    if let Tx::Postgres(t) = tx {
        // No entry may join the chain while it goes (the lock `audit::append` takes).
        sqlx::query(r"select pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("audit:{org_id}"))
            .execute(&mut **t)
            .await?;
    }
    // The organisation first: the audit log refuses deletions while it exists.
    with_tx!(tx, c => {
        sqlx::query(r"delete from orgs where id = $1")
            .bind(org_id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?;
        sqlx::query(r"delete from audit_log where org_id = $1")
            .bind(org_id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?;
        sqlx::query(r"delete from audit_heads where org_id = $1")
            .bind(org_id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The role key of `user_id` in the organisation.
pub async fn role_of(
    tx: &mut Tx,
    org_id: &str,
    user_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_scalar(r"select role from memberships where org_id = $1 and user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(&mut *c)
        .await)
}

/// Adds a member.
pub async fn add_member(
    tx: &mut Tx,
    org_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into memberships (org_id, user_id, role, created_at_ms) values ($1, $2, $3, $4)",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Every member with their email and role, in joining order.
pub async fn members(tx: &mut Tx, org_id: &str) -> Result<Vec<Member>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select m.user_id, u.email, m.role, (u.totp_secret is not null) as mfa, m.created_at_ms as joined_at_ms
          from memberships m join users u on u.id = m.user_id
          where m.org_id = $1 order by m.created_at_ms, u.email",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await)
}

/// Changes a member's role; false when they are not a member.
pub async fn set_role(
    tx: &mut Tx,
    org_id: &str,
    user_id: &str,
    role: &str,
) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(r"update memberships set role = $3 where org_id = $1 and user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .bind(role)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Makes the owner an admin, if `user_id` is still the owner; false otherwise.
pub async fn demote_owner(tx: &mut Tx, org_id: &str, user_id: &str) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"update memberships set role = 'admin' where org_id = $1 and user_id = $2 and role = 'owner'",
    )
    .bind(org_id)
    .bind(user_id)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Removes a member, their team places and their personal tokens in this organisation.
pub async fn remove_member(tx: &mut Tx, org_id: &str, user_id: &str) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => {
        sqlx::query(r"delete from team_members where org_id = $1 and user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?;
        sqlx::query(r"delete from api_tokens where org_id = $1 and user_id = $2 and kind = 'personal'")
            .bind(org_id)
            .bind(user_id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())?;
        sqlx::query(r"delete from memberships where org_id = $1 and user_id = $2")
            .bind(org_id)
            .bind(user_id)
            .execute(&mut *c)
            .await.map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}
