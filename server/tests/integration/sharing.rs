//! Sharing on both databases: an analysis visible to the organisation, to chosen teams (with a
//! role for that analysis) or to its author only; what each person then sees and may do, with
//! hidden analyses answering 404 everywhere they could leak.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::identity::User;
use crate::on_both_backends;
use crate::tenancy::join;

const LOG: &str = "2026-12-01T10:00:00Z ERROR payment 1 failed: connection refused\n\
2026-12-01T10:00:01Z ERROR payment 2 failed: connection refused\n";

async fn call(
    app: &TestApp,
    user: &User,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    app.call_as(user, method, path, body).await
}

async fn listed(app: &TestApp, user: &User) -> Vec<String> {
    let (status, list) = call(app, user, "GET", "/api/v1/analyses", None).await;
    assert_eq!(status, 200, "{list}");
    list["items"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_owned))
        .collect()
}

/// Every way into analysis `id`, as `user`: the status each answers.
async fn doors(app: &TestApp, user: &User, id: &str) -> Vec<u16> {
    let mut statuses = Vec::new();
    for path in [
        format!("/api/v1/analyses/{id}"),
        format!("/api/v1/analyses/{id}/overview"),
        format!("/api/v1/analyses/{id}/patterns"),
        format!("/api/v1/analyses/{id}/patterns/p1"),
        format!("/api/v1/analyses/{id}/patterns/p1/comments"),
        format!("/api/v1/analyses/{id}/report.csv"),
        format!("/api/v1/analyses/{id}/sharing"),
    ] {
        statuses.push(call(app, user, "GET", &path, None).await.0);
    }
    statuses
}

on_both_backends!(sharing_decides_who_sees_and_does_what, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let alice = join(&app, &owner, "alice@acme.example", "member").await;
    let bob = join(&app, &owner, "bob@acme.example", "member").await;
    let vera = join(&app, &owner, "vera@acme.example", "viewer").await;
    let stranger = app.signup("owner@beta.example", "Beta").await;
    let (status, team) = call(
        &app,
        &owner,
        "POST",
        &format!("/api/v1/orgs/{}/teams", owner.org_slug),
        Some(json!({"name": "Payments"})),
    )
    .await;
    assert_eq!(status, 201, "{team}");
    let team_id = team["id"].as_str().expect("id").to_owned();
    for user in [&alice, &vera] {
        let (status, _) = call(
            &app,
            &owner,
            "PUT",
            &format!(
                "/api/v1/orgs/{}/teams/{team_id}/members/{}",
                owner.org_slug, user.id
            ),
            None,
        )
        .await;
        assert_eq!(status, 204);
    }
    let workers = server::ingest::Workers::start(&app.state);
    let id = app.analyse_text(&alice, "pay.log", LOG).await;
    assert_eq!(app.wait_for(&alice, &id).await["status"], "done");
    let sharing = format!("/api/v1/analyses/{id}/sharing");

    // By default everyone in the organisation sees it.
    let (status, s) = call(&app, &bob, "GET", &sharing, None).await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["visibility"], "org");
    assert_eq!(s["can_change"], false, "bob did not start it");
    assert_eq!(s["available_teams"][0]["name"], "Payments");
    let (_, a) = call(
        &app,
        &alice,
        "GET",
        &format!("/api/v1/analyses/{id}?result=false"),
        None,
    )
    .await;
    assert_eq!(a["visibility"], "org");
    assert_eq!(
        a["permissions"],
        json!(["view_analyses", "create_analyses", "share_analyses"])
    );

    // Alice makes it hers alone: Bob and Vera lose every way in; the owner keeps oversight.
    let (status, s) = call(
        &app,
        &alice,
        "PUT",
        &sharing,
        Some(json!({"visibility": "private"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["visibility"], "private");
    for user in [&bob, &vera] {
        assert_eq!(
            doors(&app, user, &id).await,
            [404; 7],
            "{} is shut out",
            user.email
        );
        assert!(!listed(&app, user).await.contains(&id));
    }
    assert_eq!(doors(&app, &owner, &id).await, [200; 7]);
    assert_eq!(doors(&app, &alice, &id).await, [200; 7]);
    let (status, _) = call(
        &app,
        &bob,
        "PUT",
        &sharing,
        Some(json!({"visibility": "org"})),
    )
    .await;
    assert_eq!(status, 404, "what Bob cannot see he cannot share");
    assert_eq!(doors(&app, &stranger, &id).await, [404; 7]);

    // A mention of someone who cannot see it notifies no one.
    let (status, _) = call(
        &app,
        &alice,
        "POST",
        &format!("/api/v1/analyses/{id}/patterns/p1/comments"),
        Some(json!({"body": "@bob have a look"})),
    )
    .await;
    assert_eq!(status, 201);
    let (_, m) = call(&app, &bob, "GET", "/api/v1/mentions", None).await;
    assert_eq!(m["items"].as_array().map(Vec::len), Some(0), "{m}");

    // Shared with Payments: Vera (in it) sees it, Bob (not) does not.
    let (status, s) = call(
        &app,
        &alice,
        "PUT",
        &sharing,
        Some(json!({"visibility": "teams", "teams": [{"team_id": team_id}]})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["teams"][0]["team"], "Payments");
    assert_eq!(doors(&app, &vera, &id).await, [200; 7]);
    assert_eq!(doors(&app, &bob, &id).await, [404; 7]);
    assert!(listed(&app, &vera).await.contains(&id));
    let (status, _) = call(
        &app,
        &vera,
        "DELETE",
        &format!("/api/v1/analyses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 403, "a viewer cannot delete");

    // Refused changes, each with its reason.
    for (who, body, want) in [
        (
            &alice,
            json!({"visibility": "public"}),
            "Choose org, teams or private.",
        ),
        (
            &alice,
            json!({"visibility": "teams", "teams": []}),
            "Pick at least one team",
        ),
        (
            &alice,
            json!({"visibility": "private", "teams": [{"team_id": team_id}]}),
            "not shared with teams",
        ),
        (
            &alice,
            json!({"visibility": "teams", "teams": [{"team_id": "nope"}]}),
            "no team nope",
        ),
        (
            &alice,
            json!({"visibility": "teams", "teams": [{"team_id": team_id, "role": "owner"}]}),
            "not a role",
        ),
        (
            &alice,
            json!({"visibility": "teams", "teams": [{"team_id": team_id, "role": "admin"}]}),
            "more on this analysis than you",
        ),
    ] {
        let (status, e) = call(&app, who, "PUT", &sharing, Some(body.clone())).await;
        assert_eq!(status, 422, "{body}: {e}");
        assert!(e.to_string().contains(want), "{body}: {e}");
    }
    let (_, s) = call(&app, &alice, "GET", &sharing, None).await;
    assert_eq!(
        s["teams"].as_array().map(Vec::len),
        Some(1),
        "refusals change nothing: {s}"
    );

    // The owner gives Payments the admin role on this analysis: Vera may now delete it, and
    // only it.
    let (status, s) = call(
        &app,
        &owner,
        "PUT",
        &sharing,
        Some(json!({"visibility": "teams", "teams": [{"team_id": team_id, "role": "admin"}]})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    let (_, a) = call(
        &app,
        &vera,
        "GET",
        &format!("/api/v1/analyses/{id}?result=false"),
        None,
    )
    .await;
    assert_eq!(
        a["permissions"],
        json!([
            "view_analyses",
            "create_analyses",
            "delete_analyses",
            "share_analyses"
        ]),
        "{a}"
    );
    let (status, s) = call(
        &app,
        &vera,
        "PUT",
        &sharing,
        Some(json!({"visibility": "org"})),
    )
    .await;
    assert_eq!(status, 403, "resharing is for its author and admins: {s}");
    let other = app.analyse_text(&owner, "other.log", LOG).await;
    assert_eq!(app.wait_for(&owner, &other).await["status"], "done");
    let (status, _) = call(
        &app,
        &vera,
        "DELETE",
        &format!("/api/v1/analyses/{other}"),
        None,
    )
    .await;
    assert_eq!(status, 403, "the role applies to the shared analysis only");

    // Every change was audited.
    let audit = app
        .call(
            "GET",
            &format!(
                "/api/v1/orgs/{}/audit?action=analysis.sharing_changed",
                owner.org_slug
            ),
            Some(&owner.access),
            None,
        )
        .await
        .json();
    let changes = audit
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "analysis.sharing_changed")
        .count();
    assert_eq!(changes, 3, "{audit}");

    let (status, _) = call(
        &app,
        &vera,
        "DELETE",
        &format!("/api/v1/analyses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    workers.stop(Duration::from_secs(5)).await;
});
