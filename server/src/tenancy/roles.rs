//! Custom roles: named permission sets an organisation's admins compose.

use crate::db::Tx;
use crate::with_tx;

/// A custom role as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomRole {
    /// Random id; also the role key in memberships.
    pub id: String,
    /// Display name, unique in the organisation.
    pub name: String,
    /// Comma-separated permission names.
    pub permissions: String,
    /// Creation time.
    pub created_at_ms: i64,
}

/// The organisation's custom roles, by name.
pub async fn list(tx: &mut Tx, org_id: &str) -> Result<Vec<CustomRole>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select id, name, permissions, created_at_ms from roles where org_id = $1 order by name",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await)
}

/// One custom role of the organisation.
pub async fn get(
    tx: &mut Tx,
    org_id: &str,
    role_id: &str,
) -> Result<Option<CustomRole>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select id, name, permissions, created_at_ms from roles where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(role_id)
    .fetch_optional(&mut *c)
    .await)
}

/// Creates a custom role.
pub async fn insert(tx: &mut Tx, org_id: &str, role: &CustomRole) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into roles (id, org_id, name, permissions, created_at_ms) values ($1, $2, $3, $4, $5)",
    )
    .bind(&role.id)
    .bind(org_id)
    .bind(&role.name)
    .bind(&role.permissions)
    .bind(role.created_at_ms)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Renames a custom role and replaces its permissions.
pub async fn update(
    tx: &mut Tx,
    org_id: &str,
    role_id: &str,
    name: &str,
    permissions: &str,
) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"update roles set name = $3, permissions = $4 where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(role_id)
    .bind(name)
    .bind(permissions)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// How many members and pending invitations use the role.
pub async fn usage(tx: &mut Tx, org_id: &str, role_id: &str) -> Result<i64, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_scalar(
        r"select (select count(*) from memberships where org_id = $1 and role = $2)
               + (select count(*) from invitations where org_id = $1 and role = $2
                    and accepted_at_ms is null and revoked_at_ms is null)",
    )
    .bind(org_id)
    .bind(role_id)
    .fetch_one(&mut *c)
    .await)
}

/// Deletes a custom role.
pub async fn delete(tx: &mut Tx, org_id: &str, role_id: &str) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(r"delete from roles where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(role_id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}
