//! Teams inside an organisation and who is in them.

use serde::Serialize;

use crate::db::Tx;
use crate::with_tx;

/// A team.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Team {
    /// Random id.
    pub id: String,
    /// Display name, unique in the organisation.
    pub name: String,
    /// Creation time.
    pub created_at_ms: i64,
    /// How many members it has.
    pub member_count: i64,
}

/// The organisation's teams, by name.
pub async fn list(tx: &mut Tx, org_id: &str) -> Result<Vec<Team>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select t.id, t.name, t.created_at_ms, (select count(*) from team_members tm where tm.team_id = t.id) as member_count
          from teams t where t.org_id = $1 order by t.name",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await)
}

/// One team of the organisation.
pub async fn get(tx: &mut Tx, org_id: &str, team_id: &str) -> Result<Option<Team>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select t.id, t.name, t.created_at_ms, (select count(*) from team_members tm where tm.team_id = t.id) as member_count
          from teams t where t.org_id = $1 and t.id = $2",
    )
    .bind(org_id)
    .bind(team_id)
    .fetch_optional(&mut *c)
    .await)
}

/// Creates a team.
pub async fn insert(
    tx: &mut Tx,
    org_id: &str,
    id: &str,
    name: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(r"insert into teams (id, org_id, name, created_at_ms) values ($1, $2, $3, $4)")
        .bind(id)
        .bind(org_id)
        .bind(name)
        .bind(now)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Renames a team; false when it is not in the organisation.
pub async fn rename(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(r"update teams set name = $3 where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(team_id)
        .bind(name)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Deletes a team; false when it is not in the organisation.
pub async fn delete(tx: &mut Tx, org_id: &str, team_id: &str) -> Result<bool, sqlx::Error> {
    // Its test-generation settings go with it (they name the team, not a foreign key).
    with_tx!(tx, c => sqlx::query(r"delete from test_settings where org_id = $1 and owner_kind = 'team' and owner_id = $2")
        .bind(org_id)
        .bind(team_id)
        .execute(&mut *c)
        .await.map(drop))?;
    let done = with_tx!(tx, c => sqlx::query(r"delete from teams where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(team_id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// The user ids and emails in a team.
pub async fn members(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select u.id, u.email from team_members tm join users u on u.id = tm.user_id
          where tm.org_id = $1 and tm.team_id = $2 order by u.email",
    )
    .bind(org_id)
    .bind(team_id)
    .fetch_all(&mut *c)
    .await)
}

/// Adds a member of the organisation to one of its teams (no-op if already in it).
pub async fn add_member(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
    user_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into team_members (org_id, team_id, user_id, created_at_ms) values ($1, $2, $3, $4)
          on conflict (team_id, user_id) do nothing",
    )
    .bind(org_id)
    .bind(team_id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes a user out of a team; false when they were not in it.
pub async fn remove_member(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, c => sqlx::query(
        r"delete from team_members where org_id = $1 and team_id = $2 and user_id = $3",
    )
    .bind(org_id)
    .bind(team_id)
    .bind(user_id)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}
