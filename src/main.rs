//! The `customer-data-console` binary: serves the console (default), applies migrations, loads the demo data,
//! creates a user, verifies the audit log, rotates the receipt signing key or verifies a receipt offline.
//! Configuration comes from flags, the environment and an optional `.env`; a missing or bad
//! setting ends the program with one line on stderr.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use customer_data_console::model::Role;
use customer_data_console::salesforce::SalesforceId;
use customer_data_console::server::authz::ApiScope;
use customer_data_console::server::config::Config;
use customer_data_console::server::evidence::audit_log;
use customer_data_console::server::evidence::receipt_keys::{self, ReceiptKeys};
use customer_data_console::server::evidence::receipts;
use customer_data_console::server::password_policy::check_new_password;
use customer_data_console::server::storage::Storage;
use customer_data_console::server::{auth, db, demo, http, input, keys, security_log, synthetic};
use sqlx::PgPool;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Parser)]
#[command(
    name = "customer-data-console",
    version,
    about = "Find a person's records and erase their call and message data"
)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web console (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo accounts, users, customers, calls, messages and recordings; safe to repeat.
    SeedDemo,
    /// Fill a fresh database with a synthetic tenant at a large customer's scale (for benchmarks and load).
    Seed {
        #[arg(long, default_value_t = 1_000_000)]
        customers: u64,
        #[arg(long, default_value_t = 10_000_000)]
        calls: u64,
        #[arg(long, default_value_t = 10_000_000)]
        messages: u64,
    },
    /// Seal the call and message values and stored files written before keys existed under their records' data
    /// keys; resumable.
    SealExisting,
    /// Create a user. The password comes from NEW_USER_PASSWORD or is typed at a prompt, never from a flag.
    CreateUser(NewUser),
    /// Add a new current key to RECEIPT_SIGNING_KEY_FILE (creating the file when missing); the older keys stay
    /// in it, retired, so that the receipts they signed remain verifiable. Needs no database.
    RotateReceiptKey,
    /// Erasure receipts.
    #[command(subcommand)]
    Receipt(ReceiptCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Make an API token for /api/v1 and print its secret, once (it is stored only as a hash).
    CreateToken(NewToken),
    /// Revoke an API token: its next request is refused.
    RevokeToken {
        /// The token's id, as `create-token` printed it.
        id: uuid::Uuid,
    },
    /// Write the Brotli and gzip variants of the built files and public/'s files in the site folder (after
    /// `cargo leptos build`; `serve` also writes any that are missing). Needs no database.
    CompressAssets,
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Verify a receipt (.jws) offline and print its summary; exits non-zero with the reason when its signature
    /// or format is wrong. Needs no database and fetches nothing.
    Verify {
        /// The receipt file, as downloaded from /requests/{id}/receipt.jws.
        file: std::path::PathBuf,
        /// The public keys, a JWKS file (as served at /.well-known/receipt-keys.json). Default: the public keys
        /// of RECEIPT_SIGNING_KEY_FILE.
        #[arg(long)]
        keys: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute every account's hash chain (or one account's) and print the number of rows verified, or the
    /// first broken row and why; the exit status is 0 when intact, 1 when broken.
    Verify {
        /// Only this account's chain (its id).
        #[arg(long)]
        account: Option<uuid::Uuid>,
    },
}

#[derive(clap::Args)]
struct NewUser {
    /// The name of the user's account.
    #[arg(long)]
    account: String,
    /// Create the account when none has this name (without it an unknown name is refused, so that a typo does
    /// not make a new tenant).
    #[arg(long)]
    create_account: bool,
    #[arg(long)]
    name: String,
    #[arg(long)]
    email: String,
    #[arg(long, value_enum, default_value = "admin")]
    role: RoleArg,
    /// The user's Salesforce User id (15 or 18 characters).
    #[arg(long)]
    salesforce_id: Option<String>,
}

#[derive(clap::Args)]
struct NewToken {
    /// The name of the token's account.
    #[arg(long)]
    account: String,
    /// What the token is for (1 to 100 characters).
    #[arg(long)]
    name: String,
    /// Comma-separated: requests:read, requests:write, audit:read, ingest.
    #[arg(long)]
    scopes: String,
    /// Days until the token stops working; it does not expire without it.
    #[arg(long)]
    expires_days: Option<u16>,
    /// The email of the account's Admin the token acts for: the erasure requests it makes are requested by them
    /// and run with their access to Customer Data. Needed for requests:write.
    #[arg(long)]
    admin: Option<String>,
}

/// Where `create-user` reads the password from when no terminal is there to type it in.
const PASSWORD_VARIABLE: &str = "NEW_USER_PASSWORD";

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Admin,
    Agent,
}

#[tokio::main]
async fn main() -> ExitCode {
    dotenvy::dotenv().ok();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => err.exit(),
        Err(err) => {
            let rendered = err.to_string();
            eprintln!("{}", rendered.lines().next().unwrap_or("invalid arguments"));
            return ExitCode::from(2);
        }
    };
    // The bulk load runs index builds, and the audit log's verification reads every row, for seconds on purpose:
    // no slow-statement warnings for them.
    let default_filter = match cli.command {
        Some(Command::Seed { .. } | Command::Audit(_)) => "info,sqlx=error",
        _ => "info,sqlx=warn",
    };
    let security_events = match security_log_writer(cli.config.security_log.as_deref()) {
        Ok(writer) => writer,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(
                    tracing_subscriber::EnvFilter::try_from_default_env()
                        .unwrap_or_else(|_| default_filter.into()),
                )
                .with_filter(filter_fn(security_log::is_diagnostic)),
        )
        .with(security_log::json_layer(security_events))
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Where the security events go: appended to `path`, or to standard output.
fn security_log_writer(path: Option<&Path>) -> Result<BoxMakeWriter, String> {
    let Some(path) = path else {
        return Ok(BoxMakeWriter::new(std::io::stdout));
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open the security log {}: {e}", path.display()))?;
    Ok(BoxMakeWriter::new(std::sync::Mutex::new(file)))
}

/// Writes the compressed variants of the site folder's files (see `http::precompress_site`).
fn compress_assets(config: &Config) -> Result<(), String> {
    let site = Path::new(&config.site_root);
    let options = http::leptos_options(&config.site_root, config.listen);
    let written = http::precompress_site(site, &options.output_name)
        .map_err(|e| format!("cannot compress the files of {}: {e}", site.display()))?;
    println!(
        "{written} compressed variants written in {}",
        site.display()
    );
    Ok(())
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = cli.config;
    let command = cli.command.unwrap_or(Command::Serve);
    match &command {
        Command::CompressAssets => return compress_assets(&config),
        Command::RotateReceiptKey => return rotate_receipt_key(&config),
        Command::Receipt(receipt) => return receipt_command(&config, receipt),
        _ => {}
    }
    if let Command::Serve = command {
        // Checked before the database is touched, so that a missing secret is the one line an operator sees.
        config.evidence_secret()?;
    }
    let pool = db::connect(config.database_url()?).await?;
    db::migrate(&pool).await?;
    match command {
        Command::Serve => http::serve(config, pool).await,
        Command::Migrate => {
            let keyring = http::open_keyring(&config).await?;
            println!(
                "migrations applied; the keyring is ready, its root in {}",
                keyring.root_file().display()
            );
            if keys::existing::unsealed_rows_remain(&pool)
                .await
                .map_err(|e| format!("cannot look for unsealed rows: {e}"))?
            {
                println!(
                    "calls or messages written before keys existed are not sealed yet: run seal-existing"
                );
            }
            Ok(())
        }
        Command::SealExisting => {
            let storage = Storage::local(&config.object_store_dir)?;
            let keyring = http::open_keyring(&config).await?;
            let report = keys::existing::seal_existing(
                &pool,
                &storage,
                &keyring,
                std::io::IsTerminal::is_terminal(&std::io::stderr()),
            )
            .await
            .map_err(|e| e.to_string())?;
            println!(
                "sealed {} calls, {} messages and {} stored files",
                report.calls, report.messages, report.files
            );
            Ok(())
        }
        Command::SeedDemo => {
            let storage = Storage::local(&config.object_store_dir)?;
            let keyring = http::open_keyring(&config).await?;
            let report = demo::seed(&pool, &storage, &keyring).await?;
            println!(
                "demo data: {} users, {} customers, {} calls, {} messages, {} files added",
                report.users, report.customers, report.calls, report.messages, report.files
            );
            Ok(())
        }
        Command::Seed {
            customers,
            calls,
            messages,
        } => {
            let size = synthetic::Size {
                customers,
                calls,
                messages,
            };
            let keyring = http::open_keyring(&config).await?;
            let report = synthetic::seed(
                &pool,
                &keyring,
                size,
                std::io::IsTerminal::is_terminal(&std::io::stderr()),
            )
            .await?;
            println!(
                "{} loaded: {} rows in {:.1} s ({:.0} rows/s, sealed; {} data keys made in {:.1} s of it); index builds took {:.1} s{}",
                synthetic::ACCOUNT_NAME,
                report.rows,
                report.load_seconds,
                report.rows as f64 / report.load_seconds.max(f64::EPSILON),
                report.keys_made,
                report.key_seconds,
                report.index_seconds,
                if report.fresh_database {
                    ""
                } else {
                    " (database not fresh: indexes kept, rows checked)"
                }
            );
            println!(
                "sign in as {} / {}",
                synthetic::ADMIN_EMAIL,
                demo::DEMO_PASSWORD
            );
            Ok(())
        }
        Command::CreateUser(new_user) => create_user(&pool, new_user).await,
        Command::CreateToken(new_token) => create_token(&pool, new_token).await,
        Command::RevokeToken { id } => {
            match db::api_tokens::revoke(&pool, None, id, audit_log::Actor::System).await {
                Ok(true) => {
                    println!("revoked the API token {id}");
                    Ok(())
                }
                Ok(false) => Err(format!("no live API token has the id {id}")),
                Err(e) => Err(format!("cannot revoke the token: {e}")),
            }
        }
        Command::Audit(AuditCommand::Verify { account }) => verify_audit_log(&pool, account).await,
        Command::CompressAssets => compress_assets(&config),
        Command::RotateReceiptKey => rotate_receipt_key(&config),
        Command::Receipt(receipt) => receipt_command(&config, &receipt),
    }
}

/// Runs a `receipt` subcommand: `verify` prints the summary of a receipt that verifies.
fn receipt_command(config: &Config, command: &ReceiptCommand) -> Result<(), String> {
    match command {
        ReceiptCommand::Verify { file, keys } => {
            let summary = receipts::verify_file(
                file,
                keys.as_deref(),
                config.receipt_signing_key_file.as_deref(),
            )?;
            println!("{}", summary.join("\n"));
            Ok(())
        }
    }
}

/// Adds a new current receipt signing key to the configured key file and lists the file's keys.
fn rotate_receipt_key(config: &Config) -> Result<(), String> {
    let path = config
        .receipt_signing_key_file
        .as_deref()
        .ok_or("RECEIPT_SIGNING_KEY_FILE is not set: give it in the environment, in .env or with --receipt-signing-key-file")?;
    let kid = ReceiptKeys::rotate(path)?;
    println!("added receipt signing key {kid} to {}", path.display());
    for line in receipt_keys::describe(&ReceiptKeys::load(path)?) {
        println!("  {line}");
    }
    Ok(())
}

/// Verifies the audit log's chains (see `evidence::audit_log::verify`) and prints the outcome and its pace; a
/// broken chain is an error, so the exit status says which.
async fn verify_audit_log(pool: &PgPool, account: Option<uuid::Uuid>) -> Result<(), String> {
    let started = std::time::Instant::now();
    let verification = audit_log::verify(pool, account)
        .await
        .map_err(|e| format!("cannot read the audit log: {e}"))?;
    match verification {
        audit_log::Verification::Intact { rows, .. } => {
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{verification} in {seconds:.2} s ({:.0} rows/s)",
                rows as f64 / seconds.max(f64::EPSILON)
            );
            Ok(())
        }
        broken => Err(broken.to_string()),
    }
}

/// Creates the user after checking the password (see `password_policy`) and that the account exists (or,
/// with `--create-account`, creating it).
async fn create_user(pool: &PgPool, new_user: NewUser) -> Result<(), String> {
    let salesforce_id = new_user
        .salesforce_id
        .as_deref()
        .map(|id| SalesforceId::parse(id).map_err(|e| format!("--salesforce-id: {e}")))
        .transpose()?;
    let password = new_user_password()?;
    check_new_password(
        &password,
        &[&new_user.account, &new_user.name, &new_user.email],
    )?;
    let role = match new_user.role {
        RoleArg::Admin => Role::Admin,
        RoleArg::Agent => Role::Agent,
    };
    let account = &new_user.account;
    let existing = db::accounts::find_by_name(pool, account)
        .await
        .map_err(|e| e.to_string())?;
    let account_id = match existing {
        Some(id) => id,
        None if new_user.create_account => {
            let id = db::accounts::create(pool, account)
                .await
                .map_err(|e| e.to_string())?;
            println!("created the account {account}");
            id
        }
        None => {
            return Err(format!(
                "no account is named {account}: check the name, or add --create-account to create it"
            ));
        }
    };
    let hash = auth::hash_password(&password).map_err(|e| e.to_string())?;
    let email = &new_user.email;
    let created = db::users::create(
        pool,
        account_id,
        &new_user.name,
        email,
        role,
        salesforce_id.as_ref(),
        hash.as_str(),
    )
    .await
    .map_err(|e| format!("cannot create the user: {e}"))?;
    match created {
        Some(id) => {
            println!("created {} {email} ({id}) in {account}", role.label());
            Ok(())
        }
        None => Err(format!("a user with the email {email} already exists")),
    }
}

/// Makes the API token `new_token` describes and prints its id and secret.
async fn create_token(pool: &PgPool, new_token: NewToken) -> Result<(), String> {
    let expires_days = new_token.expires_days.map(|days| days.to_string());
    let (name, scopes, expires_in) = input::api_token(
        &new_token.name,
        &new_token.scopes,
        expires_days.as_deref().unwrap_or_default(),
    )
    .map_err(|refusal| refusal.to_string())?;
    let account = &new_token.account;
    let account_id = db::accounts::find_by_name(pool, account)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account is named {account}"))?;
    let admin = match new_token.admin.as_deref() {
        Some(email) => Some(
            db::users::admin_of_account(pool, account_id, email)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("--admin: {account} has no Admin with the email {email}"))?,
        ),
        None if scopes.contains(&ApiScope::RequestsWrite) => {
            return Err(
                "--admin: a token with requests:write acts for an Admin of the account; name them by email"
                    .to_owned(),
            );
        }
        None => None,
    };
    let spec = db::api_tokens::TokenSpec {
        name: &name,
        scopes: &scopes,
        expires_in,
        admin,
    };
    let token = db::api_tokens::create(pool, account_id, &spec, audit_log::Actor::System)
        .await
        .map_err(|e| format!("cannot make the token: {e}"))?;
    println!("made the API token {} in {account}", token.id);
    println!("{}", token.secret);
    Ok(())
}

/// The new user's password: `PASSWORD_VARIABLE`, or typed twice at a prompt that does not echo it. Never a
/// flag, which the shell history and the process list would keep.
fn new_user_password() -> Result<String, String> {
    match std::env::var(PASSWORD_VARIABLE) {
        Ok(password) => return Ok(password),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(format!("{PASSWORD_VARIABLE} is not valid UTF-8"));
        }
        Err(std::env::VarError::NotPresent) => {}
    }
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "no password: set {PASSWORD_VARIABLE}, or run create-user in a terminal to type it"
        ));
    }
    let typed = |prompt: &str| {
        rpassword::prompt_password(prompt).map_err(|e| format!("cannot read the password: {e}"))
    };
    let password = typed("Password for the new user: ")?;
    if typed("The same password again: ")? != password {
        return Err("the two passwords differ".into());
    }
    Ok(password)
}
