//! Configuration from flags or environment variables (an optional `.env` is read first by `main`).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;

use axum::http::HeaderName;
use ipnet::IpNet;

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// PostgreSQL connection string.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Address the console listens on.
    #[arg(
        long,
        env = "LEPTOS_SITE_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub listen: SocketAddr,
    /// Folder with the built site (the `pkg/` folder with wasm, JS and CSS).
    #[arg(
        long,
        env = "LEPTOS_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: String,
    /// Folder of the local object store holding recordings, voicemails and media.
    #[arg(
        long,
        env = "OBJECT_STORE_DIR",
        default_value = "target/object-store",
        global = true
    )]
    pub object_store_dir: PathBuf,
    /// Run the worker that deletes erased records' stored files in this process (off for a web-only instance).
    #[arg(long, env = "OUTBOX_WORKER", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub outbox_worker: bool,
    /// Mark the session cookie Secure; set this when the console is served over https.
    #[arg(long, env = "SECURE_COOKIES", default_value_t = false, global = true)]
    pub secure_cookies: bool,
    #[command(flatten)]
    pub sign_in: SignInSettings,
}

/// Failed or still-checking sign-ins one client may make in the sign-in window, across all emails.
pub const DEFAULT_CLIENT_LIMIT: i64 = 50;
/// Password checks that may wait or run at once: about a second of work on two cores.
pub const DEFAULT_PASSWORD_CHECK_QUEUE: NonZeroUsize = NonZeroUsize::new(64).unwrap();
pub const DEFAULT_CLIENT_ADDRESS_HEADER: &str = "x-forwarded-for";

/// What protects the sign-in beyond the per-email limit: a limit per client, a bound on the password checks
/// waiting, and which proxies may say who the client is.
#[derive(Debug, Clone, clap::Args)]
pub struct SignInSettings {
    /// Sign-ins one client address (an IPv6 client: its /64 network) may fail, or have under check, in the
    /// sign-in window across all emails before the next gets 429; a browser the user signed in with before is
    /// not held to it.
    #[arg(
        long = "sign-in-client-limit",
        env = "SIGN_IN_CLIENT_LIMIT",
        default_value_t = DEFAULT_CLIENT_LIMIT,
        value_parser = clap::value_parser!(i64).range(1..),
        global = true
    )]
    pub client_limit: i64,
    /// Password checks that may wait or run at once; a sign-in beyond them is answered 503 with Retry-After.
    #[arg(long, env = "PASSWORD_CHECK_QUEUE", default_value_t = DEFAULT_PASSWORD_CHECK_QUEUE, global = true)]
    pub password_check_queue: NonZeroUsize,
    /// Reverse proxies (addresses or networks, comma-separated) whose client address header is believed: the
    /// client is the header's first address, read from the right, that is not one of them. None by default:
    /// the client is the connection's peer and the header is ignored.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "", value_parser = parse_networks, global = true)]
    pub trusted_proxies: ::std::vec::Vec<IpNet>,
    /// The header a trusted proxy appends the client's address to.
    #[arg(long, env = "CLIENT_ADDRESS_HEADER", default_value = DEFAULT_CLIENT_ADDRESS_HEADER, global = true)]
    pub client_address_header: HeaderName,
}

impl Default for SignInSettings {
    fn default() -> Self {
        SignInSettings {
            client_limit: DEFAULT_CLIENT_LIMIT,
            password_check_queue: DEFAULT_PASSWORD_CHECK_QUEUE,
            trusted_proxies: Vec::new(),
            client_address_header: HeaderName::from_static(DEFAULT_CLIENT_ADDRESS_HEADER),
        }
    }
}

/// Comma-separated networks (`10.0.0.0/8`) or single addresses (`10.0.0.7`); empty for none.
fn parse_networks(text: &str) -> Result<Vec<IpNet>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{item:?} is neither an address nor a network"))
        })
        .collect()
}

impl Config {
    /// The database URL, or the one-line message that says how to give it.
    pub fn database_url(&self) -> Result<&str, String> {
        self.database_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .ok_or_else(|| "DATABASE_URL is not set: give it in the environment, in .env or with --database-url".into())
    }
}
