//! The history: an organisation's analyses searched, filtered, sorted and paged in SQL, with
//! only the rows the caller may see counted.

use app::api::history::{Author, BUILT_IN, HistorySort, TeamRef};

use super::analyses::{Row, Status};
use crate::db::{Statement, Tx};
use crate::tenancy::sharing::Grants;
use crate::with_tx;

/// Severities an analysis' worst pattern can have.
pub const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];
/// Words of a search that count; more are refused.
pub const MAX_WORDS: usize = 8;

/// Which analyses to list; every present field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Words each must contain in its name, a file name or a template (lower-case).
    pub words: Vec<String>,
    /// Its status.
    pub status: Option<Status>,
    /// Its worst pattern severity.
    pub severity: Option<&'static str>,
    /// The model that enriched it; `Some(None)` for the built-in engine alone.
    pub model: Option<Option<String>>,
    /// Its author.
    pub author: Option<String>,
    /// Its project; `Some(None)` for analyses in no project.
    pub project: Option<Option<String>>,
    /// Shared with this team, or started by one of its members.
    pub team: Option<String>,
    /// Created at or after.
    pub since_ms: Option<i64>,
    /// Created before.
    pub until_ms: Option<i64>,
}

/// One page of the history.
#[derive(Debug)]
pub struct Page {
    /// The rows.
    pub rows: Vec<Row>,
    /// Rows matching in all.
    pub total: u64,
}

/// The analyses of `org_id` that `grants` may see and `filter` keeps, in `sort` order:
/// `limit` of them from `offset`, and how many there are.
pub async fn search(
    tx: &mut Tx,
    org_id: &str,
    grants: &Grants,
    filter: &Filter,
    sort: HistorySort,
    offset: u64,
    limit: u64,
) -> Result<Page, sqlx::Error> {
    let mut count = Statement::default();
    count.push("select count(*) from analyses a where ");
    push_conditions(&mut count, org_id, grants, filter);
    let total = count.fetch_count(tx).await?;

    let mut list = Statement::default();
    list.push("select a.* from analyses a where ");
    push_conditions(&mut list, org_id, grants, filter);
    list.push(match sort {
        HistorySort::Newest => " order by a.created_at_ms desc, a.id",
        HistorySort::Oldest => " order by a.created_at_ms, a.id",
        HistorySort::Name => " order by lower(a.name), a.created_at_ms desc, a.id",
        HistorySort::Events => " order by coalesce(a.events, -1) desc, a.created_at_ms desc, a.id",
    });
    let limit = list.int(i64::try_from(limit).unwrap_or(i64::MAX));
    let offset = list.int(i64::try_from(offset).unwrap_or(i64::MAX));
    list.push(&format!(" limit {limit} offset {offset}"));
    let rows = list.fetch_all(tx).await?;
    Ok(Page {
        rows,
        total: u64::try_from(total).unwrap_or(0),
    })
}

fn push_conditions(statement: &mut Statement, org_id: &str, grants: &Grants, filter: &Filter) {
    let org = statement.text(org_id);
    statement.push(&format!("a.org_id = {org} and "));
    grants.push_visible(statement);
    for word in &filter.words {
        let like = statement.text(like_pattern(word));
        statement.push(&format!(
            " and (lower(a.name) like {like} escape '\\' or lower(a.files) like {like} escape '\\'
               or exists (select 1 from analysis_templates t
                          where t.analysis_id = a.id and lower(t.template) like {like} escape '\\'))"
        ));
    }
    if let Some(status) = filter.status {
        let p = statement.text(status.as_str());
        statement.push(&format!(" and a.status = {p}"));
    }
    if let Some(severity) = filter.severity {
        let p = statement.text(severity);
        statement.push(&format!(" and a.top_severity = {p}"));
    }
    match &filter.model {
        None => {}
        Some(None) => {
            statement.push(" and a.model is null");
        }
        Some(Some(model)) => {
            let p = statement.text(model.as_str());
            statement.push(&format!(" and a.model = {p}"));
        }
    }
    if let Some(author) = &filter.author {
        let p = statement.text(author.as_str());
        statement.push(&format!(" and a.created_by = {p}"));
    }
    match &filter.project {
        None => {}
        Some(None) => {
            statement.push(" and a.project_id is null");
        }
        Some(Some(project)) => {
            let p = statement.text(project.as_str());
            statement.push(&format!(" and a.project_id = {p}"));
        }
    }
    if let Some(team) = &filter.team {
        let p = statement.text(team.as_str());
        statement.push(&format!(
            " and (exists (select 1 from analysis_shares s where s.analysis_id = a.id and s.team_id = {p})
               or exists (select 1 from team_members tm where tm.team_id = {p} and tm.user_id = a.created_by))"
        ));
    }
    if let Some(since) = filter.since_ms {
        let p = statement.int(since);
        statement.push(&format!(" and a.created_at_ms >= {p}"));
    }
    if let Some(until) = filter.until_ms {
        let p = statement.int(until);
        statement.push(&format!(" and a.created_at_ms < {p}"));
    }
}

/// `%word%`, with LIKE's wildcards in the word matched literally.
fn like_pattern(word: &str) -> String {
    let escaped = word
        .to_lowercase()
        .replace('\\', r"\\")
        .replace('%', r"\%")
        .replace('_', r"\_");
    format!("%{escaped}%")
}

/// Everyone who started an analysis in `org_id`, by email.
pub async fn authors(tx: &mut Tx, org_id: &str) -> Result<Vec<Author>, sqlx::Error> {
    let rows: Vec<(String, String)> = with_tx!(tx, c => sqlx::query_as(
        r"select u.id, u.email from users u
          where u.id in (select distinct created_by from analyses where org_id = $1)
          order by lower(u.email), u.id",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| Author { id, name })
        .collect())
}

/// The teams of `org_id`, by name.
pub async fn teams(tx: &mut Tx, org_id: &str) -> Result<Vec<TeamRef>, sqlx::Error> {
    let rows: Vec<(String, String)> = with_tx!(tx, c => sqlx::query_as(
        r"select id, name from teams where org_id = $1 order by lower(name), id",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name)| TeamRef { id, name })
        .collect())
}

/// The models that enriched analyses of `org_id`, [`BUILT_IN`] first.
pub async fn models(tx: &mut Tx, org_id: &str) -> Result<Vec<String>, sqlx::Error> {
    let used: Vec<String> = with_tx!(tx, c => sqlx::query_scalar(
        r"select distinct model from analyses where org_id = $1 and model is not null order by model",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(std::iter::once(BUILT_IN.to_owned()).chain(used).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_wildcards_literally() {
        assert_eq!(like_pattern("Pay_ment%"), r"%pay\_ment\%%");
        assert_eq!(like_pattern(r"a\b"), r"%a\\b%");
    }
}
