//! One module per route.

pub mod account;
pub mod ai_admin;
pub mod ai_tests;
pub mod analyses;
pub mod api_docs;
pub mod auth;
pub mod compare;
pub mod design;
pub mod discussion;
pub mod history;
pub mod insights;
pub mod landing;
pub mod not_found;
pub mod orgs;
pub mod patterns;
pub mod prompts;
pub mod sharing;
pub mod status;
pub mod testgen;
