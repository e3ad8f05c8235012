//! Configuration from flags or environment variables (an optional `.env` is read first by `main`).

use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// The origin browsers reach the console at: scheme, host and port, as in `https://console.example.com`.
    /// State-changing requests from any other origin are refused. Default: `http://` and the listen address.
    #[arg(long, env = "PUBLIC_ORIGIN", value_parser = origin_of, global = true)]
    pub public_origin: Option<String>,
}

/// What the web side takes from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSettings {
    /// The origin browsers reach the console at, as they write it in an `Origin` header.
    pub public_origin: String,
    /// Whether the cookies are Secure and browsers are told to keep to https.
    pub secure_cookies: bool,
}

impl WebSettings {
    /// The settings of a console listening on `listen` that is given nothing else: reached at `http://` and
    /// that address, cookies not Secure.
    pub fn defaults_for(listen: SocketAddr) -> WebSettings {
        WebSettings {
            public_origin: format!("http://{listen}"),
            secure_cookies: false,
        }
    }
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

    /// The web settings this configuration gives (`public_origin` was checked and written as browsers write it
    /// when the command line was read).
    pub fn web_settings(&self) -> WebSettings {
        let defaults = WebSettings::defaults_for(self.listen);
        WebSettings {
            public_origin: self.public_origin.clone().unwrap_or(defaults.public_origin),
            secure_cookies: self.secure_cookies,
        }
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn a_console_is_reached_at_its_listen_address_unless_told_otherwise() {
        let listen: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(
            WebSettings::defaults_for(listen).public_origin,
            "http://127.0.0.1:3000"
        );
    }
}
