//! Inline notices: errors, confirmations (among them what a save did) and empty states.

use leptos::prelude::*;

use crate::error::AppError;

/// What kind of notice it is, which sets its colour and how assistive technology announces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Something to know before going on, such as how many records a search matched.
    Info,
    /// A change was made, such as a saved setting or an erasure.
    Success,
    /// Something to weigh first, such as a search listing only part of its matches.
    Warning,
    /// Something failed; the only tone announced at once (`role="alert"`).
    Error,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Info => "notice notice-info",
            Tone::Success => "notice notice-success",
            Tone::Warning => "notice notice-warning",
            Tone::Error => "notice notice-error",
        }
    }
}

/// A notice; errors are announced at once (`role="alert"`), the rest politely (`role="status"`).
#[component]
pub fn Notice(
    /// The kind of notice.
    tone: Tone,
    children: Children,
) -> impl IntoView {
    let role = if tone == Tone::Error {
        "alert"
    } else {
        "status"
    };
    view! { <div class=tone.class() role=role>{children()}</div> }
}

/// An error answer from the server, with a way forward where there is one.
#[component]
pub fn ErrorNotice(
    /// The error; its message is shown as it is, and `Unauthorized` adds a link to sign in again.
    error: AppError,
) -> impl IntoView {
    let sign_in = matches!(error, AppError::Unauthorized);
    view! {
        <Notice tone=Tone::Error>
            <p>{error.to_string()}</p>
            {sign_in.then(|| view! { <p><a href="/login">"Sign in again"</a></p> })}
        </Notice>
    }
}

/// What the last save of a form did, once there is one: `success` gives the words of the success notice from
/// what was saved; a failure is shown as an `ErrorNotice`.
pub fn save_outcome<T, V: IntoView + 'static>(
    outcome: Option<Result<T, AppError>>,
    success: impl FnOnce(T) -> V,
) -> Option<AnyView> {
    match outcome? {
        Ok(saved) => {
            let words = success(saved);
            Some(view! { <Notice tone=Tone::Success>{words}</Notice> }.into_any())
        }
        Err(error) => Some(view! { <ErrorNotice error/> }.into_any()),
    }
}

/// What to show where a list has nothing, and what to do about it.
#[component]
pub fn EmptyState(
    /// The headline, such as "No records match".
    #[prop(into)]
    title: String,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="empty-state">
            <p class="empty-title">{title}</p>
            <div class="empty-hint">{children()}</div>
        </div>
    }
}
