//! The analysis engine: reading logs of any common format, assembling multi-line events and
//! mining message templates with exact counts. Runs server-side and needs no AI.

pub mod events;
pub mod format;
pub mod level;
pub mod reader;
pub mod timestamp;
