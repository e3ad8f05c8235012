//! The Save button of a settings form: off until its island has hydrated and while a save is under way, and
//! it says "Saving…" meanwhile.

use leptos::prelude::*;

/// Save: runs `on_save` when clicked.
#[component]
pub fn SaveButton(
    /// Whether the form's island has hydrated; the button is disabled until then.
    hydrated: ReadSignal<bool>,
    /// Whether a save is under way: the button is disabled and says "Saving…" meanwhile.
    #[prop(into)]
    pending: Signal<bool>,
    /// What a click does: dispatches the form's save.
    on_save: Callback<()>,
    /// The button's words, when a page has more than one form ("Save policy").
    #[prop(default = "Save")]
    label: &'static str,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="button primary"
            disabled=move || !hydrated.get() || pending.get()
            on:click=move |_| on_save.run(())
        >
            {move || if pending.get() { "Saving…" } else { label }}
        </button>
    }
}
