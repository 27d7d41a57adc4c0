//! Helpers for tests of accounts and organisations: JSON requests with a bearer token, sign-up
//! and sign-in, and reading links out of the mail outbox.

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestResponse};

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-in test user.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub email: String,
    pub access: String,
    pub refresh: String,
    pub org_id: String,
    pub org_slug: String,
}

/// Extracts cookie `name` from the response's `Set-Cookie` headers.
pub fn set_cookie(response: &TestResponse, name: &str) -> Option<String> {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        })
}

impl TestApp {
    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(v) => {
                request = request.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }

    /// Calls `path` as `user` in their organisation (`org=` added); answers the status and the
    /// body as JSON (`null` when it is empty or not JSON).
    pub async fn call_as(
        &self,
        user: &User,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = self
            .call(
                method,
                &format!("{path}{sep}org={}", user.org_slug),
                Some(&user.access),
                body,
            )
            .await;
        (
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(Value::Null),
        )
    }

    /// Signs up `email` with its own organisation named `org`.
    pub async fn signup(&self, email: &str, org: &str) -> User {
        let r = self
            .call(
                "POST",
                "/api/v1/auth/signup",
                None,
                Some(json!({"email": email, "password": PASSWORD, "org_name": org})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        user_from(&r)
    }

    /// Signs in, returning the raw response.
    pub async fn login(&self, email: &str, password: &str, totp: Option<&str>) -> TestResponse {
        let mut body = json!({"email": email, "password": password});
        if let Some(code) = totp {
            body["totp"] = code.into();
        }
        self.call("POST", "/api/v1/auth/login", None, Some(body))
            .await
    }

    /// Spends a refresh token through the cookie, as a browser does.
    pub async fn refresh(&self, refresh: &str) -> TestResponse {
        let request = Request::post("/api/v1/auth/refresh")
            .header("cookie", format!("fl_refresh={refresh}"))
            .body(Body::empty())
            .expect("request");
        self.send(request).await
    }

    /// Every mail in the outbox, decoded, oldest first.
    pub fn outbox(&self) -> Vec<String> {
        let dir = self.data_dir().join("outbox");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .map(|p| decode_mail(&std::fs::read_to_string(p).expect("mail")))
            .collect()
    }

    /// The `token=` of the newest mail to `to` whose link contains `path`.
    pub fn mailed_token(&self, to: &str, path: &str) -> String {
        let mail = self
            .outbox()
            .into_iter()
            .rev()
            .find(|m| m.contains(&format!("To: {to}")) && m.contains(path))
            .unwrap_or_else(|| panic!("no mail to {to} with {path}"));
        let start = mail.find(path).expect("path");
        let link = &mail[start..];
        let token = link.split("token=").nth(1).expect("token");
        token
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

/// The signed-in user a sign-up or sign-in response describes.
pub fn user_from(r: &TestResponse) -> User {
    let body = r.json();
    User {
        id: body["user"]["id"].as_str().expect("user id").to_owned(),
        email: body["user"]["email"].as_str().expect("email").to_owned(),
        access: body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned(),
        refresh: set_cookie(r, "fl_refresh").expect("refresh cookie"),
        org_id: body["org"]["id"].as_str().unwrap_or_default().to_owned(),
        org_slug: body["org"]["slug"].as_str().unwrap_or_default().to_owned(),
    }
}

/// Undoes quoted-printable soft breaks and escapes, so links can be read.
fn decode_mail(raw: &str) -> String {
    if !raw.contains("Content-Transfer-Encoding: quoted-printable") {
        return raw.to_owned();
    }
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let mut out = String::with_capacity(joined.len());
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = &joined[i + 1..i + 3];
            out.push(char::from(u8::from_str_radix(hex, 16).expect("hex")));
            i += 3;
        } else {
            out.push(char::from(bytes[i]));
            i += 1;
        }
    }
    out
}
