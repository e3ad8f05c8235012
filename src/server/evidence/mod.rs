//! Evidence (DESIGN.md, "R2: Evidence"): what proves what the console did without itself holding personal data.
//! `audit_log` keeps one append-only, hash-chained log per account and verifies it; `identity` turns a person's
//! identifier into the keyed hash (HMAC-SHA-256 under a per-account key) that is all the evidence ever holds of
//! them; `receipts` signs the receipt of each completed erasure request with the keys of `receipt_keys`, and
//! records the residual check of `residual`.

pub mod audit_log;
pub mod identity;
pub mod receipt_keys;
pub mod receipts;
pub mod residual;
