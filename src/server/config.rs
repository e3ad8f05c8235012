//! Configuration from flags or environment variables (an optional `.env` is read first by `main`).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use crate::server::evidence::identity::EvidenceSecret;
use crate::server::http::ConnectionLimits;

use axum::http::HeaderName;
use ipnet::IpNet;

/// The configuration every command shares, from command-line flags or the environment variables named beside
/// them (flags win).
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
    /// Append the security events (one JSON line each: sign-ins, sign-outs, refusals, erasures, record views) to
    /// this file. Default: standard output, with the diagnostic log on standard error.
    #[arg(long, env = "SECURITY_LOG", global = true)]
    pub security_log: Option<PathBuf>,
    /// Mark the cookies Secure (and name the session cookie `__Host-cdc_session`), for a console served over
    /// https, directly or behind a proxy that terminates TLS. Default: on, unless the console listens on a
    /// loopback address.
    #[arg(long, env = "SECURE_COOKIES", global = true)]
    pub secure_cookies: Option<bool>,
    /// How long a session lasts at most, in hours after sign-in, however often it is used (1 to 720).
    #[arg(long, env = "SESSION_MAX_HOURS", default_value_t = DEFAULT_SESSION_MAX_HOURS,
          value_parser = clap::value_parser!(u16).range(1..=720), global = true)]
    pub session_max_hours: u16,
    /// Requests one API token may make in a minute (1 to 1,000,000); the next get 429 with `Retry-After`.
    #[arg(long, env = "API_REQUESTS_PER_MINUTE", default_value_t = DEFAULT_API_REQUESTS_PER_MINUTE,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub api_requests_per_minute: u32,
    /// Seconds a client has to send a request's headers before its connection is closed (1 to 300).
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=300), global = true)]
    pub header_read_timeout_secs: u64,
    /// Connections served at once; further ones wait until one closes (at least 1).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 512,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000), global = true)]
    pub max_connections: u64,
    /// The origin browsers reach the console at: scheme, host and port, as in `https://console.example.com`.
    /// State-changing requests from any other origin are refused. Default: `http://` and the listen address.
    #[arg(long, env = "PUBLIC_ORIGIN", value_parser = origin_of, global = true)]
    pub public_origin: Option<String>,
    /// The file of the keys that sign erasure receipts (made by `rotate-receipt-key`). Without it the console
    /// issues no receipt until an instance that has it runs.
    #[arg(long, env = "RECEIPT_SIGNING_KEY_FILE", global = true)]
    pub receipt_signing_key_file: Option<PathBuf>,
    /// A file holding the evidence secret, from which the keys of persons' hashes in the audit log are derived
    /// (at least 32 bytes; keep it outside the database and its backups). The secret may instead be given in
    /// `EVIDENCE_SECRET` (never as a flag, which the process list shows). `serve` refuses to start without one.
    #[arg(long, env = "EVIDENCE_SECRET_FILE", global = true)]
    pub evidence_secret_file: Option<PathBuf>,
    /// The keyring database, which holds the records' data keys (crypto-shredding). Default: the data
    /// database's name with `_keyring` after it, on the same server; `migrate` and `serve` create it.
    #[arg(long, env = "KEYRING_DATABASE_URL", global = true)]
    pub keyring_database_url: Option<String>,
    /// The key root file (32 bytes, outside Postgres) that the keyring's keys are wrapped under. Default:
    /// `target/keys/<keyring database>.root`, made when the keyring is new.
    #[arg(long, env = "KEY_ROOT_FILE", global = true)]
    pub key_root_file: Option<PathBuf>,
    /// The sign-in's protection: the per-client limit, the password-check queue and the trusted proxies.
    #[command(flatten)]
    pub sign_in: SignInSettings,
}

/// The environment variable that may hold the evidence secret itself.
pub const EVIDENCE_SECRET_VARIABLE: &str = "EVIDENCE_SECRET";

/// The evidence secret given in `EVIDENCE_SECRET` (`variable`) or in the file `EVIDENCE_SECRET_FILE` (`file`):
/// exactly one of them, or the one-line message that says how to give it. A console never makes up a secret of
/// its own: hashes under a random key would match nothing after a restart.
pub fn evidence_secret_from(
    variable: Option<&str>,
    file: Option<&std::path::Path>,
) -> Result<EvidenceSecret, String> {
    match (variable.filter(|v| !v.trim().is_empty()), file) {
        (Some(_), Some(_)) => Err(
            "both EVIDENCE_SECRET and EVIDENCE_SECRET_FILE are set: give the evidence secret one way".into(),
        ),
        (Some(secret), None) => EvidenceSecret::from_bytes(secret.as_bytes())
            .map_err(|e| format!("{EVIDENCE_SECRET_VARIABLE}: {e}")),
        (None, Some(path)) => EvidenceSecret::read_file(path),
        (None, None) => Err(
            "no evidence secret: set EVIDENCE_SECRET_FILE to a file holding at least 32 random bytes (or EVIDENCE_SECRET to them), kept outside the database".into(),
        ),
    }
}

/// Requests an API token may make in a minute unless `API_REQUESTS_PER_MINUTE` says otherwise: ten a second,
/// far above what a privacy platform needs, and a bound on what a leaked or looping token can do.
pub const DEFAULT_API_REQUESTS_PER_MINUTE: u32 = 600;

/// A session's longest life unless `SESSION_MAX_HOURS` says otherwise.
pub const DEFAULT_SESSION_MAX_HOURS: u16 = 12;

/// What the web side takes from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSettings {
    /// The origin browsers reach the console at, as they write it in an `Origin` header.
    pub public_origin: String,
    /// Whether the cookies are Secure (the session cookie `__Host-` named) and browsers are told to keep to
    /// https.
    pub secure_cookies: bool,
    /// How long a session lasts at most, in hours after sign-in.
    pub session_max_hours: u16,
    /// Requests one API token may make in a minute.
    pub api_requests_per_minute: u32,
}

impl WebSettings {
    /// The settings of a console listening on `listen` that is given nothing else: reached at `http://` and
    /// that address, cookies Secure unless the address is a loopback one (where browsers are on the same
    /// machine and https is rarely set up), sessions of `DEFAULT_SESSION_MAX_HOURS`.
    pub fn defaults_for(listen: SocketAddr) -> WebSettings {
        WebSettings {
            public_origin: format!("http://{listen}"),
            secure_cookies: !listen.ip().is_loopback(),
            session_max_hours: DEFAULT_SESSION_MAX_HOURS,
            api_requests_per_minute: DEFAULT_API_REQUESTS_PER_MINUTE,
        }
    }
}

/// Failed or still-checking sign-ins one client may make in the sign-in window, across all emails.
pub const DEFAULT_CLIENT_LIMIT: i64 = 50;
/// Password checks that may wait or run at once: about a second of work on two cores.
pub const DEFAULT_PASSWORD_CHECK_QUEUE: NonZeroUsize = NonZeroUsize::new(64).unwrap();
/// The header trusted proxies append the client's address to unless `CLIENT_ADDRESS_HEADER` names another.
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

/// `text` as the origin a browser writes in an `Origin` header (lower-case scheme and host, the port only
/// when not the scheme's default); refused unless it is an http or https URL with nothing after the host but
/// an optional `/`.
pub fn origin_of(text: &str) -> Result<String, String> {
    let refused =
        || format!("PUBLIC_ORIGIN {text:?} is not an origin such as https://console.example.com");
    let url = url::Url::parse(text.trim()).map_err(|_| refused())?;
    let only_origin = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if only_origin {
        Ok(url.origin().ascii_serialization())
    } else {
        Err(refused())
    }
}

impl Config {
    /// The database URL, or the one-line message that says how to give it.
    pub fn database_url(&self) -> Result<&str, String> {
        self.database_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .ok_or_else(|| "DATABASE_URL is not set: give it in the environment, in .env or with --database-url".into())
    }

    /// The keyring database's URL and the root file of its keys (see `keyring_database_url`, `key_root_file`).
    pub fn keyring(&self) -> Result<(String, PathBuf), String> {
        let url = crate::server::keys::keyring_url(
            self.database_url()?,
            self.keyring_database_url
                .as_deref()
                .filter(|url| !url.trim().is_empty()),
        )?;
        let root = self
            .key_root_file
            .clone()
            .unwrap_or_else(|| crate::server::keys::default_root_file(&url));
        Ok((url, root))
    }

    /// The evidence secret this configuration gives (see `evidence_secret_from`).
    pub fn evidence_secret(&self) -> Result<EvidenceSecret, String> {
        let variable = std::env::var(EVIDENCE_SECRET_VARIABLE).ok();
        evidence_secret_from(variable.as_deref(), self.evidence_secret_file.as_deref())
    }

    /// The limits on connections this configuration gives.
    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }

    /// The web settings this configuration gives (`public_origin` was checked and written as browsers write it
    /// when the command line was read).
    pub fn web_settings(&self) -> WebSettings {
        let defaults = WebSettings::defaults_for(self.listen);
        WebSettings {
            public_origin: self.public_origin.clone().unwrap_or(defaults.public_origin),
            secure_cookies: self.secure_cookies.unwrap_or(defaults.secure_cookies),
            session_max_hours: self.session_max_hours,
            api_requests_per_minute: self.api_requests_per_minute,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn public_origins_are_written_as_browsers_send_them() {
        assert_eq!(
            origin_of("https://Console.Example.com/").unwrap(),
            "https://console.example.com"
        );
        assert_eq!(
            origin_of("https://console.example.com:443").unwrap(),
            "https://console.example.com"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:3000").unwrap(),
            "http://127.0.0.1:3000"
        );
        assert_eq!(origin_of("http://[::1]:3000").unwrap(), "http://[::1]:3000");
        for refused in [
            "console.example.com",
            "ftp://console.example.com",
            "https://console.example.com/console",
            "https://console.example.com/?a=1",
            "https://user@console.example.com",
            "",
        ] {
            assert!(origin_of(refused).is_err(), "{refused}");
        }
    }

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        config: Config,
    }

    fn web_settings(args: &[&str]) -> WebSettings {
        let args = ["console"].iter().chain(args);
        Cli::try_parse_from(args).unwrap().config.web_settings()
    }

    #[test]
    fn a_console_is_reached_at_its_listen_address_unless_told_otherwise() {
        let web = web_settings(&["--listen", "127.0.0.1:3000"]);
        assert_eq!(web.public_origin, "http://127.0.0.1:3000");
        let web = web_settings(&[
            "--listen",
            "0.0.0.0:3000",
            "--public-origin",
            "https://Console.Example.com/",
        ]);
        assert_eq!(web.public_origin, "https://console.example.com");
        assert!(
            Cli::try_parse_from(["console", "--public-origin", "console.example.com"]).is_err()
        );
    }

    #[test]
    fn cookies_are_secure_unless_the_console_listens_on_loopback_or_is_told() {
        for (listen, secure) in [
            ("127.0.0.1:3000", false),
            ("[::1]:3000", false),
            ("0.0.0.0:3000", true),
            ("10.0.0.5:8080", true),
        ] {
            assert_eq!(
                web_settings(&["--listen", listen]).secure_cookies,
                secure,
                "{listen}"
            );
        }
        let told = ["--listen", "0.0.0.0:3000", "--secure-cookies", "false"];
        assert!(!web_settings(&told).secure_cookies);
        let told = ["--listen", "127.0.0.1:3000", "--secure-cookies", "true"];
        assert!(web_settings(&told).secure_cookies);
    }

    #[test]
    fn connections_are_limited_as_configured() {
        fn limits(args: &[&str]) -> ConnectionLimits {
            let args = ["console"].iter().chain(args);
            Cli::try_parse_from(args)
                .unwrap()
                .config
                .connection_limits()
        }
        assert_eq!(limits(&[]), ConnectionLimits::default());
        assert_eq!(
            ConnectionLimits::default().header_read_timeout,
            Duration::from_secs(10)
        );
        let configured = limits(&["--header-read-timeout-secs", "2", "--max-connections", "64"]);
        assert_eq!(configured.header_read_timeout, Duration::from_secs(2));
        assert_eq!(configured.max_connections, 64);
        for refused in [
            ["--header-read-timeout-secs", "0"],
            ["--max-connections", "0"],
        ] {
            let args = ["console"].iter().chain(&refused);
            assert!(Cli::try_parse_from(args).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn the_evidence_secret_is_given_one_way_and_never_made_up() {
        let secret = "an evidence secret of more than 32 bytes";
        assert!(evidence_secret_from(Some(secret), None).is_ok());
        let missing = evidence_secret_from(None, None).unwrap_err();
        assert!(missing.contains("EVIDENCE_SECRET_FILE"), "{missing}");
        assert!(evidence_secret_from(Some("short"), None).is_err());
        let file = std::env::temp_dir().join(format!("evidence-secret-{}", std::process::id()));
        std::fs::write(&file, format!("{secret}\n")).unwrap();
        assert!(evidence_secret_from(None, Some(&file)).is_ok());
        assert!(evidence_secret_from(Some(secret), Some(&file)).is_err());
        std::fs::remove_file(&file).unwrap();
        assert!(evidence_secret_from(None, Some(&file)).is_err());
    }

    #[test]
    fn sessions_last_twelve_hours_at_most_unless_configured() {
        assert_eq!(web_settings(&[]).session_max_hours, 12);
        assert_eq!(
            web_settings(&["--session-max-hours", "4"]).session_max_hours,
            4
        );
        for refused in ["0", "721", "-1", "twelve"] {
            assert!(
                Cli::try_parse_from(["console", "--session-max-hours", refused]).is_err(),
                "{refused}"
            );
        }
    }
}
