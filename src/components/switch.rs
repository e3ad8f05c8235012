//! An on/off switch: a labelled checkbox with `role="switch"`, so assistive technology reads it as on or off.

use leptos::prelude::*;

/// A labelled switch with a description, bound to `checked`.
#[component]
pub fn Switch(
    /// Element id, tying the label to the input.
    id: &'static str,
    /// The visible label, which assistive technology reads as the switch's name.
    label: &'static str,
    /// Extra text under the label.
    description: &'static str,
    /// On or off; toggling the switch sets it.
    checked: RwSignal<bool>,
    /// Whether the island around it has hydrated: the switch is off until then, so that a change made before
    /// then is not lost.
    hydrated: ReadSignal<bool>,
) -> impl IntoView {
    let description_id = format!("{id}-description");
    view! {
        <div class="switch-row">
            <div class="switch-text">
                <label for=id class="switch-label">{label}</label>
                <p id=description_id.clone() class="muted">{description}</p>
            </div>
            <input
                id=id
                type="checkbox"
                role="switch"
                class="switch"
                aria-describedby=description_id
                disabled=move || !hydrated.get()
                checked=move || checked.get()
                prop:checked=move || checked.get()
                on:change=move |ev| checked.set(event_target_checked(&ev))
            />
        </div>
    }
}
