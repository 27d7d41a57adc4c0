//! Uploads, analyses and the job queue over the real router and real storage, on both
//! databases: streaming limits, refusals that leave nothing behind, live progress, cancel,
//! delete, tenant isolation, crash recovery and per-organisation fairness.

use std::io::Write;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use server::clock::Clock;

use crate::helpers::{TestApp, TestResponse};
use crate::identity::User;
use crate::on_both_backends;
use crate::tenancy::join;

/// Log lines a worker can analyse: two error patterns and an info pattern.
pub fn sample_log(lines: usize) -> String {
    let mut out = String::new();
    for i in 0..lines {
        let second = i % 60;
        match i % 3 {
            0 => out.push_str(&format!(
                "2026-12-01T10:00:{second:02}Z ERROR payment {i} failed: connection refused to db-{}\n",
                i % 4
            )),
            1 => out.push_str(&format!(
                "2026-12-01T10:00:{second:02}Z INFO request {i} served in {} ms\n",
                i % 97
            )),
            _ => out.push_str(&format!(
                "2026-12-01T10:00:{second:02}Z WARN cache miss for key user:{i}\n"
            )),
        }
    }
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("compress");
    encoder.finish().expect("compress")
}

impl TestApp {
    /// `POST /api/v1/uploads?name=…` with a raw body.
    pub async fn upload(
        &self,
        user: &User,
        name: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> TestResponse {
        let mut request =
            Request::post(format!("/api/v1/uploads?name={name}&org={}", user.org_slug))
                .header("authorization", format!("Bearer {}", user.access));
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        self.send(request.body(body.into()).expect("request")).await
    }

    /// Uploads `text` and starts an analysis of it; returns the analysis id.
    pub async fn analyse_text(&self, user: &User, name: &str, text: &str) -> String {
        let r = self.upload(user, name, "text/plain", text.to_owned()).await;
        assert!(r.status == 201 || r.status == 200, "{}", r.text());
        let upload = r.json()["id"].as_str().expect("id").to_owned();
        let r = self
            .call(
                "POST",
                &format!("/api/v1/analyses?org={}", user.org_slug),
                Some(&user.access),
                Some(json!({"upload_ids": [upload]})),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text());
        r.json()["id"].as_str().expect("id").to_owned()
    }

    /// Polls `GET /analyses/{id}` until it ends (bounded).
    pub async fn wait_for(&self, user: &User, id: &str) -> Value {
        for _ in 0..2400 {
            let r = self
                .call(
                    "GET",
                    &format!("/api/v1/analyses/{id}?org={}", user.org_slug),
                    Some(&user.access),
                    None,
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.text());
            let body = r.json();
            if ["done", "failed", "cancelled"].contains(&body["status"].as_str().unwrap_or("")) {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("analysis {id} did not finish");
    }

    /// Files under the storage directory.
    pub fn stored_files(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path.display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data_dir().join("objects"), &mut out);
        out
    }

    /// Rows in `table`, past row-level security.
    pub async fn count_rows(&self, table: &str) -> i64 {
        let sql = format!("select count(*) from {table}");
        server::with_db!(&self.raw, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await)
            .expect("count")
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// A body that yields `good` and then fails, as a client that disconnects mid-upload.
fn broken_body(good: Vec<u8>) -> Body {
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
        Ok(bytes::Bytes::from(good)),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "client went away",
        )),
    ];
    Body::from_stream(futures::stream::iter(chunks))
}

/// A body that must never be read (its size was refused up front).
fn untouchable_body() -> Body {
    Body::from_stream(futures::stream::once(async {
        panic!("the body of a refused upload was read");
        #[allow(unreachable_code)]
        Ok::<bytes::Bytes, std::io::Error>(bytes::Bytes::new())
    }))
}

on_both_backends!(uploads_are_stored_hashed_and_deduplicated, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let text = sample_log(300);
    let r = app
        .upload(&owner, "app.log", "text/plain", text.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let first = r.json();
    assert_eq!(first["bytes"], text.len());
    assert_eq!(first["sha256"], sha256_hex(text.as_bytes()));
    assert_eq!(first["kind"], "text");
    assert_eq!(first["name"], "app.log");
    assert_eq!(first["duplicate"], false);
    assert_eq!(app.stored_files().len(), 1);

    // The same bytes again are recognised; nothing new is kept.
    let r = app.upload(&owner, "again.log", "", text.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["duplicate"], true);
    assert_eq!(r.json()["id"], first["id"]);
    assert_eq!(app.stored_files().len(), 1);
    assert_eq!(app.count_rows("uploads").await, 1);

    // gzip and JSON lines are accepted and recognised.
    let gz = gzip(sample_log(1000).as_bytes());
    let r = app
        .upload(&owner, "app.log.gz", "application/gzip", gz.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["kind"], "gzip");
    assert_eq!(r.json()["sha256"], sha256_hex(&gz));
    let r = app
        .upload(
            &owner,
            "app.jsonl",
            "application/x-ndjson",
            "{\"level\":\"error\",\"msg\":\"boom\"}\n",
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["kind"], "json");

    // Names lose their paths.
    let r = app
        .upload(&owner, "..%2F..%2Fetc%2Fpasswd", "text/plain", "x y z\n")
        .await;
    assert_eq!(r.json()["name"], "passwd", "{}", r.text());

    let r = app
        .call(
            "GET",
            &format!("/api/v1/uploads?org={}", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().map(Vec::len), Some(4));
});

on_both_backends!(multipart_uploads_take_one_file, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let boundary = "XfaultlineX";
    let part = |name: &str, body: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/plain\r\n\r\n{body}\r\n"
        )
    };
    let form = format!("{}--{boundary}--\r\n", part("web.log", &sample_log(50)));
    let request = Request::post(format!("/api/v1/uploads?org={}", owner.org_slug))
        .header("authorization", format!("Bearer {}", owner.access))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(form))
        .expect("request");
    let r = app.send(request).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["name"], "web.log");
    assert_eq!(r.json()["bytes"], sample_log(50).len());

    let two = format!(
        "{}{}--{boundary}--\r\n",
        part("a.log", &sample_log(5)),
        part("b.log", &sample_log(6))
    );
    let request = Request::post(format!("/api/v1/uploads?org={}", owner.org_slug))
        .header("authorization", format!("Bearer {}", owner.access))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(two))
        .expect("request");
    let r = app.send(request).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("one file per request"), "{}", r.text());
    assert_eq!(app.count_rows("uploads").await, 1);
    assert_eq!(app.stored_files().len(), 1);
});

on_both_backends!(bad_uploads_are_refused_and_leave_nothing, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let nothing_left = |app: &TestApp| {
        let files = app.stored_files();
        assert!(files.is_empty(), "left behind: {files:?}");
    };

    let whole = gzip(sample_log(20_000).as_bytes());
    let r = app
        .upload(
            &owner,
            "cut.log.gz",
            "application/gzip",
            whole[..whole.len() / 2].to_vec(),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("damaged or incomplete"), "{}", r.text());
    nothing_left(&app);

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01".repeat(10);
    let r = app
        .upload(&owner, "shot.log", "application/octet-stream", png)
        .await;
    assert_eq!(r.status, 415, "{}", r.text());
    assert!(r.text().contains("PNG image (image/png)"), "{}", r.text());
    nothing_left(&app);

    let r = app.upload(&owner, "x.log", "image/png", "text\n").await;
    assert_eq!(r.status, 415, "{}", r.text());
    let r = app
        .upload(
            &owner,
            "x.log",
            "application/x-www-form-urlencoded",
            "text\n",
        )
        .await;
    assert_eq!(r.status, 415, "{}", r.text());
    assert!(
        r.text().contains("Content-Type: application/octet-stream"),
        "{}",
        r.text()
    );

    let r = app.upload(&owner, "empty.log", "text/plain", "").await;
    assert_eq!(r.status, 422, "{}", r.text());

    let r = app
        .upload(
            &owner,
            "gone.log",
            "text/plain",
            broken_body(sample_log(500).into_bytes()),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("interrupted"), "{}", r.text());
    nothing_left(&app);
    assert_eq!(app.count_rows("uploads").await, 0);
});

on_both_backends!(sizes_and_quotas_are_enforced, |app| {
    use server::ingest::uploads::{LimitSetting, configure_limits};
    let owner = app.signup("owner@acme.example", "Acme").await;
    let limits_url = format!("/api/v1/uploads/limits?org={}", owner.org_slug);
    let r = app
        .call("GET", &limits_url, Some(&owner.access), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["max_file_bytes"],
        1u64 << 30,
        "1 GiB per file by default"
    );

    // The operator gives the organisation its own limits; the change is audited.
    let config = &app.state.config.ingest;
    let now = app.clock.now_ms();
    let set = |max_file, quota| {
        configure_limits(
            &app.state.db,
            config,
            &owner.org_slug,
            max_file,
            quota,
            "operator",
            now,
        )
    };
    let c = set(
        Some(LimitSetting::Bytes(10_000)),
        Some(LimitSetting::Bytes(25_000)),
    )
    .await
    .expect("configure")
    .expect("the org exists");
    assert!(c.own_max_file && c.own_quota);
    assert_eq!(
        (c.applied.max_file, c.applied.quota, c.applied.used),
        (10_000, 25_000, 0)
    );
    let r = app
        .call("GET", &limits_url, Some(&owner.access), None)
        .await;
    assert_eq!(
        r.json(),
        json!({"max_file_bytes": 10_000, "quota_bytes": 25_000, "used_bytes": 0, "room_bytes": 10_000})
    );
    let audit = app
        .call(
            "GET",
            &format!(
                "/api/v1/orgs/{}/audit?action=org.limits_changed",
                owner.org_slug
            ),
            Some(&owner.access),
            None,
        )
        .await;
    let detail = audit.json()[0]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains("\"max_upload_bytes\":10000"),
        "{}",
        audit.text()
    );
    let nobody = configure_limits(
        &app.state.db,
        config,
        "no-such-org",
        None,
        None,
        "operator",
        now,
    )
    .await
    .expect("configure");
    assert!(nobody.is_none());

    // Declared too large: refused before a byte is read.
    let request = Request::post(format!(
        "/api/v1/uploads?name=big.log&org={}",
        owner.org_slug
    ))
    .header("authorization", format!("Bearer {}", owner.access))
    .header("content-type", "text/plain")
    .header("content-length", "10001")
    .body(untouchable_body())
    .expect("request");
    let r = app.send(request).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "too_large");
    assert!(r.text().contains("9.8 KiB"), "{}", r.text());

    // Streamed without a length: refused once it passes the limit, nothing kept.
    let big = sample_log(400);
    assert!(big.len() > 10_000);
    let stream = futures::stream::iter(
        big.as_bytes()
            .chunks(1000)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let r = app
        .upload(&owner, "big.log", "text/plain", Body::from_stream(stream))
        .await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(app.stored_files().is_empty());

    // Two files fit the quota, the third does not.
    for i in 0..2 {
        let text = sample_log(150 + i);
        assert!(text.len() < 10_000 && text.len() > 8_500, "{}", text.len());
        let r = app.upload(&owner, "ok.log", "text/plain", text).await;
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = app
        .upload(&owner, "third.log", "text/plain", sample_log(155))
        .await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "quota_exceeded");
    assert!(r.text().contains("quota"), "{}", r.text());
    assert_eq!(app.count_rows("uploads").await, 2);
    assert_eq!(app.stored_files().len(), 2);
    let r = app
        .call("GET", &limits_url, Some(&owner.access), None)
        .await;
    let used = r.json()["used_bytes"].as_u64().expect("used");
    assert_eq!(
        r.json()["room_bytes"],
        25_000 - used,
        "room is what the quota leaves"
    );

    // Back to the server's defaults: the third file fits.
    let c = set(Some(LimitSetting::Default), Some(LimitSetting::Default))
        .await
        .expect("configure")
        .expect("the org exists");
    assert!(!c.own_max_file && !c.own_quota);
    let r = app
        .upload(&owner, "third.log", "text/plain", sample_log(155))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
});

on_both_backends!(
    an_analysis_runs_in_the_background_and_streams_progress,
    |app| {
        let workers = server::ingest::Workers::start(&app.state);
        let owner = app.signup("owner@acme.example", "Acme").await;
        let id = app
            .analyse_text(&owner, "payments.log", &sample_log(30_000))
            .await;

        // A watcher sees states in order, ending with done.
        let request = Request::get(format!(
            "/api/v1/analyses/{id}/events?org={}",
            owner.org_slug
        ))
        .header("authorization", format!("Bearer {}", owner.access))
        .body(Body::empty())
        .expect("request");
        let events = app.send(request).await;
        assert_eq!(events.status, 200);
        assert_eq!(events.header("content-type"), Some("text/event-stream"));
        let states: Vec<Value> = events
            .text()
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).expect("state json"))
            .collect();
        let last = states.last().expect("at least one state");
        assert_eq!(last["status"], "done", "{states:?}");
        let seqs: Vec<i64> = states
            .iter()
            .map(|s| s["seq"].as_i64().expect("seq"))
            .collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

        let done = app.wait_for(&owner, &id).await;
        assert_eq!(done["status"], "done");
        assert_eq!(done["progress"]["percent"], 100.0);
        assert_eq!(done["name"], "payments.log");
        assert_eq!(done["summary"]["events"], 30_000);
        assert_eq!(done["result"]["summary"]["events"], 30_000);
        assert_eq!(done["result"]["files"][0]["name"], "payments.log");
        assert!(
            done["result"]["patterns"].as_array().map_or(0, Vec::len) >= 3,
            "{}",
            done["result"]["patterns"]
        );

        // A reconnecting watcher that has seen the final state gets nothing new; one that has
        // not gets the current state.
        let request = Request::get(format!(
            "/api/v1/analyses/{id}/events?org={}",
            owner.org_slug
        ))
        .header("authorization", format!("Bearer {}", owner.access))
        .header("last-event-id", "0")
        .body(Body::empty())
        .expect("request");
        let again = app.send(request).await;
        assert!(
            again.text().contains("\"status\":\"done\""),
            "{}",
            again.text()
        );
        let final_seq = done["seq"].as_i64().expect("seq");
        let request = Request::get(format!(
            "/api/v1/analyses/{id}/events?org={}",
            owner.org_slug
        ))
        .header("authorization", format!("Bearer {}", owner.access))
        .header("last-event-id", final_seq.to_string())
        .body(Body::empty())
        .expect("request");
        let caught_up = app.send(request).await;
        assert_eq!(caught_up.status, 200);
        assert!(
            !caught_up.text().contains("data:"),
            "the stream ends at once with nothing new: {}",
            caught_up.text()
        );

        // Tests were written for its error patterns with the author's settings (pytest until
        // they choose otherwise), after the engine's stages.
        let tests = &done["summary"]["tests"];
        assert_eq!(tests["framework"], "pytest", "{}", done["summary"]);
        assert!(tests["tests"].as_u64().unwrap_or(0) > 0, "{tests}");
        assert_eq!(tests["valid_files"], tests["checked_files"], "{tests}");
        assert_eq!(tests["covered"], tests["error_patterns"], "{tests}");
        let stages: Vec<&str> = states
            .iter()
            .filter_map(|s| s["progress"]["stage"].as_str())
            .collect();
        let order = [
            "queued",
            "reading",
            "mining",
            "correlating",
            "generating_tests",
            "done",
        ];
        let ranks: Vec<usize> = stages
            .iter()
            .map(|s| order.iter().position(|o| o == s).expect("a known stage"))
            .collect();
        assert!(
            ranks.windows(2).all(|w| w[0] <= w[1]),
            "stages in order: {stages:?}"
        );
        let percents: Vec<f64> = states
            .iter()
            .filter_map(|s| s["progress"]["percent"].as_f64())
            .collect();
        assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");

        // Without the result.
        let r = app
            .call(
                "GET",
                &format!("/api/v1/analyses/{id}?result=false&org={}", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        assert!(r.json().get("result").is_none());

        // Listing.
        let r = app
            .call(
                "GET",
                &format!("/api/v1/analyses?org={}", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(r.json()["items"][0]["id"], id.as_str());
        assert_eq!(r.json()["total"], 1);

        // Deleting removes the row and the stored result; the upload stays.
        let files_before = app.stored_files().len();
        let r = app
            .call(
                "DELETE",
                &format!("/api/v1/analyses/{id}?org={}", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text());
        let r = app
            .call(
                "GET",
                &format!("/api/v1/analyses/{id}?org={}", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(r.status, 404);
        assert_eq!(app.stored_files().len(), files_before - 1);
        assert_eq!(app.count_rows("jobs").await, 0);
        workers.stop(Duration::from_secs(5)).await;
    }
);

on_both_backends!(
    analyses_of_several_files_compare_with_the_previous_one,
    |app| {
        let workers = server::ingest::Workers::start(&app.state);
        let owner = app.signup("owner@acme.example", "Acme").await;
        let first = app
            .analyse_text(&owner, "monday.log", &sample_log(900))
            .await;
        assert_eq!(app.wait_for(&owner, &first).await["status"], "done");

        let a = app
            .upload(&owner, "tuesday-a.log", "text/plain", sample_log(600))
            .await
            .json();
        let b = app
            .upload(
                &owner,
                "tuesday-b.log.gz",
                "application/gzip",
                gzip(b"2026-12-01T11:00:00Z FATAL disk full on /var\n"),
            )
            .await
            .json();
        let r = app
            .call(
                "POST",
                &format!("/api/v1/analyses?org={}", owner.org_slug),
                Some(&owner.access),
                Some(json!({"upload_ids": [a["id"], b["id"]], "previous_analysis_id": first})),
            )
            .await;
        assert_eq!(r.status, 202, "{}", r.text());
        assert!(
            r.header("location")
                .is_some_and(|l| l.starts_with("/api/v1/analyses/"))
        );
        let second = r.json()["id"].as_str().expect("id").to_owned();
        let done = app.wait_for(&owner, &second).await;
        assert_eq!(done["status"], "done", "{done}");
        assert_eq!(done["name"], "tuesday-a.log and 1 more");
        assert_eq!(done["result"]["files"].as_array().map(Vec::len), Some(2));
        let new: Vec<&str> = done["result"]["comparison"]["new"]
            .as_array()
            .expect("comparison")
            .iter()
            .filter_map(|p| p["template"].as_str())
            .collect();
        assert!(new.iter().any(|t| t.contains("disk full")), "{new:?}");
        workers.stop(Duration::from_secs(5)).await;
    }
);

on_both_backends!(bad_analysis_requests_get_clear_errors, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let theirs = app
        .upload(&other, "theirs.log", "text/plain", sample_log(10))
        .await
        .json();
    let create = |body: Value| {
        let owner = owner.clone();
        let app = &app;
        async move {
            app.call(
                "POST",
                &format!("/api/v1/analyses?org={}", owner.org_slug),
                Some(&owner.access),
                Some(body),
            )
            .await
        }
    };
    let r = create(json!({"upload_ids": ["no-such-upload"]})).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(
        r.text().contains("no upload no-such-upload"),
        "{}",
        r.text()
    );
    let r = create(json!({"upload_ids": [theirs["id"]]})).await;
    assert_eq!(r.status, 404, "{}", r.text());
    let r = create(json!({"upload_ids": []})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = create(json!({"upload_ids": ["x"], "surprise": 1})).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(app.count_rows("analyses").await, 0);
    assert_eq!(app.count_rows("jobs").await, 0);

    // Another organisation's analysis is 404 everywhere.
    let theirs = app.analyse_text(&other, "t.log", &sample_log(10)).await;
    for (method, path) in [
        ("GET", format!("/api/v1/analyses/{theirs}")),
        ("GET", format!("/api/v1/analyses/{theirs}/events")),
        ("POST", format!("/api/v1/analyses/{theirs}/cancel")),
        ("DELETE", format!("/api/v1/analyses/{theirs}")),
    ] {
        let r = app
            .call(
                method,
                &format!("{path}?org={}", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(r.status, 404, "{method} {path}: {}", r.text());
        // Naming their organisation does not help either.
        let r = app
            .call(
                method,
                &format!("{path}?org={}", other.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(r.status, 404, "{method} {path} in their org: {}", r.text());
    }
    assert_eq!(app.count_rows("analyses").await, 1);
});

on_both_backends!(roles_decide_who_uploads_reads_and_deletes, |app| {
    let workers = server::ingest::Workers::start(&app.state);
    let owner = app.signup("owner@acme.example", "Acme").await;
    let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
    let member = join(&app, &owner, "member@acme.example", "member").await;
    let id = app.analyse_text(&member, "m.log", &sample_log(30)).await;
    app.wait_for(&member, &id).await;

    let r = app
        .upload(&viewer, "v.log", "text/plain", sample_log(10))
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    let r = app
        .call(
            "GET",
            &format!("/api/v1/analyses/{id}?org={}", viewer.org_slug),
            Some(&viewer.access),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = app
        .call(
            "DELETE",
            &format!("/api/v1/analyses/{id}?org={}", viewer.org_slug),
            Some(&viewer.access),
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    let r = app
        .call(
            "DELETE",
            &format!("/api/v1/analyses/{id}?org={}", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());

    // Someone in two organisations names one; an org token implies its own.
    let r = app
        .call("GET", "/api/v1/analyses", Some(&viewer.access), None)
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("?org="), "{}", r.text());
    let token = app
        .call(
            "POST",
            &format!("/api/v1/orgs/{}/tokens", owner.org_slug),
            Some(&owner.access),
            Some(json!({"name": "ci", "scopes": ["create_analyses", "view_analyses"], "kind": "org"})),
        )
        .await;
    assert_eq!(token.status, 201, "{}", token.text());
    let secret = token.json()["token"].as_str().expect("token").to_owned();
    let r = app
        .send(
            Request::post("/api/v1/uploads?name=ci.log")
                .header("authorization", format!("Bearer {secret}"))
                .body(Body::from(sample_log(40)))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = app
        .call(
            "POST",
            "/api/v1/analyses",
            Some(&secret),
            Some(json!({"upload_ids": [r.json()["id"]]})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let r = app
        .call(
            "DELETE",
            &format!(
                "/api/v1/analyses/{}",
                r.json()["id"].as_str().unwrap_or_default()
            ),
            Some(&secret),
            None,
        )
        .await;
    assert_eq!(
        r.status,
        403,
        "a token without delete_analyses cannot delete: {}",
        r.text()
    );
    workers.stop(Duration::from_secs(5)).await;
});

on_both_backends!(queued_and_running_analyses_can_be_cancelled, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    // No workers yet: it stays queued and cancels at once.
    let queued = app.analyse_text(&owner, "q.log", &sample_log(10)).await;
    let r = app
        .call(
            "POST",
            &format!("/api/v1/analyses/{queued}/cancel?org={}", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["status"], "cancelled");
    let r = app
        .call(
            "POST",
            &format!("/api/v1/analyses/{queued}/cancel?org={}", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());

    // A running one stops at its next check.
    let workers = server::ingest::Workers::start(&app.state);
    let big = app
        .analyse_text(&owner, "big.log", &sample_log(400_000))
        .await;
    for _ in 0..400 {
        let r = app
            .call(
                "GET",
                &format!("/api/v1/analyses/{big}?org={}", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        if r.json()["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = app
        .call(
            "POST",
            &format!("/api/v1/analyses/{big}/cancel?org={}", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let ended = app.wait_for(&owner, &big).await;
    assert_eq!(ended["status"], "cancelled", "{ended}");
    assert!(ended.get("result").is_none());
    assert_eq!(
        ended["progress"]["stage"], "cancelled",
        "the stored progress says what watchers were told: {ended}"
    );
    workers.stop(Duration::from_secs(5)).await;
});

on_both_backends!(a_job_whose_worker_died_runs_again_exactly_once, |app| {
    use server::ingest::jobs;
    let owner = app.signup("owner@acme.example", "Acme").await;
    let id = app
        .analyse_text(&owner, "crash.log", &sample_log(500))
        .await;
    let lease = app.state.config.ingest.lease_ms;
    // A worker claims it and dies without a word.
    let dead = jobs::claim(&app.state.db, "dead-worker", app.clock.now_ms(), lease, 2)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(dead.attempts, 1);
    // While its lease holds, nobody else may take it.
    assert!(
        jobs::claim(&app.state.db, "other", app.clock.now_ms(), lease, 2)
            .await
            .expect("claim")
            .is_none()
    );
    // Once it runs out, a live worker does, and finishes it.
    app.clock.advance_ms(lease + 1);
    let workers = server::ingest::Workers::start(&app.state);
    let done = app.wait_for(&owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    workers.stop(Duration::from_secs(5)).await;
    let mut tx = app
        .state
        .db
        .begin(server::db::Scope::Org(&owner.org_id))
        .await
        .expect("tx");
    let job = jobs::for_subject(&mut tx, &owner.org_id, &id)
        .await
        .expect("job")
        .expect("row");
    assert_eq!(job.status, "done");
    assert_eq!(job.attempts, 2);
    // The dead worker waking up cannot finish it a second time.
    assert!(
        !jobs::finish(&mut tx, &dead.id, "dead-worker", "done", None, 0)
            .await
            .expect("finish")
    );
    tx.commit().await.expect("commit");
});

on_both_backends!(one_organisation_cannot_starve_the_others, |app| {
    use server::ingest::jobs;
    let a = app.signup("owner@a.example", "A").await;
    let b = app.signup("owner@b.example", "B").await;
    let now = app.clock.now_ms();
    let mut tx = app
        .state
        .db
        .begin(server::db::Scope::System)
        .await
        .expect("tx");
    for i in 0..5 {
        jobs::enqueue(
            &mut tx,
            &a.org_id,
            "analyze",
            &format!("a{i}"),
            3,
            now - 10 + i,
        )
        .await
        .expect("enqueue");
    }
    jobs::enqueue(&mut tx, &b.org_id, "analyze", "b0", 3, now)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    let claim = |w: &'static str| {
        let db = app.state.db.clone();
        async move {
            jobs::claim(&db, w, now, 60_000, 2)
                .await
                .expect("claim")
                .map(|j| j.org_id)
        }
    };
    // A's jobs are older, but after A's first, B (with none running) goes next, and A never
    // gets more than its limit of two.
    assert_eq!(claim("w1").await.as_deref(), Some(a.org_id.as_str()));
    assert_eq!(claim("w2").await.as_deref(), Some(b.org_id.as_str()));
    assert_eq!(claim("w3").await.as_deref(), Some(a.org_id.as_str()));
    assert_eq!(claim("w4").await, None);
});

on_both_backends!(failed_jobs_say_why, |app| {
    let workers = server::ingest::Workers::start(&app.state);
    let owner = app.signup("owner@acme.example", "Acme").await;
    let r = app
        .upload(&owner, "x.log", "text/plain", sample_log(20))
        .await
        .json();
    // The file disappears from storage behind the database's back.
    for file in app.stored_files() {
        std::fs::remove_file(file).expect("remove");
    }
    let r = app
        .call(
            "POST",
            &format!("/api/v1/analyses?org={}", owner.org_slug),
            Some(&owner.access),
            Some(json!({"upload_ids": [r["id"]]})),
        )
        .await;
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let ended = app.wait_for(&owner, &id).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert!(
        ended["error"].as_str().is_some_and(|e| e.contains("x.log")),
        "{ended}"
    );
    workers.stop(Duration::from_secs(5)).await;
});

on_both_backends!(a_job_whose_analysis_already_ended_is_just_closed, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let id = app.analyse_text(&owner, "x.log", &sample_log(20)).await;
    // As if a worker ended the analysis and died before closing its job.
    server::with_db!(&app.raw, pool => sqlx::query("update analyses set status = 'failed', error = 'earlier' where id = $1")
        .bind(&id)
        .execute(pool)
        .await
        .map(|_| ()))
    .expect("end it");
    let workers = server::ingest::Workers::start(&app.state);
    let mut closed = false;
    for _ in 0..400 {
        let mut tx = app
            .state
            .db
            .begin_read(server::db::Scope::Org(&owner.org_id))
            .await
            .expect("tx");
        let job = server::ingest::jobs::for_subject(&mut tx, &owner.org_id, &id)
            .await
            .expect("job")
            .expect("row");
        tx.commit().await.expect("commit");
        if job.status == "done" {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(closed, "the job was closed");
    let ended = app.wait_for(&owner, &id).await;
    assert_eq!(
        ended["status"], "failed",
        "the analysis keeps its ending: {ended}"
    );
    assert_eq!(ended["error"], "earlier");
    workers.stop(Duration::from_secs(5)).await;
});

on_both_backends!(retried_jobs_wait_for_their_backoff, |app| {
    use server::ingest::jobs;
    let owner = app.signup("owner@acme.example", "Acme").await;
    let now = app.clock.now_ms();
    let mut tx = app
        .state
        .db
        .begin(server::db::Scope::System)
        .await
        .expect("tx");
    jobs::enqueue(&mut tx, &owner.org_id, "analyze", "s1", 3, now)
        .await
        .expect("enqueue");
    tx.commit().await.expect("commit");
    let first = jobs::claim(&app.state.db, "w", now, 60_000, 2)
        .await
        .expect("claim")
        .expect("job");
    // It fails; it goes back to the queue to run after its backoff, keeping the attempt.
    let mut tx = app
        .state
        .db
        .begin(server::db::Scope::Org(&owner.org_id))
        .await
        .expect("tx");
    let retry_at = now + jobs::backoff_ms(first.attempts);
    assert!(
        jobs::release(
            &mut tx,
            &first.id,
            "w",
            retry_at,
            Some("storage down"),
            false
        )
        .await
        .expect("release")
    );
    tx.commit().await.expect("commit");
    assert!(
        jobs::claim(&app.state.db, "w", retry_at - 1, 60_000, 2)
            .await
            .expect("claim")
            .is_none()
    );
    let second = jobs::claim(&app.state.db, "w", retry_at, 60_000, 2)
        .await
        .expect("claim")
        .expect("due");
    assert_eq!(second.attempts, 2);
    assert_eq!(second.last_error.as_deref(), Some("storage down"));
    // A worker that no longer holds it cannot release or finish it.
    let mut tx = app
        .state
        .db
        .begin(server::db::Scope::Org(&owner.org_id))
        .await
        .expect("tx");
    assert!(
        !jobs::release(&mut tx, &first.id, "someone-else", now, None, false)
            .await
            .expect("release")
    );
    assert!(
        !jobs::finish(&mut tx, &first.id, "someone-else", "done", None, now)
            .await
            .expect("finish")
    );
    tx.commit().await.expect("commit");
});

on_both_backends!(a_job_that_keeps_killing_its_workers_fails_visibly, |app| {
    use server::ingest::jobs;
    let owner = app.signup("owner@acme.example", "Acme").await;
    let id = app
        .analyse_text(&owner, "poison.log", &sample_log(20))
        .await;
    let lease = app.state.config.ingest.lease_ms;
    // Three workers in a row take it and die.
    for dead in ["dead-1", "dead-2", "dead-3"] {
        let job = jobs::claim(&app.state.db, dead, app.clock.now_ms(), lease, 2)
            .await
            .expect("claim")
            .expect("claimable again");
        assert_eq!(job.subject_id, id);
        app.clock.advance_ms(lease + 1);
    }
    let workers = server::ingest::Workers::start(&app.state);
    let ended = app.wait_for(&owner, &id).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert!(
        ended["error"]
            .as_str()
            .is_some_and(|e| e.contains("interrupted 3 times")),
        "{ended}"
    );
    workers.stop(Duration::from_secs(5)).await;
});

/// Every table that holds an organisation's rows.
const TENANT_TABLES: &[&str] = &[
    "roles",
    "memberships",
    "teams",
    "team_members",
    "invitations",
    "api_tokens",
    "audit_log",
    "audit_heads",
    "uploads",
    "analyses",
    "jobs",
    "comments",
    "mentions",
    "analysis_shares",
    "projects",
    "analysis_templates",
    "test_settings",
    "test_templates",
    "ai_providers",
    "ai_settings",
    "ai_usage",
];

on_both_backends!(deleting_an_organisation_removes_all_its_data, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let colleague = join(&app, &owner, "dev@acme.example", "member").await;
    let workers = server::ingest::Workers::start(&app.state);
    // Something in every table: a team with a member and settings, a custom role, an
    // invitation, a token, a project, an analysis shared with the team, a comment with a
    // mention, and Beta's own analysis, which must survive.
    let (_, team) = app
        .call_as(
            &owner,
            "POST",
            &format!("/api/v1/orgs/{}/teams", owner.org_slug),
            Some(json!({"name": "Platform"})),
        )
        .await;
    let team = team["id"].as_str().expect("team").to_owned();
    for (method, path, body) in [
        (
            "PUT",
            format!(
                "/api/v1/orgs/{}/teams/{team}/members/{}",
                owner.org_slug, colleague.id
            ),
            None,
        ),
        (
            "PUT",
            format!("/api/v1/orgs/{}/teams/{team}/test-settings", owner.org_slug),
            Some(json!({"framework": "jest"})),
        ),
        (
            "POST",
            format!("/api/v1/orgs/{}/roles", owner.org_slug),
            Some(json!({"name": "Auditor", "permissions": ["view_audit"]})),
        ),
        (
            "POST",
            format!("/api/v1/orgs/{}/invitations", owner.org_slug),
            Some(json!({"email": "later@acme.example"})),
        ),
        (
            "POST",
            format!("/api/v1/orgs/{}/tokens", owner.org_slug),
            Some(json!({"name": "ci", "scopes": ["view_analyses"]})),
        ),
        (
            "POST",
            "/api/v1/projects".to_owned(),
            Some(json!({"name": "Payments"})),
        ),
        (
            "POST",
            format!(
                "/api/v1/orgs/{}/teams/{team}/test-templates",
                owner.org_slug
            ),
            Some(
                json!({"name": "Smoke", "framework": "pytest", "test": "def {{test_name}}():\n    assert {{count}} > 0\n"}),
            ),
        ),
        // Nothing listens on port 9: a call to it fails and is recorded as usage.
        (
            "POST",
            format!("/api/v1/orgs/{}/ai/providers", owner.org_slug),
            Some(
                json!({"name": "Unreachable", "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-unreachable-0000", "models": ["m"]}),
            ),
        ),
        (
            "PUT",
            format!("/api/v1/orgs/{}/ai/settings", owner.org_slug),
            Some(json!({"enabled": true, "redact_pii": true, "monthly_budget": 10.0})),
        ),
    ] {
        let (status, body) = app.call_as(&owner, method, &path, body).await;
        assert!(status < 300, "{method} {path}: {status} {body}");
    }
    let id = app.analyse_text(&owner, "pay.log", &sample_log(60)).await;
    assert_eq!(app.wait_for(&owner, &id).await["status"], "done");
    let kept = app.analyse_text(&other, "beta.log", &sample_log(30)).await;
    assert_eq!(app.wait_for(&other, &kept).await["status"], "done");
    let (status, body) = app
        .call_as(
            &owner,
            "PUT",
            &format!("/api/v1/analyses/{id}/sharing"),
            Some(json!({"visibility": "teams", "teams": [{"team_id": team}]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .call_as(
            &owner,
            "POST",
            &format!("/api/v1/analyses/{id}/patterns/p1/comments"),
            Some(json!({"body": "@dev look"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .call_as(
            &owner,
            "POST",
            &format!("/api/v1/analyses/{id}/ai/explain"),
            Some(json!({"pattern_id": "p1"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["provider"], "faultline", "{body}");
    workers.stop(Duration::from_secs(5)).await;

    let count = |table: &'static str, org: String| {
        let raw = app.raw.clone();
        async move {
            let sql = format!("select count(*) from {table} where org_id = $1");
            server::with_db!(&raw, pool => sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(org).fetch_one(pool).await)
                .expect("count")
        }
    };
    for table in TENANT_TABLES {
        assert!(
            count(table, owner.org_id.clone()).await > 0,
            "the fixture fills {table}"
        );
    }
    let files_before = app.stored_files();
    assert!(files_before.iter().any(|f| f.contains(&owner.org_id)));

    let (status, body) = app
        .call_as(
            &owner,
            "DELETE",
            &format!("/api/v1/orgs/{}", owner.org_slug),
            Some(json!({"confirm": owner.org_slug})),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    for table in TENANT_TABLES {
        assert_eq!(
            count(table, owner.org_id.clone()).await,
            0,
            "{table} keeps nothing of the deleted organisation"
        );
    }
    let files = app.stored_files();
    assert!(
        !files.iter().any(|f| f.contains(&owner.org_id)),
        "its uploads and results are gone from storage: {files:?}"
    );
    assert!(
        files.iter().any(|f| f.contains(&other.org_id)),
        "Beta's files stay"
    );
    assert_eq!(
        app.wait_for(&other, &kept).await["status"],
        "done",
        "Beta's analysis stays"
    );
    assert!(count("uploads", other.org_id.clone()).await > 0);
});

on_both_backends!(uploads_are_seen_only_with_the_analyses_they_feed, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let member = join(&app, &owner, "dev@acme.example", "member").await;
    let admin = join(&app, &owner, "admin@acme.example", "admin").await;
    let workers = server::ingest::Workers::start(&app.state);
    let text = sample_log(40);
    let private = app.analyse_text(&member, "secret.log", &text).await;
    assert_eq!(app.wait_for(&member, &private).await["status"], "done");
    let (status, body) = app
        .call_as(
            &member,
            "PUT",
            &format!("/api/v1/analyses/{private}/sharing"),
            Some(json!({"visibility": "private"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let public = app
        .analyse_text(&member, "public.log", &sample_log(20))
        .await;
    assert_eq!(app.wait_for(&member, &public).await["status"], "done");
    let names = |user: User| {
        let app = &app;
        async move {
            let (status, list) = app.call_as(&user, "GET", "/api/v1/uploads", None).await;
            assert_eq!(status, 200, "{list}");
            let mut names: Vec<String> = list
                .as_array()
                .expect("uploads")
                .iter()
                .filter_map(|u| u["name"].as_str().map(str::to_owned))
                .collect();
            names.sort();
            names
        }
    };
    let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
    assert_eq!(
        names(viewer.clone()).await,
        ["public.log"],
        "a private analysis' upload is hidden"
    );
    assert_eq!(
        names(member.clone()).await,
        ["public.log", "secret.log"],
        "its author sees it"
    );
    assert_eq!(
        names(admin.clone()).await,
        ["public.log", "secret.log"],
        "admins see everything"
    );

    // Someone who cannot see it cannot start an analysis from it either…
    let (_, uploads) = app.call_as(&member, "GET", "/api/v1/uploads", None).await;
    let secret_upload = uploads
        .as_array()
        .expect("uploads")
        .iter()
        .find(|u| u["name"] == "secret.log")
        .and_then(|u| u["id"].as_str())
        .expect("secret upload")
        .to_owned();
    let colleague = join(&app, &owner, "other@acme.example", "member").await;
    let (status, body) = app
        .call_as(
            &colleague,
            "POST",
            "/api/v1/analyses",
            Some(json!({"upload_ids": [secret_upload]})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    // …nor learn of it by uploading the same bytes: they get an upload of their own.
    let r = app
        .upload(&colleague, "mine.log", "text/plain", text.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["duplicate"], false);
    assert_ne!(r.json()["id"], secret_upload.as_str());
    assert_eq!(r.json()["name"], "mine.log");
    // Its author uploading it again is told it is a duplicate.
    let r = app.upload(&member, "again.log", "text/plain", text).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["duplicate"], true);
    assert_eq!(r.json()["id"], secret_upload.as_str());
    workers.stop(Duration::from_secs(5)).await;
});

on_both_backends!(watchers_hear_at_once_that_an_analysis_was_deleted, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let workers = server::ingest::Workers::start(&app.state);
    let id = app
        .analyse_text(&owner, "big.log", &sample_log(400_000))
        .await;
    let request = Request::get(format!(
        "/api/v1/analyses/{id}/events?org={}",
        owner.org_slug
    ))
    .header("authorization", format!("Bearer {}", owner.access))
    .body(Body::empty())
    .expect("request");
    let router = app.router.clone();
    let watcher = tokio::spawn(async move { crate::helpers::send(&router, request).await });
    // Let the watcher see a first state before the analysis goes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = app
        .call(
            "DELETE",
            &format!("/api/v1/analyses/{id}?org={}", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    // Well before the periodic recheck would notice.
    let seen = tokio::time::timeout(Duration::from_secs(3), watcher)
        .await
        .expect("the stream ends at once")
        .expect("the watcher ran");
    let text = seen.text();
    assert!(text.contains("event: deleted"), "{text}");
    workers.stop(Duration::from_secs(5)).await;
    // A result the worker stored as the row went is removed with it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let results: Vec<String> = app
        .stored_files()
        .into_iter()
        .filter(|f| f.contains("results"))
        .collect();
    assert!(results.is_empty(), "{results:?}");
});
