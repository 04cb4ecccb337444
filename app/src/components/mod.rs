//! Pieces shared by several screens.

pub mod copy;
pub mod format;
pub mod forms;
pub mod guard;
pub mod layout;
pub mod status_check;
