//! Server functions: the console's public HTTP endpoints (DESIGN.md, "Endpoint contract"), all under `/api`.
//! Each is thin: it loads the signed-in principal, asks `server::authz`, validates input with `server::input`
//! and makes one call into `server::db` or `server::erasure`. They authorize in their own body because they are
//! reachable directly over HTTP and are also called in-process during SSR.

pub mod audit;
pub mod auth;
pub mod bulk;
pub mod customers;
pub mod requests;
pub mod searches;
pub mod settings;
pub mod suppressions;
pub mod tokens;
pub mod users;
