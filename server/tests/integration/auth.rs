//! Accounts and sessions over the real router: sign-up, sign-in, tokens and their attacks,
//! refresh rotation, timeouts, rate limits, password reset and change, email verification, MFA.

use serde_json::json;

use crate::helpers::TestApp;
use crate::identity::{PASSWORD, set_cookie, user_from};
use crate::on_both_backends;
use server::clock::Clock;

fn totp_now(app: &TestApp, secret: &str) -> String {
    let secs = u64::try_from(app.clock.now_ms() / 1000).expect("positive");
    server::auth::totp::code_at(secret, secs).expect("code")
}

/// Enrols TOTP for the user and returns (secret, recovery codes).
async fn enrol(app: &TestApp, access: &str) -> (String, Vec<String>) {
    let r = app
        .call(
            "POST",
            "/api/v1/me/mfa/totp",
            Some(access),
            Some(json!({"password": crate::identity::PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let secret = body["secret"].as_str().expect("secret").to_owned();
    assert!(
        body["qr_svg"].as_str().expect("svg").starts_with("<?xml")
            || body["qr_svg"].as_str().expect("svg").contains("<svg")
    );
    assert!(
        body["otpauth_url"]
            .as_str()
            .expect("url")
            .starts_with("otpauth://totp/Faultline:")
    );
    let code = totp_now(app, &secret);
    let r = app
        .call(
            "POST",
            "/api/v1/me/mfa/totp/confirm",
            Some(access),
            Some(json!({"code": code})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let codes = r.json()["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    // The confirming code's step is spent; later sign-ins need the next one.
    app.clock.advance_secs(30);
    (secret, codes)
}

on_both_backends!(signup_answers_a_session_in_cookies_and_body, |app| {
    let r = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(
                json!({"email": "Ada@Example.com", "password": PASSWORD, "org_name": "Acme Corp"}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(body["user"]["email"], "ada@example.com");
    assert_eq!(body["org"]["slug"], "acme-corp");
    assert_eq!(body["org"]["role"], "owner");
    assert!(
        body.get("refresh_token").is_none(),
        "the refresh token never reaches script"
    );
    let cookies: Vec<_> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ascii").to_owned())
        .collect();
    assert_eq!(cookies.len(), 2);
    for c in &cookies {
        assert!(
            c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/"),
            "{c}"
        );
    }
    let user = user_from(&r);
    let me = app
        .call("GET", "/api/v1/me", Some(&user.access), None)
        .await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["orgs"][0]["slug"], "acme-corp");
    assert_eq!(me.json()["orgs"][0]["role"], "owner");
    // The access cookie alone also authenticates.
    let access = set_cookie(&r, "fl_access").expect("access cookie");
    let req = axum::http::Request::get("/api/v1/me")
        .header("cookie", format!("fl_access={access}"))
        .body(axum::body::Body::empty())
        .expect("req");
    assert_eq!(app.send(req).await.status, 200);
    // A second organisation with the same name gets its own slug.
    let other = app.signup("grace@example.com", "Acme Corp").await;
    assert_eq!(other.org_slug, "acme-corp-2");
    // The verification link arrived in the outbox.
    let token = app.mailed_token("ada@example.com", "/verify-email");
    let r = app
        .call(
            "POST",
            "/api/v1/auth/verify-email",
            None,
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let me = app
        .call("GET", "/api/v1/me", Some(&user.access), None)
        .await;
    assert_eq!(me.json()["email_verified"], true);
    let again = app
        .call(
            "POST",
            "/api/v1/auth/verify-email",
            None,
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(again.status, 400, "verification links work once");
});

on_both_backends!(signup_reports_each_bad_field_and_writes_nothing, |app| {
    let r = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "nope", "password": "password1", "org_name": ""})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let fields: Vec<_> = r.json()["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field").to_owned())
        .collect();
    assert_eq!(fields, ["email", "org_name", "password"]);
    for (password, message) in [
        ("short", "at least 8"),
        ("password", "too common"),
        (&"x".repeat(257) as &str, "at most 256"),
    ] {
        let r = app
            .call(
                "POST",
                "/api/v1/auth/signup",
                None,
                Some(json!({"email": "a@b.io", "password": password, "org_name": "A"})),
            )
            .await;
        assert_eq!(r.status, 422);
        assert!(
            r.json()["error"]["fields"][0]["message"]
                .as_str()
                .expect("msg")
                .contains(message),
            "{}",
            r.text()
        );
    }
    let long = "é".repeat(128);
    let r = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "long@b.io", "password": long, "org_name": "A"})),
        )
        .await;
    assert_eq!(
        r.status,
        201,
        "128-character passwords are accepted: {}",
        r.text()
    );
    let unknown = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "a@b.io", "password": PASSWORD, "org_name": "A", "admin": true})),
        )
        .await;
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("unknown field"),
        "{}",
        unknown.text()
    );
    let huge = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "a@b.io", "password": PASSWORD, "org_name": "x".repeat(100_000)})),
        )
        .await;
    assert_eq!(huge.status, 413, "{}", huge.text());
    let not_json = app
        .send(
            axum::http::Request::post("/api/v1/auth/signup")
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{not json"))
                .expect("req"),
        )
        .await;
    assert_eq!(not_json.status, 400);
    app.signup("dup@b.io", "Dup").await;
    let dup = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "DUP@b.io", "password": PASSWORD, "org_name": "Dup 2"})),
        )
        .await;
    assert_eq!(dup.status, 422);
    assert_eq!(dup.json()["error"]["fields"][0]["field"], "email");
    // Nothing half-written: the refused sign-ups left no organisations behind.
    let orgs: i64 = server::with_db!(&app.raw, pool => sqlx::query_scalar("select count(*) from orgs").fetch_one(pool).await).expect("count");
    assert_eq!(orgs, 2);
});

on_both_backends!(login_and_logout, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    let wrong = app.login("ada@example.com", "not the password", None).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"]["code"], "invalid_credentials");
    let unknown = app.login("nobody@example.com", PASSWORD, None).await;
    assert_eq!(
        unknown.json()["error"]["code"],
        "invalid_credentials",
        "same answer for unknown accounts"
    );
    let ok = app.login("ADA@example.com", PASSWORD, None).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let second = user_from(&ok);
    let sessions = app
        .call("GET", "/api/v1/me/sessions", Some(&second.access), None)
        .await;
    assert_eq!(sessions.json().as_array().expect("list").len(), 2);
    let out = app
        .call("POST", "/api/v1/auth/logout", Some(&second.access), None)
        .await;
    assert_eq!(out.status, 204);
    assert!(
        set_cookie(&out, "fl_access").is_some_and(|v| v.is_empty()),
        "cookies cleared"
    );
    let after = app
        .call("GET", "/api/v1/me", Some(&second.access), None)
        .await;
    assert_eq!(
        after.status, 401,
        "a signed-out access token stops working at once"
    );
    assert_eq!(app.refresh(&second.refresh).await.status, 401);
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&user.access), None)
            .await
            .status,
        200,
        "other sessions live on"
    );
    // Revoke one session from the list, then sign out everywhere.
    let third = user_from(&app.login("ada@example.com", PASSWORD, None).await);
    let list = app
        .call("GET", "/api/v1/me/sessions", Some(&user.access), None)
        .await
        .json();
    let third_id = list
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["current"] == false)
        .expect("other")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        app.call(
            "DELETE",
            &format!("/api/v1/me/sessions/{third_id}"),
            Some(&user.access),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&third.access), None)
            .await
            .status,
        401
    );
    let fourth = user_from(&app.login("ada@example.com", PASSWORD, None).await);
    let all = app
        .call("POST", "/api/v1/auth/logout-all", Some(&user.access), None)
        .await;
    assert_eq!(all.status, 200);
    assert_eq!(all.json()["sessions_ended"], 2);
    for token in [&user.access, &fourth.access] {
        assert_eq!(
            app.call("GET", "/api/v1/me", Some(token), None)
                .await
                .status,
            401
        );
    }
});

fn forge(claims: serde_json::Value, key: &[u8], alg: jsonwebtoken::Algorithm, typ: &str) -> String {
    let mut header = jsonwebtoken::Header::new(alg);
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .expect("encode")
}

on_both_backends!(forged_and_stale_access_tokens_are_refused, |app| {
    use base64::Engine;
    let user = app.signup("ada@example.com", "Acme").await;
    let payload = user.access.split('.').nth(1).expect("payload");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("b64"),
    )
    .expect("json");
    let key = server::auth::secret::derive_key(
        app.state.config.secret_key.as_ref().expect("key").expose(),
        "access-token-hs256",
    );
    let hs = jsonwebtoken::Algorithm::HS256;
    assert_eq!(
        app.call(
            "GET",
            "/api/v1/me",
            Some(&forge(claims.clone(), &key, hs, "at+jwt")),
            None
        )
        .await
        .status,
        200,
        "the forge itself is faithful"
    );
    let none = format!(
        "{}.{payload}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#)
    );
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = "someone-else".into();
    let mut as_refresh = claims.clone();
    as_refresh["typ"] = "refresh".into();
    let attacks = [
        ("alg none", none),
        ("wrong key", forge(claims.clone(), &[0; 32], hs, "at+jwt")),
        (
            "other algorithm",
            forge(
                claims.clone(),
                &key,
                jsonwebtoken::Algorithm::HS384,
                "at+jwt",
            ),
        ),
        ("wrong aud", forge(wrong_aud, &key, hs, "at+jwt")),
        ("wrong claim typ", forge(as_refresh, &key, hs, "at+jwt")),
        ("wrong header typ", forge(claims.clone(), &key, hs, "JWT")),
        ("refresh token as access token", user.refresh.clone()),
        ("garbage", "x.y.z".to_owned()),
    ];
    for (name, token) in attacks {
        let r = app.call("GET", "/api/v1/me", Some(&token), None).await;
        assert_eq!(r.status, 401, "{name}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "unauthenticated", "{name}");
    }
    app.clock.advance_secs(300);
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&user.access), None)
            .await
            .status,
        401,
        "expired after five minutes"
    );
});

on_both_backends!(reusing_a_refresh_token_revokes_its_family, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    let first = app.refresh(&user.refresh).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let next = set_cookie(&first, "fl_refresh").expect("rotated");
    assert_ne!(next, user.refresh);
    let access = first.json()["access_token"]
        .as_str()
        .expect("access")
        .to_owned();
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&access), None)
            .await
            .status,
        200
    );
    let replay = app.refresh(&user.refresh).await;
    assert_eq!(replay.status, 401);
    assert_eq!(replay.json()["error"]["code"], "session_revoked");
    assert_eq!(
        app.refresh(&next).await.status,
        401,
        "the thief's and the owner's tokens both die"
    );
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&access), None)
            .await
            .status,
        401
    );
    let audit = app
        .call(
            "GET",
            &format!(
                "/api/v1/orgs/{}/audit?action=auth.refresh_reused",
                user.org_slug
            ),
            Some(&user_from(&app.login("ada@example.com", PASSWORD, None).await).access),
            None,
        )
        .await;
    assert_eq!(
        audit.json().as_array().expect("entries").len(),
        1,
        "{}",
        audit.text()
    );
});

on_both_backends!(sessions_end_when_idle_or_old, |app| {
    let policy = app.state.auth.policy;
    let user = app.signup("ada@example.com", "Acme").await;
    app.clock.advance_ms(policy.idle_ms);
    assert_eq!(app.refresh(&user.refresh).await.status, 401, "idle timeout");
    let mut refresh = user_from(&app.login("ada@example.com", PASSWORD, None).await).refresh;
    let step = policy.idle_ms - 60_000;
    let mut elapsed = 0;
    while elapsed + step < policy.absolute_ms {
        app.clock.advance_ms(step);
        elapsed += step;
        let r = app.refresh(&refresh).await;
        assert_eq!(r.status, 200, "kept alive at {elapsed} ms");
        refresh = set_cookie(&r, "fl_refresh").expect("rotated");
    }
    app.clock.advance_ms(policy.absolute_ms - elapsed);
    assert_eq!(app.refresh(&refresh).await.status, 401, "absolute timeout");
});

on_both_backends!(brute_force_meets_429_then_a_growing_lockout, |app| {
    app.signup("ada@example.com", "Acme").await;
    for _ in 0..5 {
        assert_eq!(
            app.login("ada@example.com", "wrong password", None)
                .await
                .status,
            401
        );
    }
    let locked = app.login("ada@example.com", PASSWORD, None).await;
    assert_eq!(
        locked.status, 429,
        "even the right password waits out the lockout"
    );
    assert_eq!(locked.header("retry-after"), Some("30"));
    app.clock.advance_secs(30);
    assert_eq!(
        app.login("ada@example.com", "wrong password", None)
            .await
            .status,
        401
    );
    let longer = app.login("ada@example.com", PASSWORD, None).await;
    assert_eq!(
        longer.header("retry-after"),
        Some("60"),
        "the lockout doubles"
    );
    app.clock.advance_secs(60);
    assert_eq!(
        app.login("ada@example.com", PASSWORD, None).await.status,
        200
    );
    // Per address: a flood across many accounts is capped too.
    app.clock.advance_secs(3600);
    let mut limited = None;
    for i in 0..40 {
        let r = app
            .login(&format!("user{i}@example.com"), "wrong password", None)
            .await;
        if r.status == 429 {
            limited = Some(i);
            break;
        }
    }
    assert_eq!(
        limited,
        Some(30),
        "30 sign-in attempts per address per five minutes"
    );
    let audit_failures: i64 = server::with_db!(&app.raw, pool => sqlx::query_scalar("select count(*) from audit_log where action = 'auth.login_failed'").fetch_one(pool).await).expect("count");
    assert!(
        audit_failures >= 36,
        "every failure is audited ({audit_failures})"
    );
});

on_both_backends!(password_reset_is_single_use_expires_and_keeps_mfa, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    let (secret, _) = enrol(&app, &user.access).await;
    let r = app
        .call(
            "POST",
            "/api/v1/auth/password-reset",
            None,
            Some(json!({"email": "nobody@example.com"})),
        )
        .await;
    assert_eq!(r.status, 202, "unknown addresses get the same answer");
    let r = app
        .call(
            "POST",
            "/api/v1/auth/password-reset",
            None,
            Some(json!({"email": "ada@example.com"})),
        )
        .await;
    assert_eq!(r.status, 202);
    let token = app.mailed_token("ada@example.com", "/reset-password");
    let weak = app
        .call(
            "POST",
            "/api/v1/auth/password-reset/confirm",
            None,
            Some(json!({"token": token, "password": "password"})),
        )
        .await;
    assert_eq!(
        weak.status, 422,
        "policy applies; the link still works afterwards"
    );
    let ok = app
        .call(
            "POST",
            "/api/v1/auth/password-reset/confirm",
            None,
            Some(json!({"token": token, "password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text());
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&user.access), None)
            .await
            .status,
        401,
        "sessions end on reset"
    );
    let again = app
        .call(
            "POST",
            "/api/v1/auth/password-reset/confirm",
            None,
            Some(json!({"token": token, "password": "another new passphrase"})),
        )
        .await;
    assert_eq!(again.status, 400, "single use");
    assert_eq!(
        app.login("ada@example.com", PASSWORD, None).await.status,
        401
    );
    let needs_mfa = app
        .login("ada@example.com", "a brand new passphrase", None)
        .await;
    assert_eq!(
        needs_mfa.json()["error"]["code"],
        "mfa_required",
        "a reset never bypasses MFA"
    );
    assert_eq!(
        app.login(
            "ada@example.com",
            "a brand new passphrase",
            Some(&totp_now(&app, &secret))
        )
        .await
        .status,
        200
    );
    // Expiry.
    app.call(
        "POST",
        "/api/v1/auth/password-reset",
        None,
        Some(json!({"email": "ada@example.com"})),
    )
    .await;
    let token = app.mailed_token("ada@example.com", "/reset-password");
    app.clock.advance_secs(3600);
    let late = app
        .call(
            "POST",
            "/api/v1/auth/password-reset/confirm",
            None,
            Some(json!({"token": token, "password": "too late passphrase"})),
        )
        .await;
    assert_eq!(late.status, 400);
});

on_both_backends!(changing_the_password_needs_the_current_one, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    let other = user_from(&app.login("ada@example.com", PASSWORD, None).await);
    let wrong = app
        .call(
            "POST",
            "/api/v1/me/password",
            Some(&user.access),
            Some(
                json!({"current_password": "nope nope", "new_password": "a brand new passphrase"}),
            ),
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        wrong.json()["error"]["fields"][0]["field"],
        "current_password"
    );
    let ok = app
        .call(
            "POST",
            "/api/v1/me/password",
            Some(&user.access),
            Some(json!({"current_password": PASSWORD, "new_password": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text());
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&user.access), None)
            .await
            .status,
        200,
        "this session stays"
    );
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&other.access), None)
            .await
            .status,
        401,
        "others end"
    );
    assert_eq!(
        app.login("ada@example.com", "a brand new passphrase", None)
            .await
            .status,
        200
    );
});

on_both_backends!(
    totp_secrets_are_sealed_at_rest_and_enrolment_needs_the_password,
    |app| {
        let user = app.signup("ada@example.com", "Acme").await;
        let wrong = app
            .call(
                "POST",
                "/api/v1/me/mfa/totp",
                Some(&user.access),
                Some(json!({"password": "not my password at all"})),
            )
            .await;
        assert_eq!(wrong.status, 422, "{}", wrong.text());
        assert!(
            wrong.json()["error"]["fields"]
                .to_string()
                .contains("password")
        );
        let (secret, _) = enrol(&app, &user.access).await;
        let stored: String = server::with_db!(&app.raw, pool => sqlx::query_scalar("select totp_secret from users where email = 'ada@example.com'").fetch_one(pool).await).expect("stored");
        assert!(
            stored.starts_with("v1.") && !stored.contains(&secret),
            "{stored}"
        );
        // A secret stored in the clear (before sealing existed) still works, and start-up seals it.
        server::with_db!(&app.raw, pool => sqlx::query("update users set totp_secret = $1 where email = 'ada@example.com'").bind(&secret).execute(pool).await.map(|r| r.rows_affected())).expect("store");
        let code = totp_now(&app, &secret);
        assert_eq!(
            app.login("ada@example.com", PASSWORD, Some(&code))
                .await
                .status,
            200
        );
        let sealed =
            server::auth::mfa::seal_stored_secrets(&app.state.db, &app.state.auth.totp_sealer)
                .await
                .expect("seal");
        assert_eq!(sealed, 1);
        let resealed: String = server::with_db!(&app.raw, pool => sqlx::query_scalar("select totp_secret from users where email = 'ada@example.com'").fetch_one(pool).await).expect("stored");
        assert!(resealed.starts_with("v1."));
        // A sealed secret moved onto another account does not open there: no code passes.
        let eve = app.signup("eve@example.com", "Evil").await;
        let _ = eve;
        server::with_db!(&app.raw, pool => sqlx::query("update users set totp_secret = $1, totp_enabled_at_ms = 1 where email = 'eve@example.com'").bind(&resealed).execute(pool).await.map(|r| r.rows_affected())).expect("copy");
        app.clock.advance_ms(30_000);
        let code = totp_now(&app, &secret);
        let copied = app.login("eve@example.com", PASSWORD, Some(&code)).await;
        assert_eq!(copied.status, 500, "{}", copied.text());
    }
);

on_both_backends!(
    totp_codes_cannot_be_replayed_and_recovery_codes_work_once,
    |app| {
        let user = app.signup("ada@example.com", "Acme").await;
        let (secret, codes) = enrol(&app, &user.access).await;
        assert_eq!(codes.len(), 10);
        let missing = app.login("ada@example.com", PASSWORD, None).await;
        assert_eq!(missing.status, 401);
        assert_eq!(missing.json()["error"]["code"], "mfa_required");
        let code = totp_now(&app, &secret);
        let ok = app.login("ada@example.com", PASSWORD, Some(&code)).await;
        assert_eq!(ok.status, 200, "{}", ok.text());
        assert_eq!(ok.json()["session"]["mfa"], true);
        let replay = app.login("ada@example.com", PASSWORD, Some(&code)).await;
        assert_eq!(replay.status, 401);
        assert_eq!(
            replay.json()["error"]["code"],
            "mfa_invalid",
            "the same code cannot be used twice"
        );
        let recovery = app
            .login("ada@example.com", PASSWORD, Some(&codes[0].to_uppercase()))
            .await;
        assert_eq!(recovery.status, 200, "{}", recovery.text());
        assert_eq!(
            app.login("ada@example.com", PASSWORD, Some(&codes[0]))
                .await
                .status,
            401,
            "a recovery code works once"
        );
        assert_eq!(
            app.login("ada@example.com", PASSWORD, Some(&codes[1]))
                .await
                .status,
            200
        );
        // Turning it off needs the password and a fresh code.
        app.clock.advance_secs(30);
        let bad = app
            .call(
                "POST",
                "/api/v1/me/mfa/totp/disable",
                Some(&user.access),
                Some(json!({"password": "wrong wrong", "code": totp_now(&app, &secret)})),
            )
            .await;
        assert_eq!(bad.status, 422);
        let off = app
            .call(
                "POST",
                "/api/v1/me/mfa/totp/disable",
                Some(&user.access),
                Some(json!({"password": PASSWORD, "code": totp_now(&app, &secret)})),
            )
            .await;
        assert_eq!(off.status, 204, "{}", off.text());
        assert_eq!(
            app.login("ada@example.com", PASSWORD, None).await.status,
            200
        );
        let actions: Vec<String> = server::with_db!(&app.raw, pool => sqlx::query_scalar("select action from audit_log order by seq").fetch_all(pool).await).expect("actions");
        for expected in [
            "mfa.enabled",
            "auth.mfa_failed",
            "mfa.recovery_code_used",
            "mfa.disabled",
        ] {
            assert!(
                actions.iter().any(|a| a == expected),
                "{expected} in {actions:?}"
            );
        }
    }
);

on_both_backends!(disabling_an_account_ends_its_access_at_once, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    let token = app
        .call(
            "POST",
            &format!("/api/v1/orgs/{}/tokens", user.org_slug),
            Some(&user.access),
            Some(json!({"name": "ci", "scopes": ["view_analyses"]})),
        )
        .await;
    assert_eq!(token.status, 201, "{}", token.text());
    let token = token.json()["token"].as_str().expect("token").to_owned();
    let members = format!("/api/v1/orgs/{}/members", user.org_slug);
    assert_eq!(
        app.call("GET", &members, Some(&token), None).await.status,
        200
    );

    let now = app.clock.now_ms();
    let done = server::auth::account::set_disabled(
        &app.state.db,
        " ADA@example.com",
        true,
        "operator (test)",
        now,
    )
    .await
    .expect("disable")
    .expect("the account exists");
    assert!(done.changed);
    assert_eq!((done.sessions_ended, done.orgs), (1, 1));
    // The access token still in the browser, the refresh token, an API token and signing in.
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&user.access), None)
            .await
            .status,
        401
    );
    assert_eq!(app.refresh(&user.refresh).await.status, 401);
    assert_eq!(
        app.call("GET", &members, Some(&token), None).await.status,
        401
    );
    assert_eq!(
        app.login("ada@example.com", PASSWORD, None).await.json()["error"]["code"],
        "account_disabled"
    );
    let recorded = |action: &'static str| {
        let raw = app.raw.clone();
        async move {
            server::with_db!(&raw, pool => sqlx::query_scalar::<_, i64>(
                "select count(*) from audit_log where action = $1",
            )
            .bind(action)
            .fetch_one(pool)
            .await)
            .expect("count")
        }
    };
    assert_eq!(
        recorded("user.disabled").await,
        2,
        "the instance's chain and the organisation's"
    );
    let again = server::auth::account::set_disabled(
        &app.state.db,
        "ada@example.com",
        true,
        "operator (test)",
        now,
    )
    .await
    .expect("disable")
    .expect("exists");
    assert!(!again.changed, "disabling twice records nothing more");
    assert_eq!(recorded("user.disabled").await, 2);
    assert!(
        server::auth::account::set_disabled(
            &app.state.db,
            "nobody@example.com",
            true,
            "operator (test)",
            now
        )
        .await
        .expect("query")
        .is_none()
    );

    server::auth::account::set_disabled(
        &app.state.db,
        "ada@example.com",
        false,
        "operator (test)",
        now,
    )
    .await
    .expect("enable");
    assert_eq!(recorded("user.enabled").await, 2);
    assert_eq!(
        app.login("ada@example.com", PASSWORD, None).await.status,
        200
    );
    assert_eq!(
        app.refresh(&user.refresh).await.status,
        401,
        "sessions ended by disabling stay ended"
    );
    assert_eq!(
        app.call("GET", &members, Some(&token), None).await.status,
        200,
        "the token works again"
    );
});

#[tokio::test]
async fn faultline_users_disable_and_enable_accounts() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let user = app.signup("ada@example.com", "Acme").await;
    let db_url = format!("sqlite://{}", app.data_dir().join("faultline.db").display());
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &db_url)
            .env("FAULTLINE_DATA_DIR", app.data_dir())
            .env("FAULTLINE_LOG", "error")
            .output()
            .expect("runs")
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let disabled = run(&["users", "disable", "ada@example.com"]);
    assert!(disabled.status.success(), "{}", text(&disabled));
    assert_eq!(
        text(&disabled).trim(),
        "ada@example.com is disabled: 1 session(s) ended; recorded in 1 organisation log(s)"
    );
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&user.access), None)
            .await
            .status,
        401
    );
    let again = run(&["users", "disable", "ada@example.com"]);
    assert_eq!(text(&again).trim(), "ada@example.com was already disabled");
    let unknown = run(&["users", "disable", "nobody@example.com"]);
    assert_eq!(unknown.status.code(), Some(1), "{}", text(&unknown));
    assert!(
        text(&unknown).contains("no account has the email address"),
        "{}",
        text(&unknown)
    );
    let enabled = run(&["users", "enable", "ada@example.com"]);
    assert!(enabled.status.success(), "{}", text(&enabled));
    assert_eq!(
        app.login("ada@example.com", PASSWORD, None).await.status,
        200
    );
    let verify = run(&["audit", "verify"]);
    assert!(
        verify.status.success(),
        "the chains stay intact: {}",
        text(&verify)
    );
}

on_both_backends!(cross_site_state_changes_are_refused, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    let attempt = |headers: &[(&str, &str)]| {
        let mut req = axum::http::Request::post("/api/v1/auth/logout-all")
            .header("cookie", format!("fl_access={}", user.access));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(axum::body::Body::empty()).expect("req")
    };
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.example")],
    ] {
        let r = app.send(attempt(&headers)).await;
        assert_eq!(r.status, 403, "{headers:?}");
        assert_eq!(r.json()["error"]["code"], "csrf");
    }
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&user.access), None)
            .await
            .status,
        200,
        "nothing happened"
    );
    let same = app
        .send(attempt(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:3000"),
        ]))
        .await;
    assert_eq!(same.status, 200, "{}", same.text());
});

on_both_backends!(preferences_persist, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    let me = app
        .call("GET", "/api/v1/me", Some(&user.access), None)
        .await
        .json();
    assert_eq!(
        me["preferences"],
        json!({"theme": "system", "default_framework": "pytest", "time_zone": "UTC"})
    );
    let r = app
        .call(
            "PATCH",
            "/api/v1/me/preferences",
            Some(&user.access),
            Some(
                json!({"theme": "dark", "default_framework": "jest", "time_zone": "Europe/Paris"}),
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let bad = app
        .call(
            "PATCH",
            "/api/v1/me/preferences",
            Some(&user.access),
            Some(json!({"theme": "neon", "time_zone": "Mars/Olympus Mons"})),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.json()["error"]["fields"]
            .as_array()
            .expect("fields")
            .len(),
        2
    );
    let me = app
        .call("GET", "/api/v1/me", Some(&user.access), None)
        .await
        .json();
    assert_eq!(
        me["preferences"],
        json!({"theme": "dark", "default_framework": "jest", "time_zone": "Europe/Paris"})
    );
});

on_both_backends!(api_responses_carry_security_headers, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    for r in [
        app.call("GET", "/api/v1/me", Some(&user.access), None)
            .await,
        app.call("GET", "/api/v1/me", None, None).await,
    ] {
        for header in [
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
            "content-security-policy",
            "x-request-id",
        ] {
            assert!(r.header(header).is_some(), "{header} on {}", r.status);
        }
        assert_eq!(
            r.header("cache-control"),
            Some("no-store"),
            "API answers are never cached"
        );
    }
});

on_both_backends!(resending_the_verification_link, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    let mails = |app: &TestApp| {
        app.outbox()
            .iter()
            .filter(|m| m.contains("/verify-email"))
            .count()
    };
    assert_eq!(mails(&app), 1);
    let resend = || {
        app.call(
            "POST",
            "/api/v1/auth/resend-verification",
            Some(&user.access),
            None,
        )
    };
    let r = resend().await;
    assert!(r.status < 300, "{}", r.text());
    assert_eq!(mails(&app), 2, "a fresh link is mailed");
    let token = app.mailed_token("ada@example.com", "/verify-email");
    let r = app
        .call(
            "POST",
            "/api/v1/auth/verify-email",
            None,
            Some(json!({"token": token})),
        )
        .await;
    assert!(
        r.status < 300,
        "the new link confirms the address: {}",
        r.text()
    );
    let r = resend().await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "already_verified");
    // Three an hour at most, then 429 with when to come back.
    assert_eq!(resend().await.status, 409);
    let r = resend().await;
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(
        r.header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n > 0))
    );
});

on_both_backends!(sign_up_and_reset_requests_are_rate_limited, |app| {
    for i in 0..10 {
        app.signup(&format!("u{i}@example.com"), &format!("Org {i}"))
            .await;
    }
    let r = app
        .call(
            "POST",
            "/api/v1/auth/signup",
            None,
            Some(json!({"email": "u10@example.com", "password": PASSWORD, "org_name": "Org 10"})),
        )
        .await;
    assert_eq!(
        r.status,
        429,
        "the eleventh sign-up from one address in an hour: {}",
        r.text()
    );
    assert!(r.header("retry-after").is_some());
    let reset = || {
        app.call(
            "POST",
            "/api/v1/auth/password-reset",
            None,
            Some(json!({"email": "u1@example.com"})),
        )
    };
    for _ in 0..3 {
        let r = reset().await;
        assert!(r.status < 300, "{}", r.text());
    }
    let r = reset().await;
    assert_eq!(
        r.status,
        429,
        "a fourth reset of one account in an hour: {}",
        r.text()
    );
    assert!(r.header("retry-after").is_some());
    // An hour later they are allowed again.
    app.clock.advance_secs(3601);
    assert!(reset().await.status < 300);
});

on_both_backends!(recovery_codes_can_be_replaced_with_a_current_code, |app| {
    let user = app.signup("ada@example.com", "Acme").await;
    let (secret, old) = enrol(&app, &user.access).await;
    let replace = |code: String| {
        app.call(
            "POST",
            "/api/v1/me/mfa/recovery-codes",
            Some(&user.access),
            Some(json!({"code": code})),
        )
    };
    let r = replace("000000".into()).await;
    assert!(
        r.status == 401 || r.status == 422,
        "a wrong code: {}",
        r.text()
    );
    let r = replace(totp_now(&app, &secret)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let fresh: Vec<String> = r.json()["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|c| !old.contains(c)), "every code is new");
    // The old codes no longer sign in; a new one does, once.
    let r = app.login("ada@example.com", PASSWORD, Some(&old[0])).await;
    assert_eq!(r.status, 401, "{}", r.text());
    let r = app
        .login("ada@example.com", PASSWORD, Some(&fresh[0]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = app
        .login("ada@example.com", PASSWORD, Some(&fresh[0]))
        .await;
    assert_eq!(r.status, 401, "a recovery code works once");
});
