//! Projects: an organisation's analyses grouped by service. An analysis joins one when it is
//! started in it, when someone files it there, or when it finishes and its logs name a
//! service called like the project.

use app::api::history::Project;

use crate::db::Tx;
use crate::with_tx;

/// Longest project name, in characters.
pub const MAX_NAME: usize = 100;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 500;

#[derive(sqlx::FromRow)]
struct ProjectRow {
    id: String,
    name: String,
    description: String,
    analyses: i64,
    created_at_ms: i64,
}

impl From<ProjectRow> for Project {
    fn from(r: ProjectRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            description: r.description,
            analyses: u64::try_from(r.analyses).unwrap_or(0),
            created_at_ms: r.created_at_ms,
        }
    }
}

const SELECT: &str = r"select p.id, p.name, p.description, p.created_at_ms,
      (select count(*) from analyses a where a.project_id = p.id) as analyses
    from projects p";

/// The projects of `org_id`, by name.
pub async fn list(tx: &mut Tx, org_id: &str) -> Result<Vec<Project>, sqlx::Error> {
    let sql = format!("{SELECT} where p.org_id = $1 order by lower(p.name), p.id");
    let rows: Vec<ProjectRow> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org_id)
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows.into_iter().map(Project::from).collect())
}

/// Project `id` of `org_id`.
pub async fn by_id(tx: &mut Tx, org_id: &str, id: &str) -> Result<Option<Project>, sqlx::Error> {
    let sql = format!("{SELECT} where p.org_id = $1 and p.id = $2");
    let row: Option<ProjectRow> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(row.map(Project::from))
}

/// Whether `org_id` has a project called `name` (ignoring case), other than `except`.
pub async fn name_taken(
    tx: &mut Tx,
    org_id: &str,
    name: &str,
    except: Option<&str>,
) -> Result<bool, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_scalar(
        r"select exists(select 1 from projects where org_id = $1 and lower(name) = lower($2)
            and (cast($3 as text) is null or id <> $3))",
    )
    .bind(org_id)
    .bind(name)
    .bind(except)
    .fetch_one(&mut *c)
    .await)
}

/// Records a new project.
pub async fn insert(
    tx: &mut Tx,
    org_id: &str,
    project: &Project,
    created_by: &str,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into projects (id, org_id, name, description, created_by, created_at_ms)
          values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&project.id)
    .bind(org_id)
    .bind(&project.name)
    .bind(&project.description)
    .bind(created_by)
    .bind(project.created_at_ms)
    .execute(&mut *c)
    .await
    .map(drop))
}

/// Renames or redescribes project `id`.
pub async fn update(
    tx: &mut Tx,
    org_id: &str,
    id: &str,
    name: &str,
    description: &str,
) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(
        r"update projects set name = $3, description = $4 where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(name)
    .bind(description)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Removes project `id`; its analyses stay, in no project.
pub async fn delete(tx: &mut Tx, org_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    // Explicit, rather than trusting the foreign key's `on delete set null` to be enforced.
    with_tx!(tx, c => sqlx::query(r"update analyses set project_id = null where org_id = $1 and project_id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(drop))?;
    let n = with_tx!(tx, c => sqlx::query(r"delete from projects where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}
