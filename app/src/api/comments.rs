//! Discussions: threaded comments on an analysis' patterns, and the mentions they send.
//! Comments go through the JSON API; the page follows
//! `/api/v1/analyses/{id}/comments/events` to refetch when a teammate posts.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::account::urlencode;
use super::error::ApiError;

/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 10_000;

/// A piece of a comment's text: plain, or a resolved `@mention`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BodyPart {
    /// The text as written (a mention keeps its `@`).
    pub text: String,
    /// The email of the member it mentions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention: Option<String>,
}

/// One comment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommentView {
    /// Id.
    pub id: String,
    /// The first comment of its thread (its own id for a first comment).
    pub thread_id: String,
    /// The author's email (none once their account is gone).
    #[serde(default)]
    pub author: Option<String>,
    /// The text (empty once deleted).
    pub body: String,
    /// The text split at its mentions.
    pub parts: Vec<BodyPart>,
    /// When it was posted.
    pub created_at_ms: i64,
    /// When it was last edited.
    #[serde(default)]
    pub edited_at_ms: Option<i64>,
    /// Whether it was deleted (it stays as a placeholder while replies follow it).
    pub deleted: bool,
    /// Whether the caller wrote it (and so may edit it).
    pub mine: bool,
    /// Whether the caller may delete it: its author, or anyone who may delete analyses.
    pub can_delete: bool,
}

/// A first comment and its replies, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ThreadView {
    /// The comments; the first started the thread.
    pub comments: Vec<CommentView>,
}

/// The discussion of one pattern.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Discussion {
    /// Threads, oldest first.
    pub threads: Vec<ThreadView>,
    /// Comments that are not deleted.
    pub count: u64,
    /// Whether the caller may comment (a person who can see the analysis).
    pub can_comment: bool,
    /// How members can be mentioned: `@` and the part of their email before the `@`, or the
    /// whole address when that part is shared.
    pub handles: Vec<String>,
}

/// A comment that mentions you.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MentionView {
    /// The comment.
    pub comment_id: String,
    /// The analysis.
    pub analysis_id: String,
    /// Its name.
    pub analysis_name: String,
    /// The pattern discussed.
    pub pattern_id: String,
    /// Who wrote it.
    #[serde(default)]
    pub author: Option<String>,
    /// The start of the comment.
    pub excerpt: String,
    /// When.
    pub created_at_ms: i64,
    /// Whether you marked it read.
    pub read: bool,
}

/// Your mentions in one organisation, newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Mentions {
    /// The latest 100.
    pub items: Vec<MentionView>,
    /// How many are unread, in all.
    pub unread: u64,
}

/// The discussion of pattern `pattern` of analysis `id`.
#[server(prefix = "/rpc", endpoint = "discussion")]
pub async fn load_discussion(
    org: String,
    id: String,
    pattern: String,
) -> Result<Discussion, ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!(
            "/analyses/{}/patterns/{}/comments?org={}",
            urlencode(&id),
            urlencode(&pattern),
            urlencode(&org)
        ),
        None,
    )
    .await
}

/// Posts a comment, or a reply to comment `reply_to`'s thread.
#[server(prefix = "/rpc", endpoint = "post_comment")]
pub async fn post_comment(
    org: String,
    id: String,
    pattern: String,
    body: String,
    reply_to: Option<String>,
) -> Result<CommentView, ApiError> {
    let mut json = serde_json::json!({ "body": body });
    if let Some(reply_to) = reply_to.filter(|r| !r.is_empty()) {
        json["reply_to"] = reply_to.into();
    }
    crate::ssr::call(
        http::Method::POST,
        &format!(
            "/analyses/{}/patterns/{}/comments?org={}",
            urlencode(&id),
            urlencode(&pattern),
            urlencode(&org)
        ),
        Some(json),
    )
    .await
}

/// Replaces the text of one of your comments.
#[server(prefix = "/rpc", endpoint = "edit_comment")]
pub async fn edit_comment(
    org: String,
    id: String,
    comment: String,
    body: String,
) -> Result<CommentView, ApiError> {
    crate::ssr::call(
        http::Method::PATCH,
        &format!(
            "/analyses/{}/comments/{}?org={}",
            urlencode(&id),
            urlencode(&comment),
            urlencode(&org)
        ),
        Some(serde_json::json!({ "body": body })),
    )
    .await
}

/// Deletes a comment.
#[server(prefix = "/rpc", endpoint = "delete_comment")]
pub async fn delete_comment(org: String, id: String, comment: String) -> Result<(), ApiError> {
    crate::ssr::call::<serde_json::Value>(
        http::Method::DELETE,
        &format!(
            "/analyses/{}/comments/{}?org={}",
            urlencode(&id),
            urlencode(&comment),
            urlencode(&org)
        ),
        None,
    )
    .await
    .map(drop)
}

/// Your mentions in organisation `org`.
#[server(prefix = "/rpc", endpoint = "mentions")]
pub async fn load_mentions(org: String) -> Result<Mentions, ApiError> {
    crate::ssr::call(
        http::Method::GET,
        &format!("/mentions?org={}", urlencode(&org)),
        None,
    )
    .await
}

/// Marks all your mentions in `org` read.
#[server(prefix = "/rpc", endpoint = "read_mentions")]
pub async fn read_mentions(org: String) -> Result<(), ApiError> {
    crate::ssr::call::<serde_json::Value>(
        http::Method::POST,
        &format!("/mentions/read?org={}", urlencode(&org)),
        None,
    )
    .await
    .map(drop)
}
