//! The organisation page's team prompts: each team's system, analysis and test prompts, edited
//! as new versions, with their history and a preview of what a task would send for the latest
//! analysis.

use leptos::prelude::*;

use crate::api::ai::{
    AiTask, EditorPreview, LoadTeamPrompts, PreviewTeamPrompts, PromptKind, PromptsEditor,
    SaveTeamPrompt, TeamPrompt,
};
use crate::api::error::{ApiError, form_error};
use crate::api::orgs::TeamView;
use crate::components::form::FormError;
use crate::components::ui::{Card, ErrorNotice, Loading};
use crate::pages::orgs::on_success;
use crate::pages::status::format_date;

/// Picks a team and opens its prompts.
#[component]
pub fn PromptsCard(org: String, teams: Vec<TeamView>) -> impl IntoView {
    let load = ServerAction::<LoadTeamPrompts>::new();
    let pending = load.pending();
    let team = RwSignal::new(teams.first().map(|t| t.id.clone()).unwrap_or_default());
    // Texts edited and not saved yet, by kind: they outlive the reload after another prompt of
    // the same team is saved.
    let edits = RwSignal::new(Vec::<(PromptKind, String)>::new());
    let reload = {
        let org = org.clone();
        move |team: String| {
            load.dispatch(LoadTeamPrompts {
                org: org.clone(),
                team,
            });
        }
    };
    let open = {
        let reload = reload.clone();
        move || {
            edits.set(Vec::new());
            reload(team.get_untracked());
        }
    };
    let body = if teams.is_empty() {
        view! { <p class="muted" data-testid="prompts-no-teams">"Prompts belong to teams: create a team first."</p> }.into_any()
    } else {
        let open_click = open.clone();
        view! {
            <div class="form form--inline">
                <div class="field">
                    <label for="prompts-team">"Team"</label>
                    <select id="prompts-team" class="input" on:change=move |ev| team.set(event_target_value(&ev))>
                        {teams.into_iter().map(|t| view! { <option value=t.id.clone()>{t.name.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <button class="button" type="button" data-testid="open-prompts" on:click=move |_| open_click() disabled=pending>"Edit prompts"</button>
            </div>
            {move || pending.get().then(|| view! { <Loading label="Loading the prompts" /> })}
            {move || match load.value().get() {
                Some(Ok(editor)) => view! { <Editor org=org.clone() editor edits reload=reload.clone() /> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice title="The prompts could not be loaded" message=e.message /> }.into_any(),
                None => ().into_any(),
            }}
        }
        .into_any()
    };
    view! {
        <Card title="Team prompts" subtitle="A team's own system, analysis and test prompts, kept as versions. Explanations, fixes, summaries and tests use them when asked with the team; the task's own rules on shape and length always follow.">
            {body}
        </Card>
    }
}

/// What a prompt is now: its text in use.
fn in_use(prompt: &TeamPrompt) -> String {
    prompt
        .current
        .as_ref()
        .map(|v| v.body.clone())
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| prompt.built_in.clone())
}

/// The three prompts of one team, each editable, with history and a preview.
#[component]
fn Editor(
    org: String,
    editor: PromptsEditor,
    edits: RwSignal<Vec<(PromptKind, String)>>,
    reload: impl Fn(String) + Clone + Send + Sync + 'static,
) -> impl IntoView {
    let save = ServerAction::<SaveTeamPrompt>::new();
    let preview = ServerAction::<PreviewTeamPrompts>::new();
    let team = editor.prompts.team_id.clone();
    // Which prompt the last save was for.
    let saving = RwSignal::new(None::<PromptKind>);
    {
        // The saved prompt's edit is done; the others stay as typed.
        let team = team.clone();
        on_success(save, "Prompt saved as a new version.", move || {
            if let Some(kind) = saving.get_untracked() {
                edits.update(|e| e.retain(|(k, _)| *k != kind));
            }
            reload(team.clone());
        });
    }
    let saved = save.value();
    // The texts being edited, by kind: an unsaved edit, else what is in use.
    let drafts: Vec<(TeamPrompt, RwSignal<String>)> = editor
        .prompts
        .prompts
        .iter()
        .map(|p| {
            let edited = edits.with_untracked(|e| {
                e.iter()
                    .find(|(k, _)| *k == p.kind)
                    .map(|(_, text)| text.clone())
            });
            (
                p.clone(),
                RwSignal::new(edited.unwrap_or_else(|| in_use(p))),
            )
        })
        .collect();
    let sections = drafts
        .iter()
        .zip(editor.history.iter())
        .map(|((prompt, text), history)| {
            let text = *text;
            let kind = prompt.kind;
            let id = format!("prompt-{}", kind.as_str());
            let status = match &prompt.current {
                Some(v) if v.body.trim().is_empty() => format!(
                    "Built-in, since version {} ({}, {})",
                    v.version,
                    v.author,
                    format_date(v.created_at_ms)
                ),
                Some(v) => format!(
                    "Version {} by {}, {}",
                    v.version,
                    v.author,
                    format_date(v.created_at_ms)
                ),
                None => "Built-in (no version saved)".to_owned(),
            };
            let next = prompt.current.as_ref().map_or(1, |v| v.version + 1);
            let variables = prompt
                .variables
                .iter()
                .map(|v| view! { <li><code>{format!("{{{{{}}}}}", v.name)}</code>" — "{v.meaning.clone()}</li> })
                .collect_view();
            let versions = history
                .iter()
                .map(|v| {
                    let body = v.body.clone();
                    let label = if body.trim().is_empty() {
                        "(back to the built-in prompt)".to_owned()
                    } else {
                        crate::format::short(&body, 80)
                    };
                    view! {
                        <li>
                            {format!("Version {} · {} · {} — ", v.version, v.author, format_date(v.created_at_ms))}
                            <span class="muted">{label}</span>" "
                            <button class="button button--small" type="button" on:click=move |_| text.set(body.clone())>"Use this text"</button>
                        </li>
                    }
                })
                .collect_view();
            let count = history.len();
            let (org, team) = (org.clone(), team.clone());
            let submit = move |_| {
                saving.set(Some(kind));
                save.dispatch(SaveTeamPrompt {
                    org: org.clone(),
                    team: team.clone(),
                    kind: kind.as_str().to_owned(),
                    body: text.get_untracked(),
                });
            };
            let placeholder = if prompt.built_in.is_empty() {
                "Nothing: each task's own instructions only".to_owned()
            } else {
                prompt.built_in.clone()
            };
            view! {
                <section class="prompt-editor" data-testid=format!("prompt-{}", kind.as_str())>
                    <h3>{kind.label()}</h3>
                    <p class="muted">{status}</p>
                    <div class="field">
                        <label for=id.clone() class="visually-hidden">{kind.label()}</label>
                        <textarea id=id class="input code-input" rows="6" placeholder=placeholder
                            prop:value=move || text.get() on:input=move |ev| {
                                let typed = event_target_value(&ev);
                                edits.update(|e| {
                                    e.retain(|(k, _)| *k != kind);
                                    e.push((kind, typed.clone()));
                                });
                                text.set(typed);
                            }></textarea>
                    </div>
                    <details>
                        <summary>"Variables"</summary>
                        <ul class="plain-list">{variables}</ul>
                    </details>
                    {(count > 0).then(|| view! {
                        <details>
                            <summary>{format!("History ({count} version{})", if count == 1 { "" } else { "s" })}</summary>
                            <ul class="plain-list">{versions}</ul>
                        </details>
                    })}
                    <p>
                        <button class="button" type="button" data-testid=format!("save-prompt-{}", kind.as_str()) on:click=submit disabled=save.pending()>
                            {format!("Save as version {next}")}
                        </button>
                        <span class="muted">" Empty text goes back to the built-in prompt."</span>
                    </p>
                </section>
            }
        })
        .collect_view();
    let task = RwSignal::new("explain".to_owned());
    let run_preview = {
        let (org, team) = (org.clone(), editor.prompts.team_id.clone());
        let drafts = drafts.clone();
        move |_| {
            // Only what differs from the text in use is a draft; the rest is as saved.
            let draft = |kind: PromptKind| {
                drafts
                    .iter()
                    .find(|(p, _)| p.kind == kind)
                    .map(|(p, text)| (in_use(p), text.get_untracked()))
                    .filter(|(used, text)| text.trim() != used.trim())
                    // A blank draft means the built-in prompt; it is sent as one space, since
                    // an empty form value would read as no draft at all.
                    .map(|(_, text)| {
                        if text.trim().is_empty() {
                            " ".to_owned()
                        } else {
                            text
                        }
                    })
            };
            preview.dispatch(PreviewTeamPrompts {
                org: org.clone(),
                team: team.clone(),
                task: task.get_untracked(),
                system: draft(PromptKind::System),
                analysis: draft(PromptKind::Analysis),
                test: draft(PromptKind::Test),
            });
        }
    };
    let previewing = preview.pending();
    view! {
        <div data-testid="prompts-editor">
            <h3 class="visually-hidden">{format!("Prompts of {}", editor.prompts.team)}</h3>
            {sections}
            <FormError message=Signal::derive(move || form_error(&saved.get())) />
            <section class="prompt-editor">
                <h3>"Preview"</h3>
                <p class="muted">"What a task would send, with the texts above, for the organisation's latest analysis (and its riskiest pattern), after redaction. Nothing is sent."</p>
                <div class="form form--inline">
                    <div class="field">
                        <label for="preview-task">"Task"</label>
                        <select id="preview-task" class="input" on:change=move |ev| task.set(event_target_value(&ev))>
                            {[AiTask::Explain, AiTask::Recommend, AiTask::Summary, AiTask::Tests].into_iter().map(|t| view! {
                                <option value=t.as_str()>{match t {
                                    AiTask::Explain => "Explain a pattern",
                                    AiTask::Recommend => "Suggest fixes",
                                    AiTask::Summary => "Summarise the analysis",
                                    AiTask::Tests => "Write tests",
                                }}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <button class="button" type="button" data-testid="preview-prompts" on:click=run_preview disabled=previewing>"Preview"</button>
                </div>
                {move || previewing.get().then(|| view! { <Loading label="Building the preview" /> })}
                {move || match preview.value().get() {
                    Some(Ok(shown)) => view! { <Preview shown /> }.into_any(),
                    Some(Err(e)) => preview_error(e),
                    None => ().into_any(),
                }}
            </section>
        </div>
    }
}

fn preview_error(e: ApiError) -> AnyView {
    view! { <ErrorNotice title="No preview" message=e.message /> }.into_any()
}

#[component]
fn Preview(shown: EditorPreview) -> impl IntoView {
    let about = match &shown.pattern {
        Some(p) => format!("{}, pattern {p}", shown.analysis),
        None => shown.analysis.clone(),
    };
    view! {
        <div data-testid="prompt-preview">
            <p class="muted">{format!("For {about} · {}", shown.preview.sources.join(" · "))}</p>
            <h4>"System prompt"</h4>
            <pre class="code streaming-text" tabindex="0">{shown.preview.system}</pre>
            <h4>"Prompt"</h4>
            <pre class="code streaming-text" tabindex="0">{shown.preview.prompt}</pre>
        </div>
    }
}
