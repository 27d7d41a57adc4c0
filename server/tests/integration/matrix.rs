//! The permission matrix: every operation of the OpenAPI document and every server function,
//! called as anonymous, viewer, member, admin, owner and another organisation's owner, and
//! again naming another organisation's object. Each answer must be the one the caller's role
//! allows: the route's success, 401, 403, or 404 for anything of another organisation.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::TestApp;
use crate::identity::User;
use crate::ingest::sample_log;
use crate::on_both_backends;
use crate::tenancy::{Fixture, create_team, fixture, rpc, seed_member};

/// What a call needs to succeed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Need {
    /// Any signed-in person, whatever their organisations.
    SignedIn,
    /// Membership of the organisation.
    Member,
    /// A permission of the caller's role.
    Perm(&'static str),
    /// The organisation's owner.
    Owner,
    /// The author of the object (the owner made every fixture object).
    Author,
    /// Its author or an admin holding the permission (sharing an analysis).
    AuthorOrAdmin,
}

/// A request body.
#[derive(Clone, Debug)]
enum Payload {
    None,
    Json(Value),
    /// A raw upload; `{unique}` makes each one new content.
    Text(&'static str),
}

struct Case {
    method: &'static str,
    /// The path after `/api/v1`, with placeholders (see [`fill`]).
    path: &'static str,
    body: Payload,
    need: Need,
    /// The status when allowed (a 4xx here means the role check passed and the request then
    /// failed on purpose, e.g. a confirmation that does not match).
    ok: u16,
}

fn c(method: &'static str, path: &'static str, body: Option<Value>, need: Need, ok: u16) -> Case {
    Case {
        method,
        path,
        body: body.map_or(Payload::None, Payload::Json),
        need,
        ok,
    }
}

/// Routes of the organisation itself: members, teams, invitations, roles, tokens, audit.
fn organisation_cases() -> Vec<Case> {
    use Need::*;
    vec![
        c("GET", "/orgs/{org}", None, Member, 200),
        c(
            "PATCH",
            "/orgs/{org}",
            Some(json!({"name": "Acme Renamed"})),
            Perm("manage_members"),
            200,
        ),
        c(
            "DELETE",
            "/orgs/{org}",
            Some(json!({"confirm": "not-the-slug"})),
            Owner,
            422,
        ),
        c(
            "POST",
            "/orgs/{org}/transfer-ownership",
            Some(json!({"user_id": "nobody"})),
            Owner,
            422,
        ),
        c("GET", "/orgs/{org}/members", None, Member, 200),
        c(
            "PATCH",
            "/orgs/{org}/members/{new_member}",
            Some(json!({"role": "member"})),
            Perm("manage_members"),
            204,
        ),
        c(
            "DELETE",
            "/orgs/{org}/members/{new_member}",
            None,
            Perm("manage_members"),
            204,
        ),
        c("GET", "/orgs/{org}/teams", None, Member, 200),
        c(
            "POST",
            "/orgs/{org}/teams",
            Some(json!({"name": "{unique}"})),
            Perm("manage_team"),
            201,
        ),
        c(
            "PATCH",
            "/orgs/{org}/teams/{new_team}",
            Some(json!({"name": "{unique}"})),
            Perm("manage_team"),
            204,
        ),
        c(
            "DELETE",
            "/orgs/{org}/teams/{new_team}",
            None,
            Perm("manage_team"),
            204,
        ),
        c(
            "GET",
            "/orgs/{org}/teams/{new_team}/members",
            None,
            Member,
            200,
        ),
        c(
            "PUT",
            "/orgs/{org}/teams/{new_team}/members/{new_member}",
            None,
            Perm("manage_team"),
            204,
        ),
        c(
            "DELETE",
            "/orgs/{org}/teams/{new_team}/members/{team_owner}",
            None,
            Perm("manage_team"),
            204,
        ),
        c(
            "GET",
            "/orgs/{org}/invitations",
            None,
            Perm("manage_members"),
            200,
        ),
        c(
            "POST",
            "/orgs/{org}/invitations",
            Some(json!({"email": "{unique}@invitee.example", "role": "viewer"})),
            Perm("manage_members"),
            201,
        ),
        c(
            "DELETE",
            "/orgs/{org}/invitations/{new_invitation}",
            None,
            Perm("manage_members"),
            204,
        ),
        c(
            "POST",
            "/orgs/{org}/invitations/accept",
            Some(json!({"token": "not-a-real-token"})),
            SignedIn,
            400,
        ),
        c("GET", "/orgs/{org}/roles", None, Member, 200),
        c(
            "POST",
            "/orgs/{org}/roles",
            Some(json!({"name": "{unique}", "permissions": ["view_analyses"]})),
            Perm("manage_members"),
            201,
        ),
        c(
            "PATCH",
            "/orgs/{org}/roles/{new_role}",
            Some(json!({"name": "{unique}", "permissions": ["view_audit"]})),
            Perm("manage_members"),
            200,
        ),
        c(
            "DELETE",
            "/orgs/{org}/roles/{new_role}",
            None,
            Perm("manage_members"),
            204,
        ),
        c("GET", "/orgs/{org}/tokens", None, Member, 200),
        c(
            "POST",
            "/orgs/{org}/tokens",
            Some(json!({"name": "ci", "scopes": ["view_analyses"]})),
            Member,
            201,
        ),
        c(
            "DELETE",
            "/orgs/{org}/tokens/{new_token}",
            None,
            Perm("manage_members"),
            204,
        ),
        c("GET", "/orgs/{org}/audit", None, Perm("view_audit"), 200),
        c(
            "GET",
            "/orgs/{org}/audit?format=csv",
            None,
            Perm("view_audit"),
            200,
        ),
        c(
            "GET",
            "/orgs/{org}/teams/{team}/test-settings",
            None,
            Member,
            200,
        ),
        c(
            "PUT",
            "/orgs/{org}/teams/{team}/test-settings",
            Some(json!({"framework": "jest"})),
            Perm("manage_team"),
            200,
        ),
        c("GET", "/test-templates?org={org}", None, Member, 200),
        c(
            "GET",
            "/orgs/{org}/ai/providers",
            None,
            Perm("view_analyses"),
            200,
        ),
        c(
            "POST",
            "/orgs/{org}/ai/providers",
            Some(provider_body()),
            Perm("configure_ai"),
            201,
        ),
        c(
            "PATCH",
            "/orgs/{org}/ai/providers/{new_provider}",
            Some(json!({"enabled": false})),
            Perm("configure_ai"),
            200,
        ),
        c(
            "DELETE",
            "/orgs/{org}/ai/providers/{new_provider}",
            None,
            Perm("configure_ai"),
            204,
        ),
        c(
            "GET",
            "/orgs/{org}/ai/settings",
            None,
            Perm("configure_ai"),
            200,
        ),
        c(
            "PUT",
            "/orgs/{org}/ai/settings",
            Some(json!({"enabled": true, "redact_pii": true})),
            Perm("configure_ai"),
            200,
        ),
        c(
            "GET",
            "/orgs/{org}/ai/usage",
            None,
            Perm("configure_ai"),
            200,
        ),
        c(
            "GET",
            "/orgs/{org}/teams/{team}/ai/prompts",
            None,
            Member,
            200,
        ),
        c(
            "GET",
            "/orgs/{org}/teams/{team}/ai/prompts/system",
            None,
            Member,
            200,
        ),
        c(
            "POST",
            "/orgs/{org}/teams/{team}/ai/prompts/system",
            Some(json!({"body": "We run {{team}}'s services."})),
            Perm("configure_ai"),
            201,
        ),
        c(
            "POST",
            "/orgs/{org}/teams/{team}/test-templates",
            Some(template_body()),
            Perm("manage_team"),
            201,
        ),
        c(
            "PUT",
            "/orgs/{org}/teams/{team}/test-templates/{new_template}",
            Some(template_body()),
            Perm("manage_team"),
            200,
        ),
        c(
            "DELETE",
            "/orgs/{org}/teams/{team}/test-templates/{new_template}",
            None,
            Perm("manage_team"),
            204,
        ),
    ]
}

/// A custom template, named uniquely per call.
fn template_body() -> Value {
    json!({
        "name": "Smoke {unique}",
        "framework": "pytest",
        "test": "def {{test_name}}():\n    assert {{count}} > 0\n",
    })
}

/// Routes of uploads, analyses and everything about one analysis. `{analysis}` is a finished
/// analysis the owner made, visible to the whole organisation.
fn analysis_cases() -> Vec<Case> {
    use Need::*;
    let view = Perm("view_analyses");
    let create = Perm("create_analyses");
    let delete = Perm("delete_analyses");
    let a = "/analyses/{analysis}";
    let _ = a;
    vec![
        c("GET", "/uploads?org={org}", None, view, 200),
        Case {
            method: "POST",
            path: "/uploads?org={org}&name=matrix.log",
            body: Payload::Text("2026-12-01T10:00:00Z ERROR matrix upload {unique} failed\n"),
            need: create,
            ok: 201,
        },
        c("GET", "/uploads/limits?org={org}", None, view, 200),
        c("GET", "/analyses?org={org}", None, view, 200),
        c(
            "POST",
            "/analyses?org={org}",
            Some(json!({"upload_ids": ["{actor_upload}"]})),
            create,
            202,
        ),
        c("GET", "/analyses/{analysis}?org={org}", None, view, 200),
        c(
            "DELETE",
            "/analyses/{new_analysis}?org={org}",
            None,
            delete,
            204,
        ),
        // Finished, so the role check is followed by 409 already_ended.
        c(
            "POST",
            "/analyses/{analysis}/cancel?org={org}",
            None,
            create,
            409,
        ),
        c(
            "GET",
            "/analyses/{analysis}/events?org={org}",
            None,
            view,
            200,
        ),
        c(
            "GET",
            "/analyses/{analysis}/overview?org={org}",
            None,
            view,
            200,
        ),
        c(
            "GET",
            "/analyses/{analysis}/patterns?org={org}",
            None,
            view,
            200,
        ),
        c(
            "GET",
            "/analyses/{analysis}/patterns/{pattern}?org={org}",
            None,
            view,
            200,
        ),
        c(
            "GET",
            "/analyses/{analysis}/patterns/{pattern}/samples/0/context?org={org}",
            None,
            view,
            200,
        ),
        c(
            "GET",
            "/analyses/{analysis}/patterns/{pattern}/comments?org={org}",
            None,
            view,
            200,
        ),
        c(
            "POST",
            "/analyses/{analysis}/patterns/{pattern}/comments?org={org}",
            Some(json!({"body": "Seen again after the deploy."})),
            view,
            201,
        ),
        c(
            "PATCH",
            "/analyses/{analysis}/comments/{comment}?org={org}",
            Some(json!({"body": "Seen again after the deploy, twice."})),
            Author,
            200,
        ),
        c(
            "DELETE",
            "/analyses/{analysis}/comments/{new_comment}?org={org}",
            None,
            delete,
            204,
        ),
        c(
            "GET",
            "/analyses/{analysis}/comments/events?org={org}",
            None,
            view,
            200,
        ),
        c(
            "PUT",
            "/analyses/{analysis}/project?org={org}",
            Some(json!({"project_id": null})),
            create,
            204,
        ),
        c(
            "GET",
            "/analyses/{analysis}/sharing?org={org}",
            None,
            view,
            200,
        ),
        c(
            "PUT",
            "/analyses/{analysis}/sharing?org={org}",
            Some(json!({"visibility": "org"})),
            AuthorOrAdmin,
            200,
        ),
        c(
            "GET",
            "/analyses/{analysis}/report.md?org={org}",
            None,
            view,
            200,
        ),
        c(
            "GET",
            "/analyses/{analysis}/tests?org={org}",
            None,
            view,
            200,
        ),
        c(
            "POST",
            "/analyses/{analysis}/tests?org={org}",
            Some(json!({"framework": "jest"})),
            view,
            200,
        ),
        c(
            "GET",
            "/analyses/{analysis}/tests.zip?org={org}",
            None,
            view,
            200,
        ),
        c(
            "POST",
            "/analyses/{analysis}/tests/template-preview?org={org}",
            Some(template_body()),
            view,
            200,
        ),
        // A provider the organisation does not have: past the role check, 422 names it (the
        // answer itself is tested in ai.rs).
        c(
            "POST",
            "/analyses/{analysis}/ai/explain?org={org}",
            Some(json!({"pattern_id": "{pattern}", "provider": "none-such"})),
            view,
            422,
        ),
        c(
            "POST",
            "/analyses/{analysis}/ai/recommend?org={org}",
            Some(json!({"pattern_id": "{pattern}", "provider": "none-such"})),
            view,
            422,
        ),
        c(
            "POST",
            "/analyses/{analysis}/ai/summary?org={org}",
            Some(json!({"provider": "none-such"})),
            view,
            422,
        ),
        c(
            "POST",
            "/analyses/{analysis}/ai/stream?org={org}",
            Some(json!({"task": "summary", "provider": "none-such"})),
            view,
            422,
        ),
        c(
            "POST",
            "/analyses/{analysis}/ai/preview?org={org}",
            Some(json!({"task": "summary"})),
            view,
            200,
        ),
        c(
            "POST",
            "/analyses/{analysis}/ai/tests?org={org}",
            Some(json!({"pattern_id": "{pattern}", "provider": "none-such"})),
            view,
            422,
        ),
        // Comparing spends on several models at once: configure_ai; no targets is 422.
        c(
            "POST",
            "/analyses/{analysis}/ai/compare?org={org}",
            Some(json!({"task": "explain", "pattern_id": "{pattern}", "targets": []})),
            Perm("configure_ai"),
            422,
        ),
        c(
            "GET",
            "/analyses/{analysis}/manual-tests.csv?org={org}",
            None,
            view,
            200,
        ),
        // NUnit suites are not run here: past the role check, 422 names the framework.
        c(
            "POST",
            "/analyses/{analysis}/tests/run?org={org}",
            Some(json!({"framework": "nunit"})),
            create,
            422,
        ),
        c("GET", "/compare?ids={analysis}&org={org}", None, view, 200),
        c("GET", "/projects?org={org}", None, view, 200),
        c(
            "POST",
            "/projects?org={org}",
            Some(json!({"name": "{unique}"})),
            create,
            201,
        ),
        c(
            "PATCH",
            "/projects/{new_project}?org={org}",
            Some(json!({"name": "{unique} renamed"})),
            create,
            200,
        ),
        c(
            "DELETE",
            "/projects/{new_project}?org={org}",
            None,
            delete,
            204,
        ),
        c("GET", "/test-settings?org={org}", None, Member, 200),
        c(
            "PUT",
            "/test-settings?org={org}",
            Some(json!({"framework": "mocha"})),
            Member,
            200,
        ),
        c("GET", "/mentions?org={org}", None, Member, 200),
        c("POST", "/mentions/read?org={org}", None, Member, 204),
    ]
}

/// Routes about the signed-in person, the same for every role.
fn personal_cases() -> Vec<Case> {
    use Need::*;
    vec![
        c("GET", "/me", None, SignedIn, 200),
        c("GET", "/me/sessions", None, SignedIn, 200),
        c(
            "PATCH",
            "/me/preferences",
            Some(json!({"theme": "dark"})),
            SignedIn,
            200,
        ),
        c("GET", "/orgs", None, SignedIn, 200),
        c(
            "POST",
            "/orgs",
            Some(json!({"name": "Side {unique}"})),
            SignedIn,
            201,
        ),
    ]
}

fn cases() -> Vec<Case> {
    let mut all = organisation_cases();
    all.extend(analysis_cases());
    all.extend(personal_cases());
    all
}

/// Operations outside the matrix, each with where its rules are tested instead: they act on
/// the caller's own sign-in, password and second factor, where a role means nothing.
const OWN_ACCOUNT: &[(&str, &str)] = &[
    (
        "POST /auth/signup",
        "auth::signup_answers_a_session_in_cookies_and_body",
    ),
    ("POST /auth/login", "auth::login_and_logout"),
    ("POST /auth/logout", "auth::login_and_logout"),
    ("POST /auth/logout-all", "auth::login_and_logout"),
    (
        "POST /auth/refresh",
        "auth::reusing_a_refresh_token_revokes_its_family",
    ),
    (
        "POST /auth/verify-email",
        "auth::signup_answers_a_session_in_cookies_and_body",
    ),
    (
        "POST /auth/resend-verification",
        "auth::resending_the_verification_link",
    ),
    (
        "POST /auth/password-reset",
        "auth::password_reset_is_single_use_expires_and_keeps_mfa",
    ),
    (
        "POST /auth/password-reset/confirm",
        "auth::password_reset_is_single_use_expires_and_keeps_mfa",
    ),
    (
        "POST /me/password",
        "auth::changing_the_password_needs_the_current_one",
    ),
    ("DELETE /me/sessions/{id}", "auth::login_and_logout"),
    (
        "POST /me/mfa/totp",
        "auth::totp_codes_cannot_be_replayed_and_recovery_codes_work_once",
    ),
    (
        "POST /me/mfa/totp/confirm",
        "auth::totp_codes_cannot_be_replayed_and_recovery_codes_work_once",
    ),
    (
        "POST /me/mfa/totp/disable",
        "auth::totp_codes_cannot_be_replayed_and_recovery_codes_work_once",
    ),
    (
        "POST /me/mfa/recovery-codes",
        "auth::recovery_codes_can_be_replaced_with_a_current_code",
    ),
];

/// Whether `role` meets `need` in the fixture organisation.
fn role_has(role: &str, need: Need) -> bool {
    let perms: &[&str] = match role {
        "owner" | "admin" => &["*"],
        "member" => &["view_analyses", "create_analyses", "share_analyses"],
        _ => &["view_analyses"],
    };
    match need {
        Need::Member | Need::SignedIn => true,
        Need::Owner | Need::Author => role == "owner",
        Need::AuthorOrAdmin => role == "owner" || role == "admin",
        Need::Perm(p) => perms.contains(&"*") || perms.contains(&p),
    }
}

/// What one organisation holds for the matrix to name.
struct Objects {
    user: User,
    team: String,
    analysis: String,
    pattern: String,
    comment: String,
}

impl Objects {
    /// A team and a finished analysis with one comment, made by `owner`.
    async fn of(app: &TestApp, owner: &User, team: String) -> Self {
        let analysis = app.analyse_text(owner, "matrix.log", &sample_log(90)).await;
        let done = app.wait_for(owner, &analysis).await;
        assert_eq!(done["status"], "done", "{done}");
        let (status, page) = app
            .call_as(
                owner,
                "GET",
                &format!("/api/v1/analyses/{analysis}/patterns"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{page}");
        let pattern = page["items"][0]["id"].as_str().expect("pattern").to_owned();
        let comment = comment(app, owner, &analysis, &pattern).await;
        Self {
            user: owner.clone(),
            team,
            analysis,
            pattern,
            comment,
        }
    }
}

async fn comment(app: &TestApp, owner: &User, analysis: &str, pattern: &str) -> String {
    let (status, made) = app
        .call_as(
            owner,
            "POST",
            &format!("/api/v1/analyses/{analysis}/patterns/{pattern}/comments"),
            Some(json!({"body": "First seen on Monday."})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    made["id"].as_str().expect("comment").to_owned()
}

/// A model provider that is never called (nothing listens on port 9 of loopback).
fn provider_body() -> Value {
    json!({"name": "provider {unique}", "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-matrix-key-0000", "models": ["gpt-4o-mini"]})
}

/// Fills the placeholders of `template` with `objects` of one organisation, creating fresh
/// objects there for the `{new_…}` ones (so a destructive case never spends another's).
async fn fill(app: &TestApp, objects: &Objects, template: &str, n: usize) -> String {
    let owner = &objects.user;
    let mut out = template
        .replace("{unique}", &format!("n{n}"))
        .replace("{team_owner}", &owner.id)
        .replace("{team}", &objects.team)
        .replace("{analysis}", &objects.analysis)
        .replace("{pattern}", &objects.pattern)
        .replace("{comment}", &objects.comment);
    if out.contains("{new_team}") {
        let team = create_team(app, owner, &format!("team {n}")).await;
        let add = app
            .call(
                "PUT",
                &format!(
                    "/api/v1/orgs/{}/teams/{team}/members/{}",
                    owner.org_slug, owner.id
                ),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(add.status, 204, "{}", add.text());
        out = out.replace("{new_team}", &team);
    }
    if out.contains("{new_member}") {
        out = out.replace(
            "{new_member}",
            &seed_member(app, &owner.org_id, "viewer").await,
        );
    }
    let made = |path: String, body: Value, key: &'static str| async move {
        let r = app
            .call("POST", &path, Some(&owner.access), Some(body))
            .await;
        assert!(r.status < 300, "{path}: {}", r.text());
        r.json()[key].as_str().expect("made").to_owned()
    };
    let org = &owner.org_slug;
    if out.contains("{new_invitation}") {
        let id = made(
            format!("/api/v1/orgs/{org}/invitations"),
            json!({"email": format!("i{n}@invitee.example")}),
            "id",
        )
        .await;
        out = out.replace("{new_invitation}", &id);
    }
    if out.contains("{new_role}") {
        let key = made(
            format!("/api/v1/orgs/{org}/roles"),
            json!({"name": format!("role {n}"), "permissions": ["view_analyses"]}),
            "key",
        )
        .await;
        out = out.replace("{new_role}", &key);
    }
    if out.contains("{new_token}") {
        let id = made(
            format!("/api/v1/orgs/{org}/tokens"),
            json!({"name": format!("t{n}"), "scopes": ["view_analyses"]}),
            "id",
        )
        .await;
        out = out.replace("{new_token}", &id);
    }
    if out.contains("{new_project}") {
        let id = made(
            format!("/api/v1/projects?org={org}"),
            json!({"name": format!("project {n}")}),
            "id",
        )
        .await;
        out = out.replace("{new_project}", &id);
    }
    if out.contains("{new_template}") {
        let body = template_body()
            .to_string()
            .replace("{unique}", &format!("t{n}"));
        let id = made(
            format!("/api/v1/orgs/{org}/teams/{}/test-templates", objects.team),
            serde_json::from_str(&body).expect("json"),
            "id",
        )
        .await;
        out = out.replace("{new_template}", &id);
    }
    if out.contains("{new_provider}") {
        let body = provider_body()
            .to_string()
            .replace("{unique}", &format!("p{n}"));
        let id = made(
            format!("/api/v1/orgs/{org}/ai/providers"),
            serde_json::from_str(&body).expect("json"),
            "id",
        )
        .await;
        out = out.replace("{new_provider}", &id);
    }
    if out.contains("{new_comment}") {
        let id = comment(app, owner, &objects.analysis, &objects.pattern).await;
        out = out.replace("{new_comment}", &id);
    }
    if out.contains("{new_upload}") {
        let r = app
            .upload(owner, &format!("u{n}.log"), "text/plain", sample_log(3 + n))
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        out = out.replace("{new_upload}", r.json()["id"].as_str().expect("upload"));
    }
    if out.contains("{new_analysis}") {
        let id = app
            .analyse_text(owner, &format!("a{n}.log"), &sample_log(6 + n))
            .await;
        app.wait_for(owner, &id).await;
        out = out.replace("{new_analysis}", &id);
    }
    out.replace("{org}", org)
}

/// Sends one case's request and answers its status. Streams (server-sent events) answer with
/// their headers, so their bodies are not read.
async fn status_of(
    app: &TestApp,
    case: &Case,
    path: &str,
    body: Option<String>,
    bearer: Option<&str>,
) -> u16 {
    let mut request = Request::builder()
        .method(case.method)
        .uri(format!("/api/v1{path}"));
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = match (&case.body, body) {
        (Payload::Json(_), Some(text)) => {
            request = request.header("content-type", "application/json");
            Body::from(text)
        }
        (Payload::Text(_), Some(text)) => {
            request = request.header("content-type", "text/plain");
            Body::from(text)
        }
        _ => Body::empty(),
    };
    let response = app
        .router
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("infallible");
    response.status().as_u16()
}

async fn body_of(
    app: &TestApp,
    objects: &Objects,
    uploader: &User,
    case: &Case,
    n: usize,
) -> Option<String> {
    match &case.body {
        Payload::Json(v) => {
            let text = with_upload(app, &v.to_string(), uploader, n).await;
            Some(fill(app, objects, &text, n).await)
        }
        Payload::Text(text) => Some(fill(app, objects, text, n).await),
        Payload::None => None,
    }
}

/// Placeholders that name an object of the organisation.
const OBJECTS: &[&str] = &[
    "{new_",
    "{actor_upload}",
    "{analysis}",
    "{team}",
    "{comment}",
    "{pattern}",
];

/// Fills `{actor_upload}` with a fresh upload by `uploader` (uploads are seen by whoever made
/// them, so starting an analysis names one of the caller's own).
async fn with_upload(app: &TestApp, template: &str, uploader: &User, n: usize) -> String {
    if !template.contains("{actor_upload}") {
        return template.to_owned();
    }
    let r = app
        .upload(
            uploader,
            &format!("u{n}.log"),
            "text/plain",
            sample_log(3 + n),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    template.replace("{actor_upload}", r.json()["id"].as_str().expect("upload"))
}

/// Who uploads for `role`: themselves when they may, else the owner (the call is refused
/// before the upload matters).
fn uploader<'a>(fx: &'a Fixture, role: &str, actor: Option<&'a User>) -> &'a User {
    match (role, actor) {
        ("member" | "admin" | "owner", Some(user)) => user,
        _ => &fx.owner,
    }
}

/// Whether a case names an object of its organisation (so naming another's must answer 404).
fn names_an_object(case: &Case) -> bool {
    let text = format!(
        "{} {}",
        case.path,
        match &case.body {
            Payload::Json(v) => v.to_string(),
            _ => String::new(),
        }
    );
    OBJECTS.iter().any(|p| text.contains(p))
}

struct World {
    fx: Fixture,
    acme: Objects,
    beta: Objects,
}

async fn world(app: &TestApp) -> World {
    let fx = fixture(app).await;
    let acme = Objects::of(app, &fx.owner, fx.team.clone()).await;
    let beta_team = create_team(app, &fx.other, "Beta platform").await;
    let beta = Objects::of(app, &fx.other, beta_team).await;
    World { fx, acme, beta }
}

on_both_backends!(
    permission_matrix_every_route_by_role_and_foreign_object,
    |app| {
        let workers = server::ingest::Workers::start(&app.state);
        let w = world(&app).await;
        let fx = &w.fx;
        let mut n = 0;
        let mut failures = Vec::new();
        let all = cases();
        for case in &all {
            let actors: [(&str, Option<&User>); 6] = [
                ("anonymous", None),
                ("viewer", Some(&fx.viewer)),
                ("member", Some(&fx.member)),
                ("admin", Some(&fx.admin)),
                ("owner", Some(&fx.owner)),
                ("other-org owner", Some(&fx.other)),
            ];
            for (role, actor) in actors {
                n += 1;
                let path = fill(&app, &w.acme, case.path, n).await;
                let body = body_of(&app, &w.acme, uploader(fx, role, actor), case, n).await;
                let expected = match (role, actor) {
                    (_, None) => 401,
                    ("other-org owner", _) if case.need == Need::SignedIn => case.ok,
                    ("other-org owner", _) => 404,
                    (role, _) if role_has(role, case.need) => case.ok,
                    _ => 403,
                };
                let got =
                    status_of(&app, case, &path, body, actor.map(|u| u.access.as_str())).await;
                if got != expected {
                    failures.push(format!(
                        "{} {} as {role}: expected {expected}, got {got}",
                        case.method, case.path
                    ));
                }
            }
            // The same route naming the other organisation's object, by this one's owner.
            if names_an_object(case) {
                n += 1;
                let path = fill(&app, &w.beta, case.path, n)
                    .await
                    .replace(&w.beta.user.org_slug, &fx.owner.org_slug);
                let body = body_of(&app, &w.beta, &w.beta.user, case, n).await;
                let got = status_of(&app, case, &path, body, Some(&fx.owner.access)).await;
                if got != 404 {
                    failures.push(format!(
                        "{} {} with another org's object: expected 404, got {got}",
                        case.method, case.path
                    ));
                }
            }
        }
        workers.stop(Duration::from_secs(5)).await;
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
        let foreign = all.iter().filter(|c| names_an_object(c)).count();
        assert_eq!(n, all.len() * 6 + foreign, "every case ran for every actor");
        // Naming the other organisation directly, by slug or id, also answers 404, never 403.
        for key in [&fx.other.org_slug, &fx.other.org_id] {
            let r = app
                .call(
                    "GET",
                    &format!("/api/v1/orgs/{key}/members"),
                    Some(&fx.owner.access),
                    None,
                )
                .await;
            assert_eq!(r.status, 404);
            assert!(!r.text().contains("Beta"), "no data leaks");
        }
    }
);

/// `GET /api/v1/openapi.json`'s operations, as `METHOD /path`.
async fn documented(app: &TestApp) -> BTreeSet<String> {
    let doc = app.get("/api/v1/openapi.json").await.json();
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("operations").keys() {
            out.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    out
}

/// A case's operation as the document names it: placeholders as the document spells them,
/// without the query.
fn operation(case: &Case) -> String {
    let path = case.path.split('?').next().unwrap_or_default();
    let named = path
        .replace("{new_member}", "{user}")
        .replace("{team_owner}", "{user}")
        .replace("{new_team}", "{team}")
        .replace("{new_role}", "{role}")
        .replace("{new_invitation}", "{id}")
        .replace("{new_token}", "{id}")
        .replace("{new_project}", "{id}")
        .replace("{new_template}", "{id}")
        .replace("{new_provider}", "{id}")
        .replace("{new_analysis}", "{id}")
        .replace("{analysis}", "{id}")
        .replace("{new_comment}", "{comment}")
        .replace("/samples/0/", "/samples/{n}/")
        .replace("/report.md", "/report.{format}")
        .replace("/manual-tests.csv", "/manual-tests.{format}")
        .replace("/ai/prompts/system", "/ai/prompts/{kind}");
    format!("{} {named}", case.method)
}

#[tokio::test]
async fn the_matrix_covers_every_documented_operation() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let documented = documented(&app).await;
    let in_matrix: BTreeSet<String> = cases().iter().map(operation).collect();
    let exempt: BTreeSet<String> = OWN_ACCOUNT.iter().map(|(op, _)| (*op).to_owned()).collect();
    let unknown: Vec<&String> = in_matrix
        .union(&exempt)
        .filter(|op| !documented.contains(*op))
        .collect();
    assert!(
        unknown.is_empty(),
        "cases for operations the document does not have: {unknown:?}"
    );
    let missing: Vec<&String> = documented
        .iter()
        .filter(|op| !in_matrix.contains(*op) && !exempt.contains(*op))
        .collect();
    assert!(
        missing.is_empty(),
        "operations without a matrix case: {missing:?}"
    );
    let both: Vec<&String> = in_matrix.intersection(&exempt).collect();
    assert!(both.is_empty(), "exempt and in the matrix: {both:?}");
}

/// Calls a server function as the pages do, with the session cookie: its form, or its JSON
/// input when `input` starts with `{`.
async fn call_fn(
    app: &TestApp,
    endpoint: &str,
    access: Option<&str>,
    input: &str,
) -> crate::helpers::TestResponse {
    if !input.starts_with('{') {
        return rpc(app, endpoint, access, input).await;
    }
    let mut req =
        Request::post(format!("/rpc/{endpoint}")).header("content-type", "application/json");
    if let Some(token) = access {
        req = req.header("cookie", format!("fl_access={token}"));
    }
    app.send(req.body(Body::from(input.to_owned())).expect("request"))
        .await
}

/// A server function call: its endpoint under `/rpc`, its form (with the placeholders of
/// [`fill`]), what it needs and the status of the route it calls when allowed.
struct FnCase {
    endpoint: &'static str,
    form: &'static str,
    need: Need,
    ok: u16,
}

fn f(endpoint: &'static str, form: &'static str, need: Need, ok: u16) -> FnCase {
    FnCase {
        endpoint,
        form,
        need,
        ok,
    }
}

fn fn_cases() -> Vec<FnCase> {
    use Need::*;
    let admins = Perm("manage_members");
    let teams = Perm("manage_team");
    let view = Perm("view_analyses");
    let create = Perm("create_analyses");
    let delete = Perm("delete_analyses");
    let on = "org={org}&id={analysis}";
    let _ = on;
    vec![
        f("org_admin", "org={org}", Member, 200),
        f(
            "update_org",
            "org={org}&name=Acme&require_mfa=false",
            admins,
            200,
        ),
        f("delete_org", "org={org}&confirm=not-the-slug", Owner, 422),
        f("transfer_ownership", "org={org}&user_id=nobody", Owner, 422),
        f(
            "invite_member",
            "org={org}&email=f{unique}%40invitee.example&role=viewer",
            admins,
            200,
        ),
        f(
            "revoke_invitation",
            "org={org}&id={new_invitation}",
            admins,
            200,
        ),
        f(
            "accept_invitation",
            "org={org}&token=not-a-real-token",
            SignedIn,
            400,
        ),
        f(
            "change_member_role",
            "org={org}&user_id={new_member}&role=member",
            admins,
            200,
        ),
        f(
            "remove_member",
            "org={org}&user_id={new_member}",
            admins,
            200,
        ),
        f("create_team", "org={org}&name=Team+{unique}", teams, 200),
        f(
            "rename_team",
            "org={org}&team={new_team}&name=Renamed+{unique}",
            teams,
            200,
        ),
        f("delete_team", "org={org}&team={new_team}", teams, 200),
        f(
            "add_team_member",
            "org={org}&team={new_team}&user_id={new_member}",
            teams,
            200,
        ),
        f(
            "remove_team_member",
            "org={org}&team={new_team}&user_id={team_owner}",
            teams,
            200,
        ),
        f(
            "create_role",
            "org={org}&name=Role+{unique}&permissions=view_analyses",
            admins,
            200,
        ),
        f(
            "update_role",
            "org={org}&role={new_role}&name=Role+{unique}&permissions=view_audit",
            admins,
            200,
        ),
        f("delete_role", "org={org}&role={new_role}", admins, 200),
        f(
            "create_token",
            "org={org}&name=t{unique}&scopes=view_analyses&kind=personal&expires_in_days=30",
            Member,
            200,
        ),
        f("revoke_token", "org={org}&id={new_token}", admins, 200),
        f(
            "audit_log",
            "org={org}&filter[action]=&filter[actor]=",
            Perm("view_audit"),
            200,
        ),
        f("test_settings", "org={org}", Member, 200),
        f("test_templates", "org={org}", Member, 200),
        f(
            "save_test_template",
            "org={org}&team={team}&id=&input[name]=Smoke+{unique}&input[framework]=pytest&input[test]=def+%7B%7Btest_name%7D%7D%28%29%3A%0A++++assert+%7B%7Bcount%7D%7D+%3E+0%0A",
            Perm("manage_team"),
            200,
        ),
        f(
            "delete_test_template",
            "org={org}&team={team}&id={new_template}",
            Perm("manage_team"),
            200,
        ),
        f(
            "preview_test_template",
            "org={org}&id={analysis}&input[name]=Smoke&input[framework]=pytest&input[test]=def+%7B%7Btest_name%7D%7D%28%29%3A%0A++++assert+%7B%7Bcount%7D%7D+%3E+0%0A",
            view,
            200,
        ),
        // Any member may ask; those without `configure_ai` get `null` (`pages.rs`).
        f("ai_admin", "org={org}", Member, 200),
        f("pattern_ai", "org={org}", Perm("view_analyses"), 200),
        f(
            "add_ai_provider",
            "org={org}&input[name]=fn+provider+{unique}&input[kind]=openai&input[base_url]=http%3A%2F%2F127.0.0.1%3A9%2Fv1&input[api_key]=sk-matrix-key-0000&input[models]=gpt-4o-mini&input[price_in]=&input[price_out]=",
            Perm("configure_ai"),
            200,
        ),
        f(
            "set_ai_provider_enabled",
            "org={org}&id={new_provider}&enabled=false",
            Perm("configure_ai"),
            200,
        ),
        f(
            "delete_ai_provider",
            "org={org}&id={new_provider}",
            Perm("configure_ai"),
            200,
        ),
        f(
            "save_ai_settings",
            "org={org}&enabled=true&redact_pii=true&monthly_budget=",
            Perm("configure_ai"),
            200,
        ),
        // A provider the organisation does not have: 422 once past the role check.
        // Comparing spends on several models: configure_ai; an unknown provider is 422.
        f("team_prompts", "org={org}&team={team}", Member, 200),
        f(
            "ai_usage",
            "org={org}&month=2026-11",
            Perm("configure_ai"),
            200,
        ),
        f(
            "save_ai_routes",
            "org={org}&explain=&recommend=&tests=&summary=",
            Perm("configure_ai"),
            200,
        ),
        f(
            "save_team_prompt",
            "org={org}&team={team}&kind=system&body=We%20run%20payments.",
            Perm("configure_ai"),
            200,
        ),
        f(
            "preview_team_prompts",
            "org={org}&team={team}&task=summary",
            view,
            200,
        ),
        f(
            "write_tests",
            "org={org}&id={analysis}&pattern={pattern}&framework=&provider=none-such&team=",
            view,
            422,
        ),
        f(
            "compare_models",
            "org={org}&id={analysis}&pattern={pattern}&task=explain&targets[0]=none-such%2Fm&team=",
            Perm("configure_ai"),
            422,
        ),
        f(
            "save_test_settings",
            "org={org}&framework=pytest&ci=github&max_tests_per_pattern=3&naming=descriptive&assertion_style=assert&async_style=await&language=&framework_config=&module_paths=&base_url=&dependencies=",
            Member,
            200,
        ),
        f("analyses", "org={org}&query[q]=", view, 200),
        f("analysis", "org={org}&id={analysis}", view, 200),
        f(
            "start_analysis",
            "org={org}&upload_ids[0]={actor_upload}",
            create,
            200,
        ),
        f("cancel_analysis", "org={org}&id={analysis}", create, 409),
        f(
            "delete_analysis",
            "org={org}&id={new_analysis}",
            delete,
            200,
        ),
        f(
            "discussion",
            "org={org}&id={analysis}&pattern={pattern}",
            view,
            200,
        ),
        f(
            "post_comment",
            "org={org}&id={analysis}&pattern={pattern}&body=Seen+again",
            view,
            200,
        ),
        f(
            "edit_comment",
            "org={org}&id={analysis}&comment={comment}&body=Seen+twice",
            Author,
            200,
        ),
        f(
            "delete_comment",
            "org={org}&id={analysis}&comment={new_comment}",
            delete,
            200,
        ),
        f("mentions", "org={org}", Member, 200),
        f("read_mentions", "org={org}", Member, 200),
        f("compare", "org={org}&query[ids]={analysis}", view, 200),
        f("projects", "org={org}", view, 200),
        f(
            "project_create",
            "org={org}&name=Project+{unique}&description=",
            create,
            200,
        ),
        f("project_delete", "org={org}&id={new_project}", delete, 200),
        f(
            "analysis_project",
            "org={org}&id={analysis}&project=",
            create,
            200,
        ),
        f("patterns", "org={org}&id={analysis}&query[q]=", view, 200),
        f(
            "pattern",
            "org={org}&id={analysis}&pattern={pattern}",
            view,
            200,
        ),
        f(
            "sample_context",
            "org={org}&id={analysis}&pattern={pattern}&sample=0",
            view,
            200,
        ),
        f("sharing", "org={org}&id={analysis}", view, 200),
        f(
            "save_sharing",
            r#"{"org": "{org}", "id": "{analysis}", "visibility": "org", "teams": []}"#,
            AuthorOrAdmin,
            200,
        ),
        f(
            "tests",
            "org={org}&id={analysis}&query[framework]=jest&query[kind]=&query[ci]=",
            view,
            200,
        ),
        f(
            "run_tests",
            "org={org}&id={analysis}&framework=nunit&kind=",
            create,
            422,
        ),
        f("sessions", "", SignedIn, 200),
        f(
            "save_preferences",
            "theme=dark&default_framework=pytest&time_zone=UTC",
            SignedIn,
            200,
        ),
        f("create_org", "name=Side+{unique}", SignedIn, 200),
    ]
}

/// Server functions outside the matrix, and why: public ones, and the caller's own sign-in,
/// password and second factor, where a role means nothing (their rules are tested with the
/// routes they call, listed in [`OWN_ACCOUNT`]).
const FN_EXEMPT: &[&str] = &[
    "me",
    "sign_up",
    "sign_in",
    "sign_out",
    "request_reset",
    "reset_password",
    "verify_email",
    "change_password",
    "revoke_session",
    "sign_out_everywhere",
    "resend_verification",
    "start_totp",
    "confirm_totp",
    "disable_totp",
    "regenerate_recovery_codes",
    "sample_incident",
    "api_reference",
    "system_status",
];

on_both_backends!(server_function_matrix_by_role_and_foreign_object, |app| {
    let workers = server::ingest::Workers::start(&app.state);
    let w = world(&app).await;
    let fx = &w.fx;
    let mut n = 1000;
    let mut failures = Vec::new();
    for case in fn_cases() {
        let actors: [(&str, Option<&User>); 6] = [
            ("anonymous", None),
            ("viewer", Some(&fx.viewer)),
            ("member", Some(&fx.member)),
            ("admin", Some(&fx.admin)),
            ("owner", Some(&fx.owner)),
            ("other-org owner", Some(&fx.other)),
        ];
        // A server function answers 200 with its value, or the status of the route's error.
        let success = if case.ok < 300 { 200 } else { case.ok };
        for (role, actor) in actors {
            n += 1;
            let form = with_upload(&app, case.form, uploader(fx, role, actor), n).await;
            let form = fill(&app, &w.acme, &form, n).await;
            let expected = match (role, actor) {
                (_, None) => 401,
                ("other-org owner", _) if case.need == Need::SignedIn => success,
                ("other-org owner", _) => 404,
                (role, _) if role_has(role, case.need) => success,
                _ => 403,
            };
            let r = call_fn(&app, case.endpoint, actor.map(|u| u.access.as_str()), &form).await;
            if r.status != expected {
                failures.push(format!(
                    "{} as {role}: expected {expected}, got {} {}",
                    case.endpoint,
                    r.status,
                    r.text().chars().take(200).collect::<String>()
                ));
            }
        }
        if OBJECTS.iter().any(|p| case.form.contains(p)) {
            n += 1;
            let form = with_upload(&app, case.form, &w.beta.user, n).await;
            let form = fill(&app, &w.beta, &form, n)
                .await
                .replace(&w.beta.user.org_slug, &fx.owner.org_slug);
            let r = call_fn(&app, case.endpoint, Some(&fx.owner.access), &form).await;
            if r.status != 404 {
                failures.push(format!(
                    "{} with another org's object: expected 404, got {}",
                    case.endpoint, r.status
                ));
            }
        }
    }
    workers.stop(Duration::from_secs(5)).await;
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
});

#[test]
fn the_server_function_matrix_covers_every_server_function() {
    let registered: BTreeSet<String> = server_fn::axum::server_fn_paths()
        .filter_map(|(path, _)| path.strip_prefix("/rpc/").map(str::to_owned))
        .collect();
    assert!(
        registered.len() > 40,
        "server functions are registered: {registered:?}"
    );
    let covered: BTreeSet<String> = fn_cases()
        .iter()
        .map(|c| c.endpoint.to_owned())
        .chain(FN_EXEMPT.iter().map(|e| (*e).to_owned()))
        .collect();
    let missing: Vec<&String> = registered.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "server functions without a matrix case: {missing:?}"
    );
    let unknown: Vec<&String> = covered.difference(&registered).collect();
    assert!(
        unknown.is_empty(),
        "cases for server functions that do not exist: {unknown:?}"
    );
}
