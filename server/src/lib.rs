//! The `faultline` server: configuration, database, HTTP router and process lifecycle.
//!
//! `main.rs` only parses the command line; everything it runs lives here so integration tests
//! drive the same router in-process.

pub mod ai;
pub mod analysis;
pub mod audit;
pub mod auth;
pub mod backend;
pub mod clock;
pub mod comments;
pub mod config;
pub mod crypto;
pub mod db;
pub mod http;
pub mod ingest;
pub mod push;
pub mod reports;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod tenancy;
pub mod testgen;

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::Router;
use leptos::config::LeptosOptions;
use tokio::net::TcpListener;

pub use config::Config;
pub use db::Db;
pub use http::build_router;
pub use state::AppState;

/// Name of the file, in the site root, that lists the content-hashed asset names.
pub const ASSET_MANIFEST: &str = "asset-manifest.json";

impl AppState {
    /// Assembles the shared state from a configuration and an open database, on the system
    /// clock.
    pub fn new(config: Config, db: Db) -> anyhow::Result<Self> {
        Self::with_clock(config, db, Arc::new(clock::SystemClock))
    }

    /// Assembles the shared state with an injected clock.
    pub fn with_clock(
        config: Config,
        db: Db,
        clock: Arc<dyn clock::Clock>,
    ) -> anyhow::Result<Self> {
        let auth = Arc::new(auth::Auth::new(&config, clock.clone())?);
        let secret = config
            .secret_key
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("FAULTLINE_SECRET_KEY: no secret key resolved"))?;
        let ai = Arc::new(ai::Ai::new(secret.expose(), config.ai.clone())?);
        let storage = storage::Storage::open(&config.ingest.storage)
            .map_err(|e| anyhow::anyhow!("FAULTLINE_STORAGE_URL: {e}"))?;
        let ingest = Arc::new(ingest::Ingest {
            storage,
            hub: ingest::hub::Hub::new(db.clone()),
            worker_id: format!(
                "{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            scratch: config.data_dir.join("scratch"),
            results: ingest::results::ResultCache::default(),
            comparisons: ingest::results::Recent::new(ingest::compare::CACHED_MATRICES),
        });
        let assets = load_asset_manifest(&config.site_root);
        let leptos = LeptosOptions::builder()
            .output_name("faultline")
            .site_root(config.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.addr)
            .build();
        Ok(Self {
            db,
            auth,
            ai,
            ingest,
            clock,
            refresh_cache: Arc::default(),
            security: http::guard::SecurityHeaders::new(config.behind_tls()),
            config: Arc::new(config),
            leptos,
            assets: Arc::new(assets),
            metrics: http::metrics::Metrics::new(),
            started: Instant::now(),
        })
    }
}

/// Reads the asset manifest written by the site build; unhashed names if there is none (a
/// server built without its front end still answers its API and probes).
fn load_asset_manifest(site_root: &Path) -> app::AssetManifest {
    let path = site_root.join(ASSET_MANIFEST);
    match std::fs::read_to_string(&path) {
        Ok(raw) => serde_json::from_str(&raw).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "asset manifest is invalid; using unhashed names");
            app::AssetManifest::default()
        }),
        Err(_) => {
            tracing::warn!(path = %path.display(), "no asset manifest; run `make site` to build the front end");
            app::AssetManifest::default()
        }
    }
}

/// Opens the database named by the configuration and applies pending migrations.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url).await.with_context(|| {
        format!(
            "DATABASE_URL: cannot open {}",
            redact_url(&config.database_url)
        )
    })?;
    let schema = db.migrate().await?;
    tracing::info!(backend = db.backend(), schema_version = ?schema.applied, "database ready");
    if db.row_security_enforced().await? == Some(false) {
        tracing::warn!(
            "connected to PostgreSQL as a superuser or a role with BYPASSRLS: row-level security, \
             the second line of tenant isolation, does not apply; run Faultline as an ordinary role \
             that owns its schema (see README)"
        );
    }
    Ok(db)
}

/// `faultline serve`: migrates, then serves until SIGTERM or Ctrl-C, letting in-flight requests
/// finish.
pub async fn run(mut config: Config) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    if config.resolve_secret()? {
        tracing::warn!(
            path = %config.data_dir.join(config::SECRET_KEY_FILE).display(),
            "FAULTLINE_SECRET_KEY is not set: generated a secret key and saved it in the data directory; \
             set FAULTLINE_SECRET_KEY in production"
        );
    }
    let db = open_database(&config).await?;
    let listener = TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("FAULTLINE_ADDR: cannot listen on {}", config.addr))?;
    tracing::info!(addr = %config.addr, url = %config.public_url, "Faultline is listening");
    let state = AppState::new(config, db.clone())?;
    let sealed = auth::mfa::seal_stored_secrets(&db, &state.auth.totp_sealer).await?;
    if sealed > 0 {
        tracing::info!(users = sealed, "sealed TOTP secrets stored in the clear");
    }
    let workers = ingest::Workers::start(&state);
    serve(listener, build_router(state), shutdown).await?;
    workers.stop(std::time::Duration::from_secs(10)).await;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Serves `router` on `listener` until `shutdown` completes, then waits for in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when
/// the future is first polled, so a signal that arrives while the server is still starting
/// stops it cleanly instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let (terminate, interrupt) = signals;
            tokio::select! {
                () = wait(terminate) => {},
                () = wait(interrupt) => {},
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutdown requested; finishing in-flight requests");
    }
}

/// Hides the password in a database URL before it is logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://data/f.db"), "sqlite://data/f.db");
    }
}
