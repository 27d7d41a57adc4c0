//! Stored custom templates: each belongs to a team and may be used by anyone in the
//! organisation.

use app::api::testgen::{Framework, TemplateInput, TestTemplate};

use crate::db::Tx;
use crate::with_tx;

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    team_id: String,
    team: String,
    name: String,
    framework: String,
    prelude: String,
    test: String,
    epilogue: String,
    updated_at_ms: i64,
}

impl From<Row> for TestTemplate {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            team_id: r.team_id,
            team: r.team,
            name: r.name,
            // Only known names are stored; one written by a later version reads as the default.
            framework: Framework::parse(&r.framework).unwrap_or_default(),
            prelude: r.prelude,
            test: r.test,
            epilogue: r.epilogue,
            updated_at_ms: r.updated_at_ms,
        }
    }
}

const SELECT: &str = r"select t.id, t.team_id, tm.name as team, t.name, t.framework, t.prelude,
        t.test, t.epilogue, t.updated_at_ms
    from test_templates t join teams tm on tm.id = t.team_id and tm.org_id = t.org_id";

/// Every template of `org_id`, by name then team.
pub async fn list(tx: &mut Tx, org_id: &str) -> Result<Vec<TestTemplate>, sqlx::Error> {
    let sql = format!("{SELECT} where t.org_id = $1 order by lower(t.name), lower(tm.name), t.id");
    let rows: Vec<Row> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org_id)
        .fetch_all(&mut *c)
        .await)?;
    Ok(rows.into_iter().map(TestTemplate::from).collect())
}

/// Template `id` of `org_id`.
pub async fn get(tx: &mut Tx, org_id: &str, id: &str) -> Result<Option<TestTemplate>, sqlx::Error> {
    let sql = format!("{SELECT} where t.org_id = $1 and t.id = $2");
    let row: Option<Row> = with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(row.map(TestTemplate::from))
}

/// Whether team `team_id` already has a template named `name` (other than `except`).
pub async fn name_taken(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
    name: &str,
    except: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let n: i64 = with_tx!(tx, c => sqlx::query_scalar(
        r"select count(*) from test_templates
          where org_id = $1 and team_id = $2 and lower(name) = lower($3) and id <> $4",
    )
    .bind(org_id)
    .bind(team_id)
    .bind(name)
    .bind(except.unwrap_or(""))
    .fetch_one(&mut *c)
    .await)?;
    Ok(n > 0)
}

/// Stores template `id` of team `team_id` (new or replaced).
#[allow(clippy::too_many_arguments)]
pub async fn put(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
    id: &str,
    input: &TemplateInput,
    updated_by: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into test_templates
            (id, org_id, team_id, name, framework, prelude, test, epilogue, updated_by, updated_at_ms)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
          on conflict (id) do update set name = excluded.name, framework = excluded.framework,
            prelude = excluded.prelude, test = excluded.test, epilogue = excluded.epilogue,
            updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(id)
    .bind(org_id)
    .bind(team_id)
    .bind(input.name.trim())
    .bind(input.framework.as_str())
    .bind(&input.prelude)
    .bind(&input.test)
    .bind(&input.epilogue)
    .bind(updated_by)
    .bind(now_ms)
    .execute(&mut *c)
    .await
    .map(drop))
}

/// Deletes template `id` of team `team_id`; whether there was one.
pub async fn delete(
    tx: &mut Tx,
    org_id: &str,
    team_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(
        r"delete from test_templates where org_id = $1 and team_id = $2 and id = $3",
    )
    .bind(org_id)
    .bind(team_id)
    .bind(id)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}
