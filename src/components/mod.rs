//! The widgets pages are built from: the shared ones (notices, tables, loading, switches, the search box, the
//! erasure dialog) and the larger parts of one page, each in its own file so that the page reads as its
//! layout.

pub mod activity_tables;
pub mod confirm_dialog;
pub mod data_table;
pub mod erase_control;
pub mod erase_person;
pub mod erasure_chart;
pub mod hydration;
pub mod loaded;
pub mod navigation;
pub mod notice;
pub mod receipt;
pub mod refusal;
pub mod same_person;
pub mod save_button;
pub mod search_box;
pub mod switch;
