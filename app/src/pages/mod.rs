//! One module per route.

pub mod design;
pub mod landing;
pub mod not_found;
pub mod status;
