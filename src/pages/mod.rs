//! One routed page per file (DESIGN.md, "Pages").

pub mod admin;
pub mod api_tokens;
pub mod audit;
pub mod bulk;
pub mod bulk_job;
pub mod customer;
pub mod customers;
pub mod home;
pub mod login;
pub mod not_found;
pub mod request;
pub mod requests;
pub mod suppressions;
pub mod user_profile;
pub mod users;
