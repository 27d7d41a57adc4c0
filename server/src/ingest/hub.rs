//! Pushes analysis state and discussion changes to whoever is watching, in every process.
//!
//! On PostgreSQL a change is published with `NOTIFY` and every process (this one included)
//! hears it through `LISTEN` and hands it to its own subscribers, so a browser connected to
//! one process sees progress made by a worker in another. SQLite serves one process, so
//! changes go straight to its subscribers. The same channel wakes idle workers when a job is
//! queued.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, broadcast, watch};

use super::analyses::State;
use crate::db::Db;

/// Channel that carries analysis state and discussion changes.
const ANALYSIS_CHANNEL: &str = "faultline_analysis";
/// Channel that says a job was queued.
const JOBS_CHANNEL: &str = "faultline_jobs";
/// Updates kept for slow subscribers before they skip ahead (they then reread the database).
const BACKLOG: usize = 1024;

/// A change someone may be watching for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    /// Its organisation (subscribers only pass on their own organisation's updates).
    pub org_id: String,
    /// What changed.
    pub change: Change,
}

/// What changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// An analysis' state.
    Analysis(State),
    /// An analysis was deleted.
    AnalysisDeleted {
        /// Its id.
        id: String,
    },
    /// A comment on one of an analysis' patterns.
    Comment(CommentChange),
}

/// A comment that was posted, edited or deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommentChange {
    /// The analysis.
    pub analysis_id: String,
    /// The pattern discussed.
    pub pattern_id: String,
    /// The comment.
    pub comment_id: String,
    /// `posted`, `edited` or `deleted`.
    pub action: String,
}

/// The process's publisher and subscriber hub.
pub struct Hub {
    db: Db,
    updates: broadcast::Sender<Arc<Update>>,
    /// Wakes this process's idle workers.
    pub wake: Notify,
}

impl Hub {
    /// A hub over `db`.
    pub fn new(db: Db) -> Arc<Self> {
        let (updates, _) = broadcast::channel(BACKLOG);
        Arc::new(Self {
            db,
            updates,
            wake: Notify::new(),
        })
    }

    /// Subscribes to every update this process hears.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Update>> {
        self.updates.subscribe()
    }

    /// Publishes an analysis' new state.
    pub async fn publish(&self, org_id: &str, state: State) {
        self.send(org_id, Change::Analysis(state)).await;
    }

    /// Publishes that an analysis was deleted.
    pub async fn publish_deleted(&self, org_id: &str, analysis_id: &str) {
        let id = analysis_id.to_owned();
        self.send(org_id, Change::AnalysisDeleted { id }).await;
    }

    /// Publishes a change to a discussion.
    pub async fn publish_comment(&self, org_id: &str, change: CommentChange) {
        self.send(org_id, Change::Comment(change)).await;
    }

    async fn send(&self, org_id: &str, change: Change) {
        let update = Update {
            org_id: org_id.to_owned(),
            change,
        };
        if let Db::Postgres(pool) = &self.db {
            let payload = match serde_json::to_string(&update) {
                Ok(payload) => payload,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot encode a change; local watchers only");
                    let _ = self.updates.send(Arc::new(update));
                    return;
                }
            };
            match sqlx::query(r"select pg_notify($1, $2)")
                .bind(ANALYSIS_CHANNEL)
                .bind(payload)
                .execute(pool)
                .await
            {
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "could not publish a change; local watchers only")
                }
            }
        }
        let _ = self.updates.send(Arc::new(update));
    }

    /// Tells workers, here and in other processes, that a job is waiting.
    pub async fn job_queued(&self) {
        self.wake.notify_waiters();
        if let Db::Postgres(pool) = &self.db
            && let Err(e) = sqlx::query(r"select pg_notify($1, '')")
                .bind(JOBS_CHANNEL)
                .execute(pool)
                .await
        {
            tracing::warn!(error = %e, "could not wake other processes' workers");
        }
    }

    /// On PostgreSQL, listens for other processes' (and our own) notifications until
    /// `shutdown` turns true, reconnecting when the connection drops.
    pub async fn listen(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let Db::Postgres(pool) = &self.db else {
            return;
        };
        loop {
            let mut listener = match sqlx::postgres::PgListener::connect_with(pool).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for notifications; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(2)) => continue,
                        _ = shutdown.changed() => return,
                    }
                }
            };
            if let Err(e) = listener.listen_all([ANALYSIS_CHANNEL, JOBS_CHANNEL]).await {
                tracing::warn!(error = %e, "cannot listen for notifications; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            loop {
                tokio::select! {
                    message = listener.recv() => match message {
                        Ok(n) if n.channel() == JOBS_CHANNEL => self.wake.notify_waiters(),
                        Ok(n) => match serde_json::from_str::<Update>(n.payload()) {
                            Ok(update) => {
                                let _ = self.updates.send(Arc::new(update));
                            }
                            Err(e) => tracing::warn!(error = %e, "unreadable progress notification"),
                        },
                        Err(e) => {
                            tracing::warn!(error = %e, "notification connection lost; reconnecting");
                            break;
                        }
                    },
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::analyses::{Progress, Status};

    /// Other processes hear a change only as JSON: every kind must survive the trip.
    #[test]
    fn every_change_crosses_processes_as_json() {
        let changes = [
            Change::Analysis(State {
                id: "a1".into(),
                status: Status::Running,
                progress: Progress::queued(),
                seq: 3,
                error: None,
            }),
            Change::AnalysisDeleted { id: "a1".into() },
            Change::Comment(CommentChange {
                analysis_id: "a1".into(),
                pattern_id: "p1".into(),
                comment_id: "c1".into(),
                action: "posted".into(),
            }),
        ];
        for change in changes {
            let update = Update {
                org_id: "o1".into(),
                change,
            };
            let json = serde_json::to_string(&update).expect("serialises");
            let back: Update = serde_json::from_str(&json).expect("parses");
            assert_eq!(
                serde_json::to_string(&back).expect("serialises"),
                json,
                "{json}"
            );
        }
    }
}
