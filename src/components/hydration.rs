//! Knowing when the page is interactive. Effects run only in the browser, after hydration, so a signal set by
//! one is false in the server's HTML and turns true once the wasm has taken over.

use leptos::prelude::*;

/// `true` once this component has hydrated. Destructive and saving buttons stay disabled until then.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}
