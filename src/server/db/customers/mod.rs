//! Customers (the local mirror of Salesforce records) and what the platform recorded about them. A folder, not
//! one file, because `db/` keeps one module per table family and this family answers two different questions:
//! `search` finds records by email or Salesforce id, `page` reads one record with its calls and messages.

pub mod page;
pub mod search;
