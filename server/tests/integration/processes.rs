//! Real `faultline` processes: `push` against a running server, a server killed with `kill -9`
//! in the middle of an analysis, and two servers sharing one PostgreSQL database.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use crate::helpers::free_port;
use crate::ingest::{gzip, sample_log};

const BIN: &str = env!("CARGO_BIN_EXE_faultline");

/// A `faultline serve` process, killed when dropped.
struct Server {
    child: Child,
    url: String,
    dir: PathBuf,
    env: Vec<(String, String)>,
}

impl Server {
    async fn start(dir: &Path, database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut all: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), database_url.into()),
            (
                "FAULTLINE_DATA_DIR".into(),
                dir.join("data").display().to_string(),
            ),
            (
                "FAULTLINE_SITE_ROOT".into(),
                dir.join("site").display().to_string(),
            ),
            ("FAULTLINE_SECRET_KEY".into(), "k".repeat(48)),
            ("FAULTLINE_LOG".into(), "warn".into()),
        ];
        all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Self::spawn(dir.to_owned(), all).await
    }

    async fn spawn(dir: PathBuf, env: Vec<(String, String)>) -> Self {
        std::fs::create_dir_all(&dir).expect("server directory");
        let port = free_port();
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .current_dir(&dir)
            .env("FAULTLINE_ADDR", format!("127.0.0.1:{port}"))
            .env("FAULTLINE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in &env {
            command.env(k, v);
        }
        let child = command.spawn().expect("faultline serve starts");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{url}/readyz")).await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "the server did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            child,
            url,
            dir,
            env,
        }
    }

    /// The same server again (same database, data directory and settings) on a new port.
    async fn restart(&self) -> Self {
        Self::spawn(self.dir.clone(), self.env.clone()).await
    }

    fn kill_9(&mut self) {
        let status = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn call(
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// Signs up and creates an organisation token for CI; returns (org slug, token).
async fn ci_token(server: &Server, email: &str) -> (String, String) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/signup", server.url))
        .json(&json!({"email": email, "password": crate::identity::PASSWORD, "org_name": "Acme"}))
        .send()
        .await
        .expect("signup");
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.expect("json");
    let access = body["access_token"].as_str().expect("access").to_owned();
    let slug = body["org"]["slug"].as_str().expect("slug").to_owned();
    let (status, token) = call(
        reqwest::Method::POST,
        &format!("{}/api/v1/orgs/{slug}/tokens", server.url),
        &access,
        Some(json!({"name": "ci", "kind": "org", "scopes": ["create_analyses", "view_analyses"]})),
    )
    .await;
    assert_eq!(status, 201, "{token}");
    (slug, token["token"].as_str().expect("token").to_owned())
}

async fn upload_and_start(server: &Server, token: &str, text: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/uploads?name=big.log", server.url))
        .bearer_auth(token)
        .body(text.to_owned())
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), 201);
    let upload: Value = r.json().await.expect("json");
    let (status, started) = call(
        reqwest::Method::POST,
        &format!("{}/api/v1/analyses", server.url),
        token,
        Some(json!({"upload_ids": [upload["id"]]})),
    )
    .await;
    assert_eq!(status, 202, "{started}");
    started["id"].as_str().expect("id").to_owned()
}

async fn wait_until(
    server: &Server,
    token: &str,
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (status, view) = call(
            reqwest::Method::GET,
            &format!("{}/api/v1/analyses/{id}?result=false", server.url),
            token,
            None,
        )
        .await;
        assert_eq!(status, 200, "{view}");
        if done(&view) {
            return view;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn push(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .arg("push")
        .args(args)
        .env_remove("FAULTLINE_TOKEN")
        .env_remove("FAULTLINE_SERVER")
        .output()
        .expect("faultline push runs")
}

#[tokio::test]
async fn push_uploads_analyses_and_prints_a_summary_and_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}",
        dir.path().join("data/faultline.db").display()
    );
    let server = Server::start(dir.path(), &url, &[("FAULTLINE_WORKERS", "1")]).await;
    let (slug, token) = ci_token(&server, "ci@acme.example").await;
    let a = dir.path().join("api.log");
    let b = dir.path().join("worker.log.gz");
    std::fs::write(&a, sample_log(3000)).expect("write");
    std::fs::write(&b, gzip(sample_log(1500).as_bytes())).expect("write");
    let out = push(&[
        "--server",
        &server.url,
        "--token",
        &token,
        "--name",
        "nightly",
        &a.display().to_string(),
        &b.display().to_string(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("uploaded api.log"), "{stderr}");
    assert!(stderr.contains("uploaded worker.log.gz"), "{stderr}");
    assert!(stdout.starts_with("nightly\n"), "{stdout}");
    assert!(stdout.contains("events          4,500"), "{stdout}");
    assert!(
        stdout.contains(" pytest (") && stdout.contains("error patterns covered)"),
        "the tests written are summarised: {stdout}"
    );
    let link = stdout.lines().last().expect("link");
    assert!(
        link.starts_with(&format!("{}/orgs/{slug}/analyses/", server.url)),
        "{stdout}"
    );

    // Pushing the same file again reuses the upload.
    let out = push(&[
        "--server",
        &server.url,
        "--token",
        &token,
        "--no-wait",
        &a.display().to_string(),
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already uploaded"));

    // Refusals are one clear line and exit 2.
    let png = dir.path().join("screenshot.log");
    std::fs::write(
        &png,
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01".repeat(20),
    )
    .expect("write");
    let out = push(&[
        "--server",
        &server.url,
        "--token",
        &token,
        &png.display().to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("PNG image"), "{stderr}");
    let out = push(&[
        "--server",
        &server.url,
        "--token",
        "flt_wrong",
        &a.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = push(&[
        "--server",
        &server.url,
        "--token",
        &token,
        "/no/such/file.log",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /no/such/file.log"));
}

/// A database for real processes: a file for SQLite, a fresh schema on PostgreSQL (owned by
/// the ordinary test role, as in the in-process tests).
async fn process_database(dir: &Path, postgres: bool) -> Option<String> {
    if !postgres {
        return Some(format!(
            "sqlite://{}",
            dir.join("data/faultline.db").display()
        ));
    }
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let schema = format!("p_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&admin_url).await.expect("postgres");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "do $$ begin create role {role} login nosuperuser nobypassrls;
           exception when duplicate_object or unique_violation then null; end $$",
        role = crate::helpers::APP_ROLE
    )))
    .execute(&admin)
    .await
    .expect("role");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create schema {schema} authorization {}",
        crate::helpers::APP_ROLE
    )))
    .execute(&admin)
    .await
    .expect("schema");
    admin.close().await;
    let mut url = url_with_user(&admin_url, crate::helpers::APP_ROLE);
    url.push_str(if url.contains('?') { "&" } else { "?" });
    url.push_str(&format!("options=-c%20search_path%3D{schema}"));
    Some(url)
}

fn url_with_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("url");
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{user}@{host}")
}

async fn raw_job(database_url: &str, analysis: &str) -> (String, i64) {
    let db = server::Db::connect(database_url).await.expect("db");
    let mut tx = db.begin(server::db::Scope::System).await.expect("tx");
    let row: (String, i64) = server::with_tx!(&mut tx, c => sqlx::query_as(
        "select status, attempts from jobs where subject_id = $1",
    )
    .bind(analysis)
    .fetch_one(&mut *c)
    .await)
    .expect("job row");
    tx.commit().await.expect("commit");
    db.close().await;
    row
}

async fn killed_mid_job_resumes_after_restart(postgres: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = process_database(dir.path(), postgres).await else {
        return;
    };
    let settings = [
        ("FAULTLINE_WORKERS", "1"),
        ("FAULTLINE_JOB_LEASE_SECS", "2"),
    ];
    let mut server = Server::start(dir.path(), &url, &settings).await;
    let (_, token) = ci_token(&server, "ci@acme.example").await;
    let id = upload_and_start(&server, &token, &sample_log(400_000)).await;
    let running = wait_until(&server, &token, &id, |v| {
        v["status"] == "running" && v["progress"]["percent"].as_f64().unwrap_or(0.0) > 0.0
    })
    .await;
    assert_eq!(running["status"], "running");
    server.kill_9();

    let server = server.restart().await;
    let done = wait_until(&server, &token, &id, |v| {
        v["status"] != "running" && v["status"] != "queued"
    })
    .await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["summary"]["events"], 400_000);
    let (status, attempts) = raw_job(&url, &id).await;
    assert_eq!((status.as_str(), attempts), ("done", 2));
}

#[tokio::test]
async fn a_server_killed_mid_job_finishes_it_after_restart_sqlite() {
    killed_mid_job_resumes_after_restart(false).await;
}

#[tokio::test]
async fn a_server_killed_mid_job_finishes_it_after_restart_postgres() {
    killed_mid_job_resumes_after_restart(true).await;
}

/// Reads `state` events from `server`'s event stream until a final one; returns them.
async fn watch(server: &Server, token: &str, id: &str) -> Vec<Value> {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/analyses/{id}/events", server.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("events");
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let mut states = Vec::new();
    while let Some(chunk) = stream.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                states.push(serde_json::from_str::<Value>(data).expect("state"));
            }
        }
    }
    states
}

#[tokio::test]
async fn two_processes_share_jobs_and_progress_on_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = process_database(dir.path(), true).await else {
        return;
    };
    // Both keep files in one place, as they would in one bucket.
    let storage = format!("file://{}", dir.path().join("objects").display());
    // Phase one: A only serves, B only works. Phase two: the other way round. Either way the
    // job submitted to the one that serves is run by the other, and its progress, published
    // by the worker's process, reaches a watcher connected to the serving one.
    for (a_workers, b_workers) in [("0", "1"), ("1", "0")] {
        let a = Server::start(
            &dir.path().join("a"),
            &url,
            &[
                ("FAULTLINE_WORKERS", a_workers),
                ("FAULTLINE_STORAGE_URL", &storage),
            ],
        )
        .await;
        let b = Server::start(
            &dir.path().join("b"),
            &url,
            &[
                ("FAULTLINE_WORKERS", b_workers),
                ("FAULTLINE_STORAGE_URL", &storage),
            ],
        )
        .await;
        let submit = if a_workers == "0" { &a } else { &b };
        let email = format!("ci-{a_workers}@acme.example");
        let (_, token) = ci_token(submit, &email).await;
        let id = upload_and_start(submit, &token, &sample_log(150_000)).await;
        let states = watch(submit, &token, &id).await;
        let last = states.last().expect("states");
        assert_eq!(last["status"], "done", "{states:?}");
        let progressed = states
            .iter()
            .filter(|s| {
                s["status"] == "running" && s["progress"]["percent"].as_f64().unwrap_or(0.0) > 0.0
            })
            .count();
        assert!(
            progressed >= 1,
            "progress from the other process arrived: {states:?}"
        );
    }
}
