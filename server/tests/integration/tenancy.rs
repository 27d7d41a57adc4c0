//! Organisations, members, roles, teams, invitations and API tokens over the real router (the
//! permission matrix over every route and server function is in `matrix.rs`).

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::identity::{PASSWORD, User, user_from};
use crate::on_both_backends;

/// Invites `email` to `owner`'s organisation with `role` and accepts as a new account.
pub async fn join(app: &TestApp, owner: &User, email: &str, role: &str) -> User {
    let invited = app
        .call(
            "POST",
            &format!("/api/v1/orgs/{}/invitations", owner.org_slug),
            Some(&owner.access),
            Some(json!({"email": email, "role": role})),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.text());
    let token = app.mailed_token(email, "/invitations/accept");
    let user = app.signup(email, &format!("{email} home")).await;
    let accepted = app
        .call(
            "POST",
            &format!("/api/v1/orgs/{}/invitations/accept", owner.org_slug),
            Some(&user.access),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert_eq!(accepted.json()["role"], role);
    User {
        org_id: owner.org_id.clone(),
        org_slug: owner.org_slug.clone(),
        ..user
    }
}

/// A user added straight to the database, for fixtures that would otherwise trip the sign-up
/// rate limit.
pub(crate) async fn seed_member(app: &TestApp, org_id: &str, role: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let mut tx = app
        .state
        .db
        .begin(server::db::Scope::System)
        .await
        .expect("tx");
    server::auth::users::insert(&mut tx, &id, &format!("{id}@seed.example"), "x", 0)
        .await
        .expect("user");
    server::tenancy::orgs::add_member(&mut tx, org_id, &id, role, 0)
        .await
        .expect("member");
    tx.commit().await.expect("commit");
    id
}

/// Turns on TOTP for `user`; returns the secret.
async fn enrol_mfa(app: &TestApp, user: &User) -> String {
    let enrol = app
        .call(
            "POST",
            "/api/v1/me/mfa/totp",
            Some(&user.access),
            Some(json!({"password": crate::identity::PASSWORD})),
        )
        .await;
    assert_eq!(enrol.status, 200, "{}", enrol.text());
    let secret = enrol.json()["secret"].as_str().expect("secret").to_owned();
    let code = server::auth::totp::code_at(
        &secret,
        u64::try_from(app.state.auth.now() / 1000).expect("now"),
    )
    .expect("code");
    let confirmed = app
        .call(
            "POST",
            "/api/v1/me/mfa/totp/confirm",
            Some(&user.access),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text());
    secret
}

pub(crate) struct Fixture {
    pub owner: User,
    pub admin: User,
    pub member: User,
    pub viewer: User,
    pub other: User,
    pub team: String,
}

pub(crate) async fn fixture(app: &TestApp) -> Fixture {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let admin = join(app, &owner, "admin@acme.example", "admin").await;
    let member = join(app, &owner, "member@acme.example", "member").await;
    let viewer = join(app, &owner, "viewer@acme.example", "viewer").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let team = create_team(app, &owner, "Platform").await;
    Fixture {
        owner,
        admin,
        member,
        viewer,
        other,
        team,
    }
}

pub(crate) async fn create_team(app: &TestApp, owner: &User, name: &str) -> String {
    let r = app
        .call(
            "POST",
            &format!("/api/v1/orgs/{}/teams", owner.org_slug),
            Some(&owner.access),
            Some(json!({"name": name})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().expect("id").to_owned()
}

async fn invite(
    app: &TestApp,
    owner: &User,
    email: &str,
    role: &str,
    team: Option<&str>,
) -> crate::helpers::TestResponse {
    let body = json!({"email": email, "role": role, "team_id": team});
    app.call(
        "POST",
        &format!("/api/v1/orgs/{}/invitations", owner.org_slug),
        Some(&owner.access),
        Some(body),
    )
    .await
}

async fn accept(app: &TestApp, who: &User, org: &str, token: &str) -> crate::helpers::TestResponse {
    app.call(
        "POST",
        &format!("/api/v1/orgs/{org}/invitations/accept"),
        Some(&who.access),
        Some(json!({"token": token})),
    )
    .await
}

on_both_backends!(
    invitations_are_single_use_bound_to_org_and_address_and_expire,
    |app| {
        let owner = app.signup("owner@acme.example", "Acme").await;
        let beta = app.signup("owner@beta.example", "Beta").await;
        let team = create_team(&app, &owner, "Platform").await;
        assert_eq!(
            invite(&app, &owner, "new@acme.example", "member", Some(&team))
                .await
                .status,
            201
        );
        let token = app.mailed_token("new@acme.example", "/invitations/accept");
        let invitee = app.signup("new@acme.example", "Home").await;
        let stranger = app.signup("stranger@acme.example", "Elsewhere").await;
        let r = accept(&app, &invitee, &beta.org_slug, &token).await;
        assert_eq!(
            r.status,
            400,
            "another organisation's invitation is refused: {}",
            r.text()
        );
        let r = accept(&app, &stranger, &owner.org_slug, &token).await;
        assert_eq!(r.status, 403, "bound to the invited address");
        assert_eq!(r.json()["error"]["code"], "wrong_account");
        let r = accept(&app, &invitee, &owner.org_slug, &token).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let members = app
            .call(
                "GET",
                &format!("/api/v1/orgs/{}/teams/{team}/members", owner.org_slug),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(
            members.json()[0]["email"],
            "new@acme.example",
            "joined the team named in the invitation"
        );
        let r = accept(&app, &invitee, &owner.org_slug, &token).await;
        assert_eq!(r.status, 400, "single use: {}", r.text());
        // Expired.
        assert_eq!(
            invite(&app, &owner, "late@acme.example", "viewer", None)
                .await
                .status,
            201
        );
        let token = app.mailed_token("late@acme.example", "/invitations/accept");
        let late = app.signup("late@acme.example", "Late").await;
        app.clock.advance_ms(server::tenancy::invitations::TTL_MS);
        let late = user_from(&app.login(&late.email, PASSWORD, None).await);
        let r = accept(&app, &late, &owner.org_slug, &token).await;
        assert_eq!(r.status, 400);
        assert!(r.text().contains("expired"), "{}", r.text());
        // Withdrawn.
        let owner = user_from(&app.login(&owner.email, PASSWORD, None).await);
        let owner = User {
            org_slug: "acme".into(),
            ..owner
        };
        let created = app
            .call(
                "POST",
                "/api/v1/orgs/acme/invitations",
                Some(&owner.access),
                Some(json!({"email": "gone@acme.example"})),
            )
            .await;
        let id = created.json()["id"].as_str().expect("id").to_owned();
        let token = app.mailed_token("gone@acme.example", "/invitations/accept");
        assert_eq!(
            app.call(
                "DELETE",
                &format!("/api/v1/orgs/acme/invitations/{id}"),
                Some(&owner.access),
                None
            )
            .await
            .status,
            204
        );
        let gone = app.signup("gone@acme.example", "Gone").await;
        assert_eq!(accept(&app, &gone, "acme", &token).await.status, 400);
        // Inviting an existing member, or with a role that does not exist, is refused per field.
        let r = app
            .call(
                "POST",
                "/api/v1/orgs/acme/invitations",
                Some(&owner.access),
                Some(json!({"email": "new@acme.example"})),
            )
            .await;
        assert_eq!(r.json()["error"]["fields"][0]["field"], "email");
        let r = app
            .call(
                "POST",
                "/api/v1/orgs/acme/invitations",
                Some(&owner.access),
                Some(json!({"email": "x@acme.example", "role": "owner"})),
            )
            .await;
        assert_eq!(r.json()["error"]["fields"][0]["field"], "role");
    }
);

on_both_backends!(
    roles_decide_what_members_see_and_removal_is_immediate,
    |app| {
        let owner = app.signup("owner@acme.example", "Acme").await;
        let user = join(&app, &owner, "dev@acme.example", "viewer").await;
        let org = &owner.org_slug;
        let teams = format!("/api/v1/orgs/{org}/teams");
        assert_eq!(
            app.call(
                "POST",
                &teams,
                Some(&user.access),
                Some(json!({"name": "Mine"}))
            )
            .await
            .status,
            403
        );
        assert_eq!(
            app.call(
                "GET",
                &format!("/api/v1/orgs/{org}/audit"),
                Some(&user.access),
                None
            )
            .await
            .status,
            403
        );
        // A custom role with exactly manage_team and view_audit.
        let role = app.call("POST", &format!("/api/v1/orgs/{org}/roles"), Some(&owner.access), Some(json!({"name": "Team lead", "permissions": ["view_analyses", "manage_team", "view_audit"]}))).await;
        assert_eq!(role.status, 201, "{}", role.text());
        let key = role.json()["key"].as_str().expect("key").to_owned();
        let change = app
            .call(
                "PATCH",
                &format!("/api/v1/orgs/{org}/members/{}", user.id),
                Some(&owner.access),
                Some(json!({"role": key})),
            )
            .await;
        assert_eq!(change.status, 204, "{}", change.text());
        assert_eq!(
            app.call(
                "POST",
                &teams,
                Some(&user.access),
                Some(json!({"name": "Mine"}))
            )
            .await
            .status,
            201
        );
        assert_eq!(
            app.call(
                "GET",
                &format!("/api/v1/orgs/{org}/audit"),
                Some(&user.access),
                None
            )
            .await
            .status,
            200
        );
        assert_eq!(
            app.call(
                "GET",
                &format!("/api/v1/orgs/{org}/invitations"),
                Some(&user.access),
                None
            )
            .await
            .status,
            403
        );
        let show = app
            .call(
                "GET",
                &format!("/api/v1/orgs/{org}"),
                Some(&user.access),
                None,
            )
            .await
            .json();
        assert_eq!(
            show["permissions"],
            json!(["view_analyses", "manage_team", "view_audit"])
        );
        // The role is in use, so it cannot be deleted; nobody can grant the owner role or escalate.
        assert_eq!(
            app.call(
                "DELETE",
                &format!("/api/v1/orgs/{org}/roles/{key}"),
                Some(&owner.access),
                None
            )
            .await
            .status,
            409
        );
        let r = app
            .call(
                "PATCH",
                &format!("/api/v1/orgs/{org}/members/{}", user.id),
                Some(&owner.access),
                Some(json!({"role": "owner"})),
            )
            .await;
        assert_eq!(r.status, 422);
        let r = app
            .call(
                "PATCH",
                &format!("/api/v1/orgs/{org}/members/{}", owner.id),
                Some(&owner.access),
                Some(json!({"role": "viewer"})),
            )
            .await;
        assert_eq!(r.status, 409, "the owner's role changes only by transfer");
        // Removal ends access at once, with the member's personal tokens.
        let token = app
            .call(
                "POST",
                &format!("/api/v1/orgs/{org}/tokens"),
                Some(&user.access),
                Some(json!({"name": "ci", "scopes": ["view_analyses"]})),
            )
            .await;
        let token = token.json()["token"].as_str().expect("token").to_owned();
        assert_eq!(
            app.call("GET", &format!("/api/v1/orgs/{org}"), Some(&token), None)
                .await
                .status,
            200
        );
        assert_eq!(
            app.call(
                "DELETE",
                &format!("/api/v1/orgs/{org}/members/{}", user.id),
                Some(&owner.access),
                None
            )
            .await
            .status,
            204
        );
        assert_eq!(
            app.call(
                "GET",
                &format!("/api/v1/orgs/{org}"),
                Some(&user.access),
                None
            )
            .await
            .status,
            404
        );
        assert_eq!(
            app.call("GET", &format!("/api/v1/orgs/{org}"), Some(&token), None)
                .await
                .status,
            401
        );
        let me = app
            .call("GET", "/api/v1/me", Some(&user.access), None)
            .await
            .json();
        assert_eq!(
            me["orgs"].as_array().expect("orgs").len(),
            1,
            "only their own organisation is left"
        );
    }
);

on_both_backends!(ownership_transfer_and_deletion, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let next = join(&app, &owner, "next@acme.example", "member").await;
    let org = owner.org_slug.clone();
    let r = app
        .call(
            "POST",
            &format!("/api/v1/orgs/{org}/transfer-ownership"),
            Some(&owner.access),
            Some(json!({"user_id": next.id})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let roles: Vec<(String, String)> = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{org}/members"),
            Some(&next.access),
            None,
        )
        .await
        .json()
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["email"].as_str().expect("e").to_owned(),
                m["role"].as_str().expect("r").to_owned(),
            )
        })
        .collect();
    assert!(
        roles.contains(&("owner@acme.example".into(), "admin".into()))
            && roles.contains(&("next@acme.example".into(), "owner".into())),
        "{roles:?}"
    );
    let r = app
        .call(
            "DELETE",
            &format!("/api/v1/orgs/{org}"),
            Some(&owner.access),
            Some(json!({"confirm": org})),
        )
        .await;
    assert_eq!(r.status, 403, "the former owner cannot delete it");
    create_team(&app, &next, "Doomed").await;
    let r = app
        .call(
            "DELETE",
            &format!("/api/v1/orgs/{org}"),
            Some(&next.access),
            Some(json!({"confirm": org})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        app.call(
            "GET",
            &format!("/api/v1/orgs/{org}"),
            Some(&next.access),
            None
        )
        .await
        .status,
        404
    );
    for table in ["memberships", "teams", "invitations", "audit_log"] {
        let sql = format!("select count(*) from {table} where org_id = $1");
        let n: i64 = server::with_db!(&app.raw, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(&owner.org_id).fetch_one(pool).await).expect("count");
        assert_eq!(n, 0, "{table} rows removed with the organisation");
    }
    let deleted: i64 = server::with_db!(&app.raw, pool => sqlx::query_scalar("select count(*) from audit_log where org_id = '' and action = 'org.deleted'").fetch_one(pool).await).expect("count");
    assert_eq!(deleted, 1, "the deletion itself stays on record");
});

on_both_backends!(api_tokens_are_scoped_shown_once_and_revocable, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let beta = app.signup("owner@beta.example", "Beta").await;
    let org = &owner.org_slug;
    let tokens = format!("/api/v1/orgs/{org}/tokens");
    let created = app
        .call(
            "POST",
            &tokens,
            Some(&owner.access),
            Some(json!({"name": "CI", "scopes": ["view_analyses"], "expires_in_days": 30})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let secret = created.json()["token"].as_str().expect("token").to_owned();
    assert!(secret.starts_with("flt_"), "{secret}");
    let id = created.json()["id"].as_str().expect("id").to_owned();
    let listed = app.call("GET", &tokens, Some(&owner.access), None).await;
    assert!(!listed.text().contains(&secret), "the secret is shown once");
    assert_eq!(listed.json()[0]["last_used_at_ms"], Value::Null);
    assert_eq!(
        app.call("GET", &format!("/api/v1/orgs/{org}"), Some(&secret), None)
            .await
            .status,
        200
    );
    assert!(
        app.call("GET", &tokens, Some(&owner.access), None)
            .await
            .json()[0]["last_used_at_ms"]
            .is_i64(),
        "last use is recorded"
    );
    let r = app
        .call(
            "POST",
            &format!("/api/v1/orgs/{org}/teams"),
            Some(&secret),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(r.status, 403, "scopes limit even an owner's token");
    assert_eq!(
        app.call(
            "GET",
            &format!("/api/v1/orgs/{}", beta.org_slug),
            Some(&secret),
            None
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.call(
            "POST",
            "/api/v1/me/password",
            Some(&secret),
            Some(json!({"current_password": PASSWORD, "new_password": "another long one"}))
        )
        .await
        .status,
        403
    );
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&secret), None)
            .await
            .json()["orgs"]
            .as_array()
            .expect("orgs")
            .len(),
        1
    );
    // Bad requests name their field.
    let bad = app
        .call(
            "POST",
            &tokens,
            Some(&owner.access),
            Some(json!({"name": "", "scopes": ["root"], "expires_in_days": 0})),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.json()["error"]["fields"]
            .as_array()
            .expect("fields")
            .len(),
        3
    );
    // An organisation token acts with exactly its scopes.
    let org_token = app
        .call(
            "POST",
            &tokens,
            Some(&owner.access),
            Some(json!({"name": "Auditor", "kind": "org", "scopes": ["view_audit"]})),
        )
        .await;
    let org_secret = org_token.json()["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let audit = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{org}/audit?action=token."),
            Some(&org_secret),
            None,
        )
        .await;
    assert_eq!(audit.status, 200);
    assert_eq!(
        audit.json().as_array().expect("entries").len(),
        2,
        "two tokens created: {}",
        audit.text()
    );
    // Revoked and expired tokens stop working.
    assert_eq!(
        app.call(
            "DELETE",
            &format!("{tokens}/{id}"),
            Some(&owner.access),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.call("GET", &format!("/api/v1/orgs/{org}"), Some(&secret), None)
            .await
            .status,
        401
    );
    app.clock.advance_ms(91 * 86_400_000);
    assert_eq!(
        app.call(
            "GET",
            &format!("/api/v1/orgs/{org}/audit"),
            Some(&org_secret),
            None
        )
        .await
        .status,
        401
    );
});

on_both_backends!(an_org_can_require_mfa, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let dev = join(&app, &owner, "dev@acme.example", "member").await;
    let org = &owner.org_slug;
    let r = app
        .call(
            "PATCH",
            &format!("/api/v1/orgs/{org}"),
            Some(&owner.access),
            Some(json!({"require_mfa": true})),
        )
        .await;
    assert_eq!(r.status, 422, "the admin must have MFA first");
    enrol_mfa(&app, &owner).await;
    assert_eq!(
        app.call(
            "PATCH",
            &format!("/api/v1/orgs/{org}"),
            Some(&owner.access),
            Some(json!({"require_mfa": true}))
        )
        .await
        .status,
        200
    );
    let blocked = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{org}/members"),
            Some(&dev.access),
            None,
        )
        .await;
    assert_eq!(blocked.status, 403);
    assert_eq!(blocked.json()["error"]["code"], "mfa_enrolment_required");
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&dev.access), None)
            .await
            .status,
        200,
        "they can still reach their account to enrol"
    );
    enrol_mfa(&app, &dev).await;
    assert_eq!(
        app.call(
            "GET",
            &format!("/api/v1/orgs/{org}/members"),
            Some(&dev.access),
            None
        )
        .await
        .status,
        200
    );
});

/// Calls a server function the way the pages do: form-encoded, with the session cookie.
pub(crate) async fn rpc(
    app: &TestApp,
    name: &str,
    access: Option<&str>,
    form: &str,
) -> crate::helpers::TestResponse {
    let mut req = axum::http::Request::post(format!("/rpc/{name}"))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(token) = access {
        req = req.header("cookie", format!("fl_access={token}"));
    }
    app.send(
        req.body(axum::body::Body::from(form.to_owned()))
            .expect("request"),
    )
    .await
}

on_both_backends!(server_functions_apply_the_same_checks_as_the_api, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let viewer = join(&app, &owner, "viewer@acme.example", "viewer").await;
    let other = app.signup("owner@beta.example", "Beta").await;
    let denied = rpc(
        &app,
        "create_team",
        Some(&viewer.access),
        "org=acme&name=Platform",
    )
    .await;
    let body = denied.json();
    assert_eq!(
        (body["status"].as_u64(), body["code"].as_str()),
        (Some(403), Some("forbidden")),
        "{}",
        denied.text()
    );
    let foreign = rpc(&app, "org_admin", Some(&other.access), "org=acme").await;
    assert_eq!(foreign.json()["status"], 404, "{}", foreign.text());
    let anonymous = rpc(&app, "org_admin", None, "org=acme").await;
    assert_eq!(anonymous.json()["status"], 401);
    let allowed = rpc(
        &app,
        "create_team",
        Some(&owner.access),
        "org=acme&name=Platform",
    )
    .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    let page = rpc(&app, "org_admin", Some(&owner.access), "org=acme").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.json()["teams"][0]["name"], "Platform");
    assert_eq!(page.json()["members"].as_array().expect("members").len(), 2);
    let me = rpc(&app, "me", Some(&viewer.access), "").await;
    assert_eq!(me.json()["email"], "viewer@acme.example");
    assert_eq!(
        rpc(&app, "me", None, "").await.json(),
        serde_json::Value::Null,
        "signed out is not an error"
    );
});

on_both_backends!(
    an_expired_browser_session_is_refreshed_before_the_request_runs,
    |app| {
        let owner = app.signup("owner@acme.example", "Acme").await;
        app.clock.advance_secs(600);
        let cookies = format!("fl_access={}; fl_refresh={}", owner.access, owner.refresh);
        let request = || {
            axum::http::Request::get("/api/v1/me")
                .header("cookie", cookies.clone())
                .body(axum::body::Body::empty())
                .expect("req")
        };
        let first = app.send(request()).await;
        assert_eq!(first.status, 200, "{}", first.text());
        let new_refresh =
            crate::identity::set_cookie(&first, "fl_refresh").expect("rotated refresh cookie");
        assert_ne!(new_refresh, owner.refresh);
        // A parallel request with the same stale cookies is not mistaken for token theft…
        let second = app.send(request()).await;
        assert_eq!(second.status, 200, "{}", second.text());
        // …but after the grace period the spent token revokes the session.
        app.clock.advance_secs(31);
        let late = app.send(request()).await;
        assert_eq!(late.status, 401);
        assert_eq!(
            app.refresh(&new_refresh).await.status,
            401,
            "the whole family is gone"
        );
    }
);

on_both_backends!(
    tokens_act_only_within_their_scopes_and_organisation,
    |app| {
        let owner = app.signup("owner@acme.example", "Acme").await;
        app.call(
            "POST",
            "/api/v1/orgs",
            Some(&owner.access),
            Some(json!({"name": "Labs"})),
        )
        .await;
        let created = app
            .call(
                "POST",
                "/api/v1/orgs/acme/tokens",
                Some(&owner.access),
                Some(json!({"name": "ci", "scopes": ["view_analyses"], "kind": "org"})),
            )
            .await;
        let token = created.json()["token"].as_str().expect("token").to_owned();
        let r = app
            .call(
                "DELETE",
                &format!("/api/v1/orgs/acme/members/{}", owner.id),
                Some(&token),
                None,
            )
            .await;
        assert_eq!(
            r.status,
            403,
            "a token is not its creator leaving: {}",
            r.text()
        );
        let orgs = app
            .call("GET", "/api/v1/orgs", Some(&token), None)
            .await
            .json();
        assert_eq!(
            orgs.as_array().expect("orgs").len(),
            1,
            "a token sees only its own organisation: {orgs}"
        );
        // A slug shaped like an id is refused, so it can never shadow another organisation's id.
        let r = app
            .call(
                "POST",
                "/api/v1/orgs",
                Some(&owner.access),
                Some(json!({"name": "Shadow", "slug": owner.org_id})),
            )
            .await;
        assert_eq!(r.status, 422);
        // Audit filters ignore case on both databases.
        let upper = app
            .call(
                "GET",
                "/api/v1/orgs/acme/audit?action=TOKEN.",
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(
            upper.json().as_array().expect("entries").len(),
            1,
            "{}",
            upper.text()
        );
    }
);

/// Row-level security on PostgreSQL: a query that forgets its `org_id` filter still sees only
/// the organisation its transaction is scoped to, cannot write another's rows, and sees nothing
/// when no scope is named.
#[tokio::test]
async fn row_level_security_confines_unfiltered_queries_to_their_organisation() {
    let Some(app) = TestApp::try_spawn(crate::helpers::Backend::Postgres).await else {
        return;
    };
    use server::db::Scope;
    assert_eq!(
        app.state.db.row_security_enforced().await.expect("role"),
        Some(true),
        "tests connect as an ordinary role"
    );
    let a = app.signup("a@acme.example", "Acme").await;
    let b = app.signup("b@globex.example", "Globex").await;
    create_team(&app, &a, "A1").await;
    create_team(&app, &a, "A2").await;
    create_team(&app, &b, "B1").await;
    let count = |scope: Option<Scope<'static>>, sql: &'static str| {
        let db = app.state.db.clone();
        async move {
            let mut tx = match scope {
                Some(scope) => db.begin_read(scope).await.expect("tx"),
                // A transaction that names no scope, as a forgetful caller would open one.
                None => match &db {
                    server::db::Db::Postgres(pool) => {
                        server::db::Tx::Postgres(pool.begin().await.expect("tx"))
                    }
                    server::db::Db::Sqlite(_) => unreachable!("PostgreSQL only"),
                },
            };
            let n: i64 =
                server::with_tx!(&mut tx, c => sqlx::query_scalar(sql).fetch_one(&mut *c).await)
                    .expect("count");
            n
        }
    };
    let a_id: &'static str = Box::leak(a.org_id.clone().into_boxed_str());
    assert_eq!(
        count(Some(Scope::Org(a_id)), "select count(*) from teams").await,
        2
    );
    assert_eq!(
        count(Some(Scope::Org(a_id)), "select count(*) from orgs").await,
        1
    );
    assert_eq!(
        count(Some(Scope::Org(a_id)), "select count(*) from memberships").await,
        1
    );
    assert_eq!(
        count(Some(Scope::System), "select count(*) from teams").await,
        3
    );
    assert_eq!(count(None, "select count(*) from teams").await, 0);
    assert_eq!(count(None, "select count(*) from audit_log").await, 0);
    // Writing into another organisation is refused by the policy's check.
    let mut tx = app.state.db.begin(Scope::Org(a_id)).await.expect("tx");
    let refused = server::with_tx!(&mut tx, c => sqlx::query(
        "insert into teams (id, org_id, name, created_at_ms) values ('x', $1, 'Sneaky', 0)",
    )
    .bind(&b.org_id)
    .execute(&mut *c)
    .await
    .map(drop));
    let message = refused.expect_err("policy refuses").to_string();
    assert!(message.contains("row-level security"), "{message}");
}

on_both_backends!(two_racing_ownership_transfers_leave_one_owner, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let a = join(&app, &owner, "a@acme.example", "admin").await;
    let b = join(&app, &owner, "b@acme.example", "admin").await;
    let path = format!("/api/v1/orgs/{}/transfer-ownership", owner.org_slug);
    let (to_a, to_b) = tokio::join!(
        app.call(
            "POST",
            &path,
            Some(&owner.access),
            Some(json!({"user_id": a.id}))
        ),
        app.call(
            "POST",
            &path,
            Some(&owner.access),
            Some(json!({"user_id": b.id}))
        ),
    );
    let statuses = [to_a.status, to_b.status];
    assert_eq!(
        statuses.iter().filter(|&&s| s == 204).count(),
        1,
        "exactly one transfer wins: {statuses:?} {} {}",
        to_a.text(),
        to_b.text()
    );
    let members = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{}/members", owner.org_slug),
            Some(&a.access),
            None,
        )
        .await
        .json();
    let owners = members
        .as_array()
        .expect("members")
        .iter()
        .filter(|m| m["role"] == "owner")
        .count();
    assert_eq!(owners, 1, "{members}");
});

on_both_backends!(personal_tokens_stop_when_the_org_requires_mfa, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let dev = join(&app, &owner, "dev@acme.example", "member").await;
    let org = owner.org_slug.clone();
    let token = |who: &User, kind: &'static str| {
        let path = format!("/api/v1/orgs/{org}/tokens");
        let access = who.access.clone();
        let app = &app;
        async move {
            let r = app
                .call(
                    "POST",
                    &path,
                    Some(&access),
                    Some(json!({"name": format!("ci-{kind}"), "kind": kind, "scopes": ["view_analyses"]})),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text());
            r.json()["token"].as_str().expect("token").to_owned()
        }
    };
    let personal = token(&dev, "personal").await;
    let org_token = token(&owner, "org").await;
    let show = format!("/api/v1/orgs/{org}");
    assert_eq!(
        app.call("GET", &show, Some(&personal), None).await.status,
        200
    );
    enrol_mfa(&app, &owner).await;
    let r = app
        .call(
            "PATCH",
            &show,
            Some(&owner.access),
            Some(json!({"require_mfa": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The person behind the personal token has no second factor: it stops with them.
    let blocked = app.call("GET", &show, Some(&personal), None).await;
    assert_eq!(blocked.status, 403);
    assert_eq!(blocked.json()["error"]["code"], "mfa_enrolment_required");
    // An organisation token is no person; it keeps working.
    assert_eq!(
        app.call("GET", &show, Some(&org_token), None).await.status,
        200
    );
    enrol_mfa(&app, &dev).await;
    assert_eq!(
        app.call("GET", &show, Some(&personal), None).await.status,
        200
    );
});
