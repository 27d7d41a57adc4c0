//! Extractors for API handlers: the caller, the tenant context, the client's origin, and JSON
//! bodies whose errors answer in the API's envelope.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::auth::caller::{self, Caller};
use crate::auth::sessions::Origin;
use crate::config::Config;
use crate::db::Scope;
use crate::http::error::AppError;
use crate::state::AppState;
use crate::tenancy::context::{self, OrgContext};

/// The client's address and user agent.
pub fn origin_of(parts: &Parts, config: &Config) -> Origin {
    origin_from(&parts.headers, &parts.extensions, config)
}

/// The client's address and user agent, from a request's headers and extensions.
pub fn origin_from(
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
    config: &Config,
) -> Origin {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let forwarded = config.trust_proxy.then(|| forwarded_for(headers)).flatten();
    Origin {
        ip: forwarded.or(peer).unwrap_or_else(|| "unknown".to_owned()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect(),
    }
}

/// The last `X-Forwarded-For` hop: the one our own proxy added.
fn forwarded_for(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-forwarded-for")?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    last.parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

/// The client's origin as an extractor.
pub struct ClientOrigin(pub Origin);

impl FromRequestParts<AppState> for ClientOrigin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(Self(origin_of(parts, &state.config)))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let origin = origin_of(parts, &state.config);
        caller::resolve(&state.auth, &state.db, &parts.headers, origin)
            .await?
            .ok_or_else(|| AppError::Unauthorized("unauthenticated", "Sign in first.".into()))
    }
}

/// The tenant context. Routes under `/orgs/{org}/` name the organisation (slug or id) in the
/// path. Routes without it (`/uploads`, `/analyses`) take it from an organisation token, or
/// from `?org=` or the `Faultline-Org` header, or, for someone in a single organisation,
/// that one.
impl FromRequestParts<AppState> for OrgContext {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let params = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| p)
            .unwrap_or_default();
        let mut tx = state.db.begin_read(Scope::System).await?;
        let key = match params.get("org") {
            Some(key) => Ok(key.clone()),
            None => org_outside_path(parts, &caller, &mut tx).await,
        };
        let ctx = match key {
            Ok(key) => context::resolve(&mut tx, caller, &key).await,
            Err(e) => Err(e),
        };
        let _ = tx.commit().await;
        let ctx = ctx?;
        tracing::Span::current().record("org_id", ctx.org.id.as_str());
        Ok(ctx)
    }
}

/// Header naming the organisation on routes outside `/orgs/{org}/`.
pub const ORG_HEADER: &str = "faultline-org";

async fn org_outside_path(
    parts: &Parts,
    caller: &Caller,
    tx: &mut crate::db::Tx,
) -> Result<String, AppError> {
    if let crate::auth::caller::Credential::Token(token) = &caller.credential
        && token.kind == "org"
    {
        return Ok(token.org_id.clone());
    }
    let query = axum::extract::Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let named = query.get("org").cloned().or_else(|| {
        parts
            .headers
            .get(ORG_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    if let Some(key) = named.filter(|k| !k.is_empty()) {
        return Ok(key);
    }
    if let crate::auth::caller::Credential::Token(token) = &caller.credential {
        return Ok(token.org_id.clone());
    }
    match crate::tenancy::orgs::for_user(tx, &caller.user.id).await?.as_slice() {
        [(org, _)] => Ok(org.id.clone()),
        [] => Err(AppError::Missing(
            "You do not belong to an organisation yet; create one first.".into(),
        )),
        _ => Err(AppError::BadRequest(
            "You belong to several organisations: name one with ?org=SLUG or the Faultline-Org header.".into(),
        )),
    }
}

/// A JSON body; malformed JSON, wrong types and unknown fields answer 400 in the envelope.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::BadRequest(
            "Send the body as JSON with `Content-Type: application/json`.".into(),
        ),
        JsonRejection::JsonDataError(e) => AppError::BadRequest(format!(
            "The request body does not fit: {}",
            e.body_text()
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        )),
        JsonRejection::JsonSyntaxError(_) => {
            AppError::BadRequest("The request body is not valid JSON.".into())
        }
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::TooLarge(format!(
                "The request body is larger than the {} KiB this endpoint accepts.",
                super::MAX_JSON_BYTES / 1024
            ))
        }
        JsonRejection::BytesRejection(_) => {
            AppError::BadRequest("The request body could not be read.".into())
        }
        other => AppError::BadRequest(other.body_text()),
    }
}
