//! What a page shows of the data it reads from a server function: a line while it loads, then the view of the
//! data, or the error the server function answered with.

use leptos::prelude::*;

use crate::components::notice::ErrorNotice;
use crate::error::AppError;

/// Awaits `data` and shows its children with what it gave (`let:name` binds it), or an `ErrorNotice`. Pages
/// are rendered on the server only (the browser hydrates just their islands), so the data is read once, as a
/// plain future: a `Resource`, which spawns its read as a task and hands each reader a clone, would add work
/// and give nothing back.
#[component]
pub fn Loaded<T, Fut, Chil, V>(
    /// What the page says while the data loads, e.g. "Loading…".
    loading: &'static str,
    /// The read of the page's data, usually a server function call; awaited once.
    data: Fut,
    children: Chil,
) -> impl IntoView
where
    T: Send + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
    Chil: FnOnce(T) -> V + Send + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=move || view! { <p class="muted">{loading}</p> }>
            {Suspend::new(async move {
                match data.await {
                    Ok(data) => children(data).into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
