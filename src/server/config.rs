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
