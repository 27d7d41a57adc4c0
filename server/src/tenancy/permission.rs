//! Permissions and the built-in roles that bundle them.
//!
//! A role is a set of [`Permission`]s. Four are built in; admins compose custom roles from the
//! same permissions. Owner-only acts (deleting the organisation, transferring ownership) are
//! not permissions: they are checked against the owner role itself.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One thing a member may be allowed to do in an organisation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    PartialOrd,
    Ord,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read analyses and their findings.
    ViewAnalyses,
    /// Upload logs and start analyses.
    CreateAnalyses,
    /// Delete analyses.
    DeleteAnalyses,
    /// Share analyses with teams or by link.
    ShareAnalyses,
    /// Create, rename and delete teams and change who is in them.
    ManageTeam,
    /// Invite, remove and change the roles of members; edit custom roles and org settings.
    ManageMembers,
    /// Add and edit AI provider keys and routing.
    ConfigureAi,
    /// See usage and manage billing.
    ManageBilling,
    /// Read and export the audit log.
    ViewAudit,
    /// Configure single sign-on.
    ManageSso,
}

impl Permission {
    /// Every permission, in display order.
    pub const ALL: [Self; 10] = [
        Self::ViewAnalyses,
        Self::CreateAnalyses,
        Self::DeleteAnalyses,
        Self::ShareAnalyses,
        Self::ManageTeam,
        Self::ManageMembers,
        Self::ConfigureAi,
        Self::ManageBilling,
        Self::ViewAudit,
        Self::ManageSso,
    ];

    /// The snake_case name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ViewAnalyses => "view_analyses",
            Self::CreateAnalyses => "create_analyses",
            Self::DeleteAnalyses => "delete_analyses",
            Self::ShareAnalyses => "share_analyses",
            Self::ManageTeam => "manage_team",
            Self::ManageMembers => "manage_members",
            Self::ConfigureAi => "configure_ai",
            Self::ManageBilling => "manage_billing",
            Self::ViewAudit => "view_audit",
            Self::ManageSso => "manage_sso",
        }
    }

    /// Parses a snake_case name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PermissionSet(u16);

impl PermissionSet {
    /// No permissions.
    pub const EMPTY: Self = Self(0);

    /// Every permission.
    pub fn all() -> Self {
        Self::from_iter(Permission::ALL)
    }

    /// Whether `p` is in the set.
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// Permissions in either set.
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Permissions in both sets.
    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Whether every permission of `self` is also in `other`.
    pub fn is_subset(self, other: Self) -> bool {
        self.0 & !other.0 == 0
    }

    /// The permissions, in display order.
    pub fn to_vec(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.contains(*p))
            .collect()
    }

    /// Comma-separated names, as stored in the database.
    pub fn to_db(self) -> String {
        self.to_vec()
            .iter()
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads the stored form, ignoring names this version does not know.
    pub fn from_db(raw: &str) -> Self {
        raw.split(',')
            .filter_map(|n| Permission::parse(n.trim()))
            .collect()
    }

    /// Parses a list of names from the API, naming the first unknown one.
    pub fn parse_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        names
            .iter()
            .map(|n| {
                Permission::parse(n.as_ref())
                    .ok_or_else(|| format!("{:?} is not a permission", n.as_ref()))
            })
            .collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Self(iter.into_iter().fold(0, |acc, p| acc | p.bit()))
    }
}

/// The four roles every organisation has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinRole {
    /// Everything, plus deleting the organisation and transferring ownership.
    Owner,
    /// Everything except the owner-only acts.
    Admin,
    /// Works with analyses.
    Member,
    /// Reads analyses.
    Viewer,
}

impl BuiltinRole {
    /// All built-in roles, most powerful first.
    pub const ALL: [Self; 4] = [Self::Owner, Self::Admin, Self::Member, Self::Viewer];

    /// The key stored in `memberships.role`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Viewer => "viewer",
        }
    }

    /// Parses a stored key.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }

    /// What the role allows.
    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        match self {
            Self::Owner | Self::Admin => PermissionSet::all(),
            Self::Member => [ViewAnalyses, CreateAnalyses, ShareAnalyses]
                .into_iter()
                .collect(),
            Self::Viewer => [ViewAnalyses].into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            let json = serde_json::to_string(&p).expect("json");
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
        let set: PermissionSet = [Permission::ViewAudit, Permission::ViewAnalyses]
            .into_iter()
            .collect();
        assert_eq!(set.to_db(), "view_analyses,view_audit");
        assert_eq!(PermissionSet::from_db(&set.to_db()), set);
        assert_eq!(PermissionSet::from_db(""), PermissionSet::EMPTY);
    }

    #[test]
    fn unknown_names_are_reported() {
        let err = PermissionSet::parse_names(&["view_analyses", "root"]).expect_err("unknown");
        assert!(err.contains("root"), "{err}");
    }

    #[test]
    fn roles_nest() {
        let [owner, admin, member, viewer] = BuiltinRole::ALL.map(BuiltinRole::permissions);
        assert!(viewer.is_subset(member) && member.is_subset(admin) && admin.is_subset(owner));
        assert!(!viewer.contains(Permission::CreateAnalyses));
        assert!(!member.contains(Permission::ManageMembers));
        assert!(admin.contains(Permission::ViewAudit));
    }
}
