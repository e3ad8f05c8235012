//! Evidence (DESIGN.md, "R2: Evidence"): what proves what the console did without itself holding personal data.
//! `audit_log` keeps one append-only, hash-chained log per account and verifies it; `identity` turns a person's
//! identifier into the keyed hash (HMAC-SHA-256 under a per-account key) that is all the evidence ever holds of
//! them.

pub mod audit_log;
pub mod identity;
