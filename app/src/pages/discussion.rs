//! The discussion of a pattern (threaded comments with `@mentions`, kept live: a teammate's
//! comment appears without a reload) and the list of comments that mention you.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::account::Me;
use crate::api::comments::{
    BodyPart, CommentView, DeleteComment, Discussion, EditComment, MentionView, PostComment,
    ReadMentions, ThreadView, load_discussion, load_mentions,
};
use crate::api::error::{ApiError, field_error};
use crate::components::session::use_session;
use crate::components::ui::{EmptyState, ErrorNotice, Loading};
use crate::pages::account::RequireUser;
use crate::pages::status::format_date;

/// Handles shown under the comment box before "and n more".
const HANDLES_SHOWN: usize = 8;

/// Where the discussion lives and what the caller is doing in it.
#[derive(Clone)]
struct Ctx {
    org: String,
    id: String,
    pattern: String,
    post: ServerAction<PostComment>,
    edit: ServerAction<EditComment>,
    delete: ServerAction<DeleteComment>,
    /// The thread being replied to.
    replying: RwSignal<Option<String>>,
    /// The comment being edited.
    editing: RwSignal<Option<String>>,
    /// Text of the new thread, the reply and the edit.
    draft: RwSignal<String>,
    reply_draft: RwSignal<String>,
    edit_draft: RwSignal<String>,
}

/// The discussion of pattern `pattern` of analysis `id`, starting from `initial` (loaded with
/// the page, so the page has no data section of its own to stream in later) and reloaded
/// whenever it changes.
#[component]
pub fn DiscussionCard(
    org: String,
    id: String,
    pattern: String,
    initial: Result<Discussion, ApiError>,
) -> impl IntoView {
    let discussion = RwSignal::new(initial);
    let ctx = Ctx {
        org: org.clone(),
        id: id.clone(),
        pattern: pattern.clone(),
        post: ServerAction::new(),
        edit: ServerAction::new(),
        delete: ServerAction::new(),
        replying: RwSignal::new(None),
        editing: RwSignal::new(None),
        draft: RwSignal::new(String::new()),
        reply_draft: RwSignal::new(String::new()),
        edit_draft: RwSignal::new(String::new()),
    };
    let refetch = {
        let (org, id, pattern) = (org.clone(), id.clone(), pattern.clone());
        Callback::new(move |()| {
            let (org, id, pattern) = (org.clone(), id.clone(), pattern.clone());
            leptos::task::spawn_local(async move {
                discussion.set(load_discussion(org, id, pattern).await);
            });
        })
    };
    #[cfg(feature = "hydrate")]
    client::follow(&org, &id, &pattern, refetch);
    {
        let ctx = ctx.clone();
        Effect::new(move |_| {
            if matches!(ctx.post.value().get(), Some(Ok(_))) {
                if ctx.replying.get_untracked().is_some() {
                    ctx.reply_draft.set(String::new());
                    ctx.replying.set(None);
                } else {
                    ctx.draft.set(String::new());
                }
                refetch.run(());
            }
        });
    }
    {
        let ctx = ctx.clone();
        Effect::new(move |_| {
            if matches!(ctx.edit.value().get(), Some(Ok(_))) {
                ctx.editing.set(None);
                refetch.run(());
            }
        });
    }
    {
        let ctx = ctx.clone();
        Effect::new(move |_| {
            if matches!(ctx.delete.value().get(), Some(Ok(()))) {
                refetch.run(());
            }
        });
    }
    let delete_error = {
        let ctx = ctx.clone();
        move || {
            ctx.delete.value().get().and_then(Result::err).map(
                |e| view! { <ErrorNotice title="The comment was not deleted" message=e.message /> },
            )
        }
    };
    view! {
        <section class="card discussion" aria-labelledby="discussion-title" data-testid="discussion">
            <div class="card__header">
                <h2 class="card__title" id="discussion-title">"Discussion"</h2>
            </div>
            {delete_error}
            {move || {
                let ctx = ctx.clone();
                match discussion.get() {
                    Ok(d) => view! { <Threads ctx discussion=d /> }.into_any(),
                    Err(e) => view! { <ErrorNotice title="The discussion could not be loaded" message=e.message /> }.into_any(),
                }
            }}
        </section>
    }
}

#[component]
fn Threads(ctx: Ctx, discussion: Discussion) -> impl IntoView {
    let Discussion {
        threads,
        count,
        can_comment,
        handles,
    } = discussion;
    let summary = match count {
        0 => "No comments yet.".to_owned(),
        1 => "1 comment".to_owned(),
        n => format!("{n} comments"),
    };
    let hint = mention_hint(&handles);
    let new_thread = can_comment.then(|| {
        let post = ctx.post;
        let (org, id, pattern) = (ctx.org.clone(), ctx.id.clone(), ctx.pattern.clone());
        let draft = ctx.draft;
        let replying = ctx.replying;
        let submit = Callback::new(move |body: String| {
            replying.set(None);
            post.dispatch(PostComment {
                org: org.clone(),
                id: id.clone(),
                pattern: pattern.clone(),
                body,
                reply_to: None,
            });
        });
        let error = Signal::derive(move || {
            if replying.get().is_some() {
                None
            } else {
                body_error(&post.value().get())
            }
        });
        view! {
            <CommentForm
                field_id="comment-new".to_owned()
                label="Add a comment".to_owned()
                button="Comment".to_owned()
                text=draft
                pending=post.pending().into()
                error
                hint=hint.clone()
                submit
                cancel=None
            />
        }
    });
    view! {
        <p class="muted" data-testid="comment-count" aria-live="polite">{summary}</p>
        {(!threads.is_empty()).then(|| view! {
            <ol class="threads">
                {threads.into_iter().map(|t| view! { <Thread ctx=ctx.clone() thread=t can_comment hint=hint.clone() /> }).collect_view()}
            </ol>
        })}
        {new_thread}
        {(!can_comment).then(|| view! {
            <p class="muted">"Only people signed in as themselves can comment."</p>
        })}
    }
}

/// "Mention teammates with @alice, @bob…".
fn mention_hint(handles: &[String]) -> String {
    if handles.is_empty() {
        return "Ctrl+Enter posts.".into();
    }
    let shown = handles
        .iter()
        .take(HANDLES_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = handles.len().saturating_sub(HANDLES_SHOWN);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("Mention teammates with {shown}{more}. Ctrl+Enter posts.")
}

fn body_error<T>(result: &Option<Result<T, ApiError>>) -> Option<String> {
    match result {
        Some(Err(e)) => Some(field_error(result, "body").unwrap_or_else(|| e.message.clone())),
        _ => None,
    }
}

#[component]
fn Thread(ctx: Ctx, thread: ThreadView, can_comment: bool, hint: String) -> impl IntoView {
    let thread_id = thread
        .comments
        .first()
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let replies = thread.comments.len().saturating_sub(1);
    let replying = ctx.replying;
    let reply_form = {
        let ctx = ctx.clone();
        let thread_id = thread_id.clone();
        move || {
            (replying.get().as_deref() == Some(thread_id.as_str())).then(|| {
                let post = ctx.post;
                let (org, id, pattern) = (ctx.org.clone(), ctx.id.clone(), ctx.pattern.clone());
                let to = thread_id.clone();
                let submit = Callback::new(move |body: String| {
                    post.dispatch(PostComment {
                        org: org.clone(),
                        id: id.clone(),
                        pattern: pattern.clone(),
                        body,
                        reply_to: Some(to.clone()),
                    });
                });
                let error = Signal::derive(move || body_error(&post.value().get()));
                view! {
                    <CommentForm
                        field_id=format!("reply-{thread_id}")
                        label="Reply".to_owned()
                        button="Reply".to_owned()
                        text=ctx.reply_draft
                        pending=post.pending().into()
                        error
                        hint=hint.clone()
                        submit
                        cancel=Some(Callback::new(move |()| replying.set(None)))
                    />
                }
            })
        }
    };
    let open_reply = {
        let thread_id = thread_id.clone();
        move |_| {
            ctx.reply_draft.set(String::new());
            replying.set(Some(thread_id.clone()));
        }
    };
    let label = match replies {
        0 => "Thread".to_owned(),
        1 => "Thread with 1 reply".to_owned(),
        n => format!("Thread with {n} replies"),
    };
    view! {
        <li class="thread" aria-label=label>
            <ol class="thread__comments">
                {thread.comments.into_iter().map(|c| view! { <Comment ctx=ctx.clone() comment=c /> }).collect_view()}
            </ol>
            {reply_form}
            {can_comment.then(|| view! {
                <button
                    type="button"
                    class="button button--small button--quiet"
                    on:click=open_reply
                    hidden=move || replying.get().is_some()
                >"Reply"</button>
            })}
        </li>
    }
}

#[component]
fn Comment(ctx: Ctx, comment: CommentView) -> impl IntoView {
    let when = format_date(comment.created_at_ms);
    let edited = comment.edited_at_ms.map(format_date);
    let author = comment
        .author
        .clone()
        .unwrap_or_else(|| "A former member".into());
    if comment.deleted {
        return view! {
            <li class="comment comment--deleted"><p class="muted">"This comment was deleted."</p></li>
        }
        .into_any();
    }
    let editing = ctx.editing;
    let cid = comment.id.clone();
    let is_editing = {
        let cid = cid.clone();
        move || editing.get().as_deref() == Some(cid.as_str())
    };
    let body = view! {
        <p class="comment__body">{render_parts(&comment.parts)}</p>
    };
    let edit_form = {
        let ctx = ctx.clone();
        let cid = cid.clone();
        move || {
            let edit = ctx.edit;
            let (org, id, comment) = (ctx.org.clone(), ctx.id.clone(), cid.clone());
            let submit = Callback::new(move |body: String| {
                edit.dispatch(EditComment {
                    org: org.clone(),
                    id: id.clone(),
                    comment: comment.clone(),
                    body,
                });
            });
            let error = Signal::derive(move || body_error(&edit.value().get()));
            view! {
                <CommentForm
                    field_id=format!("edit-{cid}")
                    label="Edit your comment".to_owned()
                    button="Save".to_owned()
                    text=ctx.edit_draft
                    pending=edit.pending().into()
                    error
                    hint="Ctrl+Enter saves.".to_owned()
                    submit
                    cancel=Some(Callback::new(move |()| editing.set(None)))
                />
            }
        }
    };
    let actions = {
        let ctx = ctx.clone();
        let raw = comment.body.clone();
        let cid = cid.clone();
        let (mine, can_delete) = (comment.mine, comment.can_delete);
        view! {
            <div class="comment__actions">
                {mine.then(|| {
                    let cid = cid.clone();
                    let raw = raw.clone();
                    view! {
                        <button type="button" class="button button--small button--quiet" on:click=move |_| {
                            ctx.edit_draft.set(raw.clone());
                            editing.set(Some(cid.clone()));
                        }>"Edit"</button>
                    }
                })}
                {can_delete.then(|| view! { <DeleteButton ctx=ctx.clone() comment=cid.clone() /> })}
            </div>
        }
    };
    let shown = {
        let cid = cid.clone();
        move || editing.get().as_deref() != Some(cid.as_str())
    };
    view! {
        <li class="comment" data-comment=cid>
            <p class="comment__meta">
                <strong>{author}</strong>
                " · "<time>{when}</time>
                {edited.map(|e| view! { <span class="muted" title=format!("edited {e}")>" · edited"</span> })}
            </p>
            <Show when=is_editing fallback=move || ()>
                {edit_form.clone()}
            </Show>
            <div hidden=move || !shown()>
                {body}
                {actions}
            </div>
        </li>
    }
    .into_any()
}

/// Delete, then "Delete this comment?" with Yes and Keep, so one stray keypress does not
/// delete.
#[component]
fn DeleteButton(ctx: Ctx, comment: String) -> impl IntoView {
    let asking = RwSignal::new(false);
    let delete = ctx.delete;
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! {
                <button type="button" class="button button--small button--quiet" on:click=move |_| asking.set(true)>"Delete"</button>
            }
        >
            {
                let (org, id, comment) = (ctx.org.clone(), ctx.id.clone(), comment.clone());
                view! {
                    <span role="group" aria-label="Confirm deletion">
                        "Delete this comment? "
                        <button type="button" class="button button--small button--danger" on:click=move |_| {
                            asking.set(false);
                            delete.dispatch(DeleteComment { org: org.clone(), id: id.clone(), comment: comment.clone() });
                        }>"Delete"</button>
                        " "
                        <button type="button" class="button button--small" on:click=move |_| asking.set(false)>"Keep"</button>
                    </span>
                }
            }
        </Show>
    }
}

fn render_parts(parts: &[BodyPart]) -> impl IntoView + use<> {
    parts
        .iter()
        .map(|p| match &p.mention {
            Some(email) => {
                view! { <mark class="mention" title=email.clone()>{p.text.clone()}</mark> }
                    .into_any()
            }
            None => p.text.clone().into_any(),
        })
        .collect_view()
}

/// A labelled comment box with its error, a submit button and, optionally, Cancel. Ctrl+Enter
/// (or Cmd+Enter) submits; Escape cancels.
#[component]
fn CommentForm(
    field_id: String,
    label: String,
    button: String,
    text: RwSignal<String>,
    pending: Signal<bool>,
    error: Signal<Option<String>>,
    hint: String,
    submit: Callback<String>,
    cancel: Option<Callback<()>>,
) -> impl IntoView {
    let note = format!("{field_id}-note");
    let send = move || {
        let body = text.get_untracked();
        if !body.trim().is_empty() && !pending.get_untracked() {
            submit.run(body);
        }
    };
    view! {
        <form class="comment-form" on:submit=move |ev| { ev.prevent_default(); send(); }>
            <label for=field_id.clone()>{label}</label>
            <textarea
                id=field_id
                class="input comment-form__text"
                name="body"
                rows="3"
                maxlength="10000"
                aria-describedby=note.clone()
                aria-invalid=move || error.get().is_some().to_string()
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                        ev.prevent_default();
                        send();
                    } else if ev.key() == "Escape" && let Some(cancel) = cancel {
                        cancel.run(());
                    }
                }
            ></textarea>
            <p id=note class=move || if error.get().is_some() { "field__help field__error" } else { "field__help" } role="status">
                {move || error.get().unwrap_or_else(|| hint.clone())}
            </p>
            <div class="comment-form__actions">
                <button type="submit" class="button button--primary button--small" disabled=move || pending.get()>{button}</button>
                {cancel.map(|c| view! {
                    <button type="button" class="button button--small" on:click=move |_| c.run(())>"Cancel"</button>
                })}
            </div>
        </form>
    }
}

/// `/orgs/:org/mentions`: the comments that mention you, newest first.
#[component]
pub fn MentionsPage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org").unwrap_or_default();
    let mentions = Resource::new(org, load_mentions);
    let read = ServerAction::<ReadMentions>::new();
    let session = use_session();
    Effect::new(move |_| {
        if matches!(read.value().get(), Some(Ok(()))) {
            mentions.refetch();
            session.changed();
        }
    });
    view! {
        <Title text="Mentions" />
        <RequireUser signed_in=move |_me: Me| view! {
            <div class="page-head">
                <h1>"Mentions"</h1>
            </div>
            <Transition fallback=|| view! { <Loading label="Loading your mentions" /> }>
                {move || Suspend::new(async move {
                    match mentions.await {
                        Ok(m) if m.items.is_empty() => view! {
                            <EmptyState title="No mentions yet" message="When a teammate writes @ and your name in a comment, it shows up here." />
                        }.into_any(),
                        Ok(m) => {
                            let unread = m.unread;
                            view! {
                                <div class="toolbar">
                                    <p class="muted" aria-live="polite">{match unread { 0 => "All read.".to_owned(), 1 => "1 unread".to_owned(), n => format!("{n} unread") }}</p>
                                    {(unread > 0).then(|| view! {
                                        <button type="button" class="button button--small" disabled=move || read.pending().get()
                                            on:click=move |_| { read.dispatch(ReadMentions { org: org() }); }>"Mark all read"</button>
                                    })}
                                </div>
                                <ul class="mentions">
                                    {m.items.into_iter().map(|item| view! { <Mention org=org() item /> }).collect_view()}
                                </ul>
                            }.into_any()
                        }
                        Err(e) => view! { <ErrorNotice title="Your mentions could not be loaded" message=e.message /> }.into_any(),
                    }
                })}
            </Transition>
        } />
    }
}

#[component]
fn Mention(org: String, item: MentionView) -> impl IntoView {
    let href = format!(
        "/orgs/{org}/analyses/{}/patterns/{}#discussion-title",
        item.analysis_id, item.pattern_id
    );
    let who = item.author.unwrap_or_else(|| "A former member".into());
    view! {
        <li class=if item.read { "mention-item" } else { "mention-item mention-item--unread" }>
            <p class="comment__meta">
                {(!item.read).then(|| view! { <span class="badge badge--info">"new"</span>" " })}
                <strong>{who}</strong>" on "
                <A href=href>{format!("{} › {}", item.analysis_name, item.pattern_id)}</A>
                " · "<time>{format_date(item.created_at_ms)}</time>
            </p>
            <p class="comment__body">{item.excerpt}</p>
        </li>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;

    use crate::api::account::urlencode;

    /// Refetches the discussion whenever the server says one of its comments changed.
    pub fn follow(org: &str, id: &str, pattern: &str, refetch: Callback<()>) {
        let url = format!(
            "/api/v1/analyses/{}/comments/events?org={}&pattern={}",
            urlencode(id),
            urlencode(org),
            urlencode(pattern)
        );
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            refetch.run(());
        });
        for event in ["comment", "resync"] {
            let _ =
                source.add_event_listener_with_callback(event, on_change.as_ref().unchecked_ref());
        }
        // The listener lives as long as the page; the stream closes when the page goes.
        on_change.forget();
        let closing = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || closing.close());
    }
}

#[cfg(test)]
mod tests {
    use super::mention_hint;

    #[test]
    fn the_hint_names_a_few_handles() {
        assert_eq!(mention_hint(&[]), "Ctrl+Enter posts.");
        let handles: Vec<String> = (0..10).map(|i| format!("@u{i}")).collect();
        let hint = mention_hint(&handles);
        assert!(
            hint.starts_with("Mention teammates with @u0, @u1"),
            "{hint}"
        );
        assert!(hint.contains("@u7 and 2 more."), "{hint}");
    }
}
