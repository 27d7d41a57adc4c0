//! Reusable pieces of the interface: the shell, theme, chart, toasts and small design-system
//! elements.

pub mod ai_stream;
pub mod chart;
pub mod form;
pub mod layout;
pub mod session;
pub mod theme;
pub mod toast;
pub mod ui;
pub mod upload;
