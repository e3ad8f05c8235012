//! Reusable widgets shared by the pages.

pub mod confirm_dialog;
pub mod hydration;
pub mod navigation;
pub mod notice;
pub mod save_button;
pub mod search_box;
pub mod switch;
