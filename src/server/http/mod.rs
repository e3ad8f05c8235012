//! The HTTP stack: Leptos pages and server functions on axum, wrapped in (outermost first) the headers of
//! every answer (`headers`, so that the refusals of the layers inside it carry them too), compression, the
//! security log of refused requests (`security_log::log_refusals`), the cross-site request guard (`guard`),
//! the body limit and the mapping of error answers to their HTTP status
//! (`errors`); the built files (`assets`), served precompressed outside the compression layer
//! (`static_files`); the receipt downloads and the receipts' public keys (`receipts`); the audit log's CSV
//! export (`audit_export`); a customer record's ZIP export (`customer_export`); how connections are served (`connections`: header-read timeout, connection cap);
//! and `serve`, which runs it with the background jobs (among them the hourly check of every audit chain).

mod assets;
mod audit_export;
mod bulk_files;
mod connections;
mod customer_export;
mod errors;
mod guard;
mod headers;
mod receipts;
mod static_files;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::http::request::Parts;
use axum::middleware;
use axum::routing::get;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::limit::RequestBodyLimitLayer;

pub use assets::{PKG_EXTENSIONS, PUBLIC_FILES, asset_version, leptos_options};
pub use audit_export::AUDIT_EXPORT_PATH;
pub use connections::{ConnectionLimits, serve_connections};
pub use customer_export::{CUSTOMER_EXPORT_PATH, PERSON_EXPORT_PATH};
pub(crate) use headers::attachment;
pub use receipts::{RECEIPT_DOWNLOAD_PATH, RECEIPT_KEYS_PATH};
pub use static_files::{EntityTags, STORED_ENCODINGS, precompress_site};

use crate::app::{App, ShellContext, WASM_SEEN_COOKIE, built_file_url, shell};
use crate::server::auth::{self, RequestPrincipal};
use crate::server::config::Config;
use crate::server::evidence::audit_log;
use crate::server::evidence::receipt_keys::ReceiptKeys;
use crate::server::keys::{self, Keyring, root::RootFiles};
use crate::server::security_log::{self, LogKey};
use crate::server::sessions::cookie_values;
use crate::server::state::AppState;
use crate::server::storage::Storage;
use crate::server::{db, erasure, rest};

/// Largest request body the console's pages and server functions accept; every form it sends is far smaller.
/// The public API has its own (`rest::MAX_BODY_BYTES`).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole console as one axum router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context_state = state.clone();
    let shell_options = state.leptos_options.clone();
    let fallback_version = state.asset_version.clone();
    let site_root = state.leptos_options.site_root.clone();
    let entity_tags = if state.asset_version.is_some() {
        EntityTags::read(Path::new(&*site_root), &state.leptos_options.output_name)
    } else {
        EntityTags::default()
    };
    let header_settings = headers::HeaderSettings {
        asset_version: state.asset_version.clone(),
        over_https: state.secure_cookies,
        wasm_preload: headers::wasm_preload(&built_file_url(
            &state.leptos_options,
            "wasm",
            state.asset_version.as_deref(),
        )),
    };
    Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(context_state.clone());
                provide_context(RequestPrincipal::default());
                provide_context(shell_context(context_state.asset_version.clone()));
                headers::provide_script_nonce();
            },
            move || shell(shell_options.clone()),
        )
        .route(RECEIPT_KEYS_PATH, get(receipts::receipt_keys))
        .route(RECEIPT_DOWNLOAD_PATH, get(receipts::download_receipt))
        .route(AUDIT_EXPORT_PATH, get(audit_export::export_audit_log))
        .route(CUSTOMER_EXPORT_PATH, get(customer_export::export_customer))
        .route(PERSON_EXPORT_PATH, get(customer_export::export_person))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(
            move || {
                provide_context(shell_context(fallback_version.clone()));
                headers::provide_script_nonce();
            },
            shell,
        ))
        .layer(middleware::from_fn(errors::status_from_error_body))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .merge(rest::routes().layer(RequestBodyLimitLayer::new(rest::MAX_BODY_BYTES)))
        .merge(bulk_files::routes())
        .merge(rest::bulk_routes().layer(RequestBodyLimitLayer::new(
            crate::server::bulk::MAX_FILE_BYTES,
        )))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            guard::guard_requests,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_log::log_refusals,
        ))
        .layer(CompressionLayer::new().compress_when(worth_compressing()))
        .merge(static_files::routes(Path::new(&*site_root), entity_tags))
        .layer(middleware::from_fn_with_state(
            header_settings,
            headers::security_headers,
        ))
        .with_state(state)
}

/// What the page shell needs to know of the request being rendered: the release's asset version and whether
/// the browser presented `WASM_SEEN_COOKIE`. Read from the request's parts, which leptos_axum provides before
/// this runs.
fn shell_context(asset_version: Option<Arc<str>>) -> ShellContext {
    let browser_has_wasm = use_context::<Parts>().is_some_and(|parts| {
        cookie_values(&parts.headers, WASM_SEEN_COOKIE).any(|value| value == "1")
    });
    ShellContext {
        asset_version,
        browser_has_wasm,
    }
}

/// Answers of a known size under this many bytes go uncompressed: a search answer of a few records is a few
/// hundred bytes, and Brotli on it cost more than it saved. Measured on loopback, 2,000 searches for a 410-byte
/// answer, p50: 0.54 and 0.54 ms when the client accepted Brotli against 0.48 and 0.52 ms when it did not;
/// with this floor 0.49 and 0.49 against 0.46 and 0.49 ms. Pages, whose size is not known up front, and the
/// wasm, JS and CSS are still compressed.
const COMPRESS_ABOVE_BYTES: u16 = 1024;

/// tower-http's default rule (no gRPC, images or event streams) with the size floor above, and no ZIP (an
/// export compresses its JSON itself and holds recordings that do not compress).
fn worth_compressing() -> impl Predicate {
    SizeAbove::new(COMPRESS_ABOVE_BYTES)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        .and(NotForContentType::const_new("application/zip"))
}

/// Serves the console on `config.listen` (within the configured `ConnectionLimits`) until Ctrl+C or SIGTERM,
/// with the scheduler of held erasure requests, the outbox worker (unless
/// `config.outbox_worker` is off) and the clean-up of expired sign-in state and saved searches running beside it.
/// Without an evidence secret (`Config::evidence_secret`) it does not start.
pub async fn serve(config: Config, pool: sqlx::PgPool) -> Result<(), String> {
    let evidence_secret = config.evidence_secret()?;
    let storage = Storage::local(&config.object_store_dir)?;
    let options = leptos_options(&config.site_root, config.listen);
    let compressed = precompress_site(Path::new(&config.site_root), &options.output_name)
        .map_err(|e| format!("cannot compress the files of {}: {e}", config.site_root))?;
    if compressed > 0 {
        tracing::info!("compressed {compressed} variants of the static files before serving");
    }
    let web = config.web_settings();
    if config.public_origin.is_none() && config.listen.ip().is_unspecified() {
        tracing::warn!(
            "PUBLIC_ORIGIN is not set: browsers' requests are accepted only from {}",
            web.public_origin
        );
    }
    let log_key = db::security_log::log_key(&pool, &LogKey::random())
        .await
        .map_err(|e| format!("cannot read the security log's key: {e}"))?;
    let keyring = open_keyring(&config).await?;
    let mut state = AppState::new(
        options,
        pool.clone(),
        storage,
        web,
        evidence_secret,
        keyring,
    )
    .with_sign_in(config.sign_in.clone())
    .with_log_key(log_key);
    match &config.receipt_signing_key_file {
        Some(path) => state = state.with_receipt_keys(ReceiptKeys::load(path)?),
        None => tracing::warn!(
            "RECEIPT_SIGNING_KEY_FILE is not set: no erasure receipt is issued until an instance has the key"
        ),
    }
    let app = router(state.clone());
    tokio::spawn(erasure::run_scheduler(state.clone()));
    if config.outbox_worker {
        tokio::spawn(erasure::run_outbox_worker(state));
    }
    tokio::spawn(audit_log::run_full_checks(pool.clone()));
    tokio::spawn(auth::forget_expired_state(pool));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!("console listening on http://{}", config.listen);
    serve_connections(listener, app, config.connection_limits(), shutdown_signal()).await;
    Ok(())
}

/// The keyring of `config`, its database created and migrated when missing; a root file that does not open it
/// is the one line an operator sees.
pub async fn open_keyring(config: &Config) -> Result<Arc<Keyring>, String> {
    let (url, root_file) = config.keyring()?;
    let pool = keys::connect_and_migrate(&url)
        .await
        .map_err(|e| format!("cannot open the keyring database: {e}"))?;
    let keyring = Keyring::open(pool, RootFiles::new(root_file))
        .await
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(keyring))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
