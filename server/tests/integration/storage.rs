//! S3-compatible storage against a real S3 server on loopback (moto): uploads land in the
//! bucket, analyses read them back, and refused or abandoned uploads leave neither objects nor
//! unfinished multipart uploads.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{Backend, TestApp, free_port};
use crate::ingest::{gzip, sample_log};

struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto() -> Moto {
    let port = free_port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server runs (scripts/setup.sh test installs moto[server])");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

/// Keys in `bucket`, and multipart uploads begun but neither completed nor aborted.
async fn bucket_state(moto: &Moto, bucket: &str) -> (Vec<String>, usize) {
    let client = reqwest::Client::new();
    let listing = client
        .get(format!("{}/{bucket}?list-type=2", moto.url))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("listing");
    let keys = listing
        .split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_owned)
        .collect();
    let pending = client
        .get(format!("{}/{bucket}?uploads", moto.url))
        .send()
        .await
        .expect("list uploads")
        .text()
        .await
        .expect("uploads");
    (keys, pending.matches("<Upload>").count())
}

#[tokio::test]
async fn uploads_and_results_live_in_s3() {
    let moto = start_moto();
    let bucket = "faultline-test";
    let created = reqwest::Client::new()
        .put(format!("{}/{bucket}", moto.url))
        .send()
        .await
        .expect("create bucket");
    assert!(created.status().is_success(), "{}", created.status());
    let app = TestApp::try_spawn_with(
        Backend::Sqlite,
        &[
            ("FAULTLINE_STORAGE_URL", &format!("s3://{bucket}")),
            ("FAULTLINE_S3_ENDPOINT", &moto.url),
            ("FAULTLINE_S3_ACCESS_KEY_ID", "test"),
            ("FAULTLINE_S3_SECRET_ACCESS_KEY", "test"),
        ],
    )
    .await
    .expect("app");
    assert_eq!(app.state.ingest.storage.backend, "s3");
    let workers = server::ingest::Workers::start(&app.state);
    let owner = app.signup("owner@acme.example", "Acme").await;

    // Larger than one multipart part, so several parts go up.
    let big = gzip(sample_log(20_000).as_bytes());
    let text = sample_log(150_000);
    assert!(text.len() > 8 << 20, "{}", text.len());
    let r = app
        .upload(&owner, "big.log", "text/plain", text.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let upload = r.json();
    let r = app
        .upload(&owner, "more.log.gz", "application/gzip", big)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let gz = r.json();
    let (keys, pending) = bucket_state(&moto, bucket).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(pending, 0);

    let r = app
        .call(
            "POST",
            &format!("/api/v1/analyses?org={}", owner.org_slug),
            Some(&owner.access),
            Some(json!({"upload_ids": [upload["id"], gz["id"]]})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let done = app.wait_for(&owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["files"][0]["events"], 150_000);
    let (keys, _) = bucket_state(&moto, bucket).await;
    assert!(keys.iter().any(|k| k.starts_with("results/")), "{keys:?}");
    // A sample's surrounding lines are streamed back from the bucket.
    let detail = app
        .call(
            "GET",
            &format!("/api/v1/analyses/{id}/patterns/p1?org={}", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await
        .json();
    let sample = &detail["pattern"]["samples"][0];
    let r = app
        .call(
            "GET",
            &format!(
                "/api/v1/analyses/{id}/patterns/p1/samples/0/context?around=3&org={}",
                owner.org_slug
            ),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let context = r.json();
    assert_eq!(context["file"], sample["file"]);
    let event = context["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["event"] == true)
        .expect("the event's line");
    assert_eq!(event["number"], sample["line"]);
    let text = sample["text"].as_str().expect("text");
    assert!(
        event["text"].as_str().is_some_and(|t| t.contains(text)),
        "{event} holds {text:?}"
    );

    // Remote files are copied to scratch space to be read, and removed afterwards.
    let scratch = app.data_dir().join("scratch");
    let left = std::fs::read_dir(&scratch).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "scratch files left in {}", scratch.display());

    // Refused and interrupted uploads leave nothing in the bucket, not even unfinished parts.
    let whole = gzip(sample_log(400_000).as_bytes());
    let r = app
        .upload(
            &owner,
            "cut.gz",
            "application/gzip",
            whole[..whole.len() - 100].to_vec(),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = app
        .upload(&owner, "img.log", "", b"GIF89a\x01\0\x01\0\0\0\0;".to_vec())
        .await;
    assert_eq!(r.status, 415, "{}", r.text());
    // Let background aborts land.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (keys_after, pending) = bucket_state(&moto, bucket).await;
    assert_eq!(keys_after.len(), keys.len(), "{keys_after:?}");
    assert_eq!(pending, 0, "unfinished multipart uploads left behind");

    // Deleting the organisation removes its objects.
    let r = app
        .call(
            "DELETE",
            &format!("/api/v1/orgs/{}", owner.org_slug),
            Some(&owner.access),
            Some(json!({"confirm": owner.org_slug})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let (keys, _) = bucket_state(&moto, bucket).await;
    assert!(keys.is_empty(), "{keys:?}");
    workers.stop(Duration::from_secs(5)).await;
}
