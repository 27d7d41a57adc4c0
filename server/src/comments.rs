//! Discussions: threaded comments on an analysis' patterns, the `@mentions` in them, and the
//! notifications a mention sends.
//!
//! A comment names the first comment of its thread; a deleted comment keeps its row, blanked,
//! so a thread's replies keep their place. Mentions are resolved against the organisation's
//! members when a comment is written (who to notify) and again when it is read (what to
//! highlight), so a mention never reaches, or names, anyone outside the tenant.

use std::collections::HashMap;

use app::api::comments::{BodyPart, CommentView, Discussion, MentionView, ThreadView};

use crate::db::Tx;
use crate::tenancy::orgs::Member;
use crate::tenancy::sharing::Subject;
use crate::with_tx;

/// Most people one comment notifies.
pub const MAX_MENTIONS: usize = 20;
/// How many of a person's latest mentions are read to list and count them.
pub const MENTIONS_READ: i64 = 1000;

/// A stored comment with its author's email.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    /// Random id.
    pub id: String,
    /// The analysis.
    pub analysis_id: String,
    /// The pattern discussed.
    pub pattern_id: String,
    /// The first comment of its thread.
    pub thread_id: String,
    /// The author (none once their account is gone).
    pub author_id: Option<String>,
    /// The author's email.
    pub author: Option<String>,
    /// The text, empty once deleted.
    pub body: String,
    /// When it was posted.
    pub created_at_ms: i64,
    /// When it was last edited.
    pub edited_at_ms: Option<i64>,
    /// When it was deleted.
    pub deleted_at_ms: Option<i64>,
}

/// A query for comments with their authors' emails, narrowed by `$filter`.
macro_rules! select_comments {
    ($filter:literal) => {
        concat!(
            "select c.id, c.analysis_id, c.pattern_id, c.thread_id, c.author_id, u.email as author, ",
            "c.body, c.created_at_ms, c.edited_at_ms, c.deleted_at_ms ",
            "from comments c left join users u on u.id = c.author_id ",
            $filter
        )
    };
}

/// The comments on pattern `pattern_id` of analysis `analysis_id`, oldest first.
pub async fn for_pattern(
    tx: &mut Tx,
    org_id: &str,
    analysis_id: &str,
    pattern_id: &str,
) -> Result<Vec<Row>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(select_comments!(
        "where c.org_id = $1 and c.analysis_id = $2 and c.pattern_id = $3 order by c.created_at_ms, c.id"
    ))
        .bind(org_id)
        .bind(analysis_id)
        .bind(pattern_id)
        .fetch_all(&mut *c)
        .await)
}

/// One comment on analysis `analysis_id`.
pub async fn get(
    tx: &mut Tx,
    org_id: &str,
    analysis_id: &str,
    id: &str,
) -> Result<Option<Row>, sqlx::Error> {
    with_tx!(tx, c => sqlx::query_as(select_comments!(
        "where c.org_id = $1 and c.analysis_id = $2 and c.id = $3"
    ))
        .bind(org_id)
        .bind(analysis_id)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)
}

/// What to store.
pub struct NewComment<'a> {
    /// Random id.
    pub id: &'a str,
    /// Organisation.
    pub org_id: &'a str,
    /// Analysis.
    pub analysis_id: &'a str,
    /// Pattern.
    pub pattern_id: &'a str,
    /// First comment of the thread (`id` itself for a new thread).
    pub thread_id: &'a str,
    /// Author.
    pub author_id: &'a str,
    /// Text.
    pub body: &'a str,
}

/// Stores a comment.
pub async fn insert(tx: &mut Tx, new: &NewComment<'_>, now: i64) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"insert into comments (id, org_id, analysis_id, pattern_id, thread_id, author_id, body, created_at_ms)
          values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.id)
    .bind(new.org_id)
    .bind(new.analysis_id)
    .bind(new.pattern_id)
    .bind(new.thread_id)
    .bind(new.author_id)
    .bind(new.body)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(drop))
}

/// Replaces a live comment's text; false when it is gone or deleted.
pub async fn edit(
    tx: &mut Tx,
    org_id: &str,
    id: &str,
    body: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(
        r"update comments set body = $3, edited_at_ms = $4
          where org_id = $1 and id = $2 and deleted_at_ms is null",
    )
    .bind(org_id)
    .bind(id)
    .bind(body)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Blanks a comment and withdraws its mentions; false when it was already deleted.
pub async fn delete(tx: &mut Tx, org_id: &str, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let n = with_tx!(tx, c => sqlx::query(
        r"update comments set body = '', deleted_at_ms = $3
          where org_id = $1 and id = $2 and deleted_at_ms is null",
    )
    .bind(org_id)
    .bind(id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))?;
    set_mentions(tx, org_id, id, &[], now).await?;
    Ok(n == 1)
}

/// Makes `user_ids` the people comment `comment_id` mentions: new ones get an unread
/// mention, ones no longer named lose theirs, the rest keep theirs (read or not).
pub async fn set_mentions(
    tx: &mut Tx,
    org_id: &str,
    comment_id: &str,
    user_ids: &[String],
    now: i64,
) -> Result<(), sqlx::Error> {
    let current: Vec<(String,)> = with_tx!(tx, c => sqlx::query_as(
        r"select user_id from mentions where org_id = $1 and comment_id = $2",
    )
    .bind(org_id)
    .bind(comment_id)
    .fetch_all(&mut *c)
    .await)?;
    for (gone,) in current.iter().filter(|(u,)| !user_ids.contains(u)) {
        with_tx!(tx, c => sqlx::query(
            r"delete from mentions where org_id = $1 and comment_id = $2 and user_id = $3",
        )
        .bind(org_id)
        .bind(comment_id)
        .bind(gone)
        .execute(&mut *c)
        .await
        .map(drop))?;
    }
    for new in user_ids
        .iter()
        .filter(|u| !current.iter().any(|(c,)| c == *u))
    {
        with_tx!(tx, c => sqlx::query(
            r"insert into mentions (comment_id, org_id, user_id, created_at_ms) values ($1, $2, $3, $4)",
        )
        .bind(comment_id)
        .bind(org_id)
        .bind(new)
        .bind(now)
        .execute(&mut *c)
        .await
        .map(drop))?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct MentionRow {
    comment_id: String,
    analysis_id: String,
    created_by: String,
    visibility: String,
    analysis_name: String,
    pattern_id: String,
    author: Option<String>,
    body: String,
    created_at_ms: i64,
    read_at_ms: Option<i64>,
}

/// The latest `limit` comments that mention `user_id` in the organisation on analyses
/// `visible` lets them see, newest first, and how many of those (of the latest
/// [`MENTIONS_READ`]) are unread.
pub async fn mentions_of(
    tx: &mut Tx,
    org_id: &str,
    user_id: &str,
    limit: usize,
    visible: impl Fn(&Subject<'_>) -> bool,
) -> Result<(Vec<MentionView>, u64), sqlx::Error> {
    let rows: Vec<MentionRow> = with_tx!(tx, c => sqlx::query_as(
        r"select m.comment_id, c.analysis_id, a.created_by, a.visibility, a.name as analysis_name, c.pattern_id, u.email as author,
                 c.body, m.created_at_ms, m.read_at_ms
          from mentions m
          join comments c on c.id = m.comment_id
          join analyses a on a.id = c.analysis_id
          left join users u on u.id = c.author_id
          where m.org_id = $1 and m.user_id = $2
          order by m.created_at_ms desc, m.comment_id
          limit $3",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(MENTIONS_READ)
    .fetch_all(&mut *c)
    .await)?;
    let rows: Vec<MentionRow> = rows
        .into_iter()
        .filter(|r| {
            visible(&Subject {
                id: &r.analysis_id,
                created_by: &r.created_by,
                visibility: &r.visibility,
            })
        })
        .collect();
    let unread = rows.iter().filter(|r| r.read_at_ms.is_none()).count() as u64;
    let items = rows
        .into_iter()
        .take(limit)
        .map(|r| MentionView {
            comment_id: r.comment_id,
            analysis_id: r.analysis_id,
            analysis_name: r.analysis_name,
            pattern_id: r.pattern_id,
            author: r.author,
            excerpt: app::format::short(&r.body, 160),
            created_at_ms: r.created_at_ms,
            read: r.read_at_ms.is_some(),
        })
        .collect();
    Ok((items, unread))
}

/// Marks every mention of `user_id` in the organisation read.
pub async fn mark_read(
    tx: &mut Tx,
    org_id: &str,
    user_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, c => sqlx::query(
        r"update mentions set read_at_ms = $3 where org_id = $1 and user_id = $2 and read_at_ms is null",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(now)
    .execute(&mut *c)
    .await
    .map(drop))
}

/// How many unread mentions `user_id` has in each organisation (a cross-organisation read:
/// the caller's own notifications, for the header).
pub async fn unread_by_org(
    tx: &mut Tx,
    user_id: &str,
) -> Result<HashMap<String, u64>, sqlx::Error> {
    let rows: Vec<(String, i64)> = with_tx!(tx, c => sqlx::query_as(
        r"select org_id, count(*) from mentions where user_id = $1 and read_at_ms is null group by org_id",
    )
    .bind(user_id)
    .fetch_all(&mut *c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(org, n)| (org, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// How the organisation's members can be mentioned.
pub struct Directory<'a> {
    /// Lower-cased handle (a whole email, or the part before `@` where only one member has
    /// it) → member.
    by_handle: HashMap<String, &'a Member>,
    /// One handle per member, as people should type it.
    handles: Vec<String>,
}

impl<'a> Directory<'a> {
    /// The handles of `members`.
    pub fn new(members: &'a [Member]) -> Self {
        let mut locals: HashMap<String, usize> = HashMap::new();
        for m in members {
            *locals.entry(local_part(&m.email)).or_default() += 1;
        }
        let mut by_handle = HashMap::new();
        let mut handles = Vec::with_capacity(members.len());
        for m in members {
            let email = m.email.to_lowercase();
            let local = local_part(&m.email);
            by_handle.insert(email.clone(), m);
            if locals.get(&local) == Some(&1) {
                by_handle.insert(local.clone(), m);
                handles.push(format!("@{local}"));
            } else {
                handles.push(format!("@{email}"));
            }
        }
        handles.sort();
        Self { by_handle, handles }
    }

    /// One handle per member, sorted.
    pub fn handles(&self) -> &[String] {
        &self.handles
    }

    /// `body` split at the mentions of members, and the members it mentions (each once, in
    /// order, at most [`MAX_MENTIONS`]).
    pub fn split(&self, body: &str) -> (Vec<BodyPart>, Vec<&'a Member>) {
        let mut parts = Vec::new();
        let mut mentioned: Vec<&'a Member> = Vec::new();
        let mut plain_from = 0;
        let mut previous: Option<char> = None;
        let mut chars = body.char_indices().peekable();
        while let Some((at, ch)) = chars.next() {
            let starts = ch == '@' && previous.is_none_or(|p| !is_handle_char(p) && p != '@');
            previous = Some(ch);
            if !starts {
                continue;
            }
            let rest = &body[at + 1..];
            let run = rest
                .char_indices()
                .find(|&(_, c)| !(is_handle_char(c) || c == '@'))
                .map_or(rest, |(end, _)| &rest[..end]);
            // Sentence punctuation after a handle is not part of it.
            let handle = run.trim_end_matches(['.', '-', '@', '_']);
            let Some(member) = (!handle.is_empty())
                .then(|| self.by_handle.get(&handle.to_lowercase()))
                .flatten()
            else {
                continue;
            };
            if plain_from < at {
                parts.push(plain(&body[plain_from..at]));
            }
            let end = at + 1 + handle.len();
            parts.push(BodyPart {
                text: body[at..end].to_owned(),
                mention: Some(member.email.clone()),
            });
            if !mentioned.iter().any(|m| m.user_id == member.user_id)
                && mentioned.len() < MAX_MENTIONS
            {
                mentioned.push(member);
            }
            plain_from = end;
            // Skip what the handle consumed.
            while chars.peek().is_some_and(|&(i, _)| i < end) {
                previous = chars.next().map(|(_, c)| c);
            }
        }
        if plain_from < body.len() {
            parts.push(plain(&body[plain_from..]));
        }
        (parts, mentioned)
    }

    /// The discussion made of `rows`, as `viewer` sees it.
    pub fn discussion(&self, rows: &[Row], viewer: &Viewer<'_>) -> Discussion {
        let mut threads: Vec<ThreadView> = Vec::new();
        let mut position: HashMap<&str, usize> = HashMap::new();
        let mut count = 0;
        for row in rows {
            let first = row.thread_id == row.id;
            let slot = match position.get(row.thread_id.as_str()) {
                Some(&i) => i,
                None if first => {
                    position.insert(&row.id, threads.len());
                    threads.push(ThreadView::default());
                    threads.len() - 1
                }
                // A reply whose first comment is missing cannot be placed.
                None => continue,
            };
            if row.deleted_at_ms.is_none() {
                count += 1;
            } else if !first {
                // A deleted reply leaves nothing behind; a deleted first comment stays as a
                // placeholder while replies follow it.
                continue;
            }
            threads[slot].comments.push(self.view(row, viewer));
        }
        threads.retain(|t| t.comments.iter().any(|c| !c.deleted));
        Discussion {
            threads,
            count,
            can_comment: viewer.can_comment,
            handles: self.handles.clone(),
        }
    }

    /// One comment as `viewer` sees it.
    pub fn view(&self, row: &Row, viewer: &Viewer<'_>) -> CommentView {
        let deleted = row.deleted_at_ms.is_some();
        let mine = row.author_id.as_deref() == Some(viewer.user_id);
        CommentView {
            id: row.id.clone(),
            thread_id: row.thread_id.clone(),
            author: row.author.clone(),
            body: row.body.clone(),
            parts: if deleted {
                Vec::new()
            } else {
                self.split(&row.body).0
            },
            created_at_ms: row.created_at_ms,
            edited_at_ms: row.edited_at_ms,
            deleted,
            mine: mine && viewer.is_person,
            can_delete: !deleted && ((mine && viewer.is_person) || viewer.can_delete_any),
        }
    }
}

/// Who is reading a discussion.
pub struct Viewer<'a> {
    /// Their account.
    pub user_id: &'a str,
    /// Whether they act as themselves (a session or a personal token), not as an org token.
    pub is_person: bool,
    /// Whether they may comment.
    pub can_comment: bool,
    /// Whether they may delete anyone's comment.
    pub can_delete_any: bool,
}

fn plain(text: &str) -> BodyPart {
    BodyPart {
        text: text.to_owned(),
        mention: None,
    }
}

fn local_part(email: &str) -> String {
    email
        .split_once('@')
        .map_or(email, |(local, _)| local)
        .to_lowercase()
}

fn is_handle_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '%')
}

/// A comment's text made tidy, or why it cannot be stored: line ends made `\n`, control
/// characters other than tabs and line ends removed, surrounding blank space trimmed; empty
/// and over-long comments are refused.
pub fn clean_body(raw: &str) -> Result<String, String> {
    let text: String = raw
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Err("Write something first.".into());
    }
    let chars = text.chars().count();
    let max = app::api::comments::MAX_COMMENT_CHARS;
    if chars > max {
        return Err(format!(
            "A comment can be at most {max} characters; this one has {chars}."
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, email: &str) -> Member {
        Member {
            user_id: id.into(),
            email: email.into(),
            role: "member".into(),
            mfa: false,
            joined_at_ms: 0,
        }
    }

    fn team() -> Vec<Member> {
        vec![
            member("u1", "alice@example.com"),
            member("u2", "Bob@example.com"),
            member("u3", "bob@other.example"),
        ]
    }

    fn mentions(dir: &Directory<'_>, body: &str) -> Vec<String> {
        dir.split(body)
            .1
            .iter()
            .map(|m| m.user_id.clone())
            .collect()
    }

    #[test]
    fn handles_are_local_parts_unless_shared() {
        let members = team();
        let dir = Directory::new(&members);
        assert_eq!(
            dir.handles(),
            ["@alice", "@bob@example.com", "@bob@other.example"]
        );
    }

    #[test]
    fn mentions_resolve_to_members_only() {
        let members = team();
        let dir = Directory::new(&members);
        assert_eq!(mentions(&dir, "@alice look at this"), ["u1"]);
        assert_eq!(mentions(&dir, "thanks, @ALICE."), ["u1"]);
        assert_eq!(mentions(&dir, "(@alice)"), ["u1"]);
        // A shared local part is ambiguous; the whole address is not.
        assert!(mentions(&dir, "@bob?").is_empty());
        assert_eq!(mentions(&dir, "@bob@other.example, see"), ["u3"]);
        assert_eq!(mentions(&dir, "@bob@example.com"), ["u2"]);
        // Not mentions: an email in prose, strangers, a bare @.
        assert!(mentions(&dir, "mail alice@example.com").is_empty());
        assert!(mentions(&dir, "@mallory @ @@alice").is_empty());
        // Each person once.
        assert_eq!(
            mentions(&dir, "@alice @bob@example.com @alice"),
            ["u1", "u2"]
        );
    }

    #[test]
    fn split_keeps_every_character_in_order() {
        let members = team();
        let dir = Directory::new(&members);
        for body in [
            "@alice",
            "hi @alice, and @bob@other.example.",
            "ünïcödé @alice ✓ @nobody",
            "trailing @",
            "",
        ] {
            let (parts, _) = dir.split(body);
            let joined: String = parts.iter().map(|p| p.text.as_str()).collect();
            assert_eq!(joined, body);
        }
        let (parts, _) = dir.split("hi @alice, and @bob@other.example.");
        let marked: Vec<(&str, Option<&str>)> = parts
            .iter()
            .map(|p| (p.text.as_str(), p.mention.as_deref()))
            .collect();
        assert_eq!(
            marked,
            [
                ("hi ", None),
                ("@alice", Some("alice@example.com")),
                (", and ", None),
                ("@bob@other.example", Some("bob@other.example")),
                (".", None),
            ]
        );
    }

    #[test]
    fn mentions_are_capped() {
        let members: Vec<Member> = (0..30)
            .map(|i| member(&format!("u{i}"), &format!("user{i}@example.com")))
            .collect();
        let dir = Directory::new(&members);
        let body: String = (0..30).map(|i| format!("@user{i} ")).collect();
        assert_eq!(dir.split(&body).1.len(), MAX_MENTIONS);
    }

    fn row(id: &str, thread: &str, at: i64, deleted: bool) -> Row {
        Row {
            id: id.into(),
            analysis_id: "a".into(),
            pattern_id: "p1".into(),
            thread_id: thread.into(),
            author_id: Some("u1".into()),
            author: Some("alice@example.com".into()),
            body: if deleted {
                String::new()
            } else {
                format!("text {id}")
            },
            created_at_ms: at,
            edited_at_ms: None,
            deleted_at_ms: deleted.then_some(at + 1),
        }
    }

    #[test]
    fn threads_keep_replies_under_deleted_first_comments() {
        let members = team();
        let dir = Directory::new(&members);
        let viewer = Viewer {
            user_id: "u2",
            is_person: true,
            can_comment: true,
            can_delete_any: false,
        };
        let rows = [
            row("c1", "c1", 1, true),
            row("c2", "c2", 2, false),
            row("c3", "c1", 3, false),
            row("c4", "c2", 4, true),
            row("c5", "c5", 5, true),
            row("c6", "missing", 6, false),
        ];
        let d = dir.discussion(&rows, &viewer);
        let shape: Vec<Vec<(&str, bool)>> = d
            .threads
            .iter()
            .map(|t| {
                t.comments
                    .iter()
                    .map(|c| (c.id.as_str(), c.deleted))
                    .collect()
            })
            .collect();
        assert_eq!(
            shape,
            [vec![("c1", true), ("c3", false)], vec![("c2", false)]]
        );
        assert_eq!(d.count, 2);
        let c3 = &d.threads[0].comments[1];
        assert!(!c3.mine && !c3.can_delete, "another person's comment");
        let admin = Viewer {
            can_delete_any: true,
            ..viewer
        };
        assert!(dir.view(&rows[2], &admin).can_delete);
        assert!(!dir.view(&rows[0], &admin).can_delete, "already deleted");
    }

    #[test]
    fn bodies_are_cleaned_and_bounded() {
        assert_eq!(
            clean_body("  line one\r\nline\u{0}two\u{7}\t! \n").as_deref(),
            Ok("line one\nlinetwo\t!")
        );
        assert!(clean_body(" \n\t ").is_err());
        let max = app::api::comments::MAX_COMMENT_CHARS;
        assert!(clean_body(&"é".repeat(max)).is_ok());
        let long = clean_body(&"é".repeat(max + 1)).expect_err("too long");
        assert!(long.contains("at most 10000"), "{long}");
    }
}
