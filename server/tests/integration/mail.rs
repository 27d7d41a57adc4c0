//! Mail over SMTP: a real SMTP server (Python's aiosmtpd) on loopback receives the messages.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestApp, free_port};

#[tokio::test]
async fn verification_and_invitation_mail_go_out_over_smtp() {
    let port = free_port();
    let mut smtp = Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Debugging",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 -m aiosmtpd runs (scripts/setup.sh test installs it)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::try_spawn_with(
        Backend::Sqlite,
        &[
            ("FAULTLINE_SMTP_URL", &url),
            ("FAULTLINE_MAIL_FROM", "Faultline <robot@acme.example>"),
        ],
    )
    .await
    .expect("app");
    let owner = app.signup("ada@acme.example", "Acme").await;
    let invited = app
        .call(
            "POST",
            "/api/v1/orgs/acme/invitations",
            Some(&owner.access),
            Some(serde_json::json!({"email": "grace@acme.example"})),
        )
        .await;
    assert_eq!(invited.status, 201);
    assert!(
        !app.data_dir().join("outbox").exists(),
        "nothing goes to the outbox when SMTP is configured"
    );
    let _ = smtp.kill();
    let mut out = String::new();
    smtp.stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    let _ = smtp.wait();
    // Bodies are quoted-printable: undo soft line breaks and the escaped '='.
    let out = out
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    assert_eq!(out.matches("MESSAGE FOLLOWS").count(), 2, "{out}");
    assert!(
        out.contains("To: ada@acme.example") && out.contains("/verify-email?token="),
        "{out}"
    );
    assert!(
        out.contains("To: grace@acme.example") && out.contains("/invitations/accept?org=acme"),
        "{out}"
    );
    assert!(
        out.contains("From: Faultline <robot@acme.example>"),
        "{out}"
    );
}
