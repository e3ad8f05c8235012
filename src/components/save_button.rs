//! The Save button of a settings form: off until its island has hydrated and while a save is under way, and
//! it says "Saving…" meanwhile.

use leptos::prelude::*;

#[component]
pub fn SaveButton(
    hydrated: ReadSignal<bool>,
    #[prop(into)] pending: Signal<bool>,
    on_save: Callback<()>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="button primary"
            disabled=move || !hydrated.get() || pending.get()
            on:click=move |_| on_save.run(())
        >
            {move || if pending.get() { "Saving…" } else { "Save" }}
        </button>
    }
}
