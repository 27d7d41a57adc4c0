//! Who sees an analysis: everyone in the organisation, chosen teams (optionally with a role
//! for that analysis), or only its author. Shown and changed on the analysis page.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::account::urlencode;
use super::error::ApiError;

/// A team an analysis is shared with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShareView {
    /// The team.
    pub team_id: String,
    /// Its name.
    #[serde(default)]
    pub team: String,
    /// The role its members act with on this analysis besides their own; none for their own.
    #[serde(default)]
    pub role: Option<String>,
}

/// A team or role to choose from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Choice {
    /// Id or role key.
    pub key: String,
    /// Display name.
    pub name: String,
}

/// Who sees an analysis, and what the caller can change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Sharing {
    /// `org`, `teams` or `private`.
    pub visibility: String,
    /// The teams it is shared with.
    pub teams: Vec<ShareView>,
    /// Whether the caller may change this (its author or an admin, holding share_analyses).
    pub can_change: bool,
    /// The organisation's teams.
    pub available_teams: Vec<Choice>,
    /// Roles a share can carry.
    pub roles: Vec<Choice>,
}

impl Sharing {
    /// "Everyone in Acme", "Payments (as member) and Platform", "Only its author and admins".
    pub fn describe(&self, org_name: &str) -> String {
        let teams: Vec<String> = self
            .teams
            .iter()
            .map(|t| {
                let role = t.role.as_ref().and_then(|r| {
                    self.roles
                        .iter()
                        .find(|c| c.key == *r)
                        .map(|c| c.name.to_lowercase())
                });
                match role {
                    Some(role) => format!("{} (as {role})", t.team),
                    None => t.team.clone(),
                }
            })
            .collect();
        let list = match teams.as_slice() {
            [] => String::new(),
            [one] => one.clone(),
            [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        };
        match self.visibility.as_str() {
            "org" if teams.is_empty() => format!("Everyone in {org_name}"),
            "org" => format!("Everyone in {org_name}; {list} with extra rights"),
            "teams" => format!("Members of {list}, its author and admins"),
            _ => "Only its author and admins".into(),
        }
    }
}

/// Who sees analysis `id`.
#[server(prefix = "/rpc", endpoint = "sharing")]
pub async fn load_sharing(org: String, id: String) -> Result<Sharing, ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!(
            "/analyses/{}/sharing?org={}",
            urlencode(&id),
            urlencode(&org)
        ),
        None,
    )
    .await
}

/// Changes who sees analysis `id`.
#[server(prefix = "/rpc", endpoint = "save_sharing", input = Json)]
pub async fn save_sharing(
    org: String,
    id: String,
    visibility: String,
    teams: Vec<ShareView>,
) -> Result<Sharing, ApiError> {
    let teams: Vec<serde_json::Value> = teams
        .into_iter()
        .map(|t| serde_json::json!({"team_id": t.team_id, "role": t.role}))
        .collect();
    crate::ssr::call(
        http::Method::PUT,
        &format!(
            "/analyses/{}/sharing?org={}",
            urlencode(&id),
            urlencode(&org)
        ),
        Some(serde_json::json!({"visibility": visibility, "teams": teams})),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(team: &str, role: Option<&str>) -> ShareView {
        ShareView {
            team_id: team.to_lowercase(),
            team: team.into(),
            role: role.map(str::to_owned),
        }
    }

    #[test]
    fn sharing_reads_as_a_sentence() {
        let mut s = Sharing {
            visibility: "org".into(),
            roles: vec![Choice {
                key: "member".into(),
                name: "Member".into(),
            }],
            ..Sharing::default()
        };
        assert_eq!(s.describe("Acme"), "Everyone in Acme");
        s.visibility = "teams".into();
        s.teams = vec![
            share("Payments", Some("member")),
            share("Platform", None),
            share("Data", None),
        ];
        assert_eq!(
            s.describe("Acme"),
            "Members of Payments (as member), Platform and Data, its author and admins"
        );
        s.visibility = "private".into();
        assert_eq!(s.describe("Acme"), "Only its author and admins");
    }
}
