//! Customer Data Console: the admin console in which authorized Admins find a person's records and erase all
//! call and message data held for them. One crate, two halves: `ssr` (the axum server, `server/`) and
//! `hydrate` (the wasm that takes over the server-rendered pages in the browser).

#![recursion_limit = "256"]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![deny(clippy::dbg_macro)]

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod format;
pub mod model;
pub mod pages;
pub mod salesforce;
#[cfg(feature = "ssr")]
pub mod server;

/// A page render allocates many small strings; mimalloc serves them faster than the system allocator
/// (BENCHMARKS.md has the figures).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The browser entry point. Pages are rendered on the server only; the islands (`#[island]` components: the
/// forms, switches and the erasure dialog) are hydrated by the loader in `app::IslandScripts` right after this
/// returns, and the loader then sets `<body data-hydrated>`.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
