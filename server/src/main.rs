//! The `faultline` command line.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Faultline turns production logs into findings and runnable regression tests.
#[derive(Debug, Parser)]
#[command(name = "faultline", version, about, long_about = None)]
#[command(after_help = "Configuration is read from environment variables; see README.md.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app and API (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match server::Config::from_env() {
        Ok(config) => config,
        Err(e) => return fail(&format!("configuration error: {e}"), 2),
    };
    server::telemetry::init(&config);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}"), 1),
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => server::run(config).await,
            Command::Migrate => migrate(config).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "faultline stopped with an error");
            let code = if is_config_error(&e) { 2 } else { 1 };
            fail(&format!("error: {e:#}"), code)
        }
    }
}

async fn migrate(config: server::Config) -> anyhow::Result<()> {
    let db = server::open_database(&config).await?;
    let status = db.schema_status().await?;
    tracing::info!(applied = ?status.applied, expected = status.expected, "migrations applied");
    db.close().await;
    Ok(())
}

/// A problem the user fixes in the environment (bad address, unreachable database URL).
fn is_config_error(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.is::<server::config::ConfigError>())
        || error.to_string().starts_with("DATABASE_URL:")
        || error.to_string().starts_with("FAULTLINE_ADDR:")
}

/// Prints one line to standard error and returns `code`.
fn fail(message: &str, code: u8) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "faultline: {message}");
    ExitCode::from(code)
}
