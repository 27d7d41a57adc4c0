//! Discussions on both databases: threads, mentions and their notifications, who may edit and
//! delete, live events, bad input, and tenant isolation.

use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::TestApp;
use crate::identity::User;
use crate::on_both_backends;
use crate::tenancy::join;

const LOG: &str = "2026-12-01T10:00:00Z ERROR payment 1 failed: connection refused\n\
2026-12-01T10:00:01Z ERROR payment 2 failed: connection refused\n\
2026-12-01T10:00:02Z INFO worker started\n";

async fn call(
    app: &TestApp,
    user: &User,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    app.call_as(user, method, path, body).await
}

fn ids(discussion: &Value) -> Vec<Vec<String>> {
    discussion["threads"]
        .as_array()
        .expect("threads")
        .iter()
        .map(|t| {
            t["comments"]
                .as_array()
                .expect("comments")
                .iter()
                .map(|c| {
                    if c["deleted"] == true {
                        "(deleted)".to_owned()
                    } else {
                        c["body"].as_str().unwrap_or_default().to_owned()
                    }
                })
                .collect()
        })
        .collect()
}

on_both_backends!(threads_mentions_and_who_may_change_what, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let alice = join(&app, &owner, "alice@acme.example", "member").await;
    let vera = join(&app, &owner, "vera@acme.example", "viewer").await;
    let stranger = app.signup("owner@beta.example", "Beta").await;
    let workers = server::ingest::Workers::start(&app.state);
    let id = app.analyse_text(&owner, "pay.log", LOG).await;
    let done = app.wait_for(&owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    let comments = format!("/api/v1/analyses/{id}/patterns/p1/comments");

    let (status, empty) = call(&app, &alice, "GET", &comments, None).await;
    assert_eq!(status, 200, "{empty}");
    assert_eq!(empty["count"], 0);
    assert_eq!(empty["can_comment"], true);
    let handles: Vec<&str> = empty["handles"]
        .as_array()
        .expect("handles")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(handles, ["@alice", "@owner", "@vera"], "members only");

    // A thread, a reply (to the reply: it joins the same thread) and a mention.
    let (status, first) = call(
        &app,
        &alice,
        "POST",
        &comments,
        Some(json!({"body": "  Seen since the deploy. @vera, @owner@acme.example: ideas?\r\n"})),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(
        first["body"],
        "Seen since the deploy. @vera, @owner@acme.example: ideas?"
    );
    let marked: Vec<(&str, &str)> = first["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .filter_map(|p| Some((p["text"].as_str()?, p["mention"].as_str()?)))
        .collect();
    assert_eq!(
        marked,
        [
            ("@vera", "vera@acme.example"),
            ("@owner@acme.example", "owner@acme.example")
        ]
    );
    assert_eq!(first["mine"], true);
    let first_id = first["id"].as_str().expect("id").to_owned();
    let (status, reply) = call(
        &app,
        &vera,
        "POST",
        &comments,
        Some(json!({"body": "The pool is exhausted, @alice.", "reply_to": first_id})),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    let reply_id = reply["id"].as_str().expect("id").to_owned();
    let (status, nested) = call(
        &app,
        &owner,
        "POST",
        &comments,
        Some(json!({"body": "Raising it.", "reply_to": reply_id})),
    )
    .await;
    assert_eq!(status, 201, "{nested}");
    assert_eq!(nested["thread_id"], first_id.as_str());
    let (_, second) = call(
        &app,
        &owner,
        "POST",
        &comments,
        Some(json!({"body": "Second thread"})),
    )
    .await;
    let (_, d) = call(&app, &vera, "GET", &comments, None).await;
    assert_eq!(
        ids(&d),
        [
            vec![
                "Seen since the deploy. @vera, @owner@acme.example: ideas?",
                "The pool is exhausted, @alice.",
                "Raising it."
            ],
            vec!["Second thread"]
        ]
    );
    assert_eq!(d["count"], 4);

    // Mentions reach the people named, once each, and are theirs alone.
    let (status, m) = call(&app, &vera, "GET", "/api/v1/mentions", None).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(m["unread"], 1);
    assert_eq!(m["items"][0]["comment_id"], first_id.as_str());
    assert_eq!(m["items"][0]["pattern_id"], "p1");
    assert_eq!(m["items"][0]["analysis_name"], "pay.log");
    assert_eq!(m["items"][0]["author"], "alice@acme.example");
    assert_eq!(m["items"][0]["read"], false);
    let (_, m) = call(&app, &alice, "GET", "/api/v1/mentions", None).await;
    assert_eq!(m["unread"], 1, "alice is mentioned in the reply: {m}");
    let me = app
        .call("GET", "/api/v1/me", Some(&vera.access), None)
        .await
        .json();
    let acme = me["orgs"]
        .as_array()
        .expect("orgs")
        .iter()
        .find(|o| o["slug"] == owner.org_slug.as_str())
        .cloned()
        .expect("acme");
    assert_eq!(acme["unread_mentions"], 1, "{me}");
    // Mentions on an analysis made private no longer count for those who cannot see it.
    let unread_of = |who: &crate::identity::User| {
        let (app, access, slug) = (&app, who.access.clone(), owner.org_slug.clone());
        async move {
            let me = app
                .call("GET", "/api/v1/me", Some(&access), None)
                .await
                .json();
            me["orgs"]
                .as_array()
                .expect("orgs")
                .iter()
                .find(|o| o["slug"] == slug.as_str())
                .map(|o| o["unread_mentions"].clone())
                .expect("the organisation")
        }
    };
    let sharing = format!("/api/v1/analyses/{id}/sharing");
    let (status, _) = call(
        &app,
        &owner,
        "PUT",
        &sharing,
        Some(json!({"visibility": "private"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(unread_of(&vera).await, 0);
    let (_, m) = call(&app, &vera, "GET", "/api/v1/mentions", None).await;
    assert_eq!(m["unread"], 0, "{m}");
    let (status, _) = call(
        &app,
        &owner,
        "PUT",
        &sharing,
        Some(json!({"visibility": "org"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(unread_of(&vera).await, 1);
    let (status, _) = call(&app, &vera, "POST", "/api/v1/mentions/read", None).await;
    assert_eq!(status, 204);
    let (_, m) = call(&app, &vera, "GET", "/api/v1/mentions", None).await;
    assert_eq!(m["unread"], 0);
    assert_eq!(m["items"][0]["read"], true);

    // Only the author edits; an edit that adds a mention notifies the newcomer only.
    let first_path = format!("/api/v1/analyses/{id}/comments/{first_id}");
    let (status, refused) = call(
        &app,
        &owner,
        "PATCH",
        &first_path,
        Some(json!({"body": "mine now"})),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["error"]["code"], "not_author");
    let (status, edited) = call(
        &app,
        &alice,
        "PATCH",
        &first_path,
        Some(json!({"body": "Seen since the deploy. @vera @owner"})),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert!(edited["edited_at_ms"].is_i64());
    let (_, m) = call(&app, &vera, "GET", "/api/v1/mentions", None).await;
    assert_eq!(m["unread"], 0, "still mentioned, already read: {m}");
    let (_, m) = call(&app, &owner, "GET", "/api/v1/mentions", None).await;
    assert_eq!(m["items"].as_array().map(Vec::len), Some(1), "{m}");

    // Bad input is refused with a reason, and nothing is stored.
    for (body, want) in [
        (json!({"body": " \n "}), "Write something first."),
        (json!({"body": "x".repeat(10_001)}), "at most 10000"),
    ] {
        let (status, e) = call(&app, &alice, "POST", &comments, Some(body)).await;
        assert_eq!(status, 422, "{e}");
        assert!(
            e["error"]["fields"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains(want),
            "{e}"
        );
    }
    let (status, e) = call(
        &app,
        &alice,
        "POST",
        &comments,
        Some(json!({"body": "hi", "reply_to": "nope"})),
    )
    .await;
    assert_eq!(status, 422, "{e}");
    let (status, e) = call(&app, &alice, "POST", &comments, Some(json!({"text": "hi"}))).await;
    assert_eq!(status, 400, "an unknown field: {e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("text"),
        "{e}"
    );
    let (status, _) = call(
        &app,
        &alice,
        "POST",
        &format!("/api/v1/analyses/{id}/patterns/p999/comments"),
        Some(json!({"body": "hi"})),
    )
    .await;
    assert_eq!(status, 404, "no such pattern");
    let (_, d) = call(&app, &alice, "GET", &comments, None).await;
    assert_eq!(d["count"], 4);

    // Deleting: the author may, a viewer may not delete others', an admin (delete_analyses)
    // may; a deleted first comment keeps its replies in place.
    let reply_path = format!("/api/v1/analyses/{id}/comments/{reply_id}");
    let (status, _) = call(&app, &alice, "DELETE", &reply_path, None).await;
    assert_eq!(status, 403, "a member deletes someone else's comment");
    let (status, _) = call(&app, &alice, "DELETE", &first_path, None).await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, &alice, "DELETE", &first_path, None).await;
    assert_eq!(status, 204, "deleting twice is harmless");
    let (status, e) = call(
        &app,
        &alice,
        "PATCH",
        &first_path,
        Some(json!({"body": "back"})),
    )
    .await;
    assert_eq!(status, 409, "{e}");
    let (_, m) = call(&app, &owner, "GET", "/api/v1/mentions", None).await;
    assert_eq!(
        m["items"].as_array().map(Vec::len),
        Some(0),
        "a deleted comment's mentions go: {m}"
    );
    let (_, d) = call(&app, &vera, "GET", &comments, None).await;
    assert_eq!(
        ids(&d),
        [
            vec!["(deleted)", "The pool is exhausted, @alice.", "Raising it."],
            vec!["Second thread"]
        ]
    );
    assert_eq!(
        d["threads"][0]["comments"][0]["body"], "",
        "its text is gone"
    );
    let second_path = format!(
        "/api/v1/analyses/{id}/comments/{}",
        second["id"].as_str().expect("id")
    );
    let (status, _) = call(&app, &vera, "DELETE", &second_path, None).await;
    assert_eq!(status, 403);
    let (status, _) = call(&app, &owner, "DELETE", &reply_path, None).await;
    assert_eq!(status, 204, "the owner moderates");
    let audit = app
        .call(
            "GET",
            &format!(
                "/api/v1/orgs/{}/audit?action=comment.deleted",
                owner.org_slug
            ),
            Some(&owner.access),
            None,
        )
        .await
        .json();
    let own: Vec<bool> = audit
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "comment.deleted")
        .map(|e| {
            let detail: Value =
                serde_json::from_str(e["detail"].as_str().unwrap_or("{}")).unwrap_or_default();
            detail["own"] == true
        })
        .collect();
    assert_eq!(own.len(), 2, "{audit}");
    assert!(own.contains(&true) && own.contains(&false), "{audit}");

    // Another organisation sees none of it.
    for (method, path, body) in [
        ("GET", comments.clone(), None),
        ("POST", comments.clone(), Some(json!({"body": "hello"}))),
        ("PATCH", second_path.clone(), Some(json!({"body": "hello"}))),
        ("DELETE", second_path.clone(), None),
        (
            "GET",
            format!("/api/v1/analyses/{id}/comments/events"),
            None,
        ),
    ] {
        let (status, e) = call(&app, &stranger, method, &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {e}");
    }
    let (_, m) = call(&app, &stranger, "GET", "/api/v1/mentions", None).await;
    assert_eq!(m["items"].as_array().map(Vec::len), Some(0));

    // An org token can read the discussion but not speak in it.
    let token = app
        .call(
            "POST",
            &format!("/api/v1/orgs/{}/tokens", owner.org_slug),
            Some(&owner.access),
            Some(json!({"name": "ci", "scopes": ["view_analyses"], "kind": "org"})),
        )
        .await;
    assert_eq!(token.status, 201, "{}", token.text());
    let secret = token.json()["token"].as_str().expect("token").to_owned();
    let r = app.call("GET", &comments, Some(&secret), None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["can_comment"], false);
    let r = app
        .call(
            "POST",
            &comments,
            Some(&secret),
            Some(json!({"body": "beep"})),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "person_required");

    // Deleting the analysis removes its discussion.
    let (status, _) = call(
        &app,
        &owner,
        "DELETE",
        &format!("/api/v1/analyses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(&app, &owner, "GET", &comments, None).await;
    assert_eq!(status, 404);
    workers.stop(Duration::from_secs(5)).await;
});

/// Reads the next server-sent event (its `event:` and `data:` lines) from `body`.
async fn next_event(body: &mut Body, pending: &mut String) -> (String, String) {
    loop {
        if let Some(end) = pending.find("\n\n") {
            let block: String = pending.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_owned())
                    .unwrap_or_default()
            };
            if block.lines().all(|l| l.starts_with(':') || l.is_empty()) {
                continue; // keep-alive
            }
            return (field("event:"), field("data:"));
        }
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("an event within 10 s")
            .expect("the stream stays open")
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            pending.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

on_both_backends!(comments_are_pushed_to_watchers_live, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let alice = join(&app, &owner, "alice@acme.example", "member").await;
    let workers = server::ingest::Workers::start(&app.state);
    let id = app.analyse_text(&owner, "pay.log", LOG).await;
    assert_eq!(app.wait_for(&owner, &id).await["status"], "done");
    let other = app.analyse_text(&owner, "other.log", LOG).await;
    assert_eq!(app.wait_for(&owner, &other).await["status"], "done");

    // Alice watches p1 of the first analysis.
    let request = Request::get(format!(
        "/api/v1/analyses/{id}/comments/events?org={}&pattern=p1",
        owner.org_slug
    ))
    .header("authorization", format!("Bearer {}", alice.access))
    .body(Body::empty())
    .expect("request");
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let mut body = response.into_body();
    let mut pending = String::new();

    // Comments elsewhere (another pattern, another analysis) are not hers to hear about.
    for path in [
        format!("/api/v1/analyses/{id}/patterns/p2/comments"),
        format!("/api/v1/analyses/{other}/patterns/p1/comments"),
        format!("/api/v1/analyses/{id}/patterns/p1/comments"),
    ] {
        let (status, posted) =
            call(&app, &owner, "POST", &path, Some(json!({"body": "look"}))).await;
        assert_eq!(status, 201, "{path}: {posted}");
    }
    let (event, data) = next_event(&mut body, &mut pending).await;
    assert_eq!(event, "comment");
    let change: Value = serde_json::from_str(&data).expect("json");
    assert_eq!(change["analysis_id"], id.as_str());
    assert_eq!(change["pattern_id"], "p1");
    assert_eq!(change["action"], "posted");
    let comment = change["comment_id"].as_str().expect("id").to_owned();

    let (status, _) = call(
        &app,
        &owner,
        "PATCH",
        &format!("/api/v1/analyses/{id}/comments/{comment}"),
        Some(json!({"body": "look again"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, data) = next_event(&mut body, &mut pending).await;
    let change: Value = serde_json::from_str(&data).expect("json");
    assert_eq!(
        (change["comment_id"].as_str(), change["action"].as_str()),
        (Some(comment.as_str()), Some("edited"))
    );
    let (status, _) = call(
        &app,
        &owner,
        "DELETE",
        &format!("/api/v1/analyses/{id}/comments/{comment}"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, data) = next_event(&mut body, &mut pending).await;
    assert!(data.contains("\"deleted\""), "{data}");

    // Made private by its author, the analysis drops out of Alice's reach: her stream is told
    // and ends at the next recheck.
    let (status, _) = call(
        &app,
        &owner,
        "PUT",
        &format!("/api/v1/analyses/{id}/sharing"),
        Some(json!({"visibility": "private"})),
    )
    .await;
    assert_eq!(status, 200);
    let (event, data) =
        tokio::time::timeout(Duration::from_secs(15), next_event(&mut body, &mut pending))
            .await
            .expect("within a recheck");
    assert_eq!((event.as_str(), data.as_str()), ("revoked", id.as_str()));
    let rest = tokio::time::timeout(Duration::from_secs(5), body.collect())
        .await
        .expect("the stream ends");
    assert!(rest.is_ok());
    workers.stop(Duration::from_secs(5)).await;
});
