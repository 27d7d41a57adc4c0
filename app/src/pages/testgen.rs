//! `/orgs/:org/analyses/:id/tests`: regression tests generated from an analysis. Pick a test
//! type and framework (the type filters the frameworks), see coverage of the error patterns and
//! each file's validation, read any file highlighted, copy or download it, download the whole
//! suite or the manual cases, and keep preferences and project context for next time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::account::{Me, urlencode};
use crate::api::error::form_error;
use crate::api::orgs::load_org_admin;
use crate::api::testgen::{
    CiSystem, DeleteTestTemplate, FILE_VARIABLES, FileKind, Framework, GeneratedFile,
    PreviewTestTemplate, RunReport, RunTests, SaveTestSettings, SaveTestTemplate, StoredSettings,
    Suite, TEST_VARIABLES, TemplateInput, TestTemplate, TestType, TestsQuery, list_test_templates,
    load_test_settings, load_tests,
};
use crate::components::form::{FormError, QueryForm, field};
use crate::components::ui::{Badge, Card, EmptyState, ErrorNotice, Loading, ProgressBar, Tone};
use crate::format::thousands;
use crate::highlight;
use crate::pages::account::RequireUser;

/// `/orgs/:org/analyses/:id/tests`.
#[component]
pub fn TestsPage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org").unwrap_or_default();
    let id = move || params.read().get("id").unwrap_or_default();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let map = query_map.read();
        TestsQuery {
            framework: map.get("framework").unwrap_or_default(),
            kind: map.get("type").unwrap_or_default(),
            ci: map.get("ci").unwrap_or_default(),
            template: map.get("template").unwrap_or_default(),
            team: map.get("team").unwrap_or_default(),
        }
    });
    let file = Memo::new(move |_| query_map.read().get("file"));
    let suite = Resource::new(
        move || (org(), id(), query.get()),
        |(org, id, query)| load_tests(org, id, query),
    );
    let settings = Resource::new(org, load_test_settings);
    // Saving or deleting a template lists them again.
    let templates_changed = RwSignal::new(0u32);
    let templates = Resource::new(
        move || (org(), templates_changed.get()),
        |(org, _)| list_test_templates(org),
    );
    let admin = Resource::new(org, load_org_admin);
    view! {
        <Title text="Regression tests" />
        <RequireUser signed_in=move |_me: Me| view! {
            <p class="breadcrumb">
                <A href=move || format!("/orgs/{}/analyses", org())>"Analyses"</A>" › "
                <A href=move || format!("/orgs/{}/analyses/{}", org(), id())>"Analysis"</A>" › Tests"
            </p>
            <h1>"Regression tests"</h1>
            <Transition fallback=|| view! { <Loading label="Generating tests" /> }>
                {move || Suspend::new(async move {
                    let listed = templates.await.unwrap_or_default();
                    let teams: Vec<(String, String)> = admin
                        .await
                        .map(|page| page.teams.iter().map(|t| (t.id.clone(), t.name.clone())).collect())
                        .unwrap_or_default();
                    match suite.await {
                        Ok(s) => view! { <SuiteView org=org() id=id() query=query.get_untracked() file suite=s templates=listed teams /> }.into_any(),
                        Err(e) if e.status == 404 => view! {
                            <EmptyState title="This analysis is not available" message="It was deleted, belongs to another organisation, or is not shared with you." />
                        }.into_any(),
                        Err(e) if e.status == 409 => view! {
                            <EmptyState title="The analysis has not finished" message="Tests are generated from a finished analysis. Follow its progress and come back when it is done.">
                                <p><A href=format!("/orgs/{}/analyses/{}", org(), id())>"Back to the analysis"</A></p>
                            </EmptyState>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice title="The tests could not be generated" message=e.message /> }.into_any(),
                    }
                })}
            </Transition>
            <Suspense fallback=|| view! { <Loading label="Loading your settings" /> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Ok(stored) => view! { <SettingsCard org=org() stored /> }.into_any(),
                        Err(e) => view! { <ErrorNotice title="Your settings could not be read" message=e.message /> }.into_any(),
                    }
                })}
            </Suspense>
            <Suspense fallback=|| view! { <Loading label="Loading the team templates" /> }>
                {move || Suspend::new(async move {
                    let teams: Vec<(String, String)> = match admin.await {
                        Ok(page) if page.org.can("manage_team") => page.teams.iter().map(|t| (t.id.clone(), t.name.clone())).collect(),
                        _ => Vec::new(),
                    };
                    view! { <TemplatesCard org=org() id=id() templates teams changed=templates_changed /> }
                })}
            </Suspense>
        } />
    }
}

/// The page's own URL with `query` (and a file to show).
fn page_href(org: &str, id: &str, query: &TestsQuery, file: Option<&str>) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("framework", &query.framework),
        ("type", &query.kind),
        ("ci", &query.ci),
        ("template", &query.template),
        ("team", &query.team),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    if let Some(file) = file {
        parts.push(format!("file={}", urlencode(file)));
    }
    let base = format!("/orgs/{org}/analyses/{id}/tests");
    if parts.is_empty() {
        base
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

#[component]
fn SuiteView(
    org: String,
    id: String,
    query: TestsQuery,
    file: Memo<Option<String>>,
    suite: Suite,
    templates: Vec<TestTemplate>,
    /// The organisation's teams, whose saved settings may be generated with.
    teams: Vec<(String, String)>,
) -> impl IntoView {
    // What was generated, so the links below ask for exactly this suite.
    let chosen = TestsQuery {
        framework: suite.framework.as_str().into(),
        kind: query.kind.clone(),
        ci: query.ci.clone(),
        template: query.template.clone(),
        team: query.team.clone(),
    };
    let api = format!("/api/v1/analyses/{}", urlencode(&id));
    let zip = format!("{api}/tests.zip{}", chosen.to_query_string(&org));
    let manual = |ext: &str| format!("{api}/manual-tests.{ext}{}", chosen.to_query_string(&org));
    // The file shown follows the URL without generating the suite again.
    let files = StoredValue::new(suite.files.clone());
    let selected = Memo::new(move |_| {
        let wanted = file.get();
        files.with_value(|files| {
            wanted
                .as_deref()
                .and_then(|w| files.iter().find(|x| x.path == w))
                .or_else(|| files.iter().find(|f| f.kind == FileKind::Test))
                .or_else(|| files.first())
                .cloned()
        })
    });
    let selected_path = Memo::new(move |_| selected.get().map(|f| f.path));
    let coverage = suite.coverage.clone();
    let valid = suite.valid_files == suite.checked_files;
    let notes = suite
        .notes
        .iter()
        .map(|n| view! { <li>{n.clone()}</li> })
        .collect_view();
    let has_notes = !suite.notes.is_empty();
    let ratio = coverage.ratio * 100.0;
    let summary = format!("{} in {} files", suite.framework.label(), suite.files.len());
    let validity = format!(
        "{} of {} checked files parse and pass the framework's rules",
        suite.valid_files, suite.checked_files
    );
    let tests = thousands(u64::from(suite.tests));
    view! {
        <Chooser org=org.clone() id=id.clone() query=chosen.clone() templates teams />
        <div class="stat-grid" data-testid="tests-summary">
            <div class="stat">
                <span class="stat__label">"Tests"</span>
                <span class="stat__value">{tests}</span>
                <span class="muted">{summary}</span>
            </div>
            <div class="stat">
                <span class="stat__label">"Validation"</span>
                <span><Badge tone=if valid { Tone::Ok } else { Tone::Danger } label=if valid { "all valid" } else { "errors" } /></span>
                <span class="muted">{validity}</span>
            </div>
            <div class="stat">
                <span class="stat__label">"Coverage"</span>
                <ProgressBar label="Error patterns with tests" value=Signal::derive(move || ratio) />
                <span class="muted" data-testid="coverage-count">{format!("{} of {} error patterns", coverage.covered, coverage.error_patterns)}</span>
            </div>
        </div>
        {has_notes.then(|| view! { <div class="notice notice--info"><ul>{notes}</ul></div> })}
        <p class="downloads">
            <a class="button button--primary" href=zip download="">"Download the suite (ZIP)"</a>" "
            <a class="button" href=manual("csv") download="">"Manual cases (CSV)"</a>" "
            <a class="button" href=manual("md") download="">"Manual cases (Markdown)"</a>
        </p>
        {suite.framework.runs_in_sandbox().then(|| view! {
            <RunCard org=org.clone() id=id.clone() framework=suite.framework kind=chosen.kind.clone() />
        })}
        <Uncovered org=org.clone() id=id.clone() suite=suite.clone() />
        <Files org=org.clone() id=id.clone() query=chosen.clone() suite=suite.clone() selected=selected_path />
        {move || selected.get().map(|f| view! { <CodeView file=f /> })}
    }
}

/// The type, framework and CI selectors; choosing a type narrows the frameworks at once.
#[component]
fn Chooser(
    org: String,
    id: String,
    query: TestsQuery,
    templates: Vec<TestTemplate>,
    teams: Vec<(String, String)>,
) -> impl IntoView {
    let chosen_team = query.team.clone();
    let for_framework: Vec<TestTemplate> = templates
        .into_iter()
        .filter(|t| t.framework.as_str() == query.framework)
        .collect();
    let chosen_template = query.template.clone();
    let kind = RwSignal::new(query.kind.clone());
    let current = query.framework.clone();
    let frameworks = move || {
        let offered = TestType::parse(&kind.get())
            .map_or_else(|| Framework::ALL.to_vec(), TestType::frameworks);
        let current = current.clone();
        offered
            .into_iter()
            .map(|f| view! { <option value=f.as_str() selected=f.as_str() == current>{f.label()}</option> })
            .collect_view()
    };
    let ci = query.ci.clone();
    view! {
        <QueryForm action=format!("/orgs/{org}/analyses/{id}/tests")>
            <div class="filters" role="group" aria-label="What to generate">
                <label class="field field--inline">
                    <span class="field__label">"Test type"</span>
                    <select class="input" name="type" data-testid="test-type" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="" selected=query.kind.is_empty()>"All types"</option>
                        {TestType::ALL.into_iter().map(|t| view! {
                            <option value=t.as_str() selected=t.as_str() == query.kind>{t.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="field field--inline">
                    <span class="field__label">"Framework"</span>
                    <select class="input" name="framework" data-testid="framework">{frameworks}</select>
                </label>
                <label class="field field--inline">
                    <span class="field__label">"CI"</span>
                    <select class="input" name="ci">
                        {CiSystem::ALL.into_iter().map(|c| view! {
                            <option value=c.as_str() selected=c.as_str() == ci>{c.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                {(!teams.is_empty()).then(|| view! {
                    <label class="field field--inline">
                        <span class="field__label">"Preferences"</span>
                        <select class="input" name="team" data-testid="settings-of">
                            <option value="" selected=chosen_team.is_empty()>"Mine"</option>
                            {teams.into_iter().map(|(tid, tname)| {
                                let selected = tid == chosen_team;
                                view! { <option value=tid selected=selected>{format!("{tname} team")}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                })}
                {(!for_framework.is_empty()).then(|| view! {
                    <label class="field field--inline">
                        <span class="field__label">"Team template"</span>
                        <select class="input" name="template" data-testid="template">
                            <option value="" selected=chosen_template.is_empty()>"None"</option>
                            {for_framework.into_iter().map(|t| {
                                let selected = t.id == chosen_template;
                                view! { <option value=t.id.clone() selected=selected>{format!("{} ({})", t.name, t.team)}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                })}
                <button class="button" type="submit">"Generate"</button>
            </div>
        </QueryForm>
    }
}

#[component]
fn Uncovered(org: String, id: String, suite: Suite) -> impl IntoView {
    let items = suite.coverage.uncovered;
    if items.is_empty() {
        return view! { <p class="notice notice--ok" role="status">"Every error pattern has tests."</p> }.into_any();
    }
    let rows = items
        .into_iter()
        .map(|u| {
            let href = format!("/orgs/{org}/analyses/{id}/patterns/{}", u.pattern);
            view! {
                <tr>
                    <td><A href=href><code class="template">{u.template}</code></A></td>
                    <td class="num">{format!("{:.2}", u.risk)}</td>
                    <td>{u.suggestion}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Card title="Error patterns without tests" subtitle="Riskiest first, with what would give each a test">
            <div class="table-wrap">
                <table class="table" data-testid="uncovered">
                    <thead><tr><th scope="col">"Pattern"</th><th scope="col" class="num">"Risk"</th><th scope="col">"Suggestion"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </Card>
    }
    .into_any()
}

/// Runs the suite in the server's sandbox and shows what passed, failed and was skipped.
#[component]
fn RunCard(org: String, id: String, framework: Framework, kind: String) -> impl IntoView {
    let action = ServerAction::<RunTests>::new();
    let pending = action.pending();
    let result = action.value();
    let run = move |_| {
        action.dispatch(RunTests {
            org: org.clone(),
            id: id.clone(),
            framework: framework.as_str().into(),
            kind: kind.clone(),
        });
    };
    view! {
        <Card title="Run in the sandbox" subtitle="A separate process in a temporary directory, without network, under CPU, memory and time limits; the code under test and the service are not there, so tests that need them are skipped">
            <p>
                <button class="button" type="button" data-testid="run-tests" on:click=run disabled=move || pending.get()>
                    {move || if pending.get() { "Running…" } else { "Run these tests" }}
                </button>
            </p>
            {move || pending.get().then(|| view! { <Loading label=format!("Running the {} suite", framework.label()) /> })}
            {move || match result.get() {
                Some(Ok(report)) => view! { <RunResult report /> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice title="The tests could not be run" message=e.message /> }.into_any(),
                None => ().into_any(),
            }}
        </Card>
    }
}

#[component]
fn RunResult(report: RunReport) -> impl IntoView {
    let seconds = format!("{:.1} s", report.duration_ms as f64 / 1000.0);
    let outcome = if report.timed_out {
        (Tone::Danger, "stopped at the time limit".to_owned())
    } else if !report.reported {
        (Tone::Danger, "the runner reported nothing".to_owned())
    } else if report.failed + report.errors > 0 {
        (Tone::Danger, "failures".to_owned())
    } else if !report.unbuilt.is_empty() {
        (Tone::Warn, "some files not compiled".to_owned())
    } else {
        (Tone::Ok, "no failures".to_owned())
    };
    let isolation = report
        .isolation
        .iter()
        .map(|i| view! { <li>{i.clone()}</li> })
        .collect_view();
    let unbuilt_count = report.unbuilt.len();
    let unbuilt = report
        .unbuilt
        .iter()
        .map(|u| view! { <li><code>{u.path.clone()}</code>": "{u.reason.clone()}</li> })
        .collect_view();
    let failed_tone = if report.failed > 0 {
        Tone::Danger
    } else {
        Tone::Neutral
    };
    view! {
        <div data-testid="run-result" aria-live="polite">
            <p class="code-actions">
                <Badge tone=outcome.0 label=outcome.1 />
                <Badge tone=Tone::Ok label=format!("{} passed", report.passed) />
                <Badge tone=failed_tone label=format!("{} failed", report.failed) />
                <Badge tone=Tone::Neutral label=format!("{} skipped", report.skipped) />
                {(report.errors > 0).then(|| view! { <Badge tone=Tone::Danger label=format!("{} errors", report.errors) /> })}
                <span class="muted">{seconds}</span>
            </p>
            {(unbuilt_count > 0).then(|| view! {
                <div class="notice notice--warn" data-testid="run-unbuilt">
                    <p>{format!("{unbuilt_count} not compiled here. Unit tests name the project's own code, which the sandbox does not have; they compile beside it.")}</p>
                    <ul>{unbuilt}</ul>
                </div>
            })}
            <details>
                <summary>"Output"</summary>
                <pre class="code code--output" tabindex="0">{report.output}</pre>
            </details>
            <details>
                <summary>"How the run was confined"</summary>
                <ul>{isolation}</ul>
            </details>
        </div>
    }
}

fn kind_label(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Test => "tests",
        FileKind::Fixture => "fixtures",
        FileKind::Config => "configuration",
        FileKind::Manifest => "dependencies",
        FileKind::Doc => "documentation",
        FileKind::Ci => "CI",
    }
}

fn validation_badge(file: &GeneratedFile) -> impl IntoView + use<> {
    let v = &file.validation;
    let (tone, label) = if v.checker.is_empty() {
        (Tone::Neutral, "not checked".to_owned())
    } else if !v.valid {
        (Tone::Danger, format!("{} errors", v.errors.len()))
    } else if !v.warnings.is_empty() {
        (Tone::Warn, format!("valid, {} warnings", v.warnings.len()))
    } else {
        (Tone::Ok, "valid".to_owned())
    };
    view! { <Badge tone label /> }
}

#[component]
fn Files(
    org: String,
    id: String,
    query: TestsQuery,
    suite: Suite,
    selected: Memo<Option<String>>,
) -> impl IntoView {
    let rows = suite
        .files
        .into_iter()
        .map(|f| {
            let href = page_href(&org, &id, &query, Some(&f.path));
            let path = f.path.clone();
            let current = Signal::derive(move || selected.read().as_deref() == Some(path.as_str()));
            let badge = validation_badge(&f);
            let tests = (f.tests > 0).then(|| thousands(u64::from(f.tests)));
            view! {
                <tr class:row--selected=current>
                    <td>
                        <A href=href attr:aria-current=move || current.get().then_some("true")><code>{f.path}</code></A>
                    </td>
                    <td>{kind_label(f.kind)}</td>
                    <td class="num">{tests}</td>
                    <td>{badge}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Card title="Files" subtitle="Organised by type and module; within a file, riskiest patterns first">
            <div class="table-wrap">
                <table class="table" data-testid="test-files">
                    <thead><tr><th scope="col">"File"</th><th scope="col">"Kind"</th><th scope="col" class="num">"Tests"</th><th scope="col">"Validation"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </Card>
    }
}

/// A data URL holding `text`, for a download link that needs no script.
fn data_url(text: &str) -> String {
    format!("data:text/plain;charset=utf-8,{}", urlencode(text))
}

#[component]
pub(crate) fn CodeView(file: GeneratedFile) -> impl IntoView {
    let name = file
        .path
        .rsplit('/')
        .next()
        .unwrap_or(&file.path)
        .to_owned();
    let error_lines: Vec<u32> = file.validation.errors.iter().map(|e| e.line).collect();
    let problems = file
        .validation
        .errors
        .iter()
        .map(|p| (Tone::Danger, p))
        .chain(file.validation.warnings.iter().map(|p| (Tone::Warn, p)))
        .map(|(tone, p)| view! { <li><Badge tone label=format!("line {}, column {}", p.line, p.column) />" "{p.message.clone()}</li> })
        .collect_view();
    let lines = match file.language {
        Some(language) => highlight::lines(language, &file.content),
        None => file
            .content
            .lines()
            .map(|l| vec![(highlight::Class::Plain, l.to_owned())])
            .collect(),
    };
    let code = lines
        .into_iter()
        .enumerate()
        .map(|(i, tokens)| {
            let n = i as u32 + 1;
            let spans = tokens
                .into_iter()
                .map(|(class, text)| match class.css() {
                    Some(css) => view! { <span class=css>{text}</span> }.into_any(),
                    None => text.into_any(),
                })
                .collect_view();
            view! { <span class="code__line" class:code__line--error=error_lines.contains(&n) data-line=n>{spans}"\n"</span> }
        })
        .collect_view();
    let content = file.content.clone();
    let copied = RwSignal::new(false);
    let checker = file.validation.checker.clone();
    view! {
        <Card title=file.path.clone() subtitle=if checker.is_empty() { "Not a code file".to_owned() } else { format!("Checked by {checker}") }>
            <p class="code-actions">
                {validation_badge(&file)}" "
                <button class="button button--small" type="button" data-testid="copy-file" on:click=move |_| { copy(&content); copied.set(true); }>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>" "
                <a class="button button--small" href=data_url(&file.content) download=name>"Download this file"</a>
            </p>
            <ul class="problems" aria-label="Validation problems">{problems}</ul>
            <pre class="code" data-testid="code-view" tabindex="0" aria-label=format!("Contents of {}", file.path)><code>{code}</code></pre>
        </Card>
    }
}

/// Puts `text` on the clipboard.
fn copy(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// The preferences and project-context form, saved as the member's own settings.
#[component]
fn SettingsCard(org: String, stored: StoredSettings) -> impl IntoView {
    let action = ServerAction::<SaveTestSettings>::new();
    let result = action.value();
    let s = stored.settings;
    let p = s.preferences.clone();
    let c = s.context.clone();
    let check = |name: &'static str, label: &'static str, on: bool| {
        view! {
            <label class="field field--check"><input type="checkbox" name=name checked=on /><span>{label}</span></label>
        }
    };
    let select = |name: &'static str,
                  label: &'static str,
                  options: Vec<(&'static str, &'static str)>,
                  current: String| {
        let id = format!("settings-{name}");
        view! {
            <div class="field">
                <label for=id.clone()>{label}</label>
                <select id=id class="input" name=name>
                    {options.into_iter().map(|(v, l)| view! { <option value=v selected=v == current>{l}</option> }).collect_view()}
                </select>
            </div>
        }
    };
    let lower = |d: String| d.to_lowercase();
    let problem = move |name: &'static str| field(result, name);
    view! {
        <Card title="Preferences and project context" subtitle="Saved for you in this organisation; generation uses them unless the selectors above say otherwise">
            <ActionForm action attr:class="form form--settings">
                <input type="hidden" name="org" value=org />
                {select("framework", "Framework", Framework::ALL.iter().map(|f| (f.as_str(), f.label())).collect(), s.framework.as_str().into())}
                {select("ci", "CI system", CiSystem::ALL.iter().map(|c| (c.as_str(), c.label())).collect(), s.ci.as_str().into())}
                <fieldset class="fieldset">
                    <legend>"What each pattern gets"</legend>
                    {check("setup_teardown", "Setup and teardown", p.setup_teardown)}
                    {check("mocking", "Stub the failing dependency", p.mocking)}
                    {check("edge_cases", "Edge cases", p.edge_cases)}
                    {check("negative_tests", "Negative tests", p.negative_tests)}
                    <div class="field">
                        <label for="settings-max">"Most tests per pattern"</label>
                        <input id="settings-max" class="input input--narrow" type="number" min="1" max="20" name="max_tests_per_pattern" value=p.max_tests_per_pattern.to_string() />
                        <p class="field__help field__error">{move || problem("preferences.max_tests_per_pattern").get()}</p>
                    </div>
                </fieldset>
                {select("naming", "Test names", vec![("descriptive", "Descriptive sentences"), ("compact", "Compact ids")], lower(format!("{:?}", p.naming)))}
                {select("assertion_style", "Assertion style (where the framework offers one)", vec![("expect", "expect"), ("should", "should"), ("assert", "assert")], lower(format!("{:?}", p.assertion_style)))}
                {select("async_style", "Async style (JavaScript)", vec![("await", "async/await"), ("promises", "Promise chains")], lower(format!("{:?}", p.async_style)))}
                <div class="field">
                    <label for="settings-base-url">"Base URL of the service under test"</label>
                    <input id="settings-base-url" class="input" name="base_url" value=c.base_url.clone().unwrap_or_default() placeholder="http://localhost:8080" />
                    <p class="field__help" class:field__error=move || problem("context.base_url").get().is_some()>{move || problem("context.base_url").get().unwrap_or_else(|| "API and page tests call it; BASE_URL overrides it when they run.".into())}</p>
                </div>
                <div class="field">
                    <label for="settings-modules">"Module paths of the code under test"</label>
                    <textarea id="settings-modules" class="input" name="module_paths" rows="3" placeholder="app.billing\nsrc/orders">{c.module_paths.join("\n")}</textarea>
                    <p class="field__help" class:field__error=move || problem("context.module_paths").get().is_some()>{move || problem("context.module_paths").get().unwrap_or_else(|| "One per line; unit tests whose stack trace names no module look here.".into())}</p>
                </div>
                <div class="field">
                    <label for="settings-language">"Project language"</label>
                    <input id="settings-language" class="input" name="language" value=c.language.clone().unwrap_or_default() placeholder="python" />
                </div>
                <div class="field">
                    <label for="settings-config">"Framework configuration"</label>
                    <textarea id="settings-config" class="input input--code" name="framework_config" rows="4" placeholder="A pytest.ini, jest.config.js or pom.xml snippet">{c.framework_config.clone().unwrap_or_default()}</textarea>
                </div>
                <div class="field">
                    <label for="settings-deps">"Extra dependencies"</label>
                    <textarea id="settings-deps" class="input" name="dependencies" rows="2" placeholder="requests-mock==1.12.1">{c.dependencies.join("\n")}</textarea>
                    <p class="field__help" class:field__error=move || problem("context.dependencies").get().is_some()>{move || problem("context.dependencies").get().unwrap_or_else(|| "One per line; they go into the manifest.".into())}</p>
                </div>
                <FormError message=Signal::derive(move || form_error(&result.get())) />
                {move || matches!(result.get(), Some(Ok(_))).then(|| view! { <p class="notice notice--ok" role="status">"Saved. Generate again to use them."</p> })}
                <button class="button" type="submit">"Save settings"</button>
            </ActionForm>
        </Card>
    }
}

/// A team's custom templates: the list, and an editor that previews a template on this
/// analysis before saving it for a team.
#[component]
fn TemplatesCard(
    org: String,
    id: String,
    /// The organisation's templates, listed again after each save or deletion (the editor
    /// keeps its state meanwhile).
    templates: Resource<Result<Vec<TestTemplate>, crate::api::error::ApiError>>,
    /// Teams the caller may manage (empty: they can only use templates).
    teams: Vec<(String, String)>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let editing = RwSignal::new(None::<String>);
    let team = RwSignal::new(teams.first().map(|(id, _)| id.clone()).unwrap_or_default());
    let name = RwSignal::new(String::new());
    let framework = RwSignal::new(Framework::Pytest);
    // A starting point: every pattern's endpoint must stop failing.
    let prelude = RwSignal::new("import requests\n\n".to_owned());
    let test = RwSignal::new(
        "\ndef {{test_name}}(base_url):\n    # Logged {{count}} times: {{template}}\n    response = requests.request({{method}} or \"GET\", base_url + ({{path}} or \"/\"), timeout=10)\n    assert response.status_code < 500, {{template}}\n"
            .to_owned(),
    );
    let epilogue = RwSignal::new(String::new());
    let input = move || TemplateInput {
        name: name.get(),
        framework: framework.get(),
        prelude: prelude.get(),
        test: test.get(),
        epilogue: epilogue.get(),
    };
    let preview = ServerAction::<PreviewTestTemplate>::new();
    let save = ServerAction::<SaveTestTemplate>::new();
    let delete = ServerAction::<DeleteTestTemplate>::new();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            editing.set(Some(saved.id));
            changed.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            editing.set(None);
            changed.update(|n| *n += 1);
        }
    });
    let manage = !teams.is_empty();
    let edit = move |t: &TestTemplate| {
        editing.set(Some(t.id.clone()));
        team.set(t.team_id.clone());
        name.set(t.name.clone());
        framework.set(t.framework);
        prelude.set(t.prelude.clone());
        test.set(t.test.clone());
        epilogue.set(t.epilogue.clone());
    };
    let (org_p, id_p, org_s, org_d) = (org.clone(), id.clone(), org.clone(), org.clone());
    let problem = move |field_name: &'static str| {
        Signal::derive(move || {
            save.value()
                .get()
                .and_then(Result::err)
                .or_else(|| preview.value().get().and_then(Result::err))
                .and_then(|e| e.field(field_name))
        })
    };
    let variables = |list: &'static [(&'static str, &'static str)]| {
        list.iter()
            .map(|(n, what)| view! { <li><code>{format!("{{{{{n}}}}}")}</code>" — "{*what}</li> })
            .collect_view()
    };
    let area = move |id: &'static str,
                     label: &'static str,
                     value: RwSignal<String>,
                     rows: u32,
                     field_name: &'static str| {
        let err = problem(field_name);
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <textarea id=id class="input input--code" rows=rows.to_string() spellcheck="false"
                    aria-invalid=move || err.get().is_some().to_string()
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))></textarea>
                {move || err.get().map(|m| view! { <p class="field__help field__error">{m}</p> })}
            </div>
        }
    };
    view! {
        <Card title="Team templates" subtitle="Your teams' own test, written for every error pattern with its values; anyone in the organisation can generate with them">
            <Transition fallback=|| view! { <Loading label="Loading the team templates" /> }>
                {move || Suspend::new(async move {
                    let listed = templates.await.unwrap_or_default();
                    if listed.is_empty() {
                        view! { <p class="muted" data-testid="no-templates">"No team has a template yet."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="plain-list" data-testid="templates">
                                {listed.into_iter().map(|t| {
                                    let label = format!("{} · {} · {}", t.name, t.team, t.framework.label());
                                    let open = t.clone();
                                    view! {
                                        <li>{label}" "
                                            {manage.then(|| view! { <button class="button button--small" on:click=move |_| edit(&open)>"Edit"</button> })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Transition>
            {manage.then(|| view! {
                <div class="form" data-testid="template-editor">
                    <h3>{move || if editing.get().is_some() { "Edit the template" } else { "New template" }}</h3>
                    <div class="field">
                        <label for="template-team">"Team"</label>
                        <select id="template-team" class="input" on:change=move |ev| team.set(event_target_value(&ev))>
                            {teams.iter().map(|(tid, tname)| {
                                let tid2 = tid.clone();
                                view! { <option value=tid.clone() selected=move || team.get() == tid2>{tname.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="template-name">"Name"</label>
                        <input id="template-name" class="input" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))
                            aria-invalid=move || problem("name").get().is_some().to_string() />
                        {move || problem("name").get().map(|m| view! { <p class="field__help field__error">{m}</p> })}
                    </div>
                    <div class="field">
                        <label for="template-framework">"Framework"</label>
                        <select id="template-framework" class="input" on:change=move |ev| {
                            if let Some(f) = Framework::parse(&event_target_value(&ev)) { framework.set(f) }
                        }>
                            {Framework::ALL.iter().map(|f| {
                                let f = *f;
                                view! { <option value=f.as_str() selected=move || framework.get() == f>{f.label()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    {area("template-prelude", "Start of the file (imports, fixtures, an opening class)", prelude, 4, "prelude")}
                    {area("template-test", "The test, written for every error pattern", test, 8, "test")}
                    {area("template-epilogue", "End of the file (a closing brace)", epilogue, 2, "epilogue")}
                    <details class="disclosure">
                        <summary>"Variables"</summary>
                        <p class="muted">"Text values are written as string literals of the framework's language, quotes included."</p>
                        <p>"In the test:"</p>
                        <ul class="plain-list">{variables(TEST_VARIABLES)}</ul>
                        <p>"At the start and end of the file:"</p>
                        <ul class="plain-list">{variables(FILE_VARIABLES)}</ul>
                    </details>
                    <FormError message=Signal::derive(move || {
                        save.value().get().and_then(Result::err)
                            .or_else(|| preview.value().get().and_then(Result::err))
                            .or_else(|| delete.value().get().and_then(Result::err))
                            .filter(|e| e.fields.is_empty())
                            .map(|e| e.message)
                    }) />
                    <div class="downloads">
                        <button class="button" on:click=move |_| { preview.dispatch(PreviewTestTemplate { org: org_p.clone(), id: id_p.clone(), input: input() }); }>"Preview on this analysis"</button>
                        <button class="button button--primary" on:click=move |_| {
                            save.dispatch(SaveTestTemplate { org: org_s.clone(), team: team.get(), id: editing.get().unwrap_or_default(), input: input() });
                        }>"Save for the team"</button>
                        {move || editing.get().map(|tid| {
                            let org_d = org_d.clone();
                            view! { <button class="button button--danger" on:click=move |_| {
                                delete.dispatch(DeleteTestTemplate { org: org_d.clone(), team: team.get(), id: tid.clone() });
                            }>"Delete"</button> }
                        })}
                        {move || editing.get().is_some().then(|| view! {
                            <button class="button" on:click=move |_| editing.set(None)>"New template"</button>
                        })}
                    </div>
                    {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <p class="notice notice--ok" role="status">"Saved. Choose it above as the team template to generate with it."</p> })}
                    {move || preview.value().get().and_then(Result::ok).map(|file| view! { <CodeView file /> })}
                </div>
            })}
            {(!manage).then(|| view! { <p class="muted">"Team admins can add and change templates."</p> })}
        </Card>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_choices() {
        let q = TestsQuery {
            framework: "jest".into(),
            kind: "unit".into(),
            ci: String::new(),
            template: String::new(),
            team: String::new(),
        };
        assert_eq!(
            page_href("acme", "a1", &q, Some("tests/unit/x.test.js")),
            "/orgs/acme/analyses/a1/tests?framework=jest&type=unit&file=tests%2Funit%2Fx.test.js"
        );
        assert_eq!(
            page_href("acme", "a1", &TestsQuery::default(), None),
            "/orgs/acme/analyses/a1/tests"
        );
        assert!(data_url("a b\n").ends_with(",a%20b%0A"));
    }
}
