//! The HTML shell, the router and the console layout (left navigation, header, content). Pages are rendered
//! on the server; only the `#[island]` components (forms, switches, the erasure dialog) ship to the browser
//! as wasm and hydrate there, and links load the next page from the server.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::{SsrMode, path};

use crate::api::auth::{current_viewer, sign_in_page};
use crate::components::navigation::Topbar;
use crate::components::notice::ErrorNotice;
use crate::pages::admin::AdminPage;
use crate::pages::api_tokens::ApiTokensPage;
use crate::pages::audit::AuditPage;
use crate::pages::bulk::BulkPage;
use crate::pages::bulk_job::BulkJobPage;
use crate::pages::customer::CustomerPage;
use crate::pages::customers::CustomersPage;
use crate::pages::home::HomePage;
use crate::pages::login::LoginPage;
use crate::pages::not_found::NotFoundPage;
use crate::pages::request::RequestPage;
use crate::pages::requests::RequestsPage;
use crate::pages::suppressions::SuppressionsPage;
use crate::pages::user_profile::UserProfilePage;
use crate::pages::users::UsersPage;

/// The HTML document of every page: the head (island loader, stylesheet, the page's title and meta tags) and
/// the body holding `App`, after the notice said when the page's controls never load. `options` names the built
/// files.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <IslandScripts options=options.clone()/>
                <link rel="stylesheet" href=pkg_url(&options, "css")/>
                <MetaTags/>
            </head>
            <body>
                <ControlsFailedNotice/>
                <App/>
            </body>
        </html>
    }
}

/// Loads the wasm and hydrates the page's islands as soon as the document is parsed. Leptos's own
/// `HydrationScripts` first waits for the browser to go idle, which on a customer page comes only after the
/// first paint: measured on a copy of that page, `data-hydrated` came 20 to 35 ms later that way (p50 117 and
/// 134 ms against 93 and 98 ms). Here an inline script at the top of the head starts compiling the wasm (from
/// Chromium's code cache once seen) while the document is still parsed, and an `async` module instantiates it
/// once the document is parsed. This crate's islands are never nested and take no children, so hydrating each
/// `<leptos-island>` in document order is all the loader needs to do; it then sets `<body data-hydrated>` at
/// once (the effects the islands queued run in the same microtask checkpoint, before anything else can).
/// Like Leptos's, it tells the server to serialize nothing outside islands. The inline script also marks
/// `<html data-scripting>` before the body is parsed, which hides the layout's notice that JavaScript is off
/// (`.scripting-off`) before the first paint; a `<noscript>` would not do, since a browser whose scripts are
/// turned off by a setting rather than by the user's preference may still parse it as script. It also shows
/// `ControlsFailedNotice` should the islands not have hydrated 5 s later (and the loader hides it again should
/// they hydrate after all). The scripts and the preload carry
/// the answer's nonce (`use_nonce`), the only way the Content-Security-Policy lets a script run. The answer's
/// `Link` header, set by the server for every page, has the browser start reading the wasm before this head is
/// parsed, by the URL of `built_file_url` that the compile script fetches.
///
/// A browser that has hydrated a page of this console before (it holds the `WASM_SEEN_COOKIE`, set by the
/// loader) has the wasm and JS in its caches; for it the loader is render-blocking, so the first paint already
/// shows working controls rather than disabled ones that switch on a few frames later. A Chromium trace of
/// the customer page: without it, Chromium lays out and paints the page (about 20 ms, mostly the two tables)
/// before the wasm's cached response is even processed, and the islands hydrate after that; with it, they
/// hydrate first. A first visit, or one after the cookie expired, never waits for a download to paint; a
/// returning browser does once after a new release (the wasm is 493 KB, 148 to 190 KB compressed).
#[component]
fn IslandScripts(options: LeptosOptions) -> impl IntoView {
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let (wasm_url, js_url) = (pkg_url(&options, "wasm"), pkg_url(&options, "js"));
    let compile = format!(
        r#"document.documentElement.setAttribute("data-scripting", "");
window.__cdcWasm = WebAssembly.compileStreaming(fetch("{wasm_url}"));
setTimeout(() => {{ if (!document.body || document.body.hasAttribute("data-hydrated")) return; const notice = document.getElementById("{CONTROLS_FAILED_ID}"); if (notice) {{ notice.setAttribute("role", "alert"); notice.hidden = false; }} }}, {CONTROLS_FAILED_AFTER_MS});"#
    );
    let loader = format!(
        r#"import init, * as wasm from "{js_url}";
if (document.readyState === "loading") await new Promise((parsed) => document.addEventListener("DOMContentLoaded", parsed, {{ once: true }}));
await init({{ module_or_path: await window.__cdcWasm }});
wasm.hydrate();
for (const island of document.querySelectorAll("leptos-island")) wasm[island.dataset.component](island);
document.body.setAttribute("data-hydrated", "");
document.getElementById("{CONTROLS_FAILED_ID}")?.setAttribute("hidden", "");
document.cookie = "{WASM_SEEN_COOKIE}=1; Path=/; Max-Age={WASM_SEEN_MAX_AGE_SECS}; SameSite=Strict";"#
    );
    let blocking = browser_has_the_wasm().then_some("render");
    let nonce = use_nonce();
    view! {
        <script nonce=nonce.clone() inner_html=compile></script>
        <link rel="modulepreload" href=js_url nonce=nonce.clone()/>
        <script type="module" async=true blocking=blocking nonce=nonce inner_html=loader></script>
    }
}

/// The id of `ControlsFailedNotice`, which the head's first script shows.
const CONTROLS_FAILED_ID: &str = "controls-failed";
/// How long after the head is parsed the page's controls may take to load before `ControlsFailedNotice` shows:
/// hydration takes well under a second on a first visit (BENCHMARKS.md), so 5 s means it failed.
const CONTROLS_FAILED_AFTER_MS: u32 = 5_000;

/// Said when the page's controls never loaded (the wasm blocked, or failing to load or start): hidden in the
/// HTML (and no alert there), shown as an alert by the head's first script when `<body data-hydrated>` is still missing `CONTROLS_FAILED_AFTER_MS`
/// after the head was parsed. With scripts off it stays hidden, and the layout's notice that JavaScript is off
/// speaks instead.
#[component]
fn ControlsFailedNotice() -> impl IntoView {
    view! {
        <div id=CONTROLS_FAILED_ID class="notice notice-error" hidden=true>
            <p><strong>"This page's controls did not load,"</strong> " so its buttons stay disabled. Pages can still be read."</p>
            <p>"Reload the page. If that does not help, something blocks the console's program file (under /pkg/): check your browser's extensions and your network's proxy or firewall, or try another browser."</p>
        </div>
    }
}

/// What the server tells the page shell about the request being rendered, as a context value (set by the
/// server's router; absent in the browser, which renders no shell).
#[derive(Clone, Default)]
pub struct ShellContext {
    /// The release's wasm, JS and CSS as a short digest, appended to their URLs so that browsers keep them until
    /// the next release; `None` serves them unversioned.
    pub asset_version: Option<Arc<str>>,
    /// Whether the request presents `WASM_SEEN_COOKIE`.
    pub browser_has_wasm: bool,
}

/// The URL of the site's built `extension` file (`wasm`, `js` or `css`) with this release's version.
fn pkg_url(options: &LeptosOptions, extension: &str) -> String {
    let version = with_context::<ShellContext, _>(|shell| shell.asset_version.clone()).flatten();
    built_file_url(options, extension, version.as_deref())
}

/// The URL of the site's built `extension` file with the release's asset `version`, as the shell links it;
/// the server names the wasm's in its answers' preload header.
pub fn built_file_url(options: &LeptosOptions, extension: &str, version: Option<&str>) -> String {
    let path = format!(
        "/{}/{}.{extension}",
        options.site_pkg_dir, options.output_name
    );
    match version {
        Some(version) => format!("{path}?v={version}"),
        None => path,
    }
}

/// Set by the island loader once it has hydrated a page: this browser holds the console's wasm and JS.
pub const WASM_SEEN_COOKIE: &str = "cdc_wasm";
/// How long the loader's cookie lasts: 30 days.
const WASM_SEEN_MAX_AGE_SECS: u32 = 30 * 24 * 60 * 60;

/// Whether the request being rendered presents `WASM_SEEN_COOKIE`.
fn browser_has_the_wasm() -> bool {
    with_context::<ShellContext, _>(|shell| shell.browser_has_wasm).unwrap_or(false)
}

/// The routes: `/login` alone, every other page inside `ConsoleLayout`, `NotFoundPage` for any other path.
/// Each route renders asynchronously (`SsrMode::Async`): its HTML is sent once the data it reads is in.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title formatter=|title: String| format!("{title} · Customer Data Console")/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("") view=ConsoleLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("admin") view=AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("admin/tokens") view=ApiTokensPage ssr=SsrMode::Async/>
                    <Route path=path!("users") view=UsersPage ssr=SsrMode::Async/>
                    <Route path=path!("users/:id") view=UserProfilePage ssr=SsrMode::Async/>
                    <Route path=path!("customers") view=CustomersPage ssr=SsrMode::Async/>
                    <Route path=path!("customers/:id") view=CustomerPage ssr=SsrMode::Async/>
                    <Route path=path!("requests") view=RequestsPage ssr=SsrMode::Async/>
                    <Route path=path!("requests/bulk") view=BulkPage ssr=SsrMode::Async/>
                    <Route path=path!("requests/bulk/:id") view=BulkJobPage ssr=SsrMode::Async/>
                    <Route path=path!("requests/:id") view=RequestPage ssr=SsrMode::Async/>
                    <Route path=path!("suppressions") view=SuppressionsPage ssr=SsrMode::Async/>
                    <Route path=path!("audit") view=AuditPage ssr=SsrMode::Async/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Navigation and header around every signed-in page; signed-out visitors go to /login, with the page they
/// asked for as `?next=` (`sign_in_page`). The signed-in user is read for every page the server renders, so
/// that a changed permission shows at once; like the pages, the layout is rendered on the server only, so it
/// reads the user inside its `Suspense` rather than through a `Resource` (which would spawn the read as a task
/// and hand each reader a clone). The header holds the navigation (see `Topbar`).
#[component]
fn ConsoleLayout() -> impl IntoView {
    let viewer = current_viewer();
    let location = use_location();
    let here = match location.search.get_untracked() {
        search if search.is_empty() => location.pathname.get_untracked(),
        search => format!("{}?{search}", location.pathname.get_untracked()),
    };
    let sign_in = sign_in_page(None, &here);
    view! {
        <a class="skip-link" href="#content">"Skip to content"</a>
        <div class="console">
            <Suspense fallback=|| view! { <nav class="sidebar" aria-label="Main"></nav> }>
                {Suspend::new(async move {
                    match viewer.await {
                        Ok(Some(viewer)) => view! { <Topbar viewer/> }.into_any(),
                        Ok(None) => view! { <Redirect path=sign_in/> }.into_any(),
                        Err(error) => view! { <nav class="sidebar" aria-label="Main"><ErrorNotice error/></nav> }.into_any(),
                    }
                })}
            </Suspense>
            <main class="content" id="content">
                <div class="notice notice-warning scripting-off" role="status">
                    <p>"JavaScript is off. Every page can be read, and searching and signing out work; switches, saving, ending sessions and deleting data need JavaScript, so their buttons stay disabled."</p>
                </div>
                <Outlet/>
            </main>
        </div>
    }
}
