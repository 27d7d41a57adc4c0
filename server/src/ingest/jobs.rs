//! The durable job queue: one table in the database both backends share.
//!
//! A worker claims a job by taking a lease on it (`locked_by`, `locked_until_ms`) and renews
//! the lease while it works. A worker that dies stops renewing; once the lease runs out the
//! job is claimable again, so a job survives `kill -9`. Every change a worker makes to a job
//! is conditioned on still holding its lease, so a job ends exactly once even if a worker
//! that lost its lease wakes up and tries to finish it.
//!
//! Claims are serialised (on PostgreSQL by an advisory lock, on SQLite by its write lock) so
//! the per-organisation limit holds across every process; rows another transaction holds are
//! skipped (`for update skip locked`) rather than waited for.

use crate::db::{Db, Scope, Tx};
use crate::with_tx;

/// Analyse an analysis' uploads.
pub const ANALYZE: &str = "analyze";

/// Key of the advisory lock that serialises claims on PostgreSQL.
const CLAIM_LOCK: i64 = 0x6661_756c_746c_6e31;

/// A job row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    /// Random id.
    pub id: String,
    /// Its organisation.
    pub org_id: String,
    /// What to do ([`ANALYZE`]).
    pub kind: String,
    /// What to do it to (an analysis id).
    pub subject_id: String,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub status: String,
    /// Claims so far, this one included.
    pub attempts: i64,
    /// Claims allowed before it fails for good.
    pub max_attempts: i64,
    /// Not before this time.
    pub run_after_ms: i64,
    /// The worker holding it.
    pub locked_by: Option<String>,
    /// Until when.
    pub locked_until_ms: Option<i64>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at_ms: i64,
    /// When it ended.
    pub finished_at_ms: Option<i64>,
}

/// Queues a job; returns its id.
pub async fn enqueue(
    tx: &mut Tx,
    org_id: &str,
    kind: &str,
    subject_id: &str,
    max_attempts: i64,
    now: i64,
) -> Result<String, sqlx::Error> {
    let id = uuid::Uuid::new_v4().to_string();
    with_tx!(tx, c => sqlx::query(
        r"insert into jobs (id, org_id, kind, subject_id, status, attempts, max_attempts, run_after_ms, created_at_ms)
          values ($1, $2, $3, $4, 'queued', 0, $5, $6, $6)",
    )
    .bind(&id)
    .bind(org_id)
    .bind(kind)
    .bind(subject_id)
    .bind(max_attempts)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(id)
}

/// Claims the next job for `worker`, leasing it until `now + lease_ms`: a queued job that is
/// due, or a running one whose lease ran out. Organisations with fewer running jobs go first,
/// and none gets more than `org_limit` at once.
pub async fn claim(
    db: &Db,
    worker: &str,
    now: i64,
    lease_ms: i64,
    org_limit: i64,
) -> Result<Option<Job>, sqlx::Error> {
    let mut tx = db.begin(Scope::System).await?;
    let lock = match &tx {
        Tx::Postgres(_) => " for update of j skip locked",
        Tx::Sqlite(_) => "",
    };
    if let Tx::Postgres(t) = &mut tx {
        sqlx::query(r"select pg_advisory_xact_lock($1)")
            .bind(CLAIM_LOCK)
            .execute(&mut **t)
            .await?;
    }
    let sql = format!(
        r"select j.* from jobs j
          where ((j.status = 'queued' and j.run_after_ms <= $1)
                 or (j.status = 'running' and j.locked_until_ms < $1))
            and (select count(*) from jobs r
                 where r.org_id = j.org_id and r.status = 'running' and r.locked_until_ms >= $1) < $2
          order by (select count(*) from jobs r
                    where r.org_id = j.org_id and r.status = 'running' and r.locked_until_ms >= $1),
                   j.run_after_ms, j.created_at_ms, j.id
          limit 1{lock}"
    );
    let job: Option<Job> = with_tx!(&mut tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(now)
        .bind(org_limit)
        .fetch_optional(&mut *c)
        .await)?;
    let Some(mut job) = job else {
        tx.commit().await?;
        return Ok(None);
    };
    let until = now + lease_ms;
    with_tx!(&mut tx, c => sqlx::query(
        r"update jobs set status = 'running', attempts = attempts + 1, locked_by = $2, locked_until_ms = $3
          where id = $1",
    )
    .bind(&job.id)
    .bind(worker)
    .bind(until)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    tx.commit().await?;
    job.status = "running".into();
    job.attempts += 1;
    job.locked_by = Some(worker.to_owned());
    job.locked_until_ms = Some(until);
    Ok(Some(job))
}

/// Renews `worker`'s lease on `job_id`; `false` when it no longer holds it (the lease ran
/// out and another worker took the job, or the job was removed).
pub async fn renew(db: &Db, job_id: &str, worker: &str, until: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin(Scope::System).await?;
    let held = with_tx!(&mut tx, c => sqlx::query(
        r"update jobs set locked_until_ms = $3 where id = $1 and locked_by = $2 and status = 'running'",
    )
    .bind(job_id)
    .bind(worker)
    .bind(until)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?
        == 1;
    tx.commit().await?;
    Ok(held)
}

/// Ends `job_id` with `status` if `worker` still holds it; `false` if it does not.
pub async fn finish(
    tx: &mut Tx,
    job_id: &str,
    worker: &str,
    status: &str,
    error: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(
        r"update jobs set status = $3, last_error = coalesce($4, last_error), finished_at_ms = $5,
            locked_by = null, locked_until_ms = null
          where id = $1 and locked_by = $2 and status = 'running'",
    )
    .bind(job_id)
    .bind(worker)
    .bind(status)
    .bind(error)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Puts `job_id` back in the queue to run after `run_after_ms`, if `worker` still holds it.
/// `uncount` gives back the attempt (the worker stopped for its own reasons, such as
/// shutting down, not because the job failed).
pub async fn release(
    tx: &mut Tx,
    job_id: &str,
    worker: &str,
    run_after_ms: i64,
    error: Option<&str>,
    uncount: bool,
) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(
        r"update jobs set status = 'queued', run_after_ms = $3, last_error = coalesce($4, last_error),
            attempts = attempts - $5, locked_by = null, locked_until_ms = null
          where id = $1 and locked_by = $2 and status = 'running'",
    )
    .bind(job_id)
    .bind(worker)
    .bind(run_after_ms)
    .bind(error)
    .bind(i64::from(uncount))
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Ends the queued job for `subject_id` before any worker claims it; `false` if there is none
/// (a worker has it, or it ended).
pub async fn cancel_queued(
    tx: &mut Tx,
    org_id: &str,
    subject_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(
        r"update jobs set status = 'cancelled', finished_at_ms = $3
          where org_id = $1 and subject_id = $2 and status = 'queued'",
    )
    .bind(org_id)
    .bind(subject_id)
    .bind(now)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Removes the jobs for `subject_id` (its subject was deleted; a worker holding one notices
/// at its next renewal).
pub async fn delete_for(tx: &mut Tx, org_id: &str, subject_id: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(r"delete from jobs where org_id = $1 and subject_id = $2")
        .bind(org_id)
        .bind(subject_id)
        .execute(&mut *c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The job for `subject_id`.
pub async fn for_subject(
    tx: &mut Tx,
    org_id: &str,
    subject_id: &str,
) -> Result<Option<Job>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(r"select * from jobs where org_id = $1 and subject_id = $2")
        .bind(org_id)
        .bind(subject_id)
        .fetch_optional(&mut *c)
        .await)
}

/// Delay before retry `attempt` (1-based): 2 s, 4 s, 8 s… up to five minutes.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exponent = u32::try_from(attempt.clamp(1, 20) - 1).unwrap_or(0);
    (2_000i64.saturating_mul(1i64 << exponent)).min(300_000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_a_cap() {
        use super::backoff_ms;
        assert_eq!(backoff_ms(1), 2_000);
        assert_eq!(backoff_ms(2), 4_000);
        assert_eq!(backoff_ms(3), 8_000);
        assert_eq!(backoff_ms(30), 300_000);
    }
}
