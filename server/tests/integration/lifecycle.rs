//! The process: graceful shutdown, and the `faultline` command line as a user runs it.

use std::process::Command;
use std::time::Duration;

use axum::Router;
use axum::routing::get;

use crate::helpers::{Backend, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_faultline");

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // The handler says when it has started, so shutdown begins while the
    // request is truly in flight, however slowly this machine accepts it.
    let started = std::sync::Arc::new(tokio::sync::Notify::new());
    let entered = started.clone();
    let routes = Router::new().route(
        "/slow",
        get(move || {
            let entered = entered.clone();
            async move {
                entered.notify_one();
                tokio::time::sleep(Duration::from_millis(500)).await;
                "finished"
            }
        }),
    );
    let router = server::http::with_middleware(routes, app.state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(server::serve(listener, router, async {
        let _ = stopped.await;
    }));

    let request = tokio::spawn(async move {
        reqwest::get(format!("http://{addr}/slow"))
            .await?
            .text()
            .await
    });
    tokio::time::timeout(Duration::from_secs(10), started.notified())
        .await
        .expect("the request reaches the handler");
    stop.send(()).expect("server still running");

    let body = request
        .await
        .expect("join")
        .expect("in-flight request completes");
    assert_eq!(body, "finished");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops after draining")
        .expect("join")
        .expect("serve ok");
    // New connections are refused once it has stopped.
    assert!(reqwest::get(format!("http://{addr}/slow")).await.is_err());
}

fn faultline(args: &[&str], env: &[(&str, &str)], dir: &std::path::Path) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("faultline runs")
}

#[test]
fn version_and_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = faultline(&["--version"], &[], dir.path());
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("faultline {}", env!("CARGO_PKG_VERSION"))
    );
    let help = faultline(&["--help"], &[], dir.path());
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success());
    for word in ["serve", "migrate", "Usage"] {
        assert!(text.contains(word), "{text}");
    }
}

#[test]
fn bad_configuration_is_one_line_naming_the_variable_and_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &str); 5] = [
        ("FAULTLINE_ADDR", "localhost"),
        ("FAULTLINE_ENV", "staging"),
        ("DATABASE_URL", "mysql://db"),
        ("FAULTLINE_SECRET_KEY", "tooshort"),
        ("FAULTLINE_LOG_FORMAT", "xml"),
    ];
    for (var, value) in cases {
        let out = faultline(&["serve"], &[(var, value)], dir.path());
        assert_eq!(out.status.code(), Some(2), "{var}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{var}: {stderr}");
        assert!(stderr.contains(var), "{var}: {stderr}");
    }
    let out = faultline(&["serve"], &[("FAULTLINE_ENV", "production")], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAULTLINE_SECRET_KEY"));
}

#[test]
fn an_unreachable_database_is_a_configuration_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = faultline(
        &["migrate"],
        &[
            ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
            ("FAULTLINE_LOG", "off"),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn migrate_creates_the_default_sqlite_database_under_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = faultline(&["migrate"], &[("FAULTLINE_LOG", "warn")], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("data/faultline.db").exists());
    // Running it again is a no-op.
    assert!(faultline(&["migrate"], &[], dir.path()).status.success());
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env("FAULTLINE_ADDR", &addr)
        .env("FAULTLINE_LOG", "warn")
        .spawn()
        .expect("spawns");
    let healthy = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::net::TcpStream::connect(&addr).is_ok()
    });
    assert!(healthy, "server came up");
    assert!(
        dir.path().join("data/secret.key").exists(),
        "secret generated on first start"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = (0..100)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            child.try_wait().ok().flatten()
        })
        .expect("exits within 10 s");
    assert!(status.success(), "{status:?}");
}

#[test]
fn templates_writes_one_template_per_input_line() {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .arg("templates")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut input = String::new();
    for (i, user) in ["alice", "bob", "carol", "dave"].iter().enumerate() {
        input.push_str(&format!(
            "Accepted password for {user} from 10.0.0.{i} port 22{i} ssh2\n"
        ));
    }
    input.push_str("Connection closed by 10.0.0.9 [preauth]\n\n");
    let mut bytes = input.into_bytes();
    bytes.extend_from_slice(b"bad bytes \xff here\n");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&bytes)
        .expect("write");
    let out = child.wait_with_output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(
        lines[..4]
            .iter()
            .all(|l| *l == "Accepted password for <*> from <*> port <*> ssh2"),
        "{text}"
    );
    assert_eq!(lines[4], "Connection closed by <*> [preauth]");
    assert_eq!(lines[5], "");
    assert_eq!(lines[6], "bad bytes \u{fffd} here");
}

#[test]
fn analyze_prints_json_or_markdown_and_refuses_unreadable_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/logs/java-service.log");
    let fixture = fixture.to_str().expect("utf-8 path");
    let out = faultline(&["analyze", fixture], &[], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(json["schema_version"], "0.1");
    assert!(json["patterns"].as_array().is_some_and(|p| !p.is_empty()));

    let md = faultline(
        &["analyze", "--format", "markdown", fixture],
        &[],
        dir.path(),
    );
    assert!(String::from_utf8_lossy(&md.stdout).starts_with("# Log analysis"));

    for bad in [
        &["analyze", "missing.log"][..],
        &["analyze", "."][..],
        &["analyze"][..],
    ] {
        let out = faultline(bad, &[], dir.path());
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(!out.stderr.is_empty());
    }

    // A binary file given by mistake is refused as an upload would be, not mined as text; an
    // empty log is analysed (to nothing).
    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.resize(4096, 7);
    std::fs::write(dir.path().join("logs.zip"), &zip).expect("write");
    std::fs::write(dir.path().join("empty.log"), b"").expect("write");
    let out = faultline(&["analyze", fixture, "logs.zip"], &[], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("logs.zip") && stderr.contains("ZIP archive"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing is analysed");
    let out = faultline(&["analyze", "empty.log"], &[], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    assert_eq!(json["summary"]["events"], 0);
}

/// Runs `faultline` with `input` on its standard input.
fn faultline_fed(args: &[&str], input: &[u8], dir: &std::path::Path) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    let mut stdin = child.stdin.take().expect("stdin");
    // Written while the child reads, so a large input cannot fill the pipe and stall both.
    let writer = {
        let input = input.to_vec();
        std::thread::spawn(move || stdin.write_all(&input))
    };
    let out = child.wait_with_output().expect("runs");
    // The child may refuse its input before reading all of it: a broken pipe is no failure.
    let _ = writer.join().expect("writer");
    out
}

#[test]
fn analyze_reads_standard_input_given_as_a_dash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/logs/java-service.log");
    let log = std::fs::read(&fixture).expect("fixture");
    let from_file = faultline(
        &["analyze", fixture.to_str().expect("utf-8")],
        &[],
        dir.path(),
    );
    let piped = faultline_fed(&["analyze", "-"], &log, dir.path());
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let piped: serde_json::Value = serde_json::from_slice(&piped.stdout).expect("JSON output");
    let from_file: serde_json::Value =
        serde_json::from_slice(&from_file.stdout).expect("JSON output");
    assert_eq!(piped["files"][0]["name"], "standard input");
    assert_eq!(piped["summary"]["events"], from_file["summary"]["events"]);
    // The same patterns; only the file name in their samples differs.
    let patterns = |json: &serde_json::Value| -> Vec<(String, u64)> {
        json["patterns"]
            .as_array()
            .expect("patterns")
            .iter()
            .map(|p| {
                let template = p["template"].as_str().expect("template").to_owned();
                (template, p["count"].as_u64().expect("count"))
            })
            .collect()
    };
    assert!(!patterns(&piped).is_empty());
    assert_eq!(patterns(&piped), patterns(&from_file));

    // With a file beside it, and gzip through the pipe.
    std::fs::write(
        dir.path().join("other.log"),
        b"2024-01-01 10:00:00 INFO one\n",
    )
    .expect("write");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &log).expect("gzip");
    let out = faultline_fed(
        &["analyze", "other.log", "-"],
        &gz.finish().expect("gzip"),
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let names: Vec<&str> = json["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(names, ["other.log", "standard input"]);

    // Binary input is refused by the name it came under; `-` twice is bad usage.
    let mut zip = b"PK\x03\x04\x14\0\0\0\x08\0".to_vec();
    zip.resize(4096, 7);
    let out = faultline_fed(&["analyze", "-"], &zip, dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot analyse standard input") && stderr.contains("ZIP"),
        "{stderr}"
    );
    // A missing file is reported without waiting for standard input to end.
    let mut child = Command::new(BIN)
        .args(["analyze", "missing.log", "-"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    let open_stdin = child.stdin.take();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(open_stdin);
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(2),
        "exits while stdin is open"
    );
    let out = faultline_fed(&["analyze", "-", "-"], b"a\n", dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only once"));
}

#[test]
fn analyze_compares_with_a_previous_analysis() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs/python-app.log");
    let fixture = fixture.to_str().expect("utf-8 path");
    let first = faultline(&["analyze", fixture], &[], dir.path());
    assert!(first.status.success());
    std::fs::write(dir.path().join("prev.json"), &first.stdout).expect("write");
    let again = faultline(
        &["analyze", "--previous", "prev.json", fixture],
        &[],
        dir.path(),
    );
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    let comparison = &json["comparison"];
    assert_eq!(comparison["new"], serde_json::json!([]));
    assert_eq!(comparison["gone"], serde_json::json!([]));
    assert_eq!(comparison["changed"], serde_json::json!([]));

    std::fs::write(dir.path().join("bad.json"), "[1, 2]").expect("write");
    let bad = faultline(
        &["analyze", "--previous", "bad.json", fixture],
        &[],
        dir.path(),
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--previous"));
}
