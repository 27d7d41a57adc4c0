//! Who may see and act on an analysis.
//!
//! An analysis is visible to everyone in its organisation (`org`, the default), to the teams it
//! is shared with (`teams`), or to its author alone (`private`). Its author, and anyone whose
//! role may manage members (owners, admins), always see it. A team share may carry a role:
//! the team's members then act on that analysis with that role's analysis permissions as well
//! as their own (a viewer in a team shared as `member` may cancel and share it). Nothing else
//! leaks: an analysis a caller may not see answers 404, like one of another organisation.

use std::collections::HashMap;

use serde::Serialize;

use super::context::{OrgContext, role_permissions};
use super::permission::{Permission, PermissionSet};
use crate::auth::caller::Credential;
use crate::db::{Statement, Tx};
use crate::with_tx;

/// The permissions a team share's role can add: the ones about one analysis.
pub fn analysis_scope() -> PermissionSet {
    [
        Permission::ViewAnalyses,
        Permission::CreateAnalyses,
        Permission::DeleteAnalyses,
        Permission::ShareAnalyses,
    ]
    .into_iter()
    .collect()
}

/// Who sees an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone in the organisation who may view analyses.
    Org,
    /// The teams it is shared with.
    Teams,
    /// Its author.
    Private,
}

impl Visibility {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Org => "org",
            Self::Teams => "teams",
            Self::Private => "private",
        }
    }

    /// Parses a name (`None` for anything else).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "org" => Some(Self::Org),
            "teams" => Some(Self::Teams),
            "private" => Some(Self::Private),
            _ => None,
        }
    }
}

/// A team an analysis is shared with.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow, Serialize, utoipa::ToSchema)]
pub struct Share {
    /// The team.
    pub team_id: String,
    /// Its name.
    pub team: String,
    /// The role its members act with on the analysis, besides their own; none for their own.
    pub role: Option<String>,
}

/// The teams analysis `analysis_id` is shared with, by name.
pub async fn shares(
    tx: &mut Tx,
    org_id: &str,
    analysis_id: &str,
) -> Result<Vec<Share>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(
        r"select s.team_id, t.name as team, s.role from analysis_shares s join teams t on t.id = s.team_id
          where s.org_id = $1 and s.analysis_id = $2 order by t.name",
    )
    .bind(org_id)
    .bind(analysis_id)
    .fetch_all(&mut *c)
    .await)
}

/// Sets who sees analysis `analysis_id`: its visibility and the teams (with their roles) it is
/// shared with, replacing the previous shares.
pub async fn replace(
    tx: &mut Tx,
    org_id: &str,
    analysis_id: &str,
    visibility: Visibility,
    teams: &[(String, Option<String>)],
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(r"update analyses set visibility = $3 where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(analysis_id)
        .bind(visibility.as_str())
        .execute(&mut *c)
        .await
        .map(drop))?;
    with_tx!(tx, c => sqlx::query(r"delete from analysis_shares where org_id = $1 and analysis_id = $2")
        .bind(org_id)
        .bind(analysis_id)
        .execute(&mut *c)
        .await
        .map(drop))?;
    for (team_id, role) in teams {
        with_tx!(tx, c => sqlx::query(
            r"insert into analysis_shares (analysis_id, org_id, team_id, role, created_at_ms) values ($1, $2, $3, $4, $5)",
        )
        .bind(analysis_id)
        .bind(org_id)
        .bind(team_id)
        .bind(role.as_deref())
        .bind(now)
        .execute(&mut *c)
        .await
        .map(drop))?;
    }
    Ok(())
}

/// What one person (or token) may do with each analysis of an organisation.
#[derive(Debug, Clone)]
pub struct Grants {
    user_id: String,
    /// Acting as themselves (not an org token): authorship and teams count.
    person: bool,
    /// Sees every analysis.
    oversight: bool,
    /// What their role allows.
    base: PermissionSet,
    /// Analysis id → what the teams it is shared with add.
    shared: HashMap<String, PermissionSet>,
}

/// The facts about an analysis that decide who sees it.
pub struct Subject<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its author.
    pub created_by: &'a str,
    /// Its stored visibility.
    pub visibility: &'a str,
}

impl Grants {
    /// The caller's grants, for analysis `only` or (with `None`) for all of them.
    pub async fn of_caller(
        tx: &mut Tx,
        ctx: &OrgContext,
        only: Option<&str>,
    ) -> Result<Self, sqlx::Error> {
        let person = match &ctx.caller.credential {
            Credential::Session { .. } => true,
            Credential::Token(token) => token.kind == "personal",
        };
        Self::load(
            tx,
            &ctx.org.id,
            &ctx.caller.user.id,
            person,
            ctx.permissions,
            only,
        )
        .await
    }

    /// The grants of member `user_id`, whose role is `role`.
    pub async fn of_member(
        tx: &mut Tx,
        org_id: &str,
        user_id: &str,
        role: &str,
        only: Option<&str>,
    ) -> Result<Self, sqlx::Error> {
        let base = role_permissions(tx, org_id, role).await?;
        Self::load(tx, org_id, user_id, true, base, only).await
    }

    async fn load(
        tx: &mut Tx,
        org_id: &str,
        user_id: &str,
        person: bool,
        base: PermissionSet,
        only: Option<&str>,
    ) -> Result<Self, sqlx::Error> {
        let mut shared: HashMap<String, PermissionSet> = HashMap::new();
        if person {
            let rows: Vec<(String, Option<String>)> = with_tx!(tx, c => sqlx::query_as(
                r"select s.analysis_id, s.role from analysis_shares s
                  join team_members tm on tm.team_id = s.team_id and tm.org_id = s.org_id
                  where s.org_id = $1 and tm.user_id = $2 and (cast($3 as text) is null or s.analysis_id = $3)",
            )
            .bind(org_id)
            .bind(user_id)
            .bind(only)
            .fetch_all(&mut *c)
            .await)?;
            let mut roles: HashMap<String, PermissionSet> = HashMap::new();
            for (analysis, role) in rows {
                let extra = match role {
                    None => base,
                    Some(key) => match roles.get(&key) {
                        Some(set) => *set,
                        None => {
                            let set = role_permissions(tx, org_id, &key)
                                .await?
                                .intersection(analysis_scope());
                            roles.insert(key, set);
                            set
                        }
                    },
                };
                let entry = shared.entry(analysis).or_insert(PermissionSet::EMPTY);
                *entry = entry.union(extra);
            }
        }
        Ok(Self {
            user_id: user_id.to_owned(),
            person,
            oversight: base.contains(Permission::ManageMembers),
            base,
            shared,
        })
    }

    /// Whether these grants could let them see any analysis at all (their role may view
    /// analyses, or a team share lets them).
    pub fn may_view_any(&self) -> bool {
        self.base.contains(Permission::ViewAnalyses)
            || self
                .shared
                .values()
                .any(|p| p.contains(Permission::ViewAnalyses))
    }

    /// What these grants allow on `analysis`, or `None` if it is not theirs to see.
    pub fn on(&self, analysis: &Subject<'_>) -> Option<PermissionSet> {
        let extra = self.shared.get(analysis.id);
        let permissions = extra.map_or(self.base, |e| self.base.union(*e));
        let visible = self.oversight
            || (self.person && analysis.created_by == self.user_id)
            || match Visibility::parse(analysis.visibility) {
                Some(Visibility::Org) => true,
                Some(Visibility::Teams) => extra.is_some(),
                Some(Visibility::Private) | None => false,
            };
        (visible && permissions.contains(Permission::ViewAnalyses)).then_some(permissions)
    }

    /// Appends to `statement` a condition on `analyses a` that holds for exactly the rows
    /// [`Grants::on`] lets these grants view, so a filtered list can count and page in SQL.
    pub fn push_visible(&self, statement: &mut Statement) {
        // Who sees an analysis whatever its visibility.
        let mut regardless: Vec<String> = Vec::new();
        if self.oversight {
            regardless.push("true".into());
        }
        if self.person {
            let me = statement.text(self.user_id.as_str());
            regardless.push(format!("a.created_by = {me}"));
        }
        let either = |extra: &str| {
            let mut all = regardless.clone();
            all.push(extra.to_owned());
            format!("({})", all.join(" or "))
        };
        let mut clauses: Vec<String> = Vec::new();
        if self.base.contains(Permission::ViewAnalyses) {
            clauses.push(either("a.visibility = 'org'"));
        }
        let mut shared: Vec<&String> = self
            .shared
            .iter()
            .filter(|(_, extra)| self.base.union(**extra).contains(Permission::ViewAnalyses))
            .map(|(id, _)| id)
            .collect();
        shared.sort();
        if !shared.is_empty() {
            let ids: Vec<String> = shared
                .into_iter()
                .map(|id| statement.text(id.as_str()))
                .collect();
            clauses.push(format!(
                "(a.id in ({}) and {})",
                ids.join(", "),
                either("a.visibility in ('org', 'teams')")
            ));
        }
        if clauses.is_empty() {
            statement.push("false");
        } else {
            statement.push(&format!("({})", clauses.join(" or ")));
        }
    }

    /// Appends a condition that holds for rows whose maker, in `column`, makes them visible
    /// whatever analysis they belong to: every row under oversight, else the caller's own
    /// (an organisation token's are its creator's, an admin, who sees them all anyway).
    pub fn push_own(&self, statement: &mut Statement, column: &str) {
        if self.oversight {
            statement.push("true");
        } else {
            let me = statement.text(self.user_id.as_str());
            statement.push(&format!("{column} = {me}"));
        }
    }

    /// Whether these grants may change who sees `analysis`: its author or an overseer, holding
    /// share_analyses on it.
    pub fn may_reshare(&self, analysis: &Subject<'_>) -> bool {
        let own = self.person && analysis.created_by == self.user_id;
        (own || self.oversight)
            && self
                .on(analysis)
                .is_some_and(|p| p.contains(Permission::ShareAnalyses))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenancy::permission::BuiltinRole;

    fn grants(role: BuiltinRole, shared: &[(&str, PermissionSet)]) -> Grants {
        Grants {
            user_id: "me".into(),
            person: true,
            oversight: role.permissions().contains(Permission::ManageMembers),
            base: role.permissions(),
            shared: shared.iter().map(|(a, p)| ((*a).to_owned(), *p)).collect(),
        }
    }

    fn subject<'a>(id: &'a str, by: &'a str, visibility: &'a str) -> Subject<'a> {
        Subject {
            id,
            created_by: by,
            visibility,
        }
    }

    #[test]
    fn visibility_decides_who_sees() {
        let member = grants(
            BuiltinRole::Member,
            &[("a2", BuiltinRole::Member.permissions())],
        );
        assert!(member.on(&subject("a1", "other", "org")).is_some());
        assert!(member.on(&subject("a1", "other", "private")).is_none());
        assert!(
            member.on(&subject("a1", "me", "private")).is_some(),
            "the author"
        );
        assert!(
            member.on(&subject("a1", "other", "teams")).is_none(),
            "not shared with my teams"
        );
        assert!(member.on(&subject("a2", "other", "teams")).is_some());
        assert!(
            member.on(&subject("a1", "other", "unknown")).is_none(),
            "unknown means hidden"
        );
        let admin = grants(BuiltinRole::Admin, &[]);
        assert!(
            admin.on(&subject("a1", "other", "private")).is_some(),
            "oversight"
        );
    }

    #[test]
    fn a_team_role_adds_analysis_permissions_on_that_analysis_only() {
        let extra = BuiltinRole::Admin
            .permissions()
            .intersection(analysis_scope());
        let viewer = grants(BuiltinRole::Viewer, &[("a2", extra)]);
        let on_shared = viewer
            .on(&subject("a2", "other", "teams"))
            .expect("visible");
        assert!(on_shared.contains(Permission::DeleteAnalyses));
        assert!(
            !on_shared.contains(Permission::ManageMembers),
            "never beyond the analysis"
        );
        let elsewhere = viewer.on(&subject("a1", "other", "org")).expect("visible");
        assert!(!elsewhere.contains(Permission::DeleteAnalyses));
        assert!(
            !viewer.may_reshare(&subject("a2", "other", "teams")),
            "not its author"
        );
    }

    #[test]
    fn org_tokens_see_what_the_whole_organisation_sees() {
        let token = Grants {
            user_id: "me".into(),
            person: false,
            oversight: false,
            base: [Permission::ViewAnalyses].into_iter().collect(),
            shared: HashMap::new(),
        };
        assert!(token.on(&subject("a1", "me", "org")).is_some());
        assert!(token.on(&subject("a1", "me", "private")).is_none());
    }
}
