//! Uploads: files streamed into storage with their digest, kind and size, and the rows that
//! record them. A row exists only for an object that was stored whole; an upload that fails or
//! is abandoned leaves neither.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::inspect::{Inspector, Kind, Refusal};
use crate::config::ingest::IngestConfig;
use crate::db::{Statement, Tx};
use crate::storage::{Storage, StorageError};
use crate::tenancy::sharing::Grants;
use crate::with_tx;
use app::format::binary_size;

/// An uploaded file.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Upload {
    /// Random id.
    pub id: String,
    /// The organisation it belongs to.
    #[serde(skip)]
    pub org_id: String,
    /// The file name it was sent under.
    pub name: String,
    /// Its size as stored (compressed size for gzip).
    pub bytes: i64,
    /// SHA-256 of the stored bytes, hex.
    pub sha256: String,
    /// `text`, `json` or `gzip`.
    pub kind: String,
    /// Where the bytes are.
    #[serde(skip)]
    pub storage_key: String,
    /// Who sent it.
    pub created_by: String,
    /// When.
    pub created_at_ms: i64,
}

/// The limits that apply to one organisation's uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file.
    pub max_file: u64,
    /// Bytes of uploads it may keep.
    pub quota: u64,
    /// Bytes it keeps now.
    pub used: u64,
}

impl Limits {
    /// Bytes the next file may have before one of the limits is hit.
    pub fn room(&self) -> u64 {
        self.max_file.min(self.quota.saturating_sub(self.used))
    }

    /// Why a file of `bytes` cannot be taken, if it cannot.
    pub fn refuse(&self, bytes: u64) -> Option<UploadError> {
        if bytes > self.max_file {
            Some(UploadError::TooLarge {
                limit: self.max_file,
            })
        } else if bytes > self.quota.saturating_sub(self.used) {
            Some(UploadError::OverQuota {
                quota: self.quota,
                used: self.used,
            })
        } else {
            None
        }
    }
}

/// Why an upload failed. Every variant leaves nothing behind.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file is larger than the organisation's per-file limit.
    #[error("The file is larger than this organisation's limit of {}.", binary_size(*limit))]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Storing the file would exceed the organisation's quota.
    #[error("This upload would go over the organisation's storage quota ({} of {} used). Delete old analyses or ask for a larger quota.", binary_size(*used), binary_size(*quota))]
    OverQuota {
        /// The quota.
        quota: u64,
        /// Bytes used before this upload.
        used: u64,
    },
    /// The content is not something Faultline reads.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// The client stopped sending (disconnected, or the body was cut).
    #[error("The upload was interrupted before the file arrived whole.")]
    Interrupted,
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Bytes stored.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: String,
    /// What the file holds.
    pub kind: Kind,
}

/// Streams `body` into `storage` at `key`, refusing it once it passes `limits`. Whatever goes
/// wrong, the partial object is removed before the error is returned.
pub async fn receive<S, E>(
    storage: &Storage,
    key: &str,
    body: S,
    limits: Limits,
) -> Result<Received, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut writer = storage.writer(key).await?;
    match copy(&mut writer, body, limits).await {
        Ok((bytes, sha256, inspector)) => match inspector.finish() {
            Ok(kind) => {
                writer.finish().await?;
                Ok(Received {
                    bytes,
                    sha256,
                    kind,
                })
            }
            Err(refusal) => {
                abort(writer, storage, key).await;
                Err(refusal.into())
            }
        },
        Err(e) => {
            abort(writer, storage, key).await;
            Err(e)
        }
    }
}

async fn copy<S, E>(
    writer: &mut crate::storage::Writer,
    mut body: S,
    limits: Limits,
) -> Result<(u64, String, Inspector), UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let room = limits.room();
    let mut hasher = Sha256::new();
    let mut inspector = Inspector::new();
    let mut bytes = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            tracing::info!(error = %e, "upload body ended early");
            UploadError::Interrupted
        })?;
        bytes += chunk.len() as u64;
        if bytes > room {
            return Err(limits.refuse(bytes).unwrap_or(UploadError::TooLarge {
                limit: limits.max_file,
            }));
        }
        inspector.feed(&chunk)?;
        hasher.update(&chunk);
        writer.write(&chunk).await?;
    }
    Ok((bytes, hex::encode(hasher.finalize()), inspector))
}

async fn abort(writer: crate::storage::Writer, storage: &Storage, key: &str) {
    if let Err(e) = writer.abort().await {
        tracing::warn!(key, error = %e, "could not abort a partial upload");
    }
    if let Err(e) = storage.delete(key).await {
        tracing::warn!(key, error = %e, "could not remove a partial upload");
    }
}

/// The limits for `org_id`: its own where set, else the server's, with what it uses now. On
/// PostgreSQL the organisation's row is locked until `tx` ends, so two uploads cannot both
/// take the last of a quota.
pub async fn limits(
    tx: &mut Tx,
    org_id: &str,
    config: &IngestConfig,
    lock: bool,
) -> Result<Limits, sqlx::Error> {
    let lock_clause = match (lock, &*tx) {
        (true, Tx::Postgres(_)) => " for update",
        _ => "",
    };
    let sql = format!("select max_upload_bytes, quota_bytes from orgs where id = $1{lock_clause}");
    let (max_file, quota): (Option<i64>, Option<i64>) =
        with_tx!(tx, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(org_id)
        .fetch_optional(&mut *c)
        .await)?
        .unwrap_or((None, None));
    let used: i64 = with_tx!(tx, c => sqlx::query_scalar(
        r"select cast(coalesce(sum(bytes), 0) as bigint) from uploads where org_id = $1",
    )
    .bind(org_id)
    .fetch_one(&mut *c)
    .await)?;
    let positive = |v: Option<i64>, default: u64| {
        v.and_then(|n| u64::try_from(n).ok())
            .filter(|&n| n > 0)
            .unwrap_or(default)
    };
    Ok(Limits {
        max_file: positive(max_file, config.max_upload_bytes),
        quota: positive(quota, config.org_quota_bytes),
        used: u64::try_from(used).unwrap_or(0),
    })
}

/// A change to one of an organisation's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitSetting {
    /// Use the server's setting.
    Default,
    /// Its own value, in bytes.
    Bytes(u64),
}

impl LimitSetting {
    /// `default`, or a size such as `2GiB`.
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.trim().eq_ignore_ascii_case("default") {
            Some(Self::Default)
        } else {
            crate::config::ingest::parse_bytes(raw).map(Self::Bytes)
        }
    }
}

/// An organisation's limits after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Configured {
    /// The limits that apply now.
    pub applied: Limits,
    /// Whether the per-file limit is the organisation's own (else the server's).
    pub own_max_file: bool,
    /// Whether the quota is the organisation's own (else the server's).
    pub own_quota: bool,
}

/// Sets an organisation's own limits, leaving those given as `None` as they are, and records
/// it in the organisation's audit log as done by `actor`. Answers the limits that now apply,
/// or `None` when no organisation has that slug or id.
pub async fn configure_limits(
    db: &crate::Db,
    config: &IngestConfig,
    org_key: &str,
    max_file: Option<LimitSetting>,
    quota: Option<LimitSetting>,
    actor: &str,
    now: i64,
) -> Result<Option<Configured>, sqlx::Error> {
    let mut tx = db.begin(crate::db::Scope::System).await?;
    let Some(org) = crate::tenancy::orgs::by_key(&mut tx, org_key).await? else {
        return Ok(None);
    };
    let (old_file, old_quota): (Option<i64>, Option<i64>) = with_tx!(&mut tx, c => sqlx::query_as(
        r"select max_upload_bytes, quota_bytes from orgs where id = $1",
    )
    .bind(&org.id)
    .fetch_one(&mut *c)
    .await)?;
    let stored = |change: Option<LimitSetting>, old: Option<i64>| match change {
        None => old,
        Some(LimitSetting::Default) => None,
        Some(LimitSetting::Bytes(n)) => Some(i64::try_from(n).unwrap_or(i64::MAX)),
    };
    let (new_file, new_quota) = (stored(max_file, old_file), stored(quota, old_quota));
    with_tx!(&mut tx, c => sqlx::query(
        r"update orgs set max_upload_bytes = $2, quota_bytes = $3 where id = $1",
    )
    .bind(&org.id)
    .bind(new_file)
    .bind(new_quota)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    if (new_file, new_quota) != (old_file, old_quota) {
        let event = crate::audit::Event {
            org_id: org.id.clone(),
            actor_id: String::new(),
            actor: actor.to_owned(),
            action: "org.limits_changed",
            target: org.id.clone(),
            ip: String::new(),
            detail: serde_json::json!({
                "max_upload_bytes": new_file,
                "quota_bytes": new_quota,
            }),
        };
        crate::audit::append(&mut tx, &event, now).await?;
    }
    let applied = limits(&mut tx, &org.id, config, false).await?;
    tx.commit().await?;
    Ok(Some(Configured {
        applied,
        own_max_file: new_file.is_some_and(|n| n > 0),
        own_quota: new_quota.is_some_and(|n| n > 0),
    }))
}

/// Records a stored upload.
pub async fn insert(tx: &mut Tx, upload: &Upload) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into uploads (id, org_id, name, bytes, sha256, kind, storage_key, created_by, created_at_ms)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&upload.id)
    .bind(&upload.org_id)
    .bind(&upload.name)
    .bind(upload.bytes)
    .bind(&upload.sha256)
    .bind(&upload.kind)
    .bind(&upload.storage_key)
    .bind(&upload.created_by)
    .bind(upload.created_at_ms)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// The upload `id` of `org_id`.
pub async fn by_id(tx: &mut Tx, org_id: &str, id: &str) -> Result<Option<Upload>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(r"select * from uploads where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)
}

/// Which uploads [`visible`] looks for.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// The newest, at most this many.
    Newest(i64),
    /// The one with this id.
    Id(&'a str),
    /// The earliest with this content.
    Digest(&'a str),
}

/// The uploads of `org_id` that `grants` may see, newest first: their own (all of them under
/// oversight) and those of the analyses they may view.
pub async fn visible(
    tx: &mut Tx,
    org_id: &str,
    grants: &Grants,
    which: Which<'_>,
) -> Result<Vec<Upload>, sqlx::Error> {
    // Both backends keep an analysis' uploads as a JSON array of their ids.
    let in_analysis = match tx {
        Tx::Sqlite(_) => "u.id in (select j.value from json_each(a.upload_ids) j)",
        Tx::Postgres(_) => {
            "u.id in (select jsonb_array_elements_text(cast(a.upload_ids as jsonb)))"
        }
    };
    let mut list = Statement::default();
    let org = list.text(org_id);
    list.push(&format!(
        "select u.* from uploads u where u.org_id = {org} and ("
    ));
    grants.push_own(&mut list, "u.created_by");
    list.push(&format!(
        " or exists (select 1 from analyses a where a.org_id = u.org_id and {in_analysis} and "
    ));
    grants.push_visible(&mut list);
    list.push("))");
    let limit = match which {
        Which::Newest(limit) => {
            list.push(" order by u.created_at_ms desc, u.id");
            limit
        }
        Which::Id(id) => {
            let id = list.text(id);
            list.push(&format!(" and u.id = {id}"));
            1
        }
        Which::Digest(sha256) => {
            let sha256 = list.text(sha256);
            list.push(&format!(
                " and u.sha256 = {sha256} order by u.created_at_ms, u.id"
            ));
            1
        }
    };
    let limit = list.int(limit);
    list.push(&format!(" limit {limit}"));
    list.fetch_all(tx).await
}

/// The storage key of every upload of `org_id` (to remove its objects with it).
pub async fn keys_of_org(tx: &mut Tx, org_id: &str) -> Result<Vec<String>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_scalar(r"select storage_key from uploads where org_id = $1")
        .bind(org_id)
        .fetch_all(&mut *c)
        .await)
}

/// Where an upload's bytes live.
pub fn storage_key(org_id: &str, upload_id: &str) -> String {
    format!("uploads/{org_id}/{upload_id}")
}

/// A file name fit to show and store: the last path component, without control characters,
/// at most 200 characters; `upload.log` when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned();
    if name.is_empty() || name == "." || name == ".." {
        "upload.log".to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_controls() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name(r"C:\logs\app.log"), "app.log");
        assert_eq!(clean_name("a\u{0}b\nc.log"), "abc.log");
        assert_eq!(clean_name(".."), "upload.log");
        assert_eq!(clean_name(""), "upload.log");
    }

    #[test]
    fn limits_name_the_one_hit() {
        let limits = Limits {
            max_file: 100,
            quota: 1000,
            used: 950,
        };
        assert_eq!(limits.room(), 50);
        assert!(matches!(
            limits.refuse(101),
            Some(UploadError::TooLarge { .. })
        ));
        assert!(matches!(
            limits.refuse(60),
            Some(UploadError::OverQuota { .. })
        ));
        assert!(limits.refuse(50).is_none());
    }
}
