//! The `faultline` command line.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Organisation settings kept by the server's operator.
    Orgs {
        #[command(subcommand)]
        action: OrgsCommand,
    },
    /// Accounts, for the server's operator.
    Users {
        #[command(subcommand)]
        action: UsersCommand,
    },
    /// Analyse log files (plain, JSON lines, logfmt, syslog, access logs; gzip accepted).
    Analyze {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
        format: OutputFormat,
        /// A previous analysis (JSON) of the same source, to report new, gone and changed patterns.
        #[arg(long, value_name = "PREV.json")]
        previous: Option<std::path::PathBuf>,
        /// Log files to analyse; `-` reads standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<std::path::PathBuf>,
    },
    /// Analyse log files and write regression tests for their error patterns.
    Tests {
        /// pytest, jest, mocha, junit, rspec, phpunit, nunit, gotest, playwright, cypress or
        /// selenium.
        #[arg(long, default_value = "pytest", value_parser = parse_framework)]
        framework: app::api::testgen::Framework,
        /// unit, integration or e2e (repeat for several; default: all the framework writes).
        #[arg(long = "type", value_name = "TYPE", value_parser = parse_test_type)]
        types: Vec<app::api::testgen::TestType>,
        /// The CI configuration to include: github, gitlab, jenkins or circleci.
        #[arg(long, default_value = "github", value_parser = parse_ci)]
        ci: app::api::testgen::CiSystem,
        /// Where the service under test answers (API and page tests).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Module path of the code under test (repeat for several).
        #[arg(long = "module", value_name = "PATH")]
        modules: Vec<String>,
        /// The most tests per pattern (1 to 20).
        #[arg(long, default_value_t = 5)]
        max_per_pattern: u8,
        /// Write the suite into this directory (created; must be empty or new).
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
        /// Write the suite as a ZIP file instead.
        #[arg(long, value_name = "FILE.zip", conflicts_with = "out")]
        zip: Option<std::path::PathBuf>,
        /// Log files to analyse; `-` reads standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<std::path::PathBuf>,
    },
    /// Upload log files to a Faultline server, analyse them there and print a summary and a
    /// link (for CI: exits 1 if the analysis fails).
    Push {
        /// The server's address.
        #[arg(long, env = "FAULTLINE_SERVER", value_name = "URL")]
        server: String,
        /// An API token with create_analyses and view_analyses.
        #[arg(
            long,
            env = "FAULTLINE_TOKEN",
            hide_env_values = true,
            value_name = "TOKEN"
        )]
        token: String,
        /// A name for the analysis (default: the first file's name).
        #[arg(long)]
        name: Option<String>,
        /// The organisation (slug), for a personal token of someone in several.
        #[arg(long)]
        org: Option<String>,
        /// Start the analysis and exit without waiting for it.
        #[arg(long)]
        no_wait: bool,
        /// Log files (text, JSON lines or gzip).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every organisation's hash chain; exits 1 and names each break if one was edited,
    /// deleted or reordered.
    Verify,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Disable an account: it cannot sign in, its sessions end at once and its API tokens stop
    /// working (recorded in the audit logs).
    Disable {
        /// The account's email address.
        email: String,
    },
    /// Re-enable a disabled account (it signs in again; ended sessions stay ended).
    Enable {
        /// The account's email address.
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum OrgsCommand {
    /// Show an organisation's upload limits, or set its own (recorded in its audit log).
    Limits {
        /// The organisation's slug or id.
        org: String,
        /// The largest file it may upload: a size such as 2GiB, or `default` for the server's
        /// FAULTLINE_MAX_UPLOAD_BYTES.
        #[arg(long, value_name = "SIZE", value_parser = parse_limit)]
        max_file: Option<server::ingest::uploads::LimitSetting>,
        /// The bytes of uploads it may keep: a size, or `default` for the server's
        /// FAULTLINE_ORG_QUOTA_BYTES.
        #[arg(long, value_name = "SIZE", value_parser = parse_limit)]
        quota: Option<server::ingest::uploads::LimitSetting>,
    },
}

fn parse_framework(raw: &str) -> Result<app::api::testgen::Framework, String> {
    app::api::testgen::Framework::parse(raw).ok_or_else(|| {
        let names: Vec<&str> = app::api::testgen::Framework::ALL
            .iter()
            .map(|f| f.as_str())
            .collect();
        format!(
            "{raw:?} is not a framework; choose one of {}",
            names.join(", ")
        )
    })
}

fn parse_test_type(raw: &str) -> Result<app::api::testgen::TestType, String> {
    app::api::testgen::TestType::parse(raw)
        .ok_or_else(|| format!("{raw:?} is not a test type; choose unit, integration or e2e"))
}

fn parse_ci(raw: &str) -> Result<app::api::testgen::CiSystem, String> {
    app::api::testgen::CiSystem::parse(raw).ok_or_else(|| {
        format!("{raw:?} is not a CI system; choose github, gitlab, jenkins or circleci")
    })
}

fn parse_limit(raw: &str) -> Result<server::ingest::uploads::LimitSetting, String> {
    server::ingest::uploads::LimitSetting::parse(raw)
        .ok_or_else(|| format!("{raw:?} is not a size (such as 512MB or 2GiB) or `default`"))
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum OutputFormat {
    /// The analysis JSON (docs/analysis-format.md).
    Json,
    /// A readable report.
    Markdown,
    /// The PDF report, with charts (binary: redirect it to a file).
    Pdf,
    /// The XLSX workbook (binary: redirect it to a file).
    Xlsx,
}

fn main() -> ExitCode {
    match Cli::parse().command.unwrap_or(Command::Serve) {
        Command::Templates => templates(),
        Command::Analyze {
            format,
            previous,
            files,
        } => analyze(format, previous.as_deref(), &files),
        Command::Tests {
            framework,
            types,
            ci,
            base_url,
            modules,
            max_per_pattern,
            out,
            zip,
            files,
        } => {
            let request = server::testgen::Request {
                framework,
                types,
                preferences: app::api::testgen::Preferences {
                    max_tests_per_pattern: max_per_pattern,
                    ..Default::default()
                },
                context: app::api::testgen::ProjectContext {
                    base_url,
                    module_paths: modules,
                    ..Default::default()
                },
                ci,
                template: None,
            };
            tests(&request, &files, out.as_deref(), zip.as_deref())
        }
        Command::Push {
            server,
            token,
            name,
            org,
            no_wait,
            files,
        } => push(server::push::Push {
            server,
            token,
            name,
            org,
            files,
            no_wait,
        }),
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
            Command::Audit {
                action: AuditCommand::Verify,
            } => audit_verify(config).await,
            Command::Orgs {
                action:
                    OrgsCommand::Limits {
                        org,
                        max_file,
                        quota,
                    },
            } => org_limits(config, &org, max_file, quota).await,
            Command::Users {
                action: UsersCommand::Disable { email },
            } => set_disabled(config, &email, true).await,
            Command::Users {
                action: UsersCommand::Enable { email },
            } => set_disabled(config, &email, false).await,
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

/// `faultline push`: a client of a server, so it needs none of the server's configuration.
fn push(push: server::push::Push) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}"), 1),
    };
    match runtime.block_on(server::push::run(&push)) {
        Ok(server::push::Ended::Done | server::push::Ended::Started) => ExitCode::SUCCESS,
        Ok(server::push::Ended::NotDone(_)) => ExitCode::from(1),
        Err(e) if e.chain().any(|c| c.is::<server::push::Refused>()) => fail(&format!("{e:#}"), 2),
        Err(e) => fail(&format!("{e:#}"), 1),
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

/// The name standard input goes by in an analysis and in messages.
const STDIN_NAME: &str = "standard input";

/// Copies standard input to a temporary file: the analysis reads its input again when its events
/// outgrow their spool.
fn spool_stdin() -> std::io::Result<tempfile::NamedTempFile> {
    let mut spool = tempfile::NamedTempFile::new()?;
    std::io::copy(&mut std::io::stdin().lock(), &mut spool)?;
    spool.flush()?;
    Ok(spool)
}

/// Checks that `path` (shown as `name`) is a readable file that an upload would accept, or
/// explains on stderr why not (exit 2).
fn check_input(name: &str, path: &std::path::Path) -> Result<(), ExitCode> {
    if let Err(e) = std::fs::metadata(path).and_then(|m| {
        if m.is_dir() {
            Err(std::io::Error::other("is a directory"))
        } else {
            Ok(())
        }
    }) {
        return Err(fail(&format!("cannot read {name}: {e}"), 2));
    }
    match server::ingest::inspect::sniff_file(path) {
        Ok(None) => Ok(()),
        Ok(Some(refusal)) => Err(fail(&format!("cannot analyse {name}: {refusal}"), 2)),
        Err(e) => Err(fail(&format!("cannot read {name}: {e}"), 2)),
    }
}

/// Analyses `files` (`-` is standard input), or explains on stderr why it cannot (exit 2).
fn analyse_files(
    files: &[std::path::PathBuf],
) -> Result<server::analysis::analyze::Analysis, ExitCode> {
    use server::analysis::analyze::{Options, Source, analyze};
    let stdin = std::path::Path::new("-");
    if files.iter().filter(|f| *f == stdin).count() > 1 {
        return Err(fail("standard input (-) can be read only once", 2));
    }
    // Files on disk are checked before standard input is read to its end.
    for file in files.iter().filter(|f| *f != stdin) {
        check_input(&file.display().to_string(), file)?;
    }
    // Kept until the analysis is done: the file is removed when this is dropped.
    let spool = if files.iter().any(|f| f == stdin) {
        let spool =
            spool_stdin().map_err(|e| fail(&format!("cannot read {STDIN_NAME}: {e}"), 2))?;
        check_input(STDIN_NAME, spool.path())?;
        Some(spool)
    } else {
        None
    };
    let sources: Vec<Source> = files
        .iter()
        .map(|file| match &spool {
            Some(spool) if file == stdin => Source::named_file(STDIN_NAME, spool.path()),
            _ => Source::file(file),
        })
        .collect();
    // Dates without a year (syslog) are taken to be in the current year.
    let options = Options {
        time: server::analysis::timestamp::TimeContext::at(server::db::now_ms()),
        spool_dir: None,
    };
    analyze(&sources, options).map_err(|e| fail(&format!("cannot read {e}"), 2))
}

/// `faultline analyze`: prints the analysis of `files`.
fn analyze(
    format: OutputFormat,
    previous: Option<&std::path::Path>,
    files: &[std::path::PathBuf],
) -> ExitCode {
    use server::analysis::analyze::compare;
    let previous = match previous.map(std::fs::read_to_string).transpose() {
        Ok(p) => p,
        Err(e) => return fail(&format!("cannot read the previous analysis: {e}"), 2),
    };
    let mut analysis = match analyse_files(files) {
        Ok(analysis) => analysis,
        Err(code) => return code,
    };
    if let Some(previous) = previous {
        match compare(&analysis, &previous) {
            Ok(comparison) => analysis.comparison = Some(comparison),
            Err(e) => return fail(&format!("--previous: {e}"), 2),
        }
    }
    let binary = matches!(format, OutputFormat::Pdf | OutputFormat::Xlsx);
    if binary && std::io::stdout().is_terminal() {
        return fail(
            "a PDF or XLSX report is binary: redirect it to a file (> report.pdf)",
            2,
        );
    }
    let doc = || server::reports::doc_of_analysis(&analysis).map_err(|e| e.to_string());
    let generated = app::pages::status::format_date(server::db::now_ms());
    let output = match format {
        OutputFormat::Json => serde_json::to_string_pretty(&analysis)
            .map(|json| json + "\n")
            .map(String::into_bytes)
            .map_err(|e| e.to_string()),
        OutputFormat::Markdown => {
            doc().map(|d| (server::reports::markdown("Log analysis", &d) + "\n").into_bytes())
        }
        OutputFormat::Pdf => doc().and_then(|d| {
            let tests = default_suite(&d)?;
            server::reports::pdf::pdf("Log analysis", &d, &tests, &generated)
        }),
        OutputFormat::Xlsx => doc().and_then(|d| {
            let tests = default_suite(&d)?;
            server::reports::xlsx::xlsx("Log analysis", &d, &tests)
        }),
    };
    let bytes = match output {
        Ok(bytes) => bytes,
        Err(e) => return fail(&format!("cannot write the report: {e}"), 1),
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => fail(&format!("cannot write the output: {e}"), 1),
    }
}

/// `faultline tests`: analyses `files` and writes the generated suite to a directory or a ZIP.
fn tests(
    request: &server::testgen::Request,
    files: &[std::path::PathBuf],
    out: Option<&std::path::Path>,
    zip: Option<&std::path::Path>,
) -> ExitCode {
    let analysis = match analyse_files(files) {
        Ok(analysis) => analysis,
        Err(code) => return code,
    };
    let doc = match server::reports::doc_of_analysis(&analysis) {
        Ok(doc) => doc,
        Err(e) => return fail(&format!("cannot read the analysis: {e}"), 1),
    };
    let suite = match server::testgen::generate(&doc, request) {
        Ok(suite) => suite,
        Err(e) => return fail(&e.to_string(), 2),
    };
    let default_dir = std::path::PathBuf::from(format!("faultline-{}-tests", request.framework));
    let written = match zip {
        Some(path) => server::testgen::bundle::zip(&suite)
            .and_then(|bytes| std::fs::write(path, bytes))
            .map(|()| path.display().to_string()),
        None => {
            let dir = out.unwrap_or(&default_dir);
            server::testgen::bundle::write_dir(&suite, dir).map(|()| dir.display().to_string())
        }
    };
    let target = match written {
        Ok(target) => target,
        Err(e) => return fail(&format!("cannot write the suite: {e}"), 1),
    };
    let mut err = std::io::stderr().lock();
    let c = &suite.coverage;
    let _ = writeln!(
        err,
        "{} test(s) in {} file(s) written to {target}\n{} of {} checked file(s) valid\ncoverage: {} of {} error pattern(s) ({:.0} %)",
        suite.tests,
        suite.files.len(),
        suite.valid_files,
        suite.checked_files,
        c.covered,
        c.error_patterns,
        c.ratio * 100.0
    );
    for u in &c.uncovered {
        let _ = writeln!(
            err,
            "  not covered: {} (risk {:.2}): {}",
            u.pattern, u.risk, u.suggestion
        );
    }
    for note in &suite.notes {
        let _ = writeln!(err, "note: {note}");
    }
    for file in suite
        .files
        .iter()
        .filter(|f| !f.validation.valid && !f.validation.checker.is_empty())
    {
        for e in &file.validation.errors {
            let _ = writeln!(err, "{}:{}:{}: {}", file.path, e.line, e.column, e.message);
        }
    }
    if suite.valid_files < suite.checked_files {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn migrate(config: server::Config) -> anyhow::Result<()> {
    let db = server::open_database(&config).await?;
    let status = db.schema_status().await?;
    tracing::info!(applied = ?status.applied, expected = status.expected, "migrations applied");
    db.close().await;
    Ok(())
}

/// `faultline audit verify`: reports each broken chain, or how many entries verified.
async fn audit_verify(config: server::Config) -> anyhow::Result<()> {
    let db = server::open_database(&config).await?;
    let (checked, breaks) = server::audit::verify(&db).await?;
    db.close().await;
    let mut out = std::io::stdout().lock();
    if breaks.is_empty() {
        writeln!(out, "audit log intact: {checked} entries verified")?;
        return Ok(());
    }
    for b in &breaks {
        let org = if b.org_id.is_empty() {
            "(instance)"
        } else {
            b.org_id.as_str()
        };
        writeln!(
            out,
            "BROKEN organisation {org} at entry {}: {}",
            b.seq, b.problem
        )?;
    }
    anyhow::bail!(
        "the audit log was altered: {} chain(s) broken ({checked} entries checked)",
        breaks.len()
    )
}

/// `faultline orgs limits`: sets what was given, then prints the limits that apply.
async fn org_limits(
    config: server::Config,
    org: &str,
    max_file: Option<server::ingest::uploads::LimitSetting>,
    quota: Option<server::ingest::uploads::LimitSetting>,
) -> anyhow::Result<()> {
    use app::format::binary_size;
    let db = server::open_database(&config).await?;
    let configured = server::ingest::uploads::configure_limits(
        &db,
        &config.ingest,
        org,
        max_file,
        quota,
        "operator (faultline orgs limits)",
        server::db::now_ms(),
    )
    .await;
    db.close().await;
    let Some(c) = configured? else {
        anyhow::bail!("no organisation has the slug or id {org:?}");
    };
    let whose = |own: bool| {
        if own {
            "its own"
        } else {
            "the server's default"
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "per file:  {} ({})",
        binary_size(c.applied.max_file),
        whose(c.own_max_file)
    )?;
    writeln!(
        out,
        "quota:     {} ({})",
        binary_size(c.applied.quota),
        whose(c.own_quota)
    )?;
    writeln!(out, "used:      {}", binary_size(c.applied.used))?;
    Ok(())
}

/// The suite a report summarises when no settings apply: pytest, default preferences.
fn default_suite(doc: &app::api::patterns::ResultDoc) -> Result<app::api::testgen::Suite, String> {
    server::testgen::generate(doc, &server::testgen::Request::default()).map_err(|e| e.to_string())
}

/// `faultline users disable|enable EMAIL`.
async fn set_disabled(config: server::Config, email: &str, disabled: bool) -> anyhow::Result<()> {
    let db = server::open_database(&config).await?;
    let actor = if disabled {
        "operator (faultline users disable)"
    } else {
        "operator (faultline users enable)"
    };
    let outcome =
        server::auth::account::set_disabled(&db, email, disabled, actor, server::db::now_ms())
            .await;
    db.close().await;
    let Some(done) = outcome? else {
        anyhow::bail!("no account has the email address {email:?}");
    };
    let state = if disabled { "disabled" } else { "enabled" };
    let mut out = std::io::stdout().lock();
    if !done.changed {
        writeln!(out, "{} was already {state}", done.user.email)?;
    } else if disabled {
        writeln!(
            out,
            "{} is disabled: {} session(s) ended; recorded in {} organisation log(s)",
            done.user.email, done.sessions_ended, done.orgs
        )?;
    } else {
        writeln!(
            out,
            "{} is enabled; recorded in {} organisation log(s)",
            done.user.email, done.orgs
        )?;
    }
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
