//! Organisations as tenants: membership, roles and permissions, teams, invitations and API
//! tokens, and the [`context::OrgContext`] every tenant-scoped operation starts from.

pub mod api_tokens;
pub mod context;
pub mod invitations;
pub mod orgs;
pub mod permission;
pub mod roles;
pub mod sharing;
pub mod teams;
