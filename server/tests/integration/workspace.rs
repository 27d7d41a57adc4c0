//! The analysis workspace's API on both databases: the pattern table (search, filters, sort,
//! pages), one pattern's detail and the overview, with tenant isolation and permissions.

use std::time::Duration;

use serde_json::Value;

use crate::on_both_backends;
use crate::tenancy::join;

/// Three letters naming `k`: words, so the miner keeps them as constants.
fn name(mut k: usize) -> String {
    (0..3)
        .map(|_| {
            let c = char::from(b'a' + (k % 26) as u8);
            k /= 26;
            c
        })
        .collect()
}

/// A log with many distinct templates: `kinds` messages, each with its own words, every fifth
/// an error, `per_kind` times each.
fn varied_log(kinds: usize, per_kind: usize) -> String {
    let mut out = String::new();
    for i in 0..per_kind {
        for k in 0..kinds {
            let second = (i * kinds + k) % 60;
            let minute = (i * kinds + k) / 60 % 60;
            let (a, b) = (name(k), name(k * 7 + 3));
            if k % 5 == 0 {
                out.push_str(&format!(
                    "2026-12-01T10:{minute:02}:{second:02}Z ERROR {a}billing payment {i} failed: connection refused\n"
                ));
            } else {
                out.push_str(&format!(
                    "2026-12-01T10:{minute:02}:{second:02}Z INFO {a}worker {b} stage finished {i} items\n"
                ));
            }
        }
    }
    out
}

/// The templates of a page of the pattern table, in order.
fn templates_of(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["template"].as_str())
        .collect()
}

async fn get(
    app: &crate::helpers::TestApp,
    user: &crate::identity::User,
    path: &str,
) -> (u16, Value) {
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = app
        .call(
            "GET",
            &format!("{path}{sep}org={}", user.org_slug),
            Some(&user.access),
            None,
        )
        .await;
    (r.status, r.json())
}

on_both_backends!(the_pattern_table_filters_sorts_and_pages, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let workers = server::ingest::Workers::start(&app.state);
    let id = app
        .analyse_text(&owner, "varied.log", &varied_log(90, 3))
        .await;
    let done = app.wait_for(&owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    let total = done["summary"]["patterns"].as_u64().expect("patterns");
    assert!(total > 50, "more than one page: {total}");
    let base = format!("/api/v1/analyses/{id}/patterns");

    let (status, page) = get(&app, &owner, &base).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], total);
    assert_eq!(page["matched"], total);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(50));
    assert_eq!(page["pages"], total.div_ceil(50));
    let counts: Vec<u64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["count"].as_u64().unwrap_or(0))
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "most frequent first: {counts:?}"
    );
    assert!(
        page["items"][0]["spark"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "sparklines come with the rows"
    );
    assert!(
        page["facets"]["severity"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );

    // Search, filter, sort and page; each answer says how many matched.
    let (_, hits) = get(&app, &owner, &format!("{base}?q=REFUSED%20payment")).await;
    let templates: Vec<&str> = templates_of(&hits);
    assert!(!templates.is_empty());
    assert!(
        templates
            .iter()
            .all(|t| t.contains("payment") && t.contains("refused")),
        "{templates:?}"
    );
    assert_eq!(hits["matched"].as_u64(), Some(templates.len() as u64));
    let (_, high) = get(&app, &owner, &format!("{base}?severity=high")).await;
    assert!(
        high["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|p| p["severity"] == "high")
    );
    assert!(high["matched"].as_u64().expect("matched") < total);
    let (_, info) = get(&app, &owner, &format!("{base}?level=info&sort=template")).await;
    let sorted: Vec<&str> = templates_of(&info);
    assert!(
        sorted.windows(2).all(|w| w[0] <= w[1]),
        "A to Z: {sorted:?}"
    );
    let (_, reversed) = get(
        &app,
        &owner,
        &format!("{base}?level=info&sort=template&asc=false"),
    )
    .await;
    let backwards: Vec<&str> = templates_of(&reversed);
    assert!(
        backwards.windows(2).all(|w| w[0] >= w[1]),
        "Z to A: {backwards:?}"
    );
    let (_, second) = get(&app, &owner, &format!("{base}?page=2")).await;
    assert_eq!(second["page"], 2);
    assert_ne!(second["items"][0]["id"], page["items"][0]["id"]);
    let (_, past) = get(&app, &owner, &format!("{base}?page=999")).await;
    assert_eq!(
        past["page"], past["pages"],
        "past the end answers the last page"
    );
    let (_, none) = get(&app, &owner, &format!("{base}?q=no-such-words-anywhere")).await;
    assert_eq!(none["matched"], 0);
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0));

    // One pattern in detail, and the overview.
    let first = page["items"][0]["id"].as_str().expect("id").to_owned();
    let (status, detail) = get(&app, &owner, &format!("{base}/{first}")).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["pattern"]["id"], first.as_str());
    assert!(
        detail["pattern"]["samples"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    let over_time: u64 = detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|b| b[1].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        over_time,
        detail["pattern"]["count"].as_u64().expect("count"),
        "every event is in a bucket"
    );
    let (status, missing) = get(&app, &owner, &format!("{base}/p999999")).await;
    assert_eq!(status, 404, "{missing}");
    let (status, overview) = get(&app, &owner, &format!("/api/v1/analyses/{id}/overview")).await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["files"][0]["name"], "varied.log");
    assert!(
        overview["buckets"]
            .as_array()
            .is_some_and(|b| !b.is_empty())
    );

    workers.stop(Duration::from_secs(5)).await;
});

on_both_backends!(exports_are_files_and_are_audited, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let stranger = app.signup("owner@beta.example", "Beta").await;
    let workers = server::ingest::Workers::start(&app.state);
    let log = format!(
        "{}2026-12-01T11:00:00Z ERROR =cmd|' /C calc'!A0 failed, \"quoted\"\n",
        varied_log(10, 2)
    );
    let id = app.analyse_text(&owner, "nightly%20run.log", &log).await;
    let done = app.wait_for(&owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    let export = |user: &crate::identity::User, format: &str| {
        let url = format!(
            "/api/v1/analyses/{id}/report.{format}?org={}",
            user.org_slug
        );
        let token = user.access.clone();
        let app = &app;
        async move { app.call("GET", &url, Some(&token), None).await }
    };

    let json = export(&owner, "json").await;
    assert_eq!(json.status, 200, "{}", json.text());
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert_eq!(
        json.header("content-disposition"),
        Some("attachment; filename=\"nightly-run.log.json\"")
    );
    assert_eq!(
        json.json()["patterns"],
        done["result"]["patterns"],
        "the stored result, whole"
    );

    let csv = export(&owner, "csv").await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = csv.text();
    assert!(text.starts_with("id,template,count,"), "{text}");
    let rows = text.matches("\r\n").count() - 1;
    assert_eq!(
        rows as u64,
        done["summary"]["patterns"].as_u64().expect("patterns"),
        "one row per pattern"
    );
    assert!(!text.contains(",=cmd"), "a formula is defused: {text}");

    let md = export(&owner, "md").await;
    assert_eq!(md.status, 200);
    assert_eq!(
        md.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    let report = md.text();
    assert!(report.starts_with("# nightly run.log\n"), "{report}");
    for section in ["| Events | 21 |", "## Patterns by risk", "## Files"] {
        assert!(report.contains(section), "{section} in {report}");
    }

    // The PDF: poppler renders every page and reads its text back.
    let pdf = export(&owner, "pdf").await;
    assert_eq!(pdf.status, 200, "{}", pdf.text());
    assert_eq!(pdf.header("content-type"), Some("application/pdf"));
    assert_eq!(
        pdf.header("content-disposition"),
        Some("attachment; filename=\"nightly-run.log.pdf\"")
    );
    let dir = tempfile::tempdir().expect("a directory");
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, &pdf.body).expect("written");
    let rendered = std::process::Command::new("pdftoppm")
        .args(["-r", "40", "-png"])
        .arg(&file)
        .arg(dir.path().join("page"))
        .output()
        .expect("pdftoppm (poppler-utils) runs");
    assert!(rendered.status.success(), "{rendered:?}");
    assert!(
        String::from_utf8_lossy(&rendered.stderr).trim().is_empty(),
        "rendered cleanly: {rendered:?}"
    );
    let pages = std::fs::read_dir(dir.path())
        .expect("listed")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "png"))
        })
        .count();
    assert!(pages >= 2, "{pages} pages");
    let text = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    for section in [
        "nightly run.log",
        "Executive summary",
        "21 events in 21 lines from 1 file",
        "Events per",
        "Top patterns",
        "Risk",
        "Findings",
        "Generated tests",
        "Recommendations",
        "Appendix",
        &format!("Page 1 of {pages}"),
    ] {
        assert!(text.contains(section), "{section} in {text}");
    }

    // The workbook, read back by openpyxl.
    let xlsx = export(&owner, "xlsx").await;
    assert_eq!(xlsx.status, 200, "{}", xlsx.text());
    assert_eq!(
        xlsx.header("content-type"),
        Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    );
    let book = dir.path().join("report.xlsx");
    std::fs::write(&book, &xlsx.body).expect("written");
    let read = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import json, sys, openpyxl\n\
             wb = openpyxl.load_workbook(sys.argv[1])\n\
             print(json.dumps({'names': wb.sheetnames, 'sheets': {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in wb}}, default=str))",
        )
        .arg(&book)
        .output()
        .expect("python3 runs");
    assert!(read.status.success(), "{read:?}");
    let book: Value = serde_json::from_slice(&read.stdout).expect("sheets as JSON");
    assert_eq!(
        book["names"],
        serde_json::json!(["Summary", "Patterns", "Findings", "Tests", "Timeline"])
    );
    let sheets = &book["sheets"];
    let patterns = sheets["Patterns"].as_array().expect("rows");
    assert_eq!(patterns[0][0], "Id");
    assert_eq!(
        patterns.len() as u64 - 1,
        done["summary"]["patterns"].as_u64().expect("patterns"),
        "every pattern"
    );
    let events: u64 = patterns[1..].iter().filter_map(|r| r[2].as_u64()).sum();
    assert_eq!(events, 21, "exact counts, as numbers");
    assert!(
        patterns[1..]
            .iter()
            .any(|r| r[1].as_str().is_some_and(|t| t.contains("=cmd"))),
        "the formula-like message is kept as text"
    );
    assert_eq!(sheets["Summary"][3], serde_json::json!(["Events", 21]));
    let tests = sheets["Tests"].as_array().expect("rows");
    assert_eq!(
        tests[0],
        serde_json::json!(["Framework", "File", "Tests", "Patterns", "Validation"])
    );
    assert!(tests.len() > 1, "a row per test file: {tests:?}");
    assert!(
        tests[1..]
            .iter()
            .all(|r| r[0] == "pytest" && r[4] == "valid"),
        "{tests:?}"
    );
    let summary_tests = sheets["Summary"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r[0] == "Generated tests")
        .expect("the summary names the tests");
    assert!(
        summary_tests[1]
            .as_str()
            .is_some_and(|t| t.contains(" pytest (") && t.ends_with("error patterns covered)")),
        "{summary_tests}"
    );

    let unknown = export(&owner, "exe").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.text().contains("report.json"), "{}", unknown.text());
    let theirs = export(&stranger, "csv").await;
    assert_eq!(theirs.status, 404, "another organisation's analysis");

    // Each export is in the audit log with its format; the refused ones are not.
    let audit = app
        .call(
            "GET",
            &format!(
                "/api/v1/orgs/{}/audit?action=analysis.exported",
                owner.org_slug
            ),
            Some(&owner.access),
            None,
        )
        .await
        .json();
    let formats: Vec<String> = audit
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["detail"].as_str())
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|d| d["format"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        formats,
        ["xlsx", "pdf", "md", "csv", "json"],
        "newest first"
    );
    workers.stop(Duration::from_secs(5)).await;
});

on_both_backends!(
    patterns_are_tenant_scoped_and_wait_for_the_analysis,
    |app| {
        let owner = app.signup("owner@acme.example", "Acme").await;
        let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
        let stranger = app.signup("owner@beta.example", "Beta").await;
        // Not analysed yet: no workers are running.
        let id = app.analyse_text(&owner, "a.log", &varied_log(5, 2)).await;
        let (status, body) = get(&app, &owner, &format!("/api/v1/analyses/{id}/patterns")).await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"]["code"], "not_done");

        let workers = server::ingest::Workers::start(&app.state);
        let done = app.wait_for(&owner, &id).await;
        assert_eq!(done["status"], "done", "{done}");
        for path in [
            format!("/api/v1/analyses/{id}/patterns"),
            format!("/api/v1/analyses/{id}/patterns/p1"),
            format!("/api/v1/analyses/{id}/patterns/p1/samples/0/context"),
            format!("/api/v1/analyses/{id}/overview"),
        ] {
            let (status, _) = get(&app, &viewer, &path).await;
            assert_eq!(status, 200, "a viewer reads {path}");
            let (status, body) = get(&app, &stranger, &path).await;
            assert_eq!(status, 404, "another organisation's {path}: {body}");
        }

        // Once deleted, its patterns are gone too (the parsed result is not served from memory).
        let r = app
            .call(
                "DELETE",
                &format!("/api/v1/analyses/{id}?org={}", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text());
        let (status, _) = get(&app, &owner, &format!("/api/v1/analyses/{id}/patterns")).await;
        assert_eq!(status, 404);
        workers.stop(Duration::from_secs(5)).await;
    }
);

on_both_backends!(a_sample_comes_with_the_lines_around_it, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let workers = server::ingest::Workers::start(&app.state);
    let mut log = String::new();
    for i in 1..=30 {
        log.push_str(&format!(
            "2026-12-01T10:00:{i:02}Z INFO cache warmed {i} entries\n"
        ));
        if i == 20 {
            log.push_str("2026-12-01T10:00:20Z ERROR payment failed: upstream timed out\n");
            log.push_str("java.net.SocketTimeoutException: Read timed out\n");
            log.push_str("\tat com.acme.pay.Client.charge(Client.java:42)\n");
        }
    }
    let id = app.analyse_text(&owner, "pay.log", &log).await;
    let done = app.wait_for(&owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    let (_, page) = get(
        &app,
        &owner,
        &format!("/api/v1/analyses/{id}/patterns?q=payment"),
    )
    .await;
    let pid = page["items"][0]["id"]
        .as_str()
        .expect("the error pattern")
        .to_owned();
    let base = format!("/api/v1/analyses/{id}/patterns/{pid}/samples/0/context");

    let (status, context) = get(&app, &owner, &format!("{base}?around=2")).await;
    assert_eq!(status, 200, "{context}");
    assert_eq!(context["file"], "pay.log");
    // The event spans lines 21–23 (the message and its stack trace), after 20 INFO lines.
    assert_eq!(context["line"], 21);
    assert_eq!(context["end_line"], 23);
    let lines = context["lines"].as_array().expect("lines");
    let numbers: Vec<u64> = lines.iter().filter_map(|l| l["number"].as_u64()).collect();
    assert_eq!(numbers, [19, 20, 21, 22, 23, 24, 25]);
    let event: Vec<bool> = lines.iter().map(|l| l["event"] == true).collect();
    assert_eq!(event, [false, false, true, true, true, false, false]);
    assert_eq!(
        lines[1]["text"],
        "2026-12-01T10:00:20Z INFO cache warmed 20 entries"
    );
    assert_eq!(
        lines[3]["text"],
        "java.net.SocketTimeoutException: Read timed out"
    );
    assert_eq!(context["cut"], false);

    // The default is five lines each side, and asking for more than 50 gets 50.
    let (_, default) = get(&app, &owner, &base).await;
    assert_eq!(default["lines"].as_array().map(Vec::len), Some(3 + 2 * 5));
    let (_, most) = get(&app, &owner, &format!("{base}?around=100000")).await;
    assert_eq!(
        most["lines"][0]["number"], 1,
        "capped, then clipped to the file's start"
    );

    // No such sample or pattern: 404.
    for path in [
        format!("/api/v1/analyses/{id}/patterns/{pid}/samples/99/context"),
        format!("/api/v1/analyses/{id}/patterns/p999/samples/0/context"),
    ] {
        let (status, _) = get(&app, &owner, &path).await;
        assert_eq!(status, 404, "{path}");
    }
    let (status, body) = get(&app, &owner, &format!("{base}?around=lots")).await;
    assert_eq!(status, 400, "{body}");
    workers.stop(Duration::from_secs(5)).await;
});

on_both_backends!(the_overview_has_endpoints_security_and_changes, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let workers = server::ingest::Workers::start(&app.state);
    let mut access = String::new();
    for i in 0..40 {
        let status = if i % 10 == 0 { 503 } else { 200 };
        access.push_str(&format!(
            "10.0.0.{} - - [01/Dec/2026:10:00:{:02} +0000] \"GET /api/orders/{i} HTTP/1.1\" {status} 512 \"-\" \"curl/8.5\"\n",
            i % 7,
            i % 60
        ));
    }
    access.push_str("10.9.9.9 - - [01/Dec/2026:10:01:00 +0000] \"GET /search?q=1%27%20OR%20%271%27=%271 HTTP/1.1\" 200 12 \"-\" \"sqlmap/1.7\"\n");
    let first = app.analyse_text(&owner, "monday.log", &access).await;
    assert_eq!(app.wait_for(&owner, &first).await["status"], "done");

    let tuesday = format!(
        "{access}10.0.0.1 - - [01/Dec/2026:10:02:00 +0000] \"POST /api/refunds HTTP/1.1\" 500 0 \"-\" \"curl/8.5\"\n"
    );
    let r = app
        .upload(&owner, "tuesday.log", "text/plain", tuesday)
        .await;
    let upload = r.json()["id"].as_str().expect("id").to_owned();
    let r = app
        .call(
            "POST",
            &format!("/api/v1/analyses?org={}", owner.org_slug),
            Some(&owner.access),
            Some(serde_json::json!({"upload_ids": [upload], "previous_analysis_id": first})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let second = r.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(app.wait_for(&owner, &second).await["status"], "done");

    let (status, overview) =
        get(&app, &owner, &format!("/api/v1/analyses/{second}/overview")).await;
    assert_eq!(status, 200, "{overview}");
    let endpoints = overview["endpoints"].as_array().expect("endpoints");
    let orders = endpoints
        .iter()
        .find(|e| e["path"] == "/api/orders/{id}")
        .unwrap_or_else(|| panic!("orders endpoint in {endpoints:?}"));
    assert_eq!(orders["count"], 40);
    assert!(
        (orders["error_rate"].as_f64().unwrap_or(0.0) - 0.1).abs() < 1e-9,
        "{orders}"
    );
    let kinds: Vec<&str> = overview["security"]
        .as_array()
        .expect("security")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"sql_injection") || kinds.contains(&"scanner"),
        "{kinds:?}"
    );
    let new: Vec<&str> = overview["comparison"]["new"]
        .as_array()
        .expect("comparison")
        .iter()
        .filter_map(|e| e["template"].as_str())
        .collect();
    assert!(new.iter().any(|t| t.contains("/api/refunds")), "{new:?}");
    workers.stop(Duration::from_secs(5)).await;
});
