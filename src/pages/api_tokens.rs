//! /admin/tokens: Admin Console > API tokens. The account's tokens for privacy platforms and the capture
//! pipeline (name, scopes, the Admin each acts for, expiry, last use), making one (the `NewTokenForm` island,
//! which shows its secret once) and revoking one (`RevokeControl`).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::tokens::{CreateApiToken, RevokeApiToken, list_api_tokens};
use crate::components::data_table::DataTable;
use crate::components::hydration::{reload_page, use_hydrated};
use crate::components::loaded::Loaded;
use crate::components::notice::{EmptyState, Notice, Tone};
use crate::format::format_time;
use crate::model::{API_SCOPES, ApiTokenSummary};

/// The account's API tokens, and the form that makes one. `list_api_tokens` refuses anyone but an Admin, and the
/// page then shows its error.
#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let tokens = list_api_tokens();
    view! {
        <Title text="API tokens"/>
        <h1>"API tokens"</h1>
        <p class="muted">"Privacy platforms and the capture pipeline call the console's API (" <a href="/api/v1/openapi.json">"its OpenAPI document"</a> ") with a token, within its scopes, while Manage Customer Data is on. A token with requests:write makes erasure requests as you, with your access to Customer Data."</p>
        <Loaded loading="Loading tokens…" data=tokens let:tokens>
            <NewTokenForm/>
            <TokenTable tokens/>
        </Loaded>
    }
}

#[component]
fn TokenTable(tokens: Vec<ApiTokenSummary>) -> impl IntoView {
    if tokens.is_empty() {
        return view! {
            <EmptyState title="No API tokens">
                <p>"Make one above for a privacy platform or the capture pipeline."</p>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <div class="card table-card">
            <DataTable caption="API tokens, newest first" headings=&["Name", "Scopes", "Acts for", "Made", "Expires", "Last used", "Status"] numeric=&[]>
                <tbody>
                    {tokens.into_iter().map(|token| view! {
                        <tr>
                            <td>{token.name.clone()}</td>
                            <td class="mono">{token.scopes.join(", ")}</td>
                            <td>{token.acts_for.clone().unwrap_or_else(|| "—".into())}</td>
                            <td>{format_time(token.created_at)}</td>
                            <td>{token.expires_at.map(format_time).unwrap_or_else(|| "Never".into())}</td>
                            <td>{token.last_used_at.map(format_time).unwrap_or_else(|| "Never".into())}</td>
                            <td>
                                {match token.revoked_at {
                                    Some(at) => view! { <span class="muted">"Revoked " {format_time(at)}</span> }.into_any(),
                                    None => view! { <RevokeControl token_id=token.id.to_string() name=token.name.clone()/> }.into_any(),
                                }}
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </DataTable>
        </div>
    }
    .into_any()
}

/// The form that makes a token: its name, scopes and expiry. The answer's secret is shown once, with the advice
/// to copy it now.
#[island]
fn NewTokenForm() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let hydrated = use_hydrated();
    let name = RwSignal::new(String::new());
    let expires_days = RwSignal::new(String::from("90"));
    let scopes = RwSignal::new(Vec::<&'static str>::new());
    let toggle = move |key: &'static str, on: bool| {
        scopes.update(|chosen| {
            chosen.retain(|k| *k != key);
            if on {
                chosen.push(key);
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="new-token">
            <h2 id="new-token">"New token"</h2>
            <p>
                <label for="token-name">"Name"</label>
                <input id="token-name" type="text" maxlength="100" placeholder="OneTrust"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
            </p>
            <fieldset class="scopes">
                <legend>"Scopes"</legend>
                {API_SCOPES.into_iter().map(|(key, what)| view! {
                    <label class="checkbox">
                        <input type="checkbox"
                            prop:checked=move || scopes.with(|chosen| chosen.contains(&key))
                            on:change=move |ev| toggle(key, event_target_checked(&ev))/>
                        <span><span class="mono">{key}</span> " — " {what}</span>
                    </label>
                }).collect_view()}
            </fieldset>
            <p>
                <label for="token-expiry">"Expires after (days; empty: never)"</label>
                <input id="token-expiry" type="text" inputmode="numeric" maxlength="4"
                    prop:value=move || expires_days.get()
                    on:input=move |ev| expires_days.set(event_target_value(&ev))/>
            </p>
            <div class="form-actions">
                <button type="button" class="button primary"
                    disabled=move || !hydrated.get() || create.pending().get()
                    on:click=move |_| {
                        create.dispatch(CreateApiToken {
                            name: name.get_untracked(),
                            scopes: scopes.get_untracked().join(","),
                            expires_days: expires_days.get_untracked(),
                        });
                    }>
                    "Create token"
                </button>
            </div>
            {move || create.value().get().map(|answer| match answer {
                Ok(made) => view! {
                    <Notice tone=Tone::Success>
                        <p>"Token made. Copy its secret now: it is not shown again."</p>
                        <p><code class="secret" aria-label="The new token's secret">{made.secret}</code></p>
                        <p><a href="/admin/tokens">"Show it in the list"</a></p>
                    </Notice>
                }.into_any(),
                Err(error) => view! { <Notice tone=Tone::Error><p>{error.to_string()}</p></Notice> }.into_any(),
            })}
        </section>
    }
}

/// "Revoke" for one live token: revokes it and loads the page again.
#[island]
fn RevokeControl(
    /// The token's id.
    token_id: String,
    /// Its name, for the button's accessible name.
    name: String,
) -> impl IntoView {
    let revoke = ServerAction::<RevokeApiToken>::new();
    let hydrated = use_hydrated();
    let id = StoredValue::new(token_id);
    Effect::new(move |_| {
        if matches!(revoke.value().get(), Some(Ok(()))) {
            reload_page();
        }
    });
    view! {
        <button type="button" class="button danger" aria-label=format!("Revoke {name}")
            disabled=move || !hydrated.get() || revoke.pending().get()
            on:click=move |_| { revoke.dispatch(RevokeApiToken { token_id: id.get_value() }); }>
            "Revoke"
        </button>
        {move || match revoke.value().get() {
            Some(Err(error)) => Some(view! { <p class="error" role="alert">{error.to_string()}</p> }),
            _ => None,
        }}
    }
}
