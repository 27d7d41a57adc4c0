//! The pattern page's tests by a model: the built-in generator's file for the pattern,
//! improved by the organisation's model and validated like the generator's own, with each
//! attempt, any repair and why a file was discarded.

use leptos::prelude::*;

use crate::api::ai::{AiTests, Provider, TestAttempt, WriteTests};
use crate::api::orgs::TeamView;
use crate::api::testgen::Framework;
use crate::components::ui::{Badge, Card, ErrorNotice, Loading, Tone};
use crate::format::thousands;
use crate::pages::testgen::CodeView;

/// Asks for the pattern's tests and shows what came of it.
#[component]
pub fn ModelTestsCard(
    org: String,
    id: String,
    pattern: String,
    providers: Vec<Provider>,
    /// The organisation's teams, whose prompts may be used.
    teams: Vec<TeamView>,
    /// Whether the generator writes tests for the pattern (errors, and high or critical
    /// severity).
    testable: bool,
) -> impl IntoView {
    if !testable {
        return view! {
            <Card title="Tests by a model">
                <p class="muted" data-testid="no-tests">"Tests are written for error patterns and for high or critical ones; this pattern is neither."</p>
            </Card>
        }
        .into_any();
    }
    let action = ServerAction::<WriteTests>::new();
    let pending = action.pending();
    let result = action.value();
    let framework = RwSignal::new(String::new());
    let provider = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let write = move |_| {
        action.dispatch(WriteTests {
            org: org.clone(),
            id: id.clone(),
            pattern: pattern.clone(),
            framework: framework.get_untracked(),
            provider: provider.get_untracked(),
            team: team.get_untracked(),
        });
    };
    let frameworks = Framework::ALL
        .iter()
        .map(|f| view! { <option value=f.as_str()>{f.label()}</option> })
        .collect_view();
    let choice = (!providers.is_empty()).then(|| {
        view! {
            <div class="field">
                <label for="tests-provider">"Ask first"</label>
                <select id="tests-provider" class="input" on:change=move |ev| provider.set(event_target_value(&ev))>
                    <option value="">"As routed"</option>
                    {providers.into_iter().map(|p| view! { <option value=p.id.clone()>{p.name.clone()}</option> }).collect_view()}
                </select>
            </div>
        }
    });
    view! {
        <Card title="Tests by a model" subtitle="The built-in generator's tests for this pattern, improved by the organisation's model and validated like the generator's; nothing is run">
            <div class="form form--inline">
                <div class="field">
                    <label for="tests-framework">"Framework"</label>
                    <select id="tests-framework" class="input" on:change=move |ev| framework.set(event_target_value(&ev))>
                        <option value="">"As in my test settings"</option>
                        {frameworks}
                    </select>
                </div>
                {choice}
                <PromptsChoice id="tests-prompts" teams team />
                <button class="button" type="button" data-testid="write-tests" on:click=write disabled=pending>
                    {move || if pending.get() { "Writing tests…" } else { "Write tests" }}
                </button>
            </div>
            {move || pending.get().then(|| view! { <Loading label="Asking for tests" /> })}
            {move || match result.get() {
                Some(Ok(written)) => view! { <Written written /> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice title="No tests" message=e.message /> }.into_any(),
                None => ().into_any(),
            }}
        </Card>
        {move || match result.get() {
            Some(Ok(written)) => view! { <CodeView file=written.file /> }.into_any(),
            _ => ().into_any(),
        }}
    }
    .into_any()
}

/// Who wrote the kept file, each attempt with its validation, and the notes.
#[component]
fn Written(written: AiTests) -> impl IntoView {
    let built_in = written.provider == "faultline";
    let source = if built_in {
        "built-in generator".to_owned()
    } else {
        format!("{} · {}", written.provider, written.model)
    };
    let usage = (!written.attempts.is_empty()).then(|| {
        format!(
            "{} tokens in, {} out · cost {:.4}",
            thousands(written.tokens_in),
            thousands(written.tokens_out),
            written.cost
        )
    });
    let notes = written
        .notes
        .iter()
        .map(|n| view! { <li>{n.clone()}</li> })
        .collect_view();
    let attempts = (!written.attempts.is_empty()).then(|| {
        let rows = written
            .attempts
            .iter()
            .map(attempt_row)
            .collect_view();
        view! {
            <div class="table-wrap">
                <table class="table" data-testid="test-attempts">
                    <caption class="visually-hidden">"Each answer and its validation"</caption>
                    <thead><tr>
                        <th scope="col">"Model"</th><th scope="col">"Try"</th><th scope="col" class="num">"Tests"</th>
                        <th scope="col">"Validation"</th><th scope="col" class="num">"Tokens"</th><th scope="col" class="num">"Cost"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    });
    view! {
        <div data-testid="written-tests" aria-live="polite">
            <p class="code-actions">
                <Badge tone=if built_in { Tone::Neutral } else { Tone::Info } label=source />" "
                <Badge tone=Tone::Neutral label=written.framework.label() />" "
                {usage.map(|u| view! { <span class="muted">{u}</span> })}
            </p>
            {(!written.notes.is_empty()).then(|| view! { <div class="notice notice--info"><ul>{notes}</ul></div> })}
            {attempts}
        </div>
    }
}

fn attempt_row(a: &TestAttempt) -> impl IntoView + use<> {
    let verdict = if a.valid {
        view! { <Badge tone=Tone::Ok label="valid" /> }.into_any()
    } else {
        let first = a
            .errors
            .first()
            .map(|p| format!("line {}: {}", p.line, p.message))
            .unwrap_or_default();
        view! { <Badge tone=Tone::Danger label=format!("{} errors", a.errors.len()) />" "<span>{first}</span> }.into_any()
    };
    let tokens = if a.cached {
        format!(
            "{} in · {} out (cached)",
            thousands(a.tokens_in),
            thousands(a.tokens_out)
        )
    } else {
        format!(
            "{} in · {} out",
            thousands(a.tokens_in),
            thousands(a.tokens_out)
        )
    };
    view! {
        <tr>
            <td>{format!("{} · {}", a.provider, a.model)}</td>
            <td>{if a.repair { "repair" } else { "first" }}</td>
            <td class="num">{a.tests}</td>
            <td>{verdict}</td>
            <td class="num">{tokens}</td>
            <td class="num">{format!("{:.4}", a.cost)}</td>
        </tr>
    }
}

/// Which prompts to ask with: the built-in ones or a team's (shown when there are teams).
#[component]
pub fn PromptsChoice(
    /// The select's id.
    id: &'static str,
    teams: Vec<TeamView>,
    team: RwSignal<String>,
) -> impl IntoView {
    (!teams.is_empty()).then(|| {
        view! {
            <div class="field">
                <label for=id>"Prompts"</label>
                <select id=id class="input" on:change=move |ev| team.set(event_target_value(&ev))>
                    <option value="">"Built-in"</option>
                    {teams.into_iter().map(|t| view! { <option value=t.id.clone()>{format!("Team {}", t.name)}</option> }).collect_view()}
                </select>
            </div>
        }
    })
}
