//! The OpenAPI document: served, complete, and describing only routes that exist.

use crate::helpers::{Backend, TestApp};

#[tokio::test]
async fn the_document_is_served_and_matches_the_router() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("item") {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path} has a summary"
            );
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} lists responses"
            );
            for param in path.split('/').filter(|s| s.starts_with('{')) {
                let name = param.trim_matches(['{', '}']);
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(declared, "{method} {path} declares {name}");
            }
            // The route exists: an anonymous call is refused by authentication or validation,
            // never by the fallback.
            let concrete = path
                .split('/')
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let response = app
                .call(
                    &method.to_uppercase(),
                    &format!("/api/v1{concrete}"),
                    None,
                    None,
                )
                .await;
            assert!(
                !response.text().contains("No such API endpoint"),
                "{method} {path} is routed"
            );
        }
    }
    assert_eq!(operations, 106, "every endpoint is documented");
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().into_iter().flat_map(|ops| ops.values()))
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    assert_eq!(ids.len(), operations, "every operation has an id");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), operations, "operation ids are unique");
    for public in ["/auth/signup", "/auth/login", "/auth/password-reset"] {
        assert_eq!(
            doc["paths"][public]["post"]["security"],
            serde_json::json!([{}]),
            "{public} needs no credentials"
        );
    }
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    assert!(schemes.contains_key("bearer") && schemes.contains_key("cookie"));
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn the_reference_page_lists_every_endpoint() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let page = app.get("/api").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    for expected in [
        "POST /auth/signup",
        "GET /orgs/{org}/audit",
        "Create an API token",
        "mfa_required",
    ] {
        assert!(html.contains(expected), "{expected} on the reference page");
    }
}
