//! The state every request shares: database pool, object store, Leptos options, the outbox wake-up, the
//! receipt signing keys and the keyring.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;
use tokio::sync::Notify;

use crate::error::AppError;
use crate::server::auth::SignInGuard;
use crate::server::config::SignInSettings;
use crate::server::config::WebSettings;
use crate::server::evidence::identity::EvidenceSecret;
use crate::server::evidence::receipt_keys::ReceiptKeys;
use crate::server::http::asset_version;
use crate::server::keys::Keyring;
use crate::server::security_log::LogKey;
use crate::server::storage::Storage;

/// What the router, the page renders and the server functions share; cheap to clone (handles and `Arc`s).
#[derive(Clone)]
pub struct AppState {
    /// Leptos's site options: where the built files are and what they are called.
    pub leptos_options: LeptosOptions,
    /// The database pool.
    pub pool: PgPool,
    /// The object store holding recordings, voicemails and message media.
    pub storage: Storage,
    /// Woken after an erasure commits so the outbox worker deletes its files at once.
    pub outbox_wakeup: Arc<Notify>,
    /// Whether the cookies are Secure and the session cookie `__Host-` named (served over https).
    pub secure_cookies: bool,
    /// The origin browsers reach the console at; state-changing requests from any other are refused.
    pub public_origin: Arc<str>,
    /// How long a session lasts at most, in hours after sign-in.
    pub session_max_hours: u16,
    /// Requests one API token may make in a minute.
    pub api_requests_per_minute: u32,
    /// The release's wasm, JS and CSS, as a short digest (see `http::asset_version`).
    pub asset_version: Option<Arc<str>>,
    /// The per-client sign-in limit's settings and the password-check queue.
    pub sign_in: Arc<SignInGuard>,
    /// The key the security log hashes emails with: the deployment's stored key once `with_log_key` has set it.
    pub log_key: LogKey,
    /// The keys that sign erasure receipts (`RECEIPT_SIGNING_KEY_FILE`); without them no receipt is issued.
    pub receipt_keys: Option<Arc<ReceiptKeys>>,
    /// The secret the audit log's per-account keys for persons' hashes are derived from.
    pub evidence_secret: EvidenceSecret,
    /// The records' data keys (crypto-shredding): made on a record's first activity, destroyed after its
    /// erasure.
    pub keyring: Arc<Keyring>,
}

impl AppState {
    /// The shared state, with the configuration's web settings, evidence secret and keyring. The asset version is read from the site folder
    /// once, here. The sign-in settings are the defaults until `with_sign_in`, the log key a random one until
    /// `with_log_key`.
    pub fn new(
        leptos_options: LeptosOptions,
        pool: PgPool,
        storage: Storage,
        web: WebSettings,
        evidence_secret: EvidenceSecret,
        keyring: Arc<Keyring>,
    ) -> AppState {
        let watching = std::env::var("LEPTOS_WATCH").is_ok_and(|value| value == "true");
        let asset_version = (!watching)
            .then(|| asset_version(&leptos_options.site_root, &leptos_options.output_name))
            .flatten();
        AppState {
            leptos_options,
            pool,
            storage,
            outbox_wakeup: Arc::new(Notify::new()),
            secure_cookies: web.secure_cookies,
            public_origin: Arc::from(web.public_origin),
            session_max_hours: web.session_max_hours,
            api_requests_per_minute: web.api_requests_per_minute,
            asset_version: asset_version.map(Arc::from),
            sign_in: Arc::new(SignInGuard::new(SignInSettings::default())),
            log_key: LogKey::random(),
            receipt_keys: None,
            evidence_secret,
            keyring,
        }
    }

    /// The state with this key for the security log's email hashes.
    pub fn with_log_key(self, log_key: LogKey) -> AppState {
        AppState { log_key, ..self }
    }

    /// The state with these keys to sign erasure receipts with.
    pub fn with_receipt_keys(self, keys: ReceiptKeys) -> AppState {
        AppState {
            receipt_keys: Some(Arc::new(keys)),
            ..self
        }
    }

    /// The state with these sign-in settings (and a new password-check queue of their size).
    pub fn with_sign_in(self, settings: SignInSettings) -> AppState {
        AppState {
            sign_in: Arc::new(SignInGuard::new(settings)),
            ..self
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The state, inside a server function or a page render.
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the request context");
        AppError::Internal
    })
}

/// Logs a database failure and turns it into the error the browser sees, without its text.
pub fn db_failure(err: sqlx::Error) -> AppError {
    tracing::error!(error = %err, "database error");
    AppError::Internal
}
