//! The history finds an analysis by its templates, worst severity and service, recorded when
//! the analysis finishes. Analyses that finished before these were recorded (before migration
//! 0008) get them here: the server reads their stored results back in the background, a few
//! at a time, oldest first, once per analysis.

use app::api::patterns::ResultDoc;
use tokio::sync::watch;

use super::analyses::{self, Findings};
use crate::db::Scope;
use crate::state::AppState;
use crate::storage::StorageError;

/// Analyses read per query.
const BATCH: i64 = 20;

/// One analysis still to index.
struct Pending {
    id: String,
    org_id: String,
    result_key: String,
}

/// Indexes earlier analyses until none is left or `shutdown` is set; a failure is logged and
/// the rest waits for the next start.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    tokio::select! {
        outcome = index_earlier(&state) => match outcome {
            Ok(0) => {}
            Ok(n) => tracing::info!(analyses = n, "earlier analyses indexed for search"),
            Err(e) => tracing::warn!(error = %e, "cannot index earlier analyses for search; trying again at the next start"),
        },
        _ = shutdown.changed() => {}
    }
}

/// Records what the history searches for every finished analysis that has no record yet, and
/// answers how many this call recorded.
pub async fn index_earlier(state: &AppState) -> anyhow::Result<u64> {
    let mut indexed = 0;
    loop {
        let pending = pending(state).await?;
        if pending.is_empty() {
            return Ok(indexed);
        }
        for analysis in &pending {
            if index(state, analysis).await? {
                indexed += 1;
            }
        }
    }
}

async fn pending(state: &AppState) -> Result<Vec<Pending>, sqlx::Error> {
    let mut tx = state.db.begin_read(Scope::System).await?;
    let rows: Vec<(String, String, String)> = crate::with_tx!(&mut tx, c => sqlx::query_as(
        r"select id, org_id, result_key from analyses
          where status = 'done' and indexed_at_ms is null and result_key is not null
          order by finished_at_ms, id limit $1",
    )
    .bind(BATCH)
    .fetch_all(&mut *c)
    .await)?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|(id, org_id, result_key)| Pending {
            id,
            org_id,
            result_key,
        })
        .collect())
}

/// Indexes one analysis; false when another server got there first. A result that is missing
/// or unreadable is marked indexed with nothing to find, so it is not read again.
async fn index(state: &AppState, analysis: &Pending) -> anyhow::Result<bool> {
    let doc = match state.ingest.storage.get(&analysis.result_key).await {
        // Parsing a large result takes a while; keep it off the async workers.
        Ok(bytes) => {
            match tokio::task::spawn_blocking(move || serde_json::from_slice::<ResultDoc>(&bytes))
                .await?
            {
                Ok(doc) => Some(doc),
                Err(e) => {
                    tracing::warn!(analysis = %analysis.id, error = %e, "an earlier result cannot be read; it stays unsearched by pattern");
                    None
                }
            }
        }
        Err(StorageError::Store(object_store::Error::NotFound { .. })) => {
            tracing::warn!(analysis = %analysis.id, "an earlier result is missing; it stays unsearched by pattern");
            None
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.clock.now_ms();
    let mut tx = state.db.begin(Scope::Org(&analysis.org_id)).await?;
    let claimed = crate::with_tx!(&mut tx, c => sqlx::query(
        r"update analyses set indexed_at_ms = $3
          where org_id = $1 and id = $2 and indexed_at_ms is null",
    )
    .bind(&analysis.org_id)
    .bind(&analysis.id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|done| done.rows_affected() == 1))?;
    if !claimed {
        return Ok(false);
    }
    if let Some(doc) = &doc {
        analyses::record_findings(&mut tx, &analysis.org_id, &analysis.id, &findings(doc), now)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// What the history searches, read from a stored result.
fn findings(doc: &ResultDoc) -> Findings<'_> {
    const ORDER: [&str; 4] = ["low", "medium", "high", "critical"];
    let top_severity = doc
        .patterns
        .iter()
        .filter_map(|p| ORDER.iter().position(|s| *s == p.severity))
        .max()
        .map(|i| ORDER[i]);
    let service = doc
        .context
        .iter()
        .filter(|v| v.kind == "service")
        .max_by_key(|v| v.count)
        .map(|v| v.value.as_str());
    Findings {
        top_severity,
        events: doc.summary.events,
        service,
        templates: doc.patterns.iter().map(|p| p.template.as_str()).collect(),
        file_by_service: false,
    }
}
