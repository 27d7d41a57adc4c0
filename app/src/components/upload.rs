//! Getting files in: a drop zone (or file picker) that streams each file to
//! `/api/v1/uploads` with a progress bar per file, then starts one analysis of them all and
//! opens it; and the live progress of an analysis, pushed by the server as events.

use leptos::prelude::*;

use super::ui::{Badge, ProgressBar, Tone};
use crate::api::analyses::{LiveState, UploadLimits};
use crate::api::history::Project;
use crate::format::{binary_size, size, thousands};

/// Where one file of a drop is.
#[derive(Clone, Debug, PartialEq)]
pub struct FileUpload {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: f64,
    /// Bytes sent so far.
    pub sent: f64,
    /// What happened.
    pub state: UploadState,
}

/// The state of one file's upload.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadState {
    /// Waiting for the files before it.
    Waiting,
    /// On its way.
    Sending,
    /// Stored; `true` when the organisation already had the same content.
    Stored(bool),
    /// Refused or interrupted, with the server's message.
    Failed(String),
}

/// The drop zone for organisation `org`, which refuses files over `limits` before sending them
/// and files the analysis under one of `projects` (`project` chosen at first).
#[component]
pub fn UploadPanel(
    #[prop(into)] org: String,
    limits: UploadLimits,
    projects: Vec<Project>,
    project: String,
) -> impl IntoView {
    let files = RwSignal::new(Vec::<FileUpload>::new());
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let project = RwSignal::new(project);
    let navigate = leptos_router::hooks::use_navigate();
    #[cfg(feature = "hydrate")]
    let start = {
        let org = org.clone();
        move |list: Option<web_sys::FileList>| {
            let Some(list) = list else { return };
            if busy.get_untracked() || list.length() == 0 {
                return;
            }
            let target = client::Target {
                org: org.clone(),
                limits,
                name: name.get_untracked(),
                project: project.get_untracked(),
            };
            client::start(target, list, files, busy, problem, navigate.clone());
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = (&org, &navigate);
    #[cfg(feature = "hydrate")]
    let pick = start.clone();
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        start(ev.data_transfer().and_then(|d| d.files()));
    };
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let input = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
            pick(input.as_ref().and_then(|i| i.files()));
            if let Some(input) = input {
                input.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &ev;
    };
    view! {
        <section class="card upload" aria-labelledby="upload-title">
            <header class="card__header">
                <h2 class="card__title" id="upload-title">"Analyse logs"</h2>
                <p class="card__subtitle">"Text, JSON lines or gzip; several files make one analysis."</p>
                <p class="card__subtitle" data-testid="upload-limits">{format!(
                    "Up to {} per file · {} of {} storage used",
                    binary_size(limits.max_file_bytes),
                    binary_size(limits.used_bytes),
                    binary_size(limits.quota_bytes),
                )}</p>
            </header>
            <div class="card__body">
                <label class="field">
                    <span class="field__label">"Name (optional)"</span>
                    <input class="input" placeholder="The first file's name" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                {(!projects.is_empty()).then(|| {
                    let chosen = project.get_untracked();
                    view! {
                        <label class="field">
                            <span class="field__label">"Project"</span>
                            <select class="input" data-testid="upload-project" on:change=move |ev| project.set(event_target_value(&ev))>
                                <option value="" selected=chosen.is_empty()>"None"</option>
                                {projects.into_iter().map(|p| {
                                    let selected = p.id == chosen;
                                    view! { <option value=p.id selected=selected>{p.name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }
                })}
                <label
                    class="dropzone"
                    class:dropzone--active=dragging
                    class:dropzone--busy=busy
                    data-testid="dropzone"
                    on:dragenter=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                    on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                    on:dragleave=move |_| dragging.set(false)
                    on:drop=on_drop
                >
                    <svg class="dropzone__icon" viewBox="0 0 24 24" aria-hidden="true">
                        <path d="M12 16V4m0 0-4 4m4-4 4 4M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3" />
                    </svg>
                    <strong>"Drop log files here"</strong>
                    <span>"or press to choose them"</span>
                    <input class="dropzone__input" type="file" multiple accept=".log,.txt,.json,.jsonl,.ndjson,.gz,text/*,application/json,application/gzip" disabled=busy on:change=on_pick />
                </label>
                <ul class="upload-list" aria-live="polite">
                    <For each=move || files.get().into_iter().enumerate() key=|(i, f)| (*i, f.name.clone()) let:entry>
                        <UploadRow index=entry.0 files=files />
                    </For>
                </ul>
                {move || problem.get().map(|m| view! { <div class="notice notice--danger" role="alert"><p>{m}</p></div> })}
            </div>
        </section>
    }
}

#[component]
fn UploadRow(index: usize, files: RwSignal<Vec<FileUpload>>) -> impl IntoView {
    let file = move || {
        files.with(|f| f.get(index).cloned()).unwrap_or(FileUpload {
            name: String::new(),
            size: 0.0,
            sent: 0.0,
            state: UploadState::Waiting,
        })
    };
    let percent = Signal::derive(move || {
        let f = file();
        match f.state {
            UploadState::Stored(_) => 100.0,
            _ if f.size > 0.0 => f.sent / f.size * 100.0,
            _ => 0.0,
        }
    });
    view! {
        <li class="upload-list__item" data-testid="upload-row">
            <ProgressBar label=file().name value=percent />
            <span class="upload-list__state">
                {move || match file().state {
                    UploadState::Waiting => view! { <Badge tone=Tone::Neutral label="waiting" /> }.into_any(),
                    UploadState::Sending => view! { <Badge tone=Tone::Info label=format!("sending · {}", size(file().size)) /> }.into_any(),
                    UploadState::Stored(false) => view! { <Badge tone=Tone::Ok label="uploaded" /> }.into_any(),
                    UploadState::Stored(true) => view! { <Badge tone=Tone::Ok label="already uploaded" /> }.into_any(),
                    // The reason is shown once, under the list.
                    UploadState::Failed(_) => view! { <Badge tone=Tone::Danger label="refused" /> }.into_any(),
                }}
            </span>
        </li>
    }
}

/// The stages as shown, with the status names that mean each is under way.
const STAGES: [(&str, &str); 6] = [
    ("queued", "Queued"),
    ("reading", "Reading"),
    ("mining", "Mining patterns"),
    ("correlating", "Correlating"),
    ("generating_tests", "Generating tests"),
    ("done", "Done"),
];

/// An analysis' progress, live: stages, a bar and counts, updated as the server pushes
/// events; `on_final` runs once it ends.
#[component]
pub fn LiveProgress(
    #[prop(into)] org: String,
    initial: LiveState,
    on_final: Callback<()>,
) -> impl IntoView {
    let state = RwSignal::new(initial.clone());
    #[cfg(feature = "hydrate")]
    if !initial.is_final() {
        client::follow(org.clone(), initial.id.clone(), state, on_final);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&org, &on_final);
    let percent = Signal::derive(move || state.with(|s| s.progress.percent));
    let current = move || {
        let s = state.get();
        let stage = if s.status == "running" && s.progress.stage == "queued" {
            "reading".to_owned()
        } else {
            s.progress.stage.clone()
        };
        STAGES.iter().position(|(key, _)| *key == stage)
    };
    view! {
        <div class="live" data-testid="live-progress">
            <ol class="stages">
                <li class="stages__item stages__item--done">"Uploaded"</li>
                {STAGES.iter().enumerate().map(|(i, (_, label))| {
                    let class = move || match current() {
                        Some(c) if i < c => "stages__item stages__item--done",
                        Some(c) if i == c => "stages__item stages__item--current",
                        _ => "stages__item",
                    };
                    view! { <li class=class aria-current=move || (current() == Some(i)).then_some("step")>{*label}</li> }
                }).collect_view()}
            </ol>
            <ProgressBar label="Analysis" value=percent />
            <p class="live__counts" role="status" aria-live="polite" data-testid="live-status">
                {move || {
                    let s = state.get();
                    let p = &s.progress;
                    match s.status.as_str() {
                        "queued" => "Waiting for a worker…".to_owned(),
                        "done" => "Done.".to_owned(),
                        "failed" => format!("Failed: {}", s.error.clone().unwrap_or_default()),
                        "cancelled" => "Cancelled.".to_owned(),
                        "deleted" => "This analysis was deleted.".to_owned(),
                        "generating_tests" => format!("{} events · {} patterns · writing tests for the error patterns", thousands(p.events), thousands(p.patterns)),
                        _ => {
                            let mut text = format!("{} lines · {} events · {} patterns", thousands(p.lines), thousands(p.events), thousands(p.patterns));
                            if p.bytes_total > 0 {
                                text.push_str(&format!(" · {} of {}", size(p.bytes_read as f64), size(p.bytes_total as f64)));
                            }
                            text
                        }
                    }
                }}
            </p>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::RefCell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;

    use super::{FileUpload, UploadState};
    use crate::api::account::urlencode;
    use crate::api::analyses::{LiveState, UploadLimits, start_analysis};

    /// Where dropped files go.
    pub struct Target {
        /// The organisation.
        pub org: String,
        /// Its limits, checked before anything is sent.
        pub limits: UploadLimits,
        /// The analysis' name (empty: the first file's).
        pub name: String,
        /// The project to file it under (empty: none).
        pub project: String,
    }

    /// Uploads every file of `list` in turn, then starts the analysis and opens it.
    pub fn start(
        Target {
            org,
            limits,
            name,
            project,
        }: Target,
        list: web_sys::FileList,
        files: RwSignal<Vec<FileUpload>>,
        busy: RwSignal<bool>,
        problem: RwSignal<Option<String>>,
        navigate: impl Fn(&str, leptos_router::NavigateOptions) + Clone + 'static,
    ) {
        let chosen: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        files.set(
            chosen
                .iter()
                .map(|f| FileUpload {
                    name: f.name(),
                    size: f.size(),
                    sent: 0.0,
                    state: UploadState::Waiting,
                })
                .collect(),
        );
        problem.set(None);
        let sizes: Vec<u64> = chosen.iter().map(|f| f.size() as u64).collect();
        if let Some((index, message)) = limits.refuse(&sizes) {
            files.update(|f| f[index].state = UploadState::Failed(message.clone()));
            problem.set(Some(format!(
                "{} was not uploaded, so no analysis was started: {message}",
                chosen[index].name()
            )));
            return;
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let mut ids = Vec::new();
            for (index, file) in chosen.iter().enumerate() {
                files.update(|f| f[index].state = UploadState::Sending);
                match send(&org, file, index, files).await {
                    Ok((id, duplicate)) => {
                        files.update(|f| f[index].state = UploadState::Stored(duplicate));
                        ids.push(id);
                    }
                    Err(message) => {
                        files.update(|f| f[index].state = UploadState::Failed(message.clone()));
                        problem.set(Some(format!(
                            "{} was not uploaded, so no analysis was started: {message}",
                            file.name()
                        )));
                        busy.set(false);
                        return;
                    }
                }
            }
            let name = (!name.trim().is_empty()).then_some(name);
            let project = (!project.is_empty()).then_some(project);
            match start_analysis(org.clone(), ids, name, project).await {
                Ok(id) => navigate(&format!("/orgs/{org}/analyses/{id}"), Default::default()),
                Err(e) => {
                    problem.set(Some(format!(
                        "The analysis could not be started: {}",
                        e.message
                    )));
                    busy.set(false);
                }
            }
        });
    }

    /// Streams one file to the API with XMLHttpRequest (fetch cannot report upload progress);
    /// answers its upload id and whether it was a duplicate, or the server's message.
    async fn send(
        org: &str,
        file: &web_sys::File,
        index: usize,
        files: RwSignal<Vec<FileUpload>>,
    ) -> Result<(String, bool), String> {
        let failed = |_| "The browser could not send the file.".to_owned();
        let xhr = web_sys::XmlHttpRequest::new().map_err(failed)?;
        let url = format!(
            "/api/v1/uploads?org={}&name={}",
            urlencode(org),
            urlencode(&file.name())
        );
        xhr.open_with_async("POST", &url, true).map_err(failed)?;
        xhr.set_request_header("Content-Type", "application/octet-stream")
            .map_err(failed)?;
        let on_progress =
            Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
                files.update(|f| {
                    if let Some(f) = f.get_mut(index) {
                        f.sent = e.loaded();
                    }
                });
            });
        if let Ok(upload) = xhr.upload() {
            upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
        }
        let (done, answer) = futures::channel::oneshot::channel::<()>();
        let done = Rc::new(RefCell::new(Some(done)));
        let finish = {
            let done = done.clone();
            Closure::<dyn FnMut()>::new(move || {
                if let Some(done) = done.borrow_mut().take() {
                    let _ = done.send(());
                }
            })
        };
        xhr.set_onloadend(Some(finish.as_ref().unchecked_ref()));
        xhr.send_with_opt_blob(Some(file)).map_err(failed)?;
        let _ = answer.await;
        drop((on_progress, finish));
        let status = xhr.status().unwrap_or(0);
        let text = xhr.response_text().ok().flatten().unwrap_or_default();
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if (200..300).contains(&status) {
            let id = body["id"].as_str().unwrap_or_default().to_owned();
            Ok((id, body["duplicate"] == true))
        } else if status == 0 {
            Err("The connection was lost during the upload.".into())
        } else {
            Err(body["error"]["message"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("The server answered {status}.")))
        }
    }

    /// Follows an analysis' event stream into `state` until it ends.
    pub fn follow(org: String, id: String, state: RwSignal<LiveState>, on_final: Callback<()>) {
        let url = format!(
            "/api/v1/analyses/{}/events?org={}",
            urlencode(&id),
            urlencode(&org)
        );
        let Ok(source) = web_sys::EventSource::new(&url) else {
            return;
        };
        let source = Rc::new(source);
        let on_state = {
            let source = source.clone();
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(data) = e.data().as_string() else {
                    return;
                };
                let Ok(next) = serde_json::from_str::<LiveState>(&data) else {
                    return;
                };
                let ended = next.is_final();
                state.set(next);
                if ended {
                    source.close();
                    on_final.run(());
                }
            })
        };
        let on_deleted = {
            let source = source.clone();
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_: web_sys::MessageEvent| {
                source.close();
                state.update(|s| s.status = "deleted".into());
            })
        };
        let _ = source.add_event_listener_with_callback("state", on_state.as_ref().unchecked_ref());
        let _ =
            source.add_event_listener_with_callback("deleted", on_deleted.as_ref().unchecked_ref());
        // The listeners live as long as the page; the stream closes when the analysis ends,
        // is deleted, or the page goes away.
        on_state.forget();
        on_deleted.forget();
        let closing = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || closing.close());
    }
}
