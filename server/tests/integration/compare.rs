//! Batch comparison on both databases: analyses side by side (oldest logs first), the files of
//! one analysis side by side, tenant isolation and what is refused.

use std::time::Duration;

use serde_json::{Value, json};

use crate::on_both_backends;
use crate::tenancy::join;

/// A day's log: `timeouts` upstream timeouts and `disk` disk-full errors among 200 requests.
fn day_log(day: u32, timeouts: usize, disk: usize) -> String {
    let mut out = String::new();
    for i in 0..200 {
        out.push_str(&format!(
            "2026-11-{day:02}T10:{:02}:{:02}Z INFO request {i} served in 12 ms\n",
            i / 60,
            i % 60
        ));
    }
    for i in 0..timeouts {
        out.push_str(&format!(
            "2026-11-{day:02}T11:00:{:02}Z ERROR upstream billing timed out after {i} ms\n",
            i % 60
        ));
    }
    for i in 0..disk {
        out.push_str(&format!(
            "2026-11-{day:02}T12:00:{:02}Z CRITICAL disk full: {i} bytes free on /data\n",
            i % 60
        ));
    }
    out
}

fn column_names(comparison: &Value) -> Vec<&str> {
    comparison["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect()
}

fn row<'a>(comparison: &'a Value, words: &str) -> &'a Value {
    comparison["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["template"].as_str().is_some_and(|t| t.contains(words)))
        .unwrap_or_else(|| panic!("a row with {words:?}: {comparison}"))
}

on_both_backends!(analyses_compare_side_by_side_oldest_logs_first, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
    let stranger = app.signup("owner@beta.example", "Beta").await;
    let workers = server::ingest::Workers::start(&app.state);
    // Started in the opposite order of the days their logs cover.
    let later = app
        .analyse_text(&owner, "tuesday.log", &day_log(3, 40, 5))
        .await;
    let earlier = app
        .analyse_text(&owner, "monday.log", &day_log(2, 10, 0))
        .await;
    for id in [&later, &earlier] {
        let done = app.wait_for(&owner, id).await;
        assert_eq!(done["status"], "done", "{done}");
    }
    let path = format!(
        "/api/v1/compare?ids={later},{earlier}&org={}",
        owner.org_slug
    );
    let r = app.call("GET", &path, Some(&owner.access), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let c = r.json();
    let names = column_names(&c);
    assert_eq!(names, ["monday.log", "tuesday.log"], "{c}");
    assert_eq!(c["by_file"], false);
    assert_eq!(c["columns"][0]["events"], 210);
    assert_eq!(c["columns"][1]["events"], 245);

    let timeouts = row(&c, "timed out");
    assert_eq!(timeouts["counts"], json!([10, 40]));
    assert_eq!(timeouts["change"], "up");
    let rate = |v: &Value| v.as_f64().unwrap_or(-1.0);
    assert!(
        (rate(&timeouts["rates"][0]) - 47.619).abs() < 0.001,
        "{timeouts}"
    );
    assert!(
        (rate(&timeouts["rates"][1]) - 163.265).abs() < 0.001,
        "{timeouts}"
    );
    let disk = row(&c, "disk full");
    assert_eq!(disk["counts"], json!([0, 5]));
    assert_eq!(disk["change"], "new");
    assert!(disk["pattern_ids"][0].is_null());
    assert!(disk["pattern_ids"][1].is_string());
    // New first, with the largest move next; the steady INFO pattern comes last.
    assert!(
        c["rows"][0]["template"]
            .as_str()
            .is_some_and(|t| t.contains("disk full")),
        "{c}"
    );
    let served = row(&c, "served");
    assert_eq!(
        served["change"], "steady",
        "200 of 210 events, then 200 of 245: {served}"
    );
    assert_eq!(c["total"], 3);
    assert_eq!(c["changes"][0], json!(["new", 1]));

    // Filters: words and changes only.
    let r = app
        .call(
            "GET",
            &format!("{path}&q=BILLING&changed=true"),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.json()["matched"], 1, "{}", r.text());

    // A viewer may compare; another organisation sees nothing.
    let as_viewer = format!(
        "/api/v1/compare?ids={later},{earlier}&org={}",
        viewer.org_slug
    );
    let r = app
        .call("GET", &as_viewer, Some(&viewer.access), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let theirs = format!(
        "/api/v1/compare?ids={later},{earlier}&org={}",
        stranger.org_slug
    );
    let r = app.call("GET", &theirs, Some(&stranger.access), None).await;
    assert_eq!(r.status, 404, "{}", r.text());

    // Nothing picked, or too much, is refused with a reason.
    for (ids, words) in [("", "at least one"), (",,", "at least one")] {
        let r = app
            .call(
                "GET",
                &format!("/api/v1/compare?ids={ids}&org={}", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(r.status, 422, "{}", r.text());
        assert!(r.text().contains(words), "{}", r.text());
    }
    let eleven: Vec<String> = (0..11).map(|i| format!("a{i}")).collect();
    let r = app
        .call(
            "GET",
            &format!(
                "/api/v1/compare?ids={}&org={}",
                eleven.join(","),
                owner.org_slug
            ),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("At most 10"), "{}", r.text());
    workers.stop(Duration::from_secs(5)).await;
});

on_both_backends!(the_files_of_one_analysis_compare_side_by_side, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let workers = server::ingest::Workers::start(&app.state);
    let mut uploads = Vec::new();
    for (name, text) in [
        ("api-1.log", day_log(2, 0, 3)),
        ("api-2.log", day_log(2, 20, 0)),
    ] {
        let r = app.upload(&owner, name, "text/plain", text).await;
        assert!(r.status == 201 || r.status == 200, "{}", r.text());
        uploads.push(r.json()["id"].clone());
    }
    let r = app
        .call(
            "POST",
            &format!("/api/v1/analyses?org={}", owner.org_slug),
            Some(&owner.access),
            Some(json!({"upload_ids": uploads})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let done = app.wait_for(&owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    let r = app
        .call(
            "GET",
            &format!("/api/v1/compare?ids={id}&org={}", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let c = r.json();
    assert_eq!(c["by_file"], true);
    let names = column_names(&c);
    assert_eq!(names, ["api-1.log", "api-2.log"]);
    assert_eq!(row(&c, "timed out")["counts"], json!([0, 20]));
    assert_eq!(row(&c, "timed out")["change"], "new");
    assert_eq!(row(&c, "disk full")["counts"], json!([3, 0]));
    assert_eq!(row(&c, "disk full")["change"], "gone");
    workers.stop(Duration::from_secs(5)).await;
});
