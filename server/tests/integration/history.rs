//! The history on both databases: search by name, file name and pattern text; filters by
//! status, worst severity, project, author, team, model and date; sorting and pages whose
//! totals count only what the caller may see; and projects, kept per organisation.

use serde_json::{Value, json};
use server::clock::Clock;

use crate::helpers::TestApp;
use crate::identity::User;
use crate::on_both_backends;
use crate::tenancy::join;

const PAYMENTS: &str = "2026-12-01T10:00:00Z ERROR payment 1 failed: connection refused\n\
2026-12-01T10:00:01Z ERROR payment 2 failed: connection refused\n\
2026-12-01T10:00:02Z INFO request served in 12 ms\n";
const SEARCH: &str = "{\"time\":\"2026-12-01T10:00:00Z\",\"level\":\"info\",\"service\":\"search\",\"msg\":\"query took 14 ms\"}\n\
{\"time\":\"2026-12-01T10:00:01Z\",\"level\":\"warn\",\"service\":\"search\",\"msg\":\"index shard 3 lagging\"}\n";
const DAY: i64 = 86_400_000;

/// `GET /api/v1/analyses{query}` as `user`: the names listed, in order, and the page.
async fn history(app: &TestApp, user: &User, query: &str) -> (Vec<String>, Value) {
    let (status, page) = app
        .call_as(user, "GET", &format!("/api/v1/analyses{query}"), None)
        .await;
    assert_eq!(status, 200, "{query}: {page}");
    let names = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    (names, page)
}

async fn names(app: &TestApp, user: &User, query: &str) -> Vec<String> {
    history(app, user, query).await.0
}

async fn analyse(app: &TestApp, user: &User, file: &str, text: &str, body: Value) -> String {
    let r = app.upload(user, file, "text/plain", text.to_owned()).await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text());
    let mut body = body;
    body["upload_ids"] = json!([r.json()["id"]]);
    let (status, created) = app
        .call_as(user, "POST", "/api/v1/analyses", Some(body))
        .await;
    assert_eq!(status, 202, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(app.wait_for(user, &id).await["status"], "done");
    id
}

/// Moves analysis `id` back in time by `days`.
async fn backdate(app: &TestApp, id: &str, days: i64) {
    server::with_db!(&app.raw, pool => sqlx::query("update analyses set created_at_ms = created_at_ms - $2 where id = $1")
        .bind(id)
        .bind(days * DAY)
        .execute(pool)
        .await
        .map(drop))
    .expect("backdate");
}

on_both_backends!(history_searches_filters_sorts_and_pages, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let alice = join(&app, &owner, "alice@acme.example", "member").await;
    let stranger = app.signup("owner@beta.example", "Beta").await;
    let workers = server::ingest::Workers::start(&app.state);

    // A project named like the service the search logs name: their analysis joins it.
    let (status, search_project) = app
        .call_as(
            &owner,
            "POST",
            "/api/v1/projects",
            Some(json!({"name": "Search", "description": "The search cluster"})),
        )
        .await;
    assert_eq!(status, 201, "{search_project}");
    let search_project = search_project["id"].as_str().expect("id").to_owned();
    let (status, billing) = app
        .call_as(
            &owner,
            "POST",
            "/api/v1/projects",
            Some(json!({"name": "Billing"})),
        )
        .await;
    assert_eq!(status, 201, "{billing}");
    let billing = billing["id"].as_str().expect("id").to_owned();
    let (status, dup) = app
        .call_as(
            &owner,
            "POST",
            "/api/v1/projects",
            Some(json!({"name": "billing"})),
        )
        .await;
    assert_eq!(status, 409, "names are unique ignoring case: {dup}");
    let (status, bad) = app
        .call_as(
            &owner,
            "POST",
            "/api/v1/projects",
            Some(json!({"name": "  "})),
        )
        .await;
    assert_eq!(status, 422, "{bad}");

    let pay = analyse(
        &app,
        &owner,
        "payments-eu.log",
        PAYMENTS,
        json!({"name": "Tuesday checkout", "project_id": billing}),
    )
    .await;
    let search = analyse(&app, &alice, "search.jsonl", SEARCH, json!({})).await;
    let quiet = analyse(
        &app,
        &alice,
        "quiet.log",
        "2026-12-01T10:00:00Z INFO all good\n",
        json!({"name": "Quiet day"}),
    )
    .await;
    backdate(&app, &pay, 10).await;
    backdate(&app, &search, 3).await;

    // Everything, newest first, with the facets the filters offer.
    let (all, page) = history(&app, &owner, "").await;
    assert_eq!(all, ["Quiet day", "search.jsonl", "Tuesday checkout"]);
    assert_eq!(
        (page["total"].as_u64(), page["pages"].as_u64()),
        (Some(3), Some(1))
    );
    let authors: Vec<&str> = page["facets"]["authors"]
        .as_array()
        .expect("authors")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(authors, ["alice@acme.example", "owner@acme.example"]);
    assert_eq!(page["facets"]["models"], json!(["built-in"]));
    let projects = &page["facets"]["projects"];
    assert_eq!(projects[0]["name"], "Billing");
    assert_eq!(projects[0]["analyses"], 1);
    assert_eq!(projects[1]["name"], "Search");
    assert_eq!(
        projects[1]["analyses"], 1,
        "joined by its service: {projects}"
    );
    let item = &page["items"][2];
    assert_eq!(item["files"], json!(["payments-eu.log"]));
    assert_eq!(item["top_severity"], "high", "{item}");
    assert_eq!(item["events"], 3);
    assert_eq!(page["items"][1]["service"], "search");
    assert_eq!(page["items"][1]["project_id"], search_project.as_str());

    // Search: the name, a file name, a pattern's text; every word must match; LIKE's
    // wildcards are literal.
    assert_eq!(
        names(&app, &owner, "?q=tuesday").await,
        ["Tuesday checkout"]
    );
    assert_eq!(names(&app, &owner, "?q=EU.LOG").await, ["Tuesday checkout"]);
    assert_eq!(
        names(&app, &owner, "?q=connection%20refused").await,
        ["Tuesday checkout"]
    );
    assert_eq!(
        names(&app, &owner, "?q=shard%20lagging").await,
        ["search.jsonl"]
    );
    assert!(names(&app, &owner, "?q=shard%20refused").await.is_empty());
    assert!(
        names(&app, &owner, "?q=%25").await.is_empty(),
        "% is literal"
    );
    // Filters.
    assert_eq!(
        names(&app, &owner, "?severity=high").await,
        ["Tuesday checkout"]
    );
    assert_eq!(names(&app, &owner, "?status=done").await.len(), 3);
    assert!(names(&app, &owner, "?status=failed").await.is_empty());
    assert_eq!(
        names(&app, &owner, &format!("?author={}", alice.id)).await,
        ["Quiet day", "search.jsonl"]
    );
    assert_eq!(
        names(&app, &owner, &format!("?project={billing}")).await,
        ["Tuesday checkout"]
    );
    assert_eq!(names(&app, &owner, "?project=none").await, ["Quiet day"]);
    assert_eq!(names(&app, &owner, "?model=built-in").await.len(), 3);
    assert!(names(&app, &owner, "?model=gpt-4o").await.is_empty());
    // Dates: presets, and days (UTC) with an inclusive end.
    assert_eq!(names(&app, &owner, "?preset=today").await, ["Quiet day"]);
    assert_eq!(
        names(&app, &owner, "?preset=week").await,
        ["Quiet day", "search.jsonl"]
    );
    assert_eq!(names(&app, &owner, "?preset=month").await.len(), 3);
    let day = |ms: i64| {
        let (y, m, d) = app::time::civil_from_days(ms.div_euclid(DAY));
        format!("{y:04}-{m:02}-{d:02}")
    };
    let now = app.clock.now_ms();
    let ten_days_ago = day(now - 10 * DAY);
    assert_eq!(
        names(
            &app,
            &owner,
            &format!("?since={ten_days_ago}&until={ten_days_ago}")
        )
        .await,
        ["Tuesday checkout"]
    );
    assert_eq!(
        names(&app, &owner, &format!("?until={}", day(now - DAY))).await,
        ["search.jsonl", "Tuesday checkout"]
    );
    // Sorting and pages.
    assert_eq!(
        names(&app, &owner, "?sort=name").await,
        ["Quiet day", "search.jsonl", "Tuesday checkout"]
    );
    assert_eq!(
        names(&app, &owner, "?sort=oldest").await,
        ["Tuesday checkout", "search.jsonl", "Quiet day"]
    );
    assert_eq!(
        names(&app, &owner, "?sort=events").await[0],
        "Tuesday checkout"
    );
    let (first, page) = history(&app, &owner, "?per_page=2").await;
    assert_eq!((first.len(), page["pages"].as_u64()), (2, Some(2)));
    let (second, page) = history(&app, &owner, "?per_page=2&page=2").await;
    assert_eq!(second, ["Tuesday checkout"]);
    assert_eq!(page["page"], 2);
    // Bad filters are explained.
    for (query, field) in [
        ("?status=exploded", "status"),
        ("?severity=dire", "severity"),
        ("?preset=decade", "preset"),
        ("?since=yesterday", "since"),
        ("?since=2026-12-05&until=2026-12-01", "since"),
    ] {
        let (status, body) = app
            .call_as(&owner, "GET", &format!("/api/v1/analyses{query}"), None)
            .await;
        assert_eq!(status, 422, "{query}: {body}");
        assert_eq!(
            body["error"]["fields"][0]["field"], field,
            "{query}: {body}"
        );
    }

    // A private analysis leaves the others' history and its totals, not its author's.
    let (status, _) = app
        .call_as(
            &alice,
            "PUT",
            &format!("/api/v1/analyses/{quiet}/sharing"),
            Some(json!({"visibility": "private"})),
        )
        .await;
    assert_eq!(status, 200);
    let bob = join(&app, &owner, "bob@acme.example", "member").await;
    let (listed, page) = history(&app, &bob, "").await;
    assert_eq!(listed, ["search.jsonl", "Tuesday checkout"]);
    assert_eq!(page["total"], 2, "hidden rows are not counted");
    assert_eq!(names(&app, &alice, "?q=quiet").await, ["Quiet day"]);
    assert_eq!(
        names(&app, &owner, "?q=quiet").await,
        ["Quiet day"],
        "oversight"
    );

    // Team scope: analyses started by its members or shared with it.
    let (_, team) = app
        .call_as(
            &owner,
            "POST",
            &format!("/api/v1/orgs/{}/teams", owner.org_slug),
            Some(json!({"name": "Platform"})),
        )
        .await;
    let team = team["id"].as_str().expect("id").to_owned();
    let (status, _) = app
        .call_as(
            &owner,
            "PUT",
            &format!(
                "/api/v1/orgs/{}/teams/{team}/members/{}",
                owner.org_slug, alice.id
            ),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        names(&app, &owner, &format!("?team={team}")).await,
        ["Quiet day", "search.jsonl"]
    );

    // Filing: members move an analysis between projects; viewers cannot; deleting a project
    // keeps its analyses, in no project.
    let (status, _) = app
        .call_as(
            &alice,
            "PUT",
            &format!("/api/v1/analyses/{search}/project"),
            Some(json!({"project_id": billing})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        names(&app, &owner, &format!("?project={billing}")).await,
        ["search.jsonl", "Tuesday checkout"]
    );
    let vera = join(&app, &owner, "vera@acme.example", "viewer").await;
    let (status, _) = app
        .call_as(
            &vera,
            "PUT",
            &format!("/api/v1/analyses/{search}/project"),
            Some(json!({"project_id": null})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call_as(
            &vera,
            "POST",
            "/api/v1/projects",
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .call_as(
            &alice,
            "DELETE",
            &format!("/api/v1/projects/{billing}"),
            None,
        )
        .await;
    assert_eq!(status, 403, "members may not delete projects");
    let (status, _) = app
        .call_as(
            &owner,
            "DELETE",
            &format!("/api/v1/projects/{billing}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        names(&app, &owner, "?project=none").await,
        ["Quiet day", "search.jsonl", "Tuesday checkout"]
    );

    // Another organisation sees none of it, and its ids answer 404.
    let (theirs, page) = history(&app, &stranger, "?q=checkout").await;
    assert!(theirs.is_empty());
    assert_eq!(page["facets"]["projects"], json!([]));
    for (method, path, body) in [
        (
            "PATCH",
            format!("/api/v1/projects/{search_project}"),
            Some(json!({"name": "Mine"})),
        ),
        ("DELETE", format!("/api/v1/projects/{search_project}"), None),
        (
            "PUT",
            format!("/api/v1/analyses/{search}/project"),
            Some(json!({"project_id": null})),
        ),
    ] {
        let (status, body) = app.call_as(&stranger, method, &path, body).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    let (status, _) = app
        .call_as(
            &owner,
            "PUT",
            &format!("/api/v1/analyses/{search}/project"),
            Some(json!({"project_id": "no-such-project"})),
        )
        .await;
    assert_eq!(status, 404);

    // Renames and filings are in the audit log.
    let (status, renamed) = app
        .call_as(
            &owner,
            "PATCH",
            &format!("/api/v1/projects/{search_project}"),
            Some(json!({"name": "Search API"})),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["name"], "Search API");
    let r = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{}/audit?action=project.", owner.org_slug),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let audit = r.json();
    let actions: Vec<&str> = audit
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "project.updated",
            "project.deleted",
            "project.created",
            "project.created"
        ]
    );
    workers.stop(std::time::Duration::from_secs(5)).await;
});

/// Makes analysis `id` look like one finished before its templates were recorded.
async fn forget_index(app: &TestApp, id: &str) {
    server::with_db!(&app.raw, pool => async {
        sqlx::query("delete from analysis_templates where analysis_id = $1")
            .bind(id)
            .execute(pool)
            .await?;
        sqlx::query(
            "update analyses set indexed_at_ms = null, top_severity = null, service = null where id = $1",
        )
        .bind(id)
        .execute(pool)
        .await
        .map(drop)
    }.await)
    .expect("forget the index");
}

on_both_backends!(earlier_analyses_are_indexed_for_search_once, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let stranger = app.signup("owner@beta.example", "Beta").await;
    let workers = server::ingest::Workers::start(&app.state);
    let payments = analyse(
        &app,
        &owner,
        "eu.log",
        PAYMENTS,
        json!({"name": "Payments"}),
    )
    .await;
    let search = analyse(
        &app,
        &owner,
        "search.jsonl",
        SEARCH,
        json!({"name": "Search"}),
    )
    .await;
    let gone = analyse(&app, &owner, "gone.log", PAYMENTS, json!({"name": "Gone"})).await;
    workers.stop(std::time::Duration::from_secs(5)).await;
    for id in [&payments, &search, &gone] {
        forget_index(&app, id).await;
    }
    // One result is gone from storage: it is marked, not read again, and not an error.
    let key: String = server::with_db!(&app.raw, pool => sqlx::query_scalar("select result_key from analyses where id = $1")
        .bind(&gone)
        .fetch_one(pool)
        .await)
    .expect("result key");
    app.state.ingest.storage.delete(&key).await.expect("delete");
    // A project named like the search logs' service appeared since; indexing does not file
    // the earlier analysis there (it may have been taken out on purpose).
    let (status, project) = app
        .call_as(
            &owner,
            "POST",
            "/api/v1/projects",
            Some(json!({"name": "Search"})),
        )
        .await;
    assert_eq!(status, 201, "{project}");
    assert!(
        names(&app, &owner, "?q=connection%20refused")
            .await
            .is_empty()
    );
    assert!(names(&app, &owner, "?q=shard%20lagging").await.is_empty());

    let indexed = server::ingest::search_index::index_earlier(&app.state)
        .await
        .expect("index");
    assert_eq!(indexed, 3);
    assert_eq!(
        names(&app, &owner, "?q=connection%20refused").await,
        ["Payments"]
    );
    assert_eq!(names(&app, &owner, "?q=shard%20lagging").await, ["Search"]);
    // Its worst severity and service came back with it; it stays out of the project.
    let (_, page) = history(&app, &owner, "?q=shard").await;
    assert!(page["items"][0]["top_severity"].is_string(), "{page}");
    assert!(page["items"][0]["project_id"].is_null(), "{page}");
    assert!(
        names(&app, &stranger, "?q=connection%20refused")
            .await
            .is_empty()
    );
    // Done once: a second pass (another start) finds nothing left.
    let again = server::ingest::search_index::index_earlier(&app.state)
        .await
        .expect("index again");
    assert_eq!(again, 0);
});
