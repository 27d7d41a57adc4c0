//! The contract between browser and server: one module per resource, each with its types and
//! `#[server]` functions.

pub mod account;
pub mod ai;
pub mod analyses;
pub mod comments;
pub mod compare;
pub mod demo;
pub mod error;
pub mod history;
pub mod orgs;
pub mod patterns;
pub mod reference;
pub mod sharing;
pub mod system;
pub mod testgen;
