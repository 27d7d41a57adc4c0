//! The audit log: append-only and tamper-evident.
//!
//! Each organisation has its own hash chain (events outside any organisation, such as failed
//! sign-ins for unknown addresses, chain under the empty org id). An entry's hash is SHA-256
//! over the previous entry's hash and every field of the entry, length-prefixed so no two
//! field lists hash alike. Editing, deleting or reordering a row breaks the chain at that
//! point, and `faultline audit verify` reports where. The database refuses `update` on the
//! table (a trigger); the chain catches what someone with enough access does anyway.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{Db, Scope, Tx};
use crate::with_tx;

/// The hash the first entry of every chain links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// A recorded event.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Entry {
    /// The organisation (empty outside any).
    #[serde(skip)]
    pub org_id: String,
    /// Position in the organisation's chain, from 1.
    pub seq: i64,
    /// When.
    pub at_ms: i64,
    /// Who acted: user id, token id, or empty for anonymous.
    pub actor_id: String,
    /// Who acted, readable: an email, `token:<name>` or `anonymous`.
    pub actor: String,
    /// What happened, e.g. `auth.login`, `member.role_changed`.
    pub action: String,
    /// What it happened to.
    pub target: String,
    /// Client address.
    pub ip: String,
    /// Further facts, as a JSON object.
    pub detail: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct Event {
    /// Organisation, or empty.
    pub org_id: String,
    /// Acting id.
    pub actor_id: String,
    /// Acting name.
    pub actor: String,
    /// Action name.
    pub action: &'static str,
    /// Target.
    pub target: String,
    /// Client address.
    pub ip: String,
    /// Extra facts.
    pub detail: serde_json::Value,
}

fn entry_hash(prev: &str, e: &Entry) -> String {
    let mut h = Sha256::new();
    let seq = e.seq.to_string();
    let at = e.at_ms.to_string();
    for field in [
        prev,
        &e.org_id,
        &seq,
        &at,
        &e.actor_id,
        &e.actor,
        &e.action,
        &e.target,
        &e.ip,
        &e.detail,
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends `event` to its organisation's chain inside `tx`. Writers to one chain serialise:
/// on SQLite through the write lock of `begin immediate`, on PostgreSQL through a
/// transaction-scoped advisory lock.
pub async fn append(tx: &mut Tx, event: &Event, now: i64) -> Result<Entry, sqlx::Error> {
    if let Tx::Postgres(t) = tx {
        // Serialise appends to one chain until this transaction ends.
        sqlx::query(r"select pg_advisory_xact_lock(hashtext($1))")
            .bind(format!("audit:{}", event.org_id))
            .execute(&mut **t)
            .await
            .map(|r| r.rows_affected())?;
    }
    let last: Option<(i64, String)> = with_tx!(tx, c => sqlx::query_as(
        r"select seq, hash from audit_log where org_id = $1 order by seq desc limit 1",
    )
    .bind(&event.org_id)
    .fetch_optional(&mut *c)
    .await)?;
    let (seq, prev_hash) = last.map_or((1, GENESIS.to_owned()), |(s, h)| (s + 1, h));
    let mut entry = Entry {
        org_id: event.org_id.clone(),
        seq,
        at_ms: now,
        actor_id: event.actor_id.clone(),
        actor: event.actor.clone(),
        action: event.action.to_owned(),
        target: event.target.clone(),
        ip: event.ip.clone(),
        detail: event.detail.to_string(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry.prev_hash, &entry);
    with_tx!(tx, c => sqlx::query(
        r"insert into audit_log (org_id, seq, at_ms, actor_id, actor, action, target, ip, detail, prev_hash, hash)
          values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&entry.org_id)
    .bind(entry.seq)
    .bind(entry.at_ms)
    .bind(&entry.actor_id)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.ip)
    .bind(&entry.detail)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    with_tx!(tx, c => sqlx::query(
        r"insert into audit_heads (org_id, seq, hash) values ($1, $2, $3)
          on conflict (org_id) do update set seq = excluded.seq, hash = excluded.hash",
    )
    .bind(&entry.org_id)
    .bind(entry.seq)
    .bind(&entry.hash)
    .execute(&mut *c)
    .await.map(|r| r.rows_affected()))?;
    Ok(entry)
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only actions starting with this (`auth.` or `member.role_changed`).
    pub action: Option<String>,
    /// Only this actor id.
    pub actor_id: Option<String>,
    /// Entries at or after this time.
    pub since_ms: Option<i64>,
    /// Entries before this time.
    pub until_ms: Option<i64>,
    /// Entries with `seq` below this (paging backwards).
    pub before_seq: Option<i64>,
    /// At most this many (capped at 1000).
    pub limit: i64,
}

/// The organisation's entries matching `filter`, newest first.
pub async fn list(tx: &mut Tx, org_id: &str, filter: &Filter) -> Result<Vec<Entry>, sqlx::Error> {
    // A prefix match; LIKE's wildcards in the input are matched literally.
    let action = filter.action.as_deref().map(|a| {
        let escaped = a
            .replace('\\', r"\\")
            .replace('%', r"\%")
            .replace('_', r"\_");
        format!("{}%", escaped.to_lowercase())
    });
    with_tx!(tx, c => sqlx::query_as(
        r"select * from audit_log
          where org_id = $1
            and ($2 = '' or lower(action) like $2 escape '\')
            and ($3 = '' or actor_id = $3)
            and at_ms >= $4 and at_ms < $5 and seq < $6
          order by seq desc limit $7",
    )
    .bind(org_id)
    .bind(action.unwrap_or_default())
    .bind(filter.actor_id.clone().unwrap_or_default())
    .bind(filter.since_ms.unwrap_or(i64::MIN))
    .bind(filter.until_ms.unwrap_or(i64::MAX))
    .bind(filter.before_seq.unwrap_or(i64::MAX))
    .bind(filter.limit.clamp(1, 1000))
    .fetch_all(&mut *c)
    .await)
}

/// A place where a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    /// The organisation whose chain is broken.
    pub org_id: String,
    /// The first entry that does not verify.
    pub seq: i64,
    /// What is wrong with it.
    pub problem: String,
}

/// Checks every chain; returns each organisation's first break and how many entries were
/// checked. Reads in pages, so memory stays flat however long the log is. A chain whose newest
/// entries were deleted is caught by its recorded head (`audit_heads`).
pub async fn verify(db: &Db) -> Result<(u64, Vec<Break>), sqlx::Error> {
    let mut tx = db.begin_read(Scope::System).await?;
    let heads: Vec<(String, i64, String)> = with_tx!(&mut tx, c => sqlx::query_as(
        r"select org_id, seq, hash from audit_heads",
    )
    .fetch_all(&mut *c)
    .await)?;
    let mut orgs: Vec<String> = with_tx!(&mut tx, c => sqlx::query_scalar(
        r"select distinct org_id from audit_log order by org_id",
    )
    .fetch_all(&mut *c)
    .await)?;
    orgs.extend(heads.iter().map(|(org, _, _)| org.clone()));
    orgs.sort();
    orgs.dedup();
    let mut checked = 0;
    let mut breaks = Vec::new();
    for org_id in orgs {
        let head = heads
            .iter()
            .find(|(org, _, _)| *org == org_id)
            .map(|(_, seq, hash)| (*seq, hash.as_str()));
        let (entries, found) = verify_chain(&mut tx, &org_id, head).await?;
        checked += entries;
        breaks.extend(found);
    }
    Ok((checked, breaks))
}

/// Walks one chain from its start; returns the entries checked and its first break, if any.
async fn verify_chain(
    tx: &mut Tx,
    org_id: &str,
    head: Option<(i64, &str)>,
) -> Result<(u64, Option<Break>), sqlx::Error> {
    const PAGE: i64 = 1000;
    let (mut expected_seq, mut prev) = (1_i64, GENESIS.to_owned());
    let mut checked = 0;
    let broken = |seq: i64, problem: String| Break {
        org_id: org_id.to_owned(),
        seq,
        problem,
    };
    loop {
        let page: Vec<Entry> = with_tx!(tx, c => sqlx::query_as(
            r"select * from audit_log where org_id = $1 and seq >= $2 order by seq limit $3",
        )
        .bind(org_id)
        .bind(expected_seq)
        .bind(PAGE)
        .fetch_all(&mut *c)
        .await)?;
        let done = page.len() < usize::try_from(PAGE).unwrap_or(usize::MAX);
        for entry in page {
            checked += 1;
            let problem = if entry.seq != expected_seq {
                Some(format!("entry {expected_seq} is missing"))
            } else if entry.prev_hash != prev {
                Some("does not link to the previous entry".to_owned())
            } else if entry_hash(&prev, &entry) != entry.hash {
                Some("contents do not match the recorded hash (edited)".to_owned())
            } else {
                None
            };
            if let Some(problem) = problem {
                return Ok((checked, Some(broken(entry.seq.min(expected_seq), problem))));
            }
            prev = entry.hash;
            expected_seq += 1;
        }
        if done {
            break;
        }
    }
    let last = expected_seq - 1;
    let problem = match head {
        Some((seq, _)) if seq > last => Some((
            last + 1,
            format!(
                "entries {} to {seq} are missing (the chain was cut short)",
                last + 1
            ),
        )),
        Some((seq, hash)) if seq == last && hash != prev => Some((
            last,
            "the newest entry does not match the recorded head".to_owned(),
        )),
        Some((seq, _)) if seq < last => Some((
            seq + 1,
            "entries past the recorded head were added outside Faultline".to_owned(),
        )),
        None if last > 0 => Some((1, "the chain's head is not recorded".to_owned())),
        _ => None,
    };
    Ok((checked, problem.map(|(seq, p)| broken(seq, p))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(detail: &str) -> Entry {
        Entry {
            org_id: "o".into(),
            seq: 1,
            at_ms: 5,
            actor_id: "u".into(),
            actor: "a@b.c".into(),
            action: "auth.login".into(),
            target: "u".into(),
            ip: "127.0.0.1".into(),
            detail: detail.into(),
            prev_hash: GENESIS.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_feeds_the_hash() {
        let base = entry_hash(GENESIS, &entry("{}"));
        assert_ne!(base, entry_hash(GENESIS, &entry("{ }")));
        let mut moved = entry("{}");
        moved.actor = "a@b.".into();
        moved.action = "cauth.login".into();
        assert_ne!(
            base,
            entry_hash(GENESIS, &moved),
            "length prefixes keep fields apart"
        );
        assert_ne!(base, entry_hash(&"1".repeat(64), &entry("{}")));
    }
}
