//! Background workers: claim jobs from the queue and run them, renewing the lease, reporting
//! progress and honouring cancellation while the analysis engine works on a blocking thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use app::api::analyses::TestsSummary;

use super::analyses::{self, Outcome, Progress, Status};
use super::jobs::{self, Job};
use super::uploads;
use crate::analysis::analyze::{self, AnalyzeError, ContextKind, Options, Source, progress};
use crate::analysis::classify::Severity;
use crate::db::Scope;
use crate::state::AppState;

/// Claims allowed per job: the first run and two retries.
pub const MAX_ATTEMPTS: i64 = 3;
/// How often a running job's progress is written and published.
const PROGRESS_EVERY: Duration = Duration::from_millis(400);

/// Why a running job is being stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Stop {
    Go = 0,
    /// Someone cancelled the analysis.
    Cancelled = 1,
    /// This process is shutting down: the job goes back to the queue.
    Shutdown = 2,
    /// The lease was lost or the analysis deleted: someone else owns what happens next.
    Lost = 3,
    /// The analysis had already ended (a worker died between ending it and its job): the
    /// job just needs closing.
    Settled = 4,
}

impl Stop {
    fn load(flag: &AtomicU8) -> Self {
        match flag.load(Ordering::Relaxed) {
            1 => Self::Cancelled,
            2 => Self::Shutdown,
            3 => Self::Lost,
            4 => Self::Settled,
            _ => Self::Go,
        }
    }

    /// Records `self` unless a reason was recorded first.
    fn set(self, flag: &AtomicU8) {
        let _ = flag.compare_exchange(0, self as u8, Ordering::Relaxed, Ordering::Relaxed);
    }
}

/// The running workers of this process.
pub struct Workers {
    shutdown: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `state.config.ingest.workers` workers, the indexing of earlier analyses for
    /// search and, on PostgreSQL, the notification listener.
    pub fn start(state: &AppState) -> Self {
        let (shutdown, watching) = watch::channel(false);
        let mut handles = vec![
            tokio::spawn(state.ingest.hub.clone().listen(watching.clone())),
            tokio::spawn(super::search_index::run(state.clone(), watching.clone())),
        ];
        for slot in 0..state.config.ingest.workers {
            let state = state.clone();
            let watching = watching.clone();
            handles.push(tokio::spawn(async move {
                work(state, slot, watching).await;
            }));
        }
        tracing::info!(
            workers = state.config.ingest.workers,
            worker_id = %state.ingest.worker_id,
            "background workers started"
        );
        Self { shutdown, handles }
    }

    /// Stops claiming, hands running jobs back to the queue and waits (at most `grace`) for
    /// the workers to finish.
    pub async fn stop(self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let all = futures::future::join_all(self.handles);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "workers did not stop in time; their jobs resume after the lease runs out"
            );
        }
    }
}

async fn work(state: AppState, slot: usize, mut shutdown: watch::Receiver<bool>) {
    let poll = match state.db {
        crate::db::Db::Sqlite(_) => Duration::from_millis(500),
        crate::db::Db::Postgres(_) => Duration::from_secs(2),
    };
    let config = &state.config.ingest;
    let worker = format!("{}/{slot}", state.ingest.worker_id);
    while !*shutdown.borrow() {
        // Registered before claiming, so a job queued in between still wakes us.
        let woken = state.ingest.hub.wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        match jobs::claim(
            &state.db,
            &worker,
            state.clock.now_ms(),
            config.lease_ms,
            config.org_concurrency,
        )
        .await
        {
            Ok(Some(job)) => {
                tracing::info!(job = %job.id, org_id = %job.org_id, attempt = job.attempts, "job claimed");
                run(&state, &worker, job, shutdown.clone()).await;
            }
            Ok(None) => {
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim jobs");
                tokio::select! {
                    () = tokio::time::sleep(poll * 2) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

/// What went wrong with a job.
enum Failure {
    /// It cannot succeed (bad input, a deleted upload): fail now, with this message.
    Permanent(String),
    /// It might succeed later (storage or database trouble).
    Transient(anyhow::Error),
    /// It was stopped.
    Stopped,
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Self::Transient(e.into())
    }
}

impl From<crate::storage::StorageError> for Failure {
    fn from(e: crate::storage::StorageError) -> Self {
        Self::Transient(e.into())
    }
}

async fn run(state: &AppState, worker: &str, job: Job, shutdown: watch::Receiver<bool>) {
    let scratch = state.ingest.scratch.join(&job.id);
    let outcome = if job.kind == jobs::ANALYZE {
        analyze_job(state, worker, &job, shutdown, &scratch).await
    } else {
        Err(Failure::Permanent(format!("unknown job kind {}", job.kind)))
    };
    if let Err(e) = tokio::fs::remove_dir_all(&scratch).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %scratch.display(), error = %e, "cannot remove scratch files");
    }
    if let Err(e) = conclude(state, worker, &job, outcome).await {
        tracing::warn!(job = %job.id, error = %e, "cannot record how a job ended; it runs again after its lease");
    }
}

/// Records the end of a job: done, failed, retried later, cancelled or handed back.
async fn conclude(
    state: &AppState,
    worker: &str,
    job: &Job,
    outcome: Result<Option<Stop>, Failure>,
) -> Result<(), sqlx::Error> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin(Scope::Org(&job.org_id)).await?;
    let published = match outcome {
        Ok(None) => None,
        Ok(Some(Stop::Cancelled)) => {
            if jobs::finish(&mut tx, &job.id, worker, "cancelled", None, now).await? {
                analyses::finish(
                    &mut tx,
                    &job.subject_id,
                    Status::Cancelled,
                    Outcome::Nothing,
                    now,
                )
                .await?
                .map(|seq| (Status::Cancelled, seq, None))
            } else {
                None
            }
        }
        Ok(Some(Stop::Settled)) => {
            jobs::finish(&mut tx, &job.id, worker, "done", None, now).await?;
            None
        }
        Ok(Some(Stop::Shutdown)) => requeue(&mut tx, worker, job, now, None, true).await?,
        Ok(Some(_)) | Err(Failure::Stopped) => None,
        Err(Failure::Transient(e)) if job.attempts < job.max_attempts => {
            let message = format!("{e:#}");
            tracing::warn!(job = %job.id, attempt = job.attempts, error = %message, "job failed; it will be retried");
            let retry_at = now + jobs::backoff_ms(job.attempts);
            requeue(&mut tx, worker, job, retry_at, Some(&message), false).await?
        }
        Err(Failure::Permanent(message)) => fail(&mut tx, worker, job, message, now).await?,
        Err(Failure::Transient(e)) => {
            tracing::error!(job = %job.id, error = format!("{e:#}"), "job failed for good");
            let message = format!(
                "The analysis failed {} times because of a problem on the server; try again later.",
                job.attempts
            );
            fail(&mut tx, worker, job, message, now).await?
        }
    };
    tx.commit().await?;
    if let Some((status, seq, error)) = published {
        let progress = if status == Status::Queued {
            Progress::queued()
        } else {
            Progress {
                stage: status.as_str().into(),
                ..Progress::default()
            }
        };
        publish(state, job, status, progress, seq, error).await;
        if status == Status::Queued {
            state.ingest.hub.job_queued().await;
        }
    }
    Ok(())
}

/// Tells every watcher of `job`'s analysis its new state.
async fn publish(
    state: &AppState,
    job: &Job,
    status: Status,
    progress: Progress,
    seq: i64,
    error: Option<String>,
) {
    let live = analyses::State {
        id: job.subject_id.clone(),
        status,
        progress,
        seq,
        error,
    };
    state.ingest.hub.publish(&job.org_id, live).await;
}

/// Puts `job` back in the queue (to run at `run_after_ms`) and shows its analysis as queued,
/// if `worker` still holds it.
async fn requeue(
    tx: &mut crate::db::Tx,
    worker: &str,
    job: &Job,
    run_after_ms: i64,
    error: Option<&str>,
    uncount: bool,
) -> Result<Option<(Status, i64, Option<String>)>, sqlx::Error> {
    if !jobs::release(tx, &job.id, worker, run_after_ms, error, uncount).await? {
        return Ok(None);
    }
    Ok(analyses::set_progress(
        tx,
        &job.subject_id,
        Status::Queued,
        &Progress::queued(),
        None,
    )
    .await?
    .map(|seq| (Status::Queued, seq, None)))
}

/// Ends `job` and its analysis as failed with `message`.
async fn fail(
    tx: &mut crate::db::Tx,
    worker: &str,
    job: &Job,
    message: String,
    now: i64,
) -> Result<Option<(Status, i64, Option<String>)>, sqlx::Error> {
    if !jobs::finish(tx, &job.id, worker, "failed", Some(&message), now).await? {
        return Ok(None);
    }
    Ok(analyses::finish(
        tx,
        &job.subject_id,
        Status::Failed,
        Outcome::Error(&message),
        now,
    )
    .await?
    .map(|seq| (Status::Failed, seq, Some(message))))
}

/// Runs an analysis job. `Ok(None)`: it completed (and recorded that itself); `Ok(Some(stop))`:
/// it was stopped for `stop`.
async fn analyze_job(
    state: &AppState,
    worker: &str,
    job: &Job,
    mut shutdown: watch::Receiver<bool>,
    scratch: &std::path::Path,
) -> Result<Option<Stop>, Failure> {
    let org = Scope::Org(&job.org_id);
    let mut tx = state.db.begin_read(org).await?;
    let Some(row) = analyses::by_id(&mut tx, &job.org_id, &job.subject_id).await? else {
        tx.commit().await?;
        return Ok(Some(Stop::Cancelled));
    };
    let mut inputs = Vec::new();
    for id in row.upload_ids() {
        match uploads::by_id(&mut tx, &job.org_id, &id).await? {
            Some(upload) => inputs.push(upload),
            None => {
                return Err(Failure::Permanent(
                    "A file of this analysis was deleted before it ran.".into(),
                ));
            }
        }
    }
    let previous = match &row.previous_analysis_id {
        Some(id) => analyses::by_id(&mut tx, &job.org_id, id)
            .await?
            .and_then(|p| p.result_key),
        None => None,
    };
    tx.commit().await?;
    if row.status().is_final() {
        return Ok(Some(Stop::Settled));
    }
    if row.cancel_requested {
        return Ok(Some(Stop::Cancelled));
    }
    if job.attempts > job.max_attempts {
        return Err(Failure::Permanent(format!(
            "The analysis was interrupted {} times (its server stopped while running it); giving up.",
            job.attempts - 1
        )));
    }

    let started = state.clock.now_ms();
    let reading = Progress {
        stage: "reading".into(),
        ..Progress::default()
    };
    publish_progress(state, job, &reading, Some(started)).await?;

    tokio::fs::create_dir_all(scratch)
        .await
        .map_err(|e| Failure::Transient(e.into()))?;
    let mut sources = Vec::with_capacity(inputs.len());
    for (i, upload) in inputs.iter().enumerate() {
        let path = state
            .ingest
            .storage
            .local_file(&upload.storage_key, &scratch.join(i.to_string()))
            .await?;
        sources.push(Source::named_file(upload.name.clone(), path));
    }
    let previous = match previous {
        Some(key) => Some(state.ingest.storage.get(&key).await?),
        None => None,
    };

    let stop = Arc::new(AtomicU8::new(Stop::Go as u8));
    let (report, mut reports) = watch::channel(None::<progress::Progress>);
    let options = Options {
        time: crate::analysis::timestamp::TimeContext::at(started),
        // Beside the job's other scratch files, on the data disk, and removed with them.
        spool_dir: Some(scratch.to_path_buf()),
    };
    let engine_stop = stop.clone();
    let mut engine = tokio::task::spawn_blocking(move || {
        let mut observer = Relay {
            report,
            stop: engine_stop,
        };
        analyze::analyze_observed(&sources, options, &mut observer)
    });

    let renew_every = Duration::from_millis(
        u64::try_from(state.config.ingest.lease_ms / 3)
            .unwrap_or(1000)
            .max(200),
    );
    let mut progress_tick = tokio::time::interval(PROGRESS_EVERY);
    let mut renew_tick = tokio::time::interval(renew_every);
    renew_tick.tick().await;
    let result = loop {
        tokio::select! {
            joined = &mut engine => break joined,
            _ = progress_tick.tick() => {
                let latest = if reports.has_changed().unwrap_or(false) {
                    *reports.borrow_and_update()
                } else {
                    None
                };
                if let Some(p) = latest {
                    publish_progress(state, job, &from_engine(&p), None).await?;
                }
                // Cancelling should feel immediate, so it is checked more often than the lease.
                let mut tx = state.db.begin_read(org).await?;
                let asked = analyses::cancel_requested(&mut tx, &job.subject_id).await?;
                tx.commit().await?;
                match asked {
                    Some(true) => Stop::Cancelled.set(&stop),
                    None => Stop::Lost.set(&stop),
                    Some(false) => {}
                }
            }
            _ = renew_tick.tick() => {
                let until = state.clock.now_ms() + state.config.ingest.lease_ms;
                if !jobs::renew(&state.db, &job.id, worker, until).await? {
                    tracing::warn!(job = %job.id, "lost the lease on a job; stopping it");
                    Stop::Lost.set(&stop);
                }
            }
            _ = shutdown.changed() => Stop::Shutdown.set(&stop),
        }
    };
    let analysis = match result {
        Ok(Ok(analysis)) => analysis,
        Ok(Err(AnalyzeError::Cancelled)) => return Ok(Some(Stop::load(&stop))),
        Ok(Err(e @ AnalyzeError::Read { .. })) => {
            return Err(Failure::Permanent(format!("Cannot read {e}")));
        }
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, "the analysis engine stopped unexpectedly");
            return Err(Failure::Permanent(
                "The analysis stopped unexpectedly; the problem was logged.".into(),
            ));
        }
    };
    let mut analysis = analysis;
    if let Some(previous) = previous {
        match analyze::compare(&analysis, &String::from_utf8_lossy(&previous)) {
            Ok(comparison) => analysis.comparison = Some(comparison),
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "cannot compare with the previous analysis")
            }
        }
    }
    let mut summary =
        serde_json::to_value(&analysis.summary).map_err(|e| Failure::Transient(e.into()))?;
    let body = serde_json::to_vec(&analysis).map_err(|e| Failure::Transient(e.into()))?;
    let searched = Searched::of(&analysis);
    let generating = Progress {
        stage: "generating_tests".into(),
        percent: GENERATING_AT,
        events: analysis.summary.events,
        lines: analysis.summary.lines,
        patterns: u64::try_from(analysis.patterns.len()).unwrap_or(u64::MAX),
        ..Progress::default()
    };
    drop(analysis);
    publish_progress(state, job, &generating, None).await?;
    match write_tests(state, job, &row.created_by, &body).await {
        Ok(tests) => summary["tests"] = serde_json::json!(tests),
        // The analysis stands without them; its tests page generates them on demand.
        Err(e) => tracing::warn!(job = %job.id, error = %e, "cannot generate the analysis' tests"),
    }
    let summary = summary.to_string();
    let key = analyses::result_key(&job.org_id, &job.subject_id);
    state.ingest.storage.put(&key, body.into()).await?;

    let now = state.clock.now_ms();
    let mut tx = state.db.begin(org).await?;
    if !jobs::finish(&mut tx, &job.id, worker, "done", None, now).await? {
        let exists = analyses::by_id(&mut tx, &job.org_id, &job.subject_id)
            .await?
            .is_some();
        drop(tx);
        if exists {
            tracing::warn!(job = %job.id, "finished a job whose lease was lost; another worker records it");
        } else {
            // Deleted while it ran: the result just stored has no row to reach it.
            tracing::info!(job = %job.id, "the analysis was deleted while it ran; removing its result");
            if let Err(e) = state.ingest.storage.delete(&key).await {
                tracing::warn!(key, error = %e, "cannot remove a deleted analysis' result");
            }
        }
        return Err(Failure::Stopped);
    }
    let seq = analyses::finish(
        &mut tx,
        &job.subject_id,
        Status::Done,
        Outcome::Result {
            summary: &summary,
            key: &key,
        },
        now,
    )
    .await?;
    analyses::record_findings(
        &mut tx,
        &job.org_id,
        &job.subject_id,
        &searched.findings(),
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(job = %job.id, analysis = %job.subject_id, ms = now - started, "analysis done");
    if let Some(seq) = seq {
        let done = Progress {
            stage: "done".into(),
            percent: 100.0,
            ..Progress::default()
        };
        publish(state, job, Status::Done, done, seq, None).await;
    }
    Ok(None)
}

/// Where the engine's share of the progress bar ends and test generation begins, in percent.
const GENERATING_AT: f64 = 95.0;

/// Writes the suite the analysis' author would see first on its tests page (their saved
/// settings, or their account's default framework) and answers its figures. The files are
/// not kept: the tests page writes them again, in the framework asked for, from the result.
async fn write_tests(
    state: &AppState,
    job: &Job,
    author: &str,
    result: &[u8],
) -> anyhow::Result<TestsSummary> {
    let mut tx = state.db.begin_read(Scope::Org(&job.org_id)).await?;
    let default_framework = crate::auth::users::by_id(&mut tx, author)
        .await?
        .map(|u| u.default_framework)
        .unwrap_or_default();
    let stored =
        crate::testgen::settings::of_member(&mut tx, &job.org_id, author, &default_framework)
            .await?;
    tx.commit().await?;
    let request = crate::testgen::Request {
        framework: stored.settings.framework,
        types: Vec::new(),
        preferences: stored.settings.preferences,
        context: stored.settings.context,
        ci: stored.settings.ci,
        template: None,
    };
    let doc: app::api::patterns::ResultDoc = serde_json::from_slice(result)?;
    let suite =
        tokio::task::spawn_blocking(move || crate::testgen::generate(&doc, &request)).await??;
    Ok(TestsSummary {
        framework: suite.framework.as_str().to_owned(),
        tests: suite.tests,
        files: u32::try_from(suite.files.len()).unwrap_or(u32::MAX),
        valid_files: suite.valid_files,
        checked_files: suite.checked_files,
        error_patterns: suite.coverage.error_patterns,
        covered: suite.coverage.covered,
    })
}

/// What the history searches a finished analysis by, kept when the result itself is dropped.
struct Searched {
    top_severity: Option<&'static str>,
    events: u64,
    service: Option<String>,
    templates: Vec<String>,
}

impl Searched {
    fn of(analysis: &analyze::Analysis) -> Self {
        let top_severity = analysis
            .patterns
            .iter()
            .map(|p| p.severity)
            .max()
            .map(|s| match s {
                Severity::Critical => "critical",
                Severity::High => "high",
                Severity::Medium => "medium",
                Severity::Low => "low",
            });
        let service = analysis
            .context
            .iter()
            .filter(|v| v.kind == ContextKind::Service)
            .max_by_key(|v| v.count)
            .map(|v| v.value.clone());
        Self {
            top_severity,
            events: analysis.summary.events,
            service,
            templates: analysis
                .patterns
                .iter()
                .map(|p| p.template.clone())
                .collect(),
        }
    }

    fn findings(&self) -> analyses::Findings<'_> {
        analyses::Findings {
            top_severity: self.top_severity,
            events: self.events,
            service: self.service.as_deref(),
            templates: self.templates.iter().map(String::as_str).collect(),
            file_by_service: true,
        }
    }
}

async fn publish_progress(
    state: &AppState,
    job: &Job,
    progress: &Progress,
    started_at_ms: Option<i64>,
) -> Result<(), Failure> {
    let mut tx = state.db.begin(Scope::Org(&job.org_id)).await?;
    let seq = analyses::set_progress(
        &mut tx,
        &job.subject_id,
        Status::Running,
        progress,
        started_at_ms,
    )
    .await?;
    tx.commit().await?;
    if let Some(seq) = seq {
        publish(state, job, Status::Running, progress.clone(), seq, None).await;
    }
    Ok(())
}

fn from_engine(p: &progress::Progress) -> Progress {
    Progress {
        stage: match p.stage {
            progress::Stage::Reading => "reading",
            progress::Stage::Mining => "mining",
            progress::Stage::Correlating => "correlating",
        }
        .into(),
        // The engine's stages share the bar up to where test generation begins.
        percent: p.percent * GENERATING_AT / 100.0,
        bytes_read: p.bytes_read,
        bytes_total: p.bytes_total,
        events: p.events,
        lines: p.lines,
        patterns: p.patterns,
    }
}

/// Passes the engine's reports to the async side and its stop flag back.
struct Relay {
    report: watch::Sender<Option<progress::Progress>>,
    stop: Arc<AtomicU8>,
}

impl progress::Observer for Relay {
    fn progress(&mut self, progress: &progress::Progress) -> bool {
        let _ = self.report.send(Some(*progress));
        Stop::load(&self.stop) == Stop::Go
    }
}

/// Storage, the hub and this process's identity as a worker.
pub struct Ingest {
    /// Where files and results are.
    pub storage: crate::storage::Storage,
    /// Progress and wake-ups.
    pub hub: Arc<super::hub::Hub>,
    /// This process's name in job leases.
    pub worker_id: String,
    /// Where remote files are copied to be read.
    pub scratch: PathBuf,
    /// Finished results, parsed.
    pub results: super::results::ResultCache,
    /// Comparisons lately built, by the analyses compared.
    pub comparisons: super::results::Recent<super::compare::Matrix>,
}
