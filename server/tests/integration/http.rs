//! Middleware behaviour every response shares: security headers, request ids, the error
//! envelope, the panic guard, body limits, compression and static asset caching.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::{get, post};

use crate::helpers::{Backend, TestApp, send, test_config};
use crate::on_both_backends;

fn assert_security_headers(res: &crate::helpers::TestResponse, what: &str) {
    assert_eq!(
        res.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        res.header("referrer-policy"),
        Some("strict-origin-when-cross-origin"),
        "{what}"
    );
    assert_eq!(res.header("x-frame-options"), Some("DENY"), "{what}");
    let csp = res.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        !csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"),
        "{what}: {csp}"
    );
    assert!(res.header("x-request-id").is_some(), "{what}");
}

on_both_backends!(security_headers_on_html_json_and_errors, |app| {
    let page = app.get("/").await;
    assert_eq!(page.status, 200);
    assert_security_headers(&page, "html page");
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("'nonce-"),
        "pages allow only their own nonce: {csp}"
    );
    assert!(
        page.header("strict-transport-security").is_none(),
        "no HSTS over plain http"
    );

    assert_security_headers(&app.get("/healthz").await, "json");
    assert_security_headers(&app.get("/api/v1/nope").await, "api error");
    assert_security_headers(&app.get("/no/such/page").await, "404 page");
});

#[tokio::test]
async fn hsts_only_behind_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(
        dir.path(),
        &[("FAULTLINE_PUBLIC_URL", "https://faultline.example")],
    );
    let db = server::Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .expect("db");
    let router = server::build_router(server::AppState::new(config, db).expect("state"));
    let res = send(
        &router,
        Request::get("/healthz").body(Body::empty()).expect("req"),
    )
    .await;
    assert_eq!(
        res.header("strict-transport-security"),
        Some("max-age=63072000; includeSubDomains")
    );
}

#[tokio::test]
async fn request_ids_are_generated_kept_or_replaced() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let generated = app.get("/healthz").await;
    let id = generated
        .header("x-request-id")
        .expect("generated")
        .to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));

    let kept = app
        .send(
            Request::get("/healthz")
                .header("x-request-id", "ci-run-42")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(kept.header("x-request-id"), Some("ci-run-42"));

    let replaced = app
        .send(
            Request::get("/healthz")
                .header("x-request-id", "<script>")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_ne!(replaced.header("x-request-id"), Some("<script>"));
}

on_both_backends!(unknown_api_paths_answer_the_json_envelope, |app| {
    let res = app.get("/api/v1/no/such/thing").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.header("content-type"), Some("application/json"));
    let body = res.json();
    assert_eq!(body["error"]["code"], "not_found");
    assert!(body["error"]["message"].is_string());
    assert_eq!(
        body["error"]["request_id"].as_str(),
        res.header("x-request-id")
    );
});

/// The production middleware around routes that misbehave on purpose.
fn misbehaving(app: &TestApp) -> Router {
    let routes = Router::new()
        .route(
            "/api/v1/boom",
            get(|| async {
                panic!("database password is hunter2");
                #[expect(unreachable_code, reason = "the handler must have a return type")]
                ""
            }),
        )
        .route(
            "/boom",
            get(|| async {
                panic!("secret page detail");
                #[expect(unreachable_code, reason = "the handler must have a return type")]
                ""
            }),
        )
        .route(
            "/api/v1/echo",
            post(|body: String| async move { body.len().to_string() }),
        );
    server::http::with_middleware(routes, app.state.clone())
}

#[tokio::test]
async fn a_panic_becomes_a_500_with_a_request_id_and_no_internal_text() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let router = misbehaving(&app);
    let res = send(
        &router,
        Request::get("/api/v1/boom")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(res.status, 500);
    let body = res.json();
    assert_eq!(body["error"]["code"], "internal");
    let id = res.header("x-request-id").expect("request id");
    assert_eq!(body["error"]["request_id"], id);
    assert!(!res.text().contains("hunter2"));
    assert_security_headers(&res, "panic");

    let page = send(
        &router,
        Request::get("/boom").body(Body::empty()).expect("req"),
    )
    .await;
    assert_eq!(page.status, 500);
    assert!(
        page.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(
        page.text()
            .contains(page.header("x-request-id").expect("id"))
    );
    assert!(!page.text().contains("secret page detail"));

    // The server keeps answering after a panic.
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let router = misbehaving(&app);
    let small = send(
        &router,
        Request::post("/api/v1/echo")
            .body(Body::from("x".repeat(10)))
            .expect("req"),
    )
    .await;
    assert_eq!(small.status, 200);
    let big = vec![b'x'; server::http::MAX_BODY_BYTES + 1];
    let res = send(
        &router,
        Request::post("/api/v1/echo")
            .body(Body::from(big))
            .expect("req"),
    )
    .await;
    assert_eq!(res.status, 413);
}

on_both_backends!(responses_are_compressed_when_asked, |app| {
    let res = app
        .send(
            Request::get("/")
                .header("accept-encoding", "gzip")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
});

#[tokio::test]
async fn hashed_assets_are_cached_forever_and_served_precompressed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let path = "/pkg/faultline.0123456789abcdef.css";
    let res = app
        .send(
            Request::get(path)
                .header("accept-encoding", "gzip")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(
        res.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/css"))
    );

    let missing = app.get("/pkg/faultline.ffff.css").await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("cache-control"),
        None,
        "a 404 must not be cached forever"
    );

    let robots = app.get("/robots.txt").await;
    assert_eq!(robots.status, 200);
    assert_eq!(robots.header("cache-control"), Some("public, max-age=3600"));
}
