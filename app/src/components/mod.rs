//! Pieces shared by several screens.

pub mod layout;
pub mod status_check;
