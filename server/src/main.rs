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
    /// Read log messages on stdin, one per line; write one template per line, in order.
    Templates,
}

fn main() -> ExitCode {
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Templates => templates(),
        command => with_runtime(command),
    }
}

/// Runs the commands that need configuration, logging and the async runtime.
fn with_runtime(command: Command) -> ExitCode {
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
        match command {
            Command::Migrate => migrate(config).await,
            _ => server::run(config).await,
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

/// Runs without configuration or a runtime: it is a filter over stdin.
fn templates() -> ExitCode {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    match server::analysis::write_templates(stdin, stdout) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&format!("cannot read the input: {e}"), 2),
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
