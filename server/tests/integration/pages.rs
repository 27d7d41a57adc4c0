//! Server-rendered pages and the server functions behind them.

use axum::body::Body;
use axum::http::Request;

use crate::helpers::Backend;
use crate::on_both_backends;

on_both_backends!(
    the_landing_page_renders_with_hashed_assets_and_a_nonce,
    |app| {
        let res = app.get("/").await;
        assert_eq!(res.status, 200);
        let html = res.text();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<h1>From production logs to findings and regression tests</h1>"));
        assert!(
            html.contains(r#"href="/pkg/faultline.0123456789abcdef.css""#),
            "{html}"
        );
        assert!(html.contains("/pkg/faultline.aaaa.js"));
        assert!(html.contains("/pkg/faultline.bbbb.wasm"));
        let csp = res.header("content-security-policy").expect("csp");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("nonce in csp");
        // Every inline script carries the nonce; no other inline script exists.
        let scripts = html.matches("<script").count();
        assert!(scripts >= 1);
        assert_eq!(
            html.matches(&format!(r#"<script type="module" nonce="{nonce}""#))
                .count()
                + html.matches(&format!(r#"<script nonce="{nonce}""#)).count(),
            scripts,
            "{html}"
        );
        // The sample chart's data travels in the page, and its table is readable without JS.
        assert!(html.contains(r#"<canvas"#));
        assert!(html.contains("Show data as a table"));
        assert!(html.contains("__RESOLVED_RESOURCES"));
    }
);

on_both_backends!(the_saved_theme_is_rendered_before_first_paint, |app| {
    for (cookie, expected) in [
        ("faultline_theme=dark", "dark"),
        ("other=1; faultline_theme=light", "light"),
        ("faultline_theme=bogus", "system"),
        ("", "system"),
    ] {
        let res = app
            .send(
                Request::get("/")
                    .header("cookie", cookie)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        let attr = format!(r#"<html lang="en" data-theme="{expected}">"#);
        assert!(res.text().contains(&attr), "{cookie:?} -> {expected}");
    }
});

on_both_backends!(unknown_pages_render_the_404_page, |app| {
    let res = app.get("/definitely/not/here").await;
    assert_eq!(res.status, 404);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(res.text().contains("This page does not exist"));
});

/// Calls the status server function the way the page does.
async fn system_status(app: &crate::helpers::TestApp) -> crate::helpers::TestResponse {
    app.send(
        Request::post("/rpc/system_status")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Body::empty())
            .expect("req"),
    )
    .await
}

on_both_backends!(the_status_server_function_reads_the_database, |app| {
    let res = system_status(&app).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.json();
    let expected = if app.backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    assert_eq!(body["database"], expected);
    assert_eq!(body["schema_version"], body["schema_expected"]);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    // The installation id is created once and stays.
    let again = system_status(&app).await.json();
    assert_eq!(body["instance_id"], again["instance_id"]);
});

on_both_backends!(the_status_page_renders_live_figures, |app| {
    let res = app.get("/status").await;
    assert_eq!(res.status, 200);
    let html = res.text();
    let expected = if app.backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    assert!(html.contains(expected), "{html}");
    assert!(html.contains("Schema version"));
    assert!(html.contains("Ready"));
});

on_both_backends!(
    every_member_gets_the_organisation_page_and_only_ai_admins_its_ai_card,
    |app| {
        let fx = crate::tenancy::fixture(&app).await;
        let org = &fx.owner.org_slug;
        for (who, user, sees_ai) in [
            ("viewer", &fx.viewer, false),
            ("member", &fx.member, false),
            ("owner", &fx.owner, true),
        ] {
            // Not being shown the AI settings is no error: the server function answers `null`.
            let ai =
                crate::tenancy::rpc(&app, "ai_admin", Some(&user.access), &format!("org={org}"))
                    .await;
            assert_eq!(ai.status, 200, "{who}: {}", ai.text());
            assert_eq!(ai.json().is_null(), !sees_ai, "{who}: {}", ai.text());
            // So the page answers 200 for everyone, with the card only for those who may.
            let page = app
                .send(
                    Request::get(format!("/orgs/{org}"))
                        .header("cookie", format!("fl_access={}", user.access))
                        .body(Body::empty())
                        .expect("req"),
                )
                .await;
            assert_eq!(page.status, 200, "{who}");
            let html = page.text();
            assert!(html.contains("Your role"), "{who}: {html}");
            assert_eq!(
                html.contains("Providers are tried in order"),
                sees_ai,
                "{who}"
            );
        }
    }
);
