//! Getting logs in and analysed: uploads streamed into storage, analyses of them, the durable
//! job queue and the workers that run it, and the hub that pushes progress to watchers.

pub mod analyses;
pub mod compare;
pub mod history;
pub mod hub;
pub mod inspect;
pub mod jobs;
pub mod projects;
pub mod results;
pub mod search_index;
pub mod uploads;
pub mod worker;

pub use worker::{Ingest, Workers};
