//! Reusable pieces of the interface: the shell, theme, chart, toasts and small design-system
//! elements.

pub mod chart;
pub mod layout;
pub mod theme;
pub mod toast;
pub mod ui;
