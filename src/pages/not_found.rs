//! Any unknown path.

use leptos::prelude::*;
use leptos_meta::Title;

/// What any path without a page shows, answered with status 404, with a link back to the console.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <main class="login-page">
            <div class="card login-card">
                <h1>"Page not found"</h1>
                <p>"There is no page at this address."</p>
                <p><a href="/">"Go to the console"</a></p>
            </div>
        </main>
    }
}
