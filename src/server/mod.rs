//! Everything that runs only on the server: configuration, shared state, sessions and passwords, the
//! permission rules, queries, the erasure and its outbox worker, the evidence of erasures (signed receipts),
//! object storage, the records' data keys (crypto-shredding), a record's export as a ZIP, bulk erasure from a CSV, demo data and the HTTP stack.

pub mod auth;
pub mod authz;
pub mod bulk;
pub mod client_address;
pub mod config;
pub mod db;
pub mod demo;
pub mod erasure;
pub mod evidence;
pub mod export;
pub mod http;
pub mod input;
pub mod keys;
pub mod navigation;
pub mod password_policy;
pub mod rest;
pub mod security_log;
pub mod sessions;
pub mod spreadsheet;
pub mod state;
pub mod storage;
pub mod synthetic;
