//! The audit log: what gets recorded, filtering and CSV export, the append-only guard, and
//! `faultline audit verify` finding an edited row.

use std::process::Command;

use serde_json::json;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;
use crate::tenancy::join;

async fn actions(app: &TestApp, org_id: &str) -> Vec<String> {
    server::with_db!(&app.raw, pool => sqlx::query_scalar("select action from audit_log where org_id = $1 order by seq").bind(org_id).fetch_all(pool).await).expect("actions")
}

on_both_backends!(security_events_are_recorded_in_order, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    let dev = join(&app, &owner, "dev@acme.example", "viewer").await;
    let org = &owner.org_slug;
    app.login("owner@acme.example", "wrong password", None)
        .await;
    app.call(
        "PATCH",
        &format!("/api/v1/orgs/{org}/members/{}", dev.id),
        Some(&owner.access),
        Some(json!({"role": "member"})),
    )
    .await;
    let token = app
        .call(
            "POST",
            &format!("/api/v1/orgs/{org}/tokens"),
            Some(&owner.access),
            Some(json!({"name": "ci", "scopes": ["view_analyses"]})),
        )
        .await;
    let token_id = token.json()["id"].as_str().expect("id").to_owned();
    app.call(
        "DELETE",
        &format!("/api/v1/orgs/{org}/tokens/{token_id}"),
        Some(&owner.access),
        None,
    )
    .await;
    app.call(
        "DELETE",
        &format!("/api/v1/orgs/{org}/members/{}", dev.id),
        Some(&owner.access),
        None,
    )
    .await;
    let got = actions(&app, &owner.org_id).await;
    let expected = [
        "auth.signup",
        "invitation.created",
        "invitation.accepted",
        "auth.login_failed",
        "member.role_changed",
        "token.created",
        "token.revoked",
        "member.removed",
    ];
    assert_eq!(got, expected);
    // Filtered and exported.
    let r = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{org}/audit?action=member.&limit=1"),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let page = r.json();
    assert_eq!(page.as_array().expect("entries").len(), 1);
    assert_eq!(page[0]["action"], "member.removed", "newest first");
    assert_eq!(page[0]["actor"], "owner@acme.example");
    let before = page[0]["seq"].as_i64().expect("seq");
    let r = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{org}/audit?action=member.&before={before}"),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(r.json()[0]["action"], "member.role_changed");
    let csv = app
        .call(
            "GET",
            &format!("/api/v1/orgs/{org}/audit?format=csv"),
            Some(&owner.access),
            None,
        )
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(
        csv.header("content-disposition")
            .expect("attachment")
            .contains("acme-audit.csv")
    );
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("valid CSV")).collect();
    assert_eq!(rows.len(), expected.len());
    assert_eq!(&rows[0][4], "member.removed");
    assert!(
        rows.iter().any(|r| r[7].contains("\"role\"")),
        "JSON detail survives quoting"
    );
    assert_eq!(
        actions(&app, &owner.org_id)
            .await
            .last()
            .map(String::as_str),
        Some("audit.exported"),
        "exports are audited"
    );
    let (checked, breaks) = server::audit::verify(&app.state.db).await.expect("verify");
    assert!(breaks.is_empty(), "{breaks:?}");
    assert!(checked >= 9);
});

on_both_backends!(
    the_log_refuses_updates_and_verification_finds_edits,
    |app| {
        let owner = app.signup("owner@acme.example", "Acme").await;
        for name in ["a", "b", "c"] {
            app.call(
                "POST",
                &format!("/api/v1/orgs/{}/teams", owner.org_slug),
                Some(&owner.access),
                Some(json!({"name": name})),
            )
            .await;
        }
        let refused = server::with_db!(&app.raw, pool => sqlx::query("update audit_log set actor = 'someone else' where seq = 2").execute(pool).await.map(drop));
        let message = refused
            .expect_err("the trigger refuses updates")
            .to_string();
        assert!(message.contains("append-only"), "{message}");
        // Someone with enough access drops the trigger and edits a row: verification notices.
        let drop_trigger = match app.backend {
            Backend::Sqlite => "drop trigger audit_log_append_only",
            Backend::Postgres => "drop trigger audit_log_append_only on audit_log",
        };
        server::with_db!(&app.raw, pool => {
            sqlx::query(drop_trigger).execute(pool).await.expect("drop trigger");
            sqlx::query("update audit_log set detail = '{\"name\":\"z\"}' where org_id = $1 and seq = 3").bind(&owner.org_id).execute(pool).await.expect("edit").rows_affected()
        });
        let (_, breaks) = server::audit::verify(&app.state.db).await.expect("verify");
        assert_eq!(breaks.len(), 1, "{breaks:?}");
        assert_eq!(
            (breaks[0].org_id.as_str(), breaks[0].seq),
            (owner.org_id.as_str(), 3)
        );
        assert!(
            breaks[0].problem.contains("edited"),
            "{}",
            breaks[0].problem
        );
        // Deletions are refused while the organisation exists …
        let refused = server::with_db!(&app.raw, pool => sqlx::query("delete from audit_log where org_id = $1 and seq = 2").bind(&owner.org_id).execute(pool).await.map(drop));
        let message = refused
            .expect_err("the trigger refuses deletions")
            .to_string();
        assert!(message.contains("append-only"), "{message}");
        // … and once that trigger is gone too, deleting a row breaks the chain.
        let drop_delete_trigger = match app.backend {
            Backend::Sqlite => "drop trigger audit_log_no_delete",
            Backend::Postgres => "drop trigger audit_log_no_delete on audit_log",
        };
        server::with_db!(&app.raw, pool => {
            sqlx::query(drop_delete_trigger).execute(pool).await.expect("drop trigger");
            sqlx::query("delete from audit_log where org_id = $1 and seq = 2").bind(&owner.org_id).execute(pool).await.expect("delete").rows_affected()
        });
        let (_, breaks) = server::audit::verify(&app.state.db).await.expect("verify");
        assert_eq!(breaks[0].seq, 2);
        assert!(
            breaks[0].problem.contains("missing"),
            "{}",
            breaks[0].problem
        );
    }
);

on_both_backends!(cutting_the_newest_entries_off_a_chain_is_detected, |app| {
    let owner = app.signup("owner@acme.example", "Acme").await;
    for name in ["a", "b", "c"] {
        app.call(
            "POST",
            &format!("/api/v1/orgs/{}/teams", owner.org_slug),
            Some(&owner.access),
            Some(json!({"name": name})),
        )
        .await;
    }
    let newest: i64 = server::with_db!(&app.raw, pool => sqlx::query_scalar("select max(seq) from audit_log where org_id = $1").bind(&owner.org_id).fetch_one(pool).await).expect("max");
    // Winding the recorded head back is refused.
    let rewind = server::with_db!(&app.raw, pool => sqlx::query("update audit_heads set seq = seq - 1 where org_id = $1").bind(&owner.org_id).execute(pool).await.map(drop));
    assert!(
        rewind
            .expect_err("refused")
            .to_string()
            .contains("only grows")
    );
    // Someone drops the delete guard and removes the last two entries: the chain itself
    // still links, but its recorded head shows it was cut short.
    let drop_delete_trigger = match app.backend {
        Backend::Sqlite => "drop trigger audit_log_no_delete",
        Backend::Postgres => "drop trigger audit_log_no_delete on audit_log",
    };
    server::with_db!(&app.raw, pool => {
        sqlx::query(drop_delete_trigger).execute(pool).await.expect("drop trigger");
        sqlx::query("delete from audit_log where org_id = $1 and seq >= $2").bind(&owner.org_id).bind(newest - 1).execute(pool).await.expect("delete").rows_affected()
    });
    let (_, breaks) = server::audit::verify(&app.state.db).await.expect("verify");
    assert_eq!(breaks.len(), 1, "{breaks:?}");
    assert_eq!(breaks[0].seq, newest - 1);
    assert!(
        breaks[0].problem.contains("cut short"),
        "{}",
        breaks[0].problem
    );
    // Deleting the organisation itself still removes its chain and head.
    let deleted = app
        .call(
            "DELETE",
            &format!("/api/v1/orgs/{}", owner.org_slug),
            Some(&owner.access),
            Some(json!({"confirm": owner.org_slug})),
        )
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    let (_, breaks) = server::audit::verify(&app.state.db).await.expect("verify");
    assert!(breaks.is_empty(), "{breaks:?}");
});

#[tokio::test]
async fn faultline_audit_verify_reports_breaks_and_exits_nonzero() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let owner = app.signup("owner@acme.example", "Acme").await;
    app.call(
        "POST",
        &format!("/api/v1/orgs/{}/teams", owner.org_slug),
        Some(&owner.access),
        Some(json!({"name": "a"})),
    )
    .await;
    let db_url = format!("sqlite://{}", app.data_dir().join("faultline.db").display());
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_faultline"))
            .args(["audit", "verify"])
            .env_clear()
            .env("DATABASE_URL", &db_url)
            .env("FAULTLINE_DATA_DIR", app.data_dir())
            .env("FAULTLINE_LOG", "error")
            .output()
            .expect("runs")
    };
    let ok = run();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains("audit log intact: 2 entries verified"),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    server::with_db!(&app.raw, pool => {
        sqlx::query("drop trigger audit_log_append_only").execute(pool).await.expect("drop");
        sqlx::query("update audit_log set actor = 'mallory' where seq = 1").execute(pool).await.expect("edit").rows_affected()
    });
    let broken = run();
    assert_eq!(broken.status.code(), Some(1));
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(
        out.contains(&format!("BROKEN organisation {} at entry 1", owner.org_id)),
        "{out}"
    );
    assert!(String::from_utf8_lossy(&broken.stderr).contains("the audit log was altered"));
}

on_both_backends!(
    every_change_to_accounts_and_organisations_is_recorded,
    |app| {
        let owner = app.signup("owner@acme.example", "Acme").await;
        let dev = join(&app, &owner, "dev@acme.example", "member").await;
        let org = &owner.org_slug;
        let call = |method: &'static str, path: String, body: Option<serde_json::Value>| {
            let access = owner.access.clone();
            let app = &app;
            async move {
                let r = app.call(method, &path, Some(&access), body).await;
                assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.text());
                serde_json::from_slice::<serde_json::Value>(&r.body).unwrap_or_default()
            }
        };
        // Teams, custom roles, invitations, settings and exports.
        let team = call(
            "POST",
            format!("/api/v1/orgs/{org}/teams"),
            Some(json!({"name": "Platform"})),
        )
        .await;
        let team = team["id"].as_str().expect("team").to_owned();
        call(
            "PATCH",
            format!("/api/v1/orgs/{org}/teams/{team}"),
            Some(json!({"name": "Core"})),
        )
        .await;
        call(
            "PUT",
            format!("/api/v1/orgs/{org}/teams/{team}/members/{}", dev.id),
            None,
        )
        .await;
        call(
            "DELETE",
            format!("/api/v1/orgs/{org}/teams/{team}/members/{}", dev.id),
            None,
        )
        .await;
        call(
            "PUT",
            format!("/api/v1/orgs/{org}/teams/{team}/test-settings"),
            Some(json!({"framework": "jest"})),
        )
        .await;
        call("DELETE", format!("/api/v1/orgs/{org}/teams/{team}"), None).await;
        let role = call(
            "POST",
            format!("/api/v1/orgs/{org}/roles"),
            Some(json!({"name": "Auditor", "permissions": ["view_audit"]})),
        )
        .await;
        let role = role["key"].as_str().expect("role").to_owned();
        call(
            "PATCH",
            format!("/api/v1/orgs/{org}/roles/{role}"),
            Some(json!({"name": "Auditor", "permissions": ["view_audit", "view_analyses"]})),
        )
        .await;
        call("DELETE", format!("/api/v1/orgs/{org}/roles/{role}"), None).await;
        let invitation = call(
            "POST",
            format!("/api/v1/orgs/{org}/invitations"),
            Some(json!({"email": "later@acme.example"})),
        )
        .await;
        let invitation = invitation["id"].as_str().expect("invitation").to_owned();
        call(
            "DELETE",
            format!("/api/v1/orgs/{org}/invitations/{invitation}"),
            None,
        )
        .await;
        call(
            "PATCH",
            format!("/api/v1/orgs/{org}"),
            Some(json!({"name": "Acme Inc"})),
        )
        .await;
        let csv = app
            .call(
                "GET",
                &format!("/api/v1/orgs/{org}/audit?format=csv"),
                Some(&owner.access),
                None,
            )
            .await;
        assert_eq!(csv.status, 200);
        call(
            "POST",
            format!("/api/v1/orgs/{org}/transfer-ownership"),
            Some(json!({"user_id": dev.id})),
        )
        .await;

        // The account's own events: a second session revoked, a password change, sign-out.
        let second = crate::identity::user_from(
            &app.login("owner@acme.example", crate::identity::PASSWORD, None)
                .await,
        );
        let sessions = call("GET", "/api/v1/me/sessions".into(), None).await;
        let other = sessions
            .as_array()
            .expect("sessions")
            .iter()
            .find(|s| s["current"] != true)
            .and_then(|s| s["id"].as_str())
            .expect("the second session")
            .to_owned();
        call("DELETE", format!("/api/v1/me/sessions/{other}"), None).await;
        call(
        "POST",
        "/api/v1/me/password".into(),
        Some(json!({"current_password": crate::identity::PASSWORD, "new_password": "a different long passphrase"})),
    )
    .await;
        call("POST", "/api/v1/auth/logout".into(), None).await;
        drop(second);

        let mut recorded: Vec<String> = server::with_db!(&app.raw, pool => sqlx::query_scalar("select action from audit_log").fetch_all(pool).await).expect("actions");
        recorded.sort();
        recorded.dedup();
        let missing: Vec<&str> = [
            "auth.signup",
            "auth.login",
            "auth.session_revoked",
            "auth.password_changed",
            "auth.logout",
            "invitation.created",
            "invitation.accepted",
            "invitation.revoked",
            "team.created",
            "team.renamed",
            "team.member_added",
            "team.member_removed",
            "team.test_settings_changed",
            "team.deleted",
            "role.created",
            "role.updated",
            "role.deleted",
            "org.updated",
            "org.ownership_transferred",
            "audit.exported",
        ]
        .into_iter()
        .filter(|a| !recorded.iter().any(|r| r == a))
        .collect();
        assert!(
            missing.is_empty(),
            "not recorded: {missing:?} (recorded: {recorded:?})"
        );
        // Every chain still verifies.
        let (_, breaks) = server::audit::verify(&app.state.db).await.expect("verify");
        assert!(breaks.is_empty(), "{breaks:?}");
    }
);
