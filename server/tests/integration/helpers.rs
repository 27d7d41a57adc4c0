//! `TestApp`: the real router over an isolated database (a fresh SQLite file, or a fresh
//! PostgreSQL schema when `TEST_DATABASE_URL` is set), driven in-process.

use std::collections::HashMap;
use std::str::FromStr;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use sqlx::postgres::PgConnectOptions;
use tower::ServiceExt;

use server::clock::ManualClock;
use server::{AppState, Config, Db};

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `$body` (an async block using `app`) once per backend, as two test functions.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let $app = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await;
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let Some($app) =
                    $crate::helpers::TestApp::try_spawn($crate::helpers::Backend::Postgres).await
                else {
                    return;
                };
                $body
            }
        }
    };
}

/// The application under test and what it needs to clean up.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub backend: Backend,
    /// The app's clock; tests move it instead of sleeping.
    pub clock: std::sync::Arc<ManualClock>,
    /// The database as someone with full access sees it (on PostgreSQL the administrator, past
    /// row-level security): for checking what was stored and for tampering on purpose.
    pub raw: Db,
    dir: tempfile::TempDir,
    schema: Option<(String, String)>,
}

/// A response with its body read.
pub struct TestResponse {
    pub status: u16,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A port nothing listens on yet, for real servers started by tests.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A configuration pointing at `dir` for data and site files.
pub fn test_config(dir: &std::path::Path, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert(
        "FAULTLINE_DATA_DIR".into(),
        dir.join("data").display().to_string(),
    );
    vars.insert(
        "FAULTLINE_SITE_ROOT".into(),
        dir.join("site").display().to_string(),
    );
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    let mut config = Config::from_vars(&vars).expect("test configuration is valid");
    config.resolve_secret().expect("secret key");
    config
}

/// Writes a minimal built site: a manifest, one hashed stylesheet with its gzip twin, and the
/// public files.
fn write_site(dir: &std::path::Path) {
    let pkg = dir.join("site/pkg");
    std::fs::create_dir_all(&pkg).expect("site dir");
    let css = "body{color:red}".repeat(100);
    std::fs::write(pkg.join("faultline.0123456789abcdef.css"), &css).expect("css");
    let mut gz = gzip(css.as_bytes());
    std::fs::write(pkg.join("faultline.0123456789abcdef.css.gz"), &mut gz).expect("gz");
    std::fs::write(
        dir.join("site/asset-manifest.json"),
        r#"{"js":"faultline.aaaa.js","wasm":"faultline.bbbb.wasm","css":"faultline.0123456789abcdef.css"}"#,
    )
    .expect("manifest");
    std::fs::write(dir.join("site/robots.txt"), "User-agent: *\n").expect("robots");
}

/// Compresses with the system `gzip`, as the site build does.
fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip is installed");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(data)
        .expect("write");
    child.wait_with_output().expect("gzip output").stdout
}

impl TestApp {
    /// Spawns on `backend`, panicking if it is unavailable.
    pub async fn spawn(backend: Backend) -> Self {
        Self::try_spawn(backend).await.expect("backend available")
    }

    /// Spawns on `backend`; `None` for PostgreSQL when `TEST_DATABASE_URL` is unset.
    pub async fn try_spawn(backend: Backend) -> Option<Self> {
        Self::try_spawn_with(backend, &[]).await
    }

    /// Spawns with extra configuration variables.
    pub async fn try_spawn_with(backend: Backend, vars: &[(&str, &str)]) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        write_site(dir.path());
        let (db, raw, schema) = match backend {
            Backend::Sqlite => {
                let url = format!(
                    "sqlite://{}",
                    dir.path().join("data/faultline.db").display()
                );
                let db = Db::connect(&url).await.expect("sqlite opens");
                (db.clone(), db, None)
            }
            Backend::Postgres => {
                let url = std::env::var("TEST_DATABASE_URL")
                    .ok()
                    .filter(|u| !u.is_empty())?;
                let (db, schema) = isolated_postgres(&url).await;
                let admin = PgConnectOptions::from_str(&url)
                    .expect("valid url")
                    .options([("search_path", schema.as_str())])
                    .application_name(&schema);
                let raw = Db::connect_postgres(admin).await.expect("postgres opens");
                (db, raw, Some((url, schema)))
            }
        };
        db.migrate().await.expect("migrations apply");
        let config = test_config(dir.path(), vars);
        let clock = ManualClock::new(server::db::now_ms());
        let state = AppState::with_clock(config, db, clock.clone()).expect("state");
        Some(Self {
            router: server::build_router(state.clone()),
            state,
            backend,
            clock,
            raw,
            dir,
            schema,
        })
    }

    /// Sends a request through the router.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        send(&self.router, request).await
    }

    /// The data directory (outbox, SQLite file).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }
}

/// The longest any request may take in a test, its body included (a sandboxed test run is the
/// slowest); a request past it fails the test, naming it, instead of holding up the suite.
const REQUEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Sends `request` to `router` and reads the whole response.
pub async fn send(router: &Router, request: Request<Body>) -> TestResponse {
    let what = format!("{} {}", request.method(), request.uri());
    let answer = async {
        let response: Response<Body> = router.clone().oneshot(request).await.expect("infallible");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body reads")
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    };
    tokio::time::timeout(REQUEST_LIMIT, answer)
        .await
        .unwrap_or_else(|_| panic!("{what} was not answered within {REQUEST_LIMIT:?}"))
}

/// The role tests connect as: an ordinary one, as production should use, so row-level security
/// applies (superusers skip it).
pub const APP_ROLE: &str = "faultline_test_app";

/// Creates a fresh schema owned by [`APP_ROLE`] and a pool whose connections use both.
async fn isolated_postgres(url: &str) -> (Db, String) {
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(url)
        .await
        .expect("TEST_DATABASE_URL reachable");
    // Tests run in parallel: whichever creates the role first wins, the others find it.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "do $$ begin
             create role {APP_ROLE} login nosuperuser nobypassrls;
         exception when duplicate_object or unique_violation then null;
         end $$"
    )))
    .execute(&admin)
    .await
    .expect("create the application role");
    // The name is generated above from a UUID, never from input.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create schema {schema} authorization {APP_ROLE}"
    )))
    .execute(&admin)
    .await
    .expect("create schema");
    admin.close().await;
    let options = PgConnectOptions::from_str(url)
        .expect("valid url")
        .username(APP_ROLE)
        .options([("search_path", schema.as_str())])
        .application_name(&schema);
    let db = Db::connect_postgres(options).await.expect("postgres opens");
    (db, schema)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some((url, schema)) = self.schema.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block; use a thread of our own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(admin) = sqlx::PgPool::connect(&url).await {
                    // The test's own pool cannot close from here (its runtime is blocked in
                    // this drop), and a transaction it left open would block the drop.
                    let _ = sqlx::query(
                        "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
                    )
                    .bind(&schema)
                    .execute(&admin)
                    .await;
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "drop schema if exists {schema} cascade"
                    )))
                    .execute(&admin)
                    .await;
                    admin.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
