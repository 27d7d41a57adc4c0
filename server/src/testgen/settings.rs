//! Stored test-generation settings: one JSON document per member or team in an organisation.

use app::api::testgen::{Framework, SettingsOwner, StoredSettings, TestSettings};

use crate::db::Tx;
use crate::with_tx;

fn kind(owner: &SettingsOwner) -> &'static str {
    match owner {
        SettingsOwner::User => "user",
        SettingsOwner::Team => "team",
    }
}

/// A member's own settings in `org_id`; until they save some, their account's default
/// framework (`default_framework`) applies.
pub async fn of_member(
    tx: &mut Tx,
    org_id: &str,
    user_id: &str,
    default_framework: &str,
) -> Result<StoredSettings, sqlx::Error> {
    let mut stored = get(tx, org_id, SettingsOwner::User, user_id).await?;
    if stored.updated_at_ms.is_none()
        && let Some(framework) = Framework::parse(default_framework)
    {
        stored.settings.framework = framework;
    }
    Ok(stored)
}

/// The settings of `owner_id` (a user or team id) in `org_id`, or the defaults.
pub async fn get(
    tx: &mut Tx,
    org_id: &str,
    owner: SettingsOwner,
    owner_id: &str,
) -> Result<StoredSettings, sqlx::Error> {
    let row: Option<(String, i64)> = with_tx!(tx, c => sqlx::query_as(
        r"select settings, updated_at_ms from test_settings
          where org_id = $1 and owner_kind = $2 and owner_id = $3",
    )
    .bind(org_id)
    .bind(kind(&owner))
    .bind(owner_id)
    .fetch_optional(&mut *c)
    .await)?;
    // A document written by an older version may lack fields: they take their defaults. One
    // that no longer parses at all (never written by us) falls back to the defaults whole.
    let (settings, updated_at_ms) = match row {
        Some((json, at)) => match serde_json::from_str::<TestSettings>(&json) {
            Ok(settings) => (settings, Some(at)),
            Err(e) => {
                tracing::warn!(error = %e, org_id, owner_id, "stored test settings do not parse; using the defaults");
                (TestSettings::default(), None)
            }
        },
        None => (TestSettings::default(), None),
    };
    let team_id = (owner == SettingsOwner::Team).then(|| owner_id.to_owned());
    Ok(StoredSettings {
        owner,
        team_id,
        settings,
        updated_at_ms,
    })
}

/// Saves the settings of `owner_id` in `org_id`.
pub async fn put(
    tx: &mut Tx,
    org_id: &str,
    owner: &SettingsOwner,
    owner_id: &str,
    settings: &TestSettings,
    updated_by: &str,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    let json = serde_json::to_string(settings).unwrap_or_default();
    with_tx!(tx, c => sqlx::query(
        r"insert into test_settings (org_id, owner_kind, owner_id, settings, updated_by, updated_at_ms)
          values ($1, $2, $3, $4, $5, $6)
          on conflict (org_id, owner_kind, owner_id)
          do update set settings = excluded.settings, updated_by = excluded.updated_by,
                        updated_at_ms = excluded.updated_at_ms",
    )
    .bind(org_id)
    .bind(kind(owner))
    .bind(owner_id)
    .bind(json)
    .bind(updated_by)
    .bind(now_ms)
    .execute(&mut *c)
    .await
    .map(drop))
}
