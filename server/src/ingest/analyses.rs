//! Analyses: what was asked for (which uploads), where it has got to, and where its result is.

use serde::{Deserialize, Serialize};

use crate::db::Tx;
use crate::with_tx;

/// Where an analysis is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for a worker.
    Queued,
    /// A worker is on it.
    Running,
    /// Finished; the result is stored.
    Done,
    /// Gave up; `error` says why.
    Failed,
    /// Stopped at someone's request.
    Cancelled,
}

impl Status {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses a stored name (unknown names read as failed, never as done).
    pub fn parse(raw: &str) -> Self {
        match raw {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "cancelled" => Self::Cancelled,
            _ => Self::Failed,
        }
    }

    /// Whether nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::Cancelled)
    }
}

/// How far an analysis has got.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Progress {
    /// `queued`, `reading`, `mining`, `correlating`, `generating_tests`, then `done`, `failed`
    /// or `cancelled` (the browser adds `uploading` before an analysis exists).
    pub stage: String,
    /// Of the whole analysis, 0 to 100.
    pub percent: f64,
    /// Input bytes read in the current pass.
    pub bytes_read: u64,
    /// Input bytes in all.
    pub bytes_total: u64,
    /// Events read in the current pass.
    pub events: u64,
    /// Physical lines read in the current pass.
    #[serde(default)]
    pub lines: u64,
    /// Patterns found so far.
    pub patterns: u64,
}

impl Progress {
    /// Waiting to start.
    pub fn queued() -> Self {
        Self {
            stage: "queued".into(),
            ..Self::default()
        }
    }
}

/// An analysis row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    /// Random id.
    pub id: String,
    /// Its organisation.
    pub org_id: String,
    /// Display name.
    pub name: String,
    /// Stored status name.
    pub status: String,
    /// JSON array of upload ids.
    pub upload_ids: String,
    /// The analysis it is compared with.
    pub previous_analysis_id: Option<String>,
    /// JSON [`Progress`].
    pub progress: String,
    /// Bumped on every progress change, so a reconnecting client knows what it has seen.
    pub progress_seq: i64,
    /// JSON summary of the result, once done.
    pub summary: Option<String>,
    /// Where the result JSON is stored, once done.
    pub result_key: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Who asked for it.
    pub created_by: String,
    /// When.
    pub created_at_ms: i64,
    /// When a worker started it.
    pub started_at_ms: Option<i64>,
    /// When it ended.
    pub finished_at_ms: Option<i64>,
    /// Someone asked to stop it.
    pub cancel_requested: bool,
    /// Who sees it: `org`, `teams` or `private` (crate::tenancy::sharing).
    pub visibility: String,
    /// The project it belongs to.
    pub project_id: Option<String>,
    /// Its files' names, one per line (for searching).
    pub files: String,
    /// The highest severity among its patterns, once done.
    pub top_severity: Option<String>,
    /// Events read, once done.
    pub events: Option<i64>,
    /// The service its logs came from, when they say.
    pub service: Option<String>,
    /// The model that enriched it; none for the built-in engine alone.
    pub model: Option<String>,
}

/// What clients see of an analysis while it runs, and what is pushed to them as it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct State {
    /// The analysis.
    pub id: String,
    /// Its status.
    pub status: Status,
    /// How far it has got.
    pub progress: Progress,
    /// Increases with every change.
    pub seq: i64,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Row {
    /// The status.
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }

    /// What decides who sees it.
    pub fn subject(&self) -> crate::tenancy::sharing::Subject<'_> {
        crate::tenancy::sharing::Subject {
            id: &self.id,
            created_by: &self.created_by,
            visibility: &self.visibility,
        }
    }

    /// The upload ids.
    pub fn upload_ids(&self) -> Vec<String> {
        serde_json::from_str(&self.upload_ids).unwrap_or_default()
    }

    /// The live state.
    pub fn state(&self) -> State {
        State {
            id: self.id.clone(),
            status: self.status(),
            progress: serde_json::from_str(&self.progress).unwrap_or_default(),
            seq: self.progress_seq,
            error: self.error.clone(),
        }
    }
}

/// Records a new, queued analysis.
pub async fn insert(tx: &mut Tx, row: &Row) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into analyses (id, org_id, name, status, upload_ids, previous_analysis_id, progress,
            progress_seq, created_by, created_at_ms, cancel_requested, visibility, project_id, files)
          values ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&row.id)
    .bind(&row.org_id)
    .bind(&row.name)
    .bind(&row.status)
    .bind(&row.upload_ids)
    .bind(&row.previous_analysis_id)
    .bind(&row.progress)
    .bind(&row.created_by)
    .bind(row.created_at_ms)
    .bind(false)
    .bind(&row.visibility)
    .bind(&row.project_id)
    .bind(&row.files)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The analysis `id` of `org_id`.
pub async fn by_id(tx: &mut Tx, org_id: &str, id: &str) -> Result<Option<Row>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(r"select * from analyses where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)
}

/// The organisation's analyses, newest first.
pub async fn list(tx: &mut Tx, org_id: &str, limit: i64) -> Result<Vec<Row>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select * from analyses where org_id = $1 order by created_at_ms desc, id limit $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(&mut *c)
    .await)
}

/// Stores new progress unless the analysis has ended; returns the new sequence number.
pub async fn set_progress(
    tx: &mut Tx,
    id: &str,
    status: Status,
    progress: &Progress,
    started_at_ms: Option<i64>,
) -> Result<Option<i64>, sqlx::Error> {
    let json = serde_json::to_string(progress).unwrap_or_default();
    with_tx!(tx, c => sqlx::query_scalar(
        r"update analyses set status = $2, progress = $3, progress_seq = progress_seq + 1,
            started_at_ms = coalesce(started_at_ms, $4)
          where id = $1 and status in ('queued', 'running')
          returning progress_seq",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(json)
    .bind(started_at_ms)
    .fetch_optional(&mut *c)
    .await)
}

/// Ends an analysis (unless it already ended): done with its result, failed with a reason, or
/// cancelled. Returns the new sequence number, or `None` if it had already ended.
pub async fn finish(
    tx: &mut Tx,
    id: &str,
    status: Status,
    outcome: Outcome<'_>,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let percent = if status == Status::Done { 100.0 } else { 0.0 };
    let progress = Progress {
        stage: status.as_str().to_owned(),
        percent,
        ..Progress::default()
    };
    let (summary, result_key, error) = match outcome {
        Outcome::Result { summary, key } => (Some(summary), Some(key), None),
        Outcome::Error(e) => (None, None, Some(e)),
        Outcome::Nothing => (None, None, None),
    };
    with_tx!(tx, c => sqlx::query_scalar(
        r"update analyses set status = $2, summary = $3, result_key = $4, error = $5,
            finished_at_ms = $6, progress_seq = progress_seq + 1, progress = $7
          where id = $1 and status in ('queued', 'running')
          returning progress_seq",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(summary)
    .bind(result_key)
    .bind(error)
    .bind(now)
    .bind(serde_json::to_string(&progress).unwrap_or_default())
    .fetch_optional(&mut *c)
    .await)
}

/// What a finished analysis is searched and filtered by in the history.
pub struct Findings<'a> {
    /// The highest severity among its patterns.
    pub top_severity: Option<&'a str>,
    /// Events read.
    pub events: u64,
    /// The service its logs name most often.
    pub service: Option<&'a str>,
    /// Every pattern's template.
    pub templates: Vec<&'a str>,
    /// Whether an analysis in no project joins the project named like its service (when it
    /// finishes; not when an earlier one is indexed later, which may have been taken out of
    /// its project on purpose).
    pub file_by_service: bool,
}

/// Longest template kept for searching, in bytes; longer ones are cut at a character boundary.
const MAX_SEARCH_TEMPLATE: usize = 2_000;
/// Templates written per statement.
const TEMPLATE_BATCH: usize = 200;

/// Records (at `now`) what analysis `id` is searched by and, when `file_by_service` asks, files
/// it under the project named like its service if it has no project yet and one exists.
pub async fn record_findings(
    tx: &mut Tx,
    org_id: &str,
    id: &str,
    findings: &Findings<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let events = i64::try_from(findings.events).unwrap_or(i64::MAX);
    with_tx!(tx, c => sqlx::query(
        r"update analyses set top_severity = $3, events = $4, service = $5, indexed_at_ms = $6,
            project_id = case when $7 then coalesce(project_id,
              (select p.id from projects p where p.org_id = $1 and lower(p.name) = lower($5)))
              else project_id end
          where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(findings.top_severity)
    .bind(events)
    .bind(findings.service)
    .bind(now)
    .bind(findings.file_by_service)
    .execute(&mut *c)
    .await
    .map(drop))?;
    with_tx!(tx, c => sqlx::query(r"delete from analysis_templates where analysis_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await
        .map(drop))?;
    for batch in findings.templates.chunks(TEMPLATE_BATCH) {
        let mut sql =
            String::from("insert into analysis_templates (analysis_id, org_id, template) values ");
        for i in 0..batch.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("($1, $2, ${})", i + 3));
        }
        with_tx!(tx, c => {
            // Only placeholders are formatted in; the templates are parameters.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(id).bind(org_id);
            for template in batch {
                query = query.bind(cut(template, MAX_SEARCH_TEMPLATE));
            }
            query.execute(&mut *c).await.map(drop)
        })?;
    }
    Ok(())
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Files analysis `id` under `project_id` (or under none).
pub async fn set_project(
    tx: &mut Tx,
    org_id: &str,
    id: &str,
    project_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(r"update analyses set project_id = $3 where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(id)
        .bind(project_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// How an analysis ended.
pub enum Outcome<'a> {
    /// Done: the summary JSON and where the result is.
    Result {
        /// JSON summary.
        summary: &'a str,
        /// Storage key of the result.
        key: &'a str,
    },
    /// Failed, with the reason shown to users.
    Error(&'a str),
    /// Cancelled.
    Nothing,
}

/// Asks a running analysis to stop (the worker notices at its next heartbeat).
pub async fn request_cancel(tx: &mut Tx, org_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(
        r"update analyses set cancel_requested = $3 where org_id = $1 and id = $2 and status in ('queued', 'running')",
    )
    .bind(org_id)
    .bind(id)
    .bind(true)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Whether someone asked `id` to stop, and whether it still exists.
pub async fn cancel_requested(tx: &mut Tx, id: &str) -> Result<Option<bool>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_scalar(r"select cancel_requested from analyses where id = $1")
        .bind(id)
        .fetch_optional(&mut *c)
        .await)
}

/// Removes the analysis row.
pub async fn delete(tx: &mut Tx, org_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(r"delete from analyses where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// The result keys of every analysis of `org_id` (to remove its objects with it).
pub async fn keys_of_org(tx: &mut Tx, org_id: &str) -> Result<Vec<String>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_scalar(
        r"select result_key from analyses where org_id = $1 and result_key is not null",
    )
    .bind(org_id)
    .fetch_all(&mut *c)
    .await)
}

/// Where an analysis' result is stored.
pub fn result_key(org_id: &str, analysis_id: &str) -> String {
    format!("results/{org_id}/{analysis_id}.json")
}
