//! The `customer-data-console` binary: serves the console (default), applies migrations, loads the demo data
//! or creates a user. Configuration comes from flags, the environment and an optional `.env`; a missing or bad
//! setting ends the program with one line on stderr.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use customer_data_console::model::Role;
use customer_data_console::salesforce::SalesforceId;
use customer_data_console::server::config::Config;
use customer_data_console::server::storage::Storage;
use customer_data_console::server::{auth, db, demo, erasure, http, synthetic};

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
    /// Create a user, and the account when it does not exist yet.
    CreateUser {
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, default_value = "admin")]
        role: RoleArg,
        /// The user's Salesforce User id (15 or 18 characters).
        #[arg(long)]
        salesforce_id: Option<String>,
        /// The password; read from NEW_USER_PASSWORD so it stays out of the shell history.
        #[arg(long, env = "NEW_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

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
    // The bulk load runs index builds for seconds on purpose: no slow-statement warnings for it.
    let default_filter = match cli.command {
        Some(Command::Seed { .. }) => "info,sqlx=error",
        _ => "info,sqlx=warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let config = cli.config;
    let pool = db::connect(config.database_url()?).await?;
    db::migrate(&pool).await?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config, pool).await,
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::SeedDemo => {
            let storage = Storage::local(&config.object_store_dir)?;
            let report = demo::seed(&pool, &storage).await?;
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
            let report = synthetic::seed(
                &pool,
                size,
                std::io::IsTerminal::is_terminal(&std::io::stderr()),
            )
            .await?;
            println!(
                "{} loaded: {} rows in {:.1} s ({:.0} rows/s); index builds took {:.1} s{}",
                synthetic::ACCOUNT_NAME,
                report.rows,
                report.load_seconds,
                report.rows as f64 / report.load_seconds.max(f64::EPSILON),
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
        Command::CreateUser {
            account,
            name,
            email,
            role,
            salesforce_id,
            password,
        } => {
            let salesforce_id = salesforce_id
                .map(|id| SalesforceId::parse(&id).map_err(|e| format!("--salesforce-id: {e}")))
                .transpose()?;
            if password.chars().count() < 12 {
                return Err("the password needs at least 12 characters".into());
            }
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Agent => Role::Agent,
            };
            let account_id = db::accounts::find_or_create(&pool, &account)
                .await
                .map_err(|e| e.to_string())?;
            let hash = auth::hash_password(&password).map_err(|e| e.to_string())?;
            let created = db::users::create(
                &pool,
                account_id,
                &name,
                &email,
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
    }
}

async fn serve(config: Config, pool: sqlx::PgPool) -> Result<(), String> {
    let storage = Storage::local(&config.object_store_dir)?;
    let options = http::leptos_options(&config.site_root, config.listen);
    let state = http::app_state(options, pool.clone(), storage, config.secure_cookies);
    let app = http::router(state.clone());
    if config.outbox_worker {
        tokio::spawn(erasure::run_outbox_worker(state));
    }
    tokio::spawn(forget_expired_sign_in_state(pool));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!("console listening on http://{}", config.listen);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|e| format!("server stopped: {e}"))
}

/// Every ten minutes, deletes the sessions that expired, the failed sign-ins the rate limit no longer counts
/// and the known browsers whose cookie has expired.
async fn forget_expired_sign_in_state(pool: sqlx::PgPool) {
    loop {
        if let Err(err) = db::sessions::delete_expired(&pool).await {
            tracing::warn!(error = %err, "deleting expired sessions failed");
        }
        if let Err(err) =
            db::sign_in::forget_old_sign_in_records(&pool, auth::LOGIN_WINDOW_MINUTES).await
        {
            tracing::warn!(error = %err, "deleting old sign-in records failed");
        }
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
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
