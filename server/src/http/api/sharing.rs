//! `GET` and `PUT /api/v1/analyses/{id}/sharing`: who sees an analysis — everyone in the
//! organisation, chosen teams (each optionally with a role for this analysis), or only its
//! author. Its author or an admin changes it, holding share_analyses; a team is never given
//! more on the analysis than the person sharing it may do. Every change is audited.

use app::api::sharing::{Choice, ShareView, Sharing};
use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use super::analyses::{Authorized, authorize};
use super::extract::ApiJson;
use crate::audit;
use crate::http::error::AppError;
use crate::state::AppState;
use crate::tenancy::context::{OrgContext, role_permissions};
use crate::tenancy::permission::{BuiltinRole, Permission};
use crate::tenancy::sharing::{self, Visibility, analysis_scope};
use crate::tenancy::{roles, teams};

/// Most teams one analysis is shared with.
const MAX_TEAMS: usize = 50;

/// `PUT /analyses/{id}/sharing` body.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingBody {
    /// `org` (everyone in the organisation), `teams` (the teams listed) or `private` (its author;
    /// admins always see every analysis).
    visibility: String,
    /// Teams to share with, each with an optional role key for this analysis (`viewer`,
    /// `member`, `admin` or a custom role id); with `org`, the teams' roles add to their own.
    #[serde(default)]
    teams: Vec<ShareBody>,
}

/// One team to share with.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// The team.
    team_id: String,
    /// The role its members act with on this analysis, besides their own.
    #[serde(default)]
    role: Option<String>,
}

async fn view(
    state: &AppState,
    ctx: &OrgContext,
    analysis: &Authorized,
    can_change: bool,
) -> Result<Sharing, AppError> {
    let mut tx = ctx.begin_read(&state.db).await?;
    let shares = sharing::shares(&mut tx, &ctx.org.id, &analysis.row.id).await?;
    let available = teams::list(&mut tx, &ctx.org.id).await?;
    let custom = roles::list(&mut tx, &ctx.org.id).await?;
    tx.commit().await?;
    let mut choices: Vec<Choice> = [BuiltinRole::Viewer, BuiltinRole::Member, BuiltinRole::Admin]
        .into_iter()
        .map(|r| Choice {
            key: r.key().to_owned(),
            name: app::format::capitalised(r.key()),
        })
        .collect();
    choices.extend(custom.into_iter().map(|r| Choice {
        key: r.id,
        name: r.name,
    }));
    Ok(Sharing {
        visibility: analysis.row.visibility.clone(),
        teams: shares
            .into_iter()
            .map(|s| ShareView {
                team_id: s.team_id,
                team: s.team,
                role: s.role,
            })
            .collect(),
        can_change,
        available_teams: available
            .into_iter()
            .map(|t| Choice {
                key: t.id,
                name: t.name,
            })
            .collect(),
        roles: choices,
    })
}

/// `GET /analyses/{id}/sharing`.
#[utoipa::path(get, path = "/analyses/{id}/sharing", tag = "analyses", summary = "Who sees an analysis",
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "Its visibility and teams, whether you may change them, and the teams and roles to choose from", body = Sharing),
        (status = 404, description = "No such analysis that you can see", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn show(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
) -> Result<Json<Sharing>, AppError> {
    let analysis = authorize(&state, &ctx, &id, Permission::ViewAnalyses).await?;
    let can_change = analysis.grants.may_reshare(&analysis.row.subject());
    Ok(Json(view(&state, &ctx, &analysis, can_change).await?))
}

/// `PUT /analyses/{id}/sharing`.
#[utoipa::path(put, path = "/analyses/{id}/sharing", tag = "analyses", summary = "Change who sees an analysis",
    request_body = SharingBody,
    params(("id" = String, Path, description = "Analysis id"), ("org" = Option<String>, Query, description = "Organisation slug or id, when the credential does not imply one")),
    responses(
        (status = 200, description = "Saved", body = Sharing),
        (status = 403, description = "Neither its author nor an admin, or without share_analyses", body = crate::http::error::ErrorEnvelope),
        (status = 404, description = "No such analysis that you can see", body = crate::http::error::ErrorEnvelope),
        (status = 422, description = "An unknown visibility, team or role, or a role beyond your own", body = crate::http::error::ErrorEnvelope),
    ))]
pub async fn update(
    State(state): State<AppState>,
    ctx: OrgContext,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SharingBody>,
) -> Result<Json<Sharing>, AppError> {
    let analysis = authorize(&state, &ctx, &id, Permission::ViewAnalyses).await?;
    if !analysis.grants.may_reshare(&analysis.row.subject()) {
        return Err(AppError::Forbidden(
            "not_yours_to_share",
            "Only its author or an admin, with the share_analyses permission, can change who sees an analysis."
                .into(),
        ));
    }
    let visibility = Visibility::parse(&body.visibility)
        .ok_or_else(|| AppError::field("visibility", "Choose org, teams or private."))?;
    let mut chosen: Vec<(String, Option<String>)> = Vec::new();
    for share in body.teams {
        if !chosen.iter().any(|(t, _)| *t == share.team_id) {
            chosen.push((share.team_id, share.role.filter(|r| !r.is_empty())));
        }
    }
    match visibility {
        Visibility::Teams if chosen.is_empty() => {
            return Err(AppError::field(
                "teams",
                "Pick at least one team, or choose who else sees it.",
            ));
        }
        Visibility::Private if !chosen.is_empty() => {
            return Err(AppError::field(
                "teams",
                "A private analysis is not shared with teams.",
            ));
        }
        _ => {}
    }
    if chosen.len() > MAX_TEAMS {
        return Err(AppError::field(
            "teams",
            format!("Share with at most {MAX_TEAMS} teams."),
        ));
    }
    let now = state.clock.now_ms();
    let mut tx = ctx.begin(&state.db).await?;
    for (team_id, role) in &chosen {
        if teams::get(&mut tx, &ctx.org.id, team_id).await?.is_none() {
            return Err(AppError::field(
                "teams",
                format!("There is no team {team_id} in this organisation."),
            ));
        }
        let Some(role) = role else { continue };
        let known = match BuiltinRole::parse(role) {
            Some(BuiltinRole::Owner) => false,
            Some(_) => true,
            None => roles::get(&mut tx, &ctx.org.id, role).await?.is_some(),
        };
        if !known {
            return Err(AppError::field(
                "teams",
                format!("{role:?} is not a role a team can be given."),
            ));
        }
        let grants = role_permissions(&mut tx, &ctx.org.id, role)
            .await?
            .intersection(analysis_scope());
        if !grants.is_subset(analysis.permissions) {
            return Err(AppError::field(
                "teams",
                "A team cannot be given more on this analysis than you may do with it yourself.",
            ));
        }
    }
    sharing::replace(&mut tx, &ctx.org.id, &id, visibility, &chosen, now).await?;
    audit::append(
        &mut tx,
        &ctx.event(
            "analysis.sharing_changed",
            &id,
            serde_json::json!({
                "name": analysis.row.name,
                "visibility": visibility.as_str(),
                "teams": chosen.iter().map(|(t, r)| serde_json::json!({"team_id": t, "role": r})).collect::<Vec<_>>(),
            }),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    let analysis = authorize(&state, &ctx, &id, Permission::ViewAnalyses).await?;
    Ok(Json(view(&state, &ctx, &analysis, true).await?))
}
