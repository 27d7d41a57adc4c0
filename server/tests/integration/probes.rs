//! `/healthz`, `/readyz` and `/metrics`.

use crate::helpers::{Backend, TestApp, test_config};
use crate::on_both_backends;

on_both_backends!(healthz_answers_without_the_database, |app| {
    let res = app.get("/healthz").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), serde_json::json!({ "status": "ok" }));
});

on_both_backends!(readyz_reports_the_schema_version, |app| {
    let res = app.get("/readyz").await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["database"],
        match app.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
    assert_eq!(body["database_reachable"], true);
    assert!(body["schema_version"].as_i64().is_some_and(|v| v >= 1));
    assert_eq!(body["schema_version"], body["schema_expected"]);
});

#[tokio::test]
async fn readyz_is_503_before_migrations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("fresh.db").display());
    let db = server::Db::connect(&url).await.expect("opens");
    let state = server::AppState::new(test_config(dir.path(), &[]), db).expect("state");
    let router = server::build_router(state);
    let res = crate::helpers::send(
        &router,
        axum::http::Request::get("/readyz")
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(res.status, 503);
    let body = res.json();
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["schema_version"], serde_json::Value::Null);
    assert!(
        body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("faultline migrate"))
    );
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.state.db.close().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status, 503);
    assert_eq!(res.json()["database_reachable"], false);
}

on_both_backends!(metrics_count_requests_per_route_and_show_the_pool, |app| {
    for _ in 0..3 {
        assert_eq!(app.get("/healthz").await.status, 200);
    }
    app.get("/api/v1/does-not-exist").await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status, 200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    let text = res.text();
    assert!(
        text.contains(
            r#"faultline_http_requests_total{method="GET",route="/healthz",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"faultline_http_request_duration_seconds_bucket{le="0.001",method="GET",route="/healthz"}"#)
        || text.contains(r#"faultline_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.001"}"#),
        "{text}");
    assert!(
        text.contains(
            r#"faultline_http_request_duration_seconds_count{method="GET",route="/healthz"} 3"#
        ),
        "{text}"
    );
    assert!(text.contains("faultline_db_pool_connections "), "{text}");
    assert!(
        text.contains("faultline_db_pool_max_connections "),
        "{text}"
    );
    // Raw paths never become labels: unknown API paths share one route template.
    assert!(!text.contains("does-not-exist"), "{text}");
});
