//! The browser side of the islands: knowing when an island is interactive, and loading a page afresh after a
//! change. Effects run only in the browser, after hydration, so a signal set by one is false in the server's
//! HTML and turns true once the island's wasm has taken over.

use leptos::prelude::*;

/// `true` once this island has hydrated. Switches and saving or destructive buttons stay disabled until then.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

/// Loads `path` as a new page, rendered by the server from what the database now holds. Pages are not
/// rendered in the browser, so this is how an island shows the outcome of a change beyond itself.
pub fn load_page(path: &str) {
    let _ = window().location().assign(path);
}

/// Loads the current page again (after an erasure, the record then shows its receipt).
pub fn reload_page() {
    let _ = window().location().reload();
}
