//! An analysis' patterns: the table (search, filters, sortable columns and pages, all in the
//! URL, so a view can be shared and works without script) and one pattern in detail.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::account::Me;
use crate::api::ai::{
    AiTask, CompareModels, ComparedRow, Explained, PatternAi, Provider, StreamRequest,
    load_pattern_ai, model_options,
};
use crate::api::comments::load_discussion;
use crate::api::error::ApiError;
use crate::api::patterns::{
    ChainView, Facets, PatternDetail, PatternDoc, PatternItem, PatternPage, PatternQuery, RiskDoc,
    SampleContext, SortKey, load_pattern, load_patterns, load_sample_context,
};
use crate::charts::{bucket_label, bucket_name, severity_role};
use crate::components::ai_stream::Asking;
use crate::components::chart::{Chart, ChartSpec, Series, Sparkline};
use crate::components::form::QueryForm;
use crate::components::ui::{Badge, Card, EmptyState, ErrorNotice, Loading, Tone};
use crate::format::thousands;
use crate::pages::account::RequireUser;
use crate::pages::ai_tests::{ModelTestsCard, PromptsChoice};
use crate::pages::analyses::severity_tone;
use crate::pages::discussion::DiscussionCard;

/// The pattern table of analysis `id` for the page's query string, starting from `initial`
/// (loaded with the page) and reloaded in place whenever the query changes.
#[component]
pub fn PatternTable(
    org: String,
    id: String,
    bucket_seconds: Option<i64>,
    query: Memo<PatternQuery>,
    initial: Result<PatternPage, ApiError>,
) -> impl IntoView {
    // The page on show and the query it answers; a reply to a query the reader has since left
    // behind is dropped.
    let shown = RwSignal::new((query.get_untracked(), initial));
    let loading = RwSignal::new(false);
    let base = StoredValue::new(format!("/orgs/{org}/analyses/{id}"));
    Effect::new(move |_| {
        let q = query.get();
        if shown.with_untracked(|(s, _)| *s == q) {
            return;
        }
        let (org, id) = (org.clone(), id.clone());
        loading.set(true);
        leptos::task::spawn_local(async move {
            let page = load_patterns(org, id, q.clone()).await;
            if query.get_untracked() == q {
                shown.set((q, page));
                loading.set(false);
            }
        });
    });
    let body = move || {
        let base = base.get_value();
        shown.with(|(q, page)| match page.clone() {
            Ok(p) => view! {
                <Filters base=base.clone() query=q.clone() facets=p.facets.clone() />
                <p class="muted" data-testid="pattern-count" aria-live="polite">{
                    if p.matched == p.total {
                        format!("{} patterns", thousands(p.total))
                    } else {
                        format!("{} of {} patterns match", thousands(p.matched), thousands(p.total))
                    }
                }</p>
                {if p.items.is_empty() {
                    let base = base.clone();
                    view! {
                        <EmptyState title="No patterns match" message="Try fewer words or another filter.">
                            <p><A href=base>"Clear the filters"</A></p>
                        </EmptyState>
                    }.into_any()
                } else {
                    view! { <Rows base=base.clone() query=q.clone() items=p.items bucket_seconds /> }.into_any()
                }}
                <Pager base=base query=q.clone() page=p.page pages=p.pages />
            }.into_any(),
            Err(e) => view! { <ErrorNotice title="The patterns could not be loaded" message=e.message /> }.into_any(),
        })
    };
    view! {
        <section class="card" aria-labelledby="patterns-title" aria-busy=move || loading.get().to_string()>
            <header class="card__header">
                <h2 class="card__title" id="patterns-title">"Patterns"</h2>
            </header>
            <div class="card__body">{body}</div>
        </section>
    }
}

#[component]
fn Filters(base: String, query: PatternQuery, facets: Facets) -> impl IntoView {
    let select =
        |name: &'static str, label: &'static str, current: String, options: Vec<(String, u64)>| {
            view! {
                <label class="field field--inline">
                    <span class="field__label">{label}</span>
                    <select class="input" name=name>
                        <option value="" selected=current.is_empty()>"Any"</option>
                        {options.into_iter().map(|(value, n)| {
                            let selected = value == current;
                            let text = format!("{} ({})", value.replace('_', " "), thousands(n));
                            view! { <option value=value selected=selected>{text}</option> }
                        }).collect_view()}
                    </select>
                </label>
            }
        };
    let sort = (query.sort != SortKey::Count).then(|| query.sort.as_str());
    let asc = query.asc.map(|a| if a { "true" } else { "false" });
    view! {
        <QueryForm action=base.clone()>
            <div class="filters" role="search">
                <label class="field field--grow">
                    <span class="field__label">"Search templates"</span>
                    <input class="input" type="search" name="q" value=query.q.clone() placeholder="Words in the template, or a pattern id" />
                </label>
                {select("severity", "Severity", query.severity.clone(), facets.severity)}
                {select("category", "Category", query.category.clone(), facets.category)}
                {select("level", "Level", query.level.clone(), facets.level)}
                {sort.map(|s| view! { <input type="hidden" name="sort" value=s /> })}
                {asc.map(|a| view! { <input type="hidden" name="asc" value=a /> })}
                <button class="button button--primary" type="submit">"Filter"</button>
                <A href=base attr:class="button">"Clear"</A>
            </div>
        </QueryForm>
    }
}

#[component]
fn Rows(
    base: String,
    query: PatternQuery,
    items: Vec<PatternItem>,
    bucket_seconds: Option<i64>,
) -> impl IntoView {
    let header = |key: SortKey, label: &'static str, class: &'static str| {
        let active = query.sort == key;
        let ascending = query.ascending();
        let next = PatternQuery {
            sort: key,
            asc: active.then_some(!ascending),
            page: 1,
            ..query.clone()
        };
        let aria = if active {
            if ascending { "ascending" } else { "descending" }
        } else {
            "none"
        };
        let arrow = if active {
            if ascending { " ▲" } else { " ▼" }
        } else {
            ""
        };
        view! {
            <th scope="col" class=class aria-sort=aria>
                <A href=format!("{base}{}", next.to_query_string()) attr:class="sort-link">{label}{arrow}</A>
            </th>
        }
    };
    let per = bucket_name(bucket_seconds);
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="patterns">
                <thead>
                    <tr>
                        {header(SortKey::Count, "Events", "num")}
                        {header(SortKey::Template, "Template", "")}
                        <th scope="col">"Over time"</th>
                        {header(SortKey::Level, "Level", "")}
                        {header(SortKey::Severity, "Severity", "")}
                        {header(SortKey::Category, "Category", "")}
                        {header(SortKey::Risk, "Risk", "num")}
                    </tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|p| {
                        let href = format!("{base}/patterns/{}", p.id);
                        let peak = p.spark.iter().copied().max().unwrap_or(0);
                        let summary = format!("{} events; at most {} in one {per}", thousands(p.count), thousands(peak));
                        let spark = (!p.spark.is_empty()).then(|| view! {
                            <Sparkline values=p.spark.clone() role=severity_role(&p.severity) summary />
                        });
                        view! {
                            <tr>
                                <td class="num">{thousands(p.count)}<span class="muted share">{format!("{:.1} %", p.share * 100.0)}</span></td>
                                <td><A href=href attr:class="template-link"><code class="template">{p.template}</code></A></td>
                                <td>{spark}</td>
                                <td>{p.level.unwrap_or_else(|| "–".into())}</td>
                                <td><Badge tone=severity_tone(&p.severity) label=p.severity.clone() /></td>
                                <td>{p.category.replace('_', " ")}</td>
                                <td class="num">{format!("{:.2}", p.risk)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Pager(base: String, query: PatternQuery, page: usize, pages: usize) -> impl IntoView {
    let link = move |to: usize| {
        let q = PatternQuery {
            page: to,
            ..query.clone()
        };
        format!("{base}{}", q.to_query_string())
    };
    (pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label="Pattern pages">
                {(page > 1).then(|| view! { <A href=link(page - 1) attr:class="button" attr:rel="prev">"← Previous"</A> })}
                <span>{format!("Page {page} of {pages}")}</span>
                {(page < pages).then(|| view! { <A href=link(page + 1) attr:class="button" attr:rel="next">"Next →"</A> })}
            </nav>
        }
    })
}

/// `/orgs/:org/analyses/:id/patterns/:pattern`.
#[component]
pub fn PatternPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("org").unwrap_or_default(),
            p.get("id").unwrap_or_default(),
            p.get("pattern").unwrap_or_default(),
        )
    };
    let detail = Resource::new(key, |(org, id, pattern)| load_pattern(org, id, pattern));
    let discussion = Resource::new(key, |(org, id, pattern)| load_discussion(org, id, pattern));
    let ai = Resource::new(key, |(org, _, _)| load_pattern_ai(org));
    view! {
        <Title text="Pattern" />
        <RequireUser signed_in=move |_me: Me| view! {
            <Transition fallback=|| view! { <Loading label="Loading the pattern" /> }>
                {move || Suspend::new(async move {
                    let (org, id, _) = key();
                    let back = format!("/orgs/{org}/analyses/{id}");
                    let (detail, initial) = (detail.await, discussion.await);
                    // Without them the card still explains, with the built-in engine.
                    let ai = ai.await.unwrap_or_default();
                    match detail {
                        Ok(d) => view! {
                            <PatternView org=org.clone() id=id.clone() back=back.clone() detail=d.clone() ai />
                            <DiscussionCard org id pattern=d.pattern.id initial />
                        }.into_any(),
                        Err(e) if e.status == 404 => view! {
                            <EmptyState title="No such pattern" message="The analysis may have been deleted, or it belongs to another organisation.">
                                <p><A href=back>"Back to the analysis"</A></p>
                            </EmptyState>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice title="The pattern could not be loaded" message=e.message /> }.into_any(),
                    }
                })}
            </Transition>
        } />
    }
}

#[component]
fn PatternView(
    org: String,
    id: String,
    back: String,
    detail: PatternDetail,
    ai: PatternAi,
) -> impl IntoView {
    let p = detail.pattern.clone();
    let pid = p.id.clone();
    let enabled: Vec<Provider> = ai.providers.iter().filter(|p| p.enabled).cloned().collect();
    let teams = ai.teams.clone();
    let current = p.id.clone();
    let for_template = p.clone();
    let files = p.files.clone();
    let per_file = (files.len() > 1).then(|| view! {
            <Card title="Per file">
                <div class="table-wrap">
                    <table class="table">
                        <thead><tr><th scope="col">"File"</th><th scope="col" class="num">"Events"</th><th scope="col" class="num">"Share of the file"</th></tr></thead>
                        <tbody>{files.iter().map(|f| view! {
                            <tr><td>{f.file.clone()}</td><td class="num">{thousands(f.count)}</td><td class="num">{format!("{:.2} %", f.share * 100.0)}</td></tr>
                        }).collect_view()}</tbody>
                    </table>
                </div>
            </Card>
        });
    let chart = (!detail.timeline.is_empty()).then(|| {
        let spec = ChartSpec {
            grouped: false,
            title: format!(
                "Events of {} per {}",
                p.id,
                bucket_name(detail.bucket_seconds)
            ),
            x_label: "time (UTC)".into(),
            y_label: "events".into(),
            labels: detail
                .timeline
                .iter()
                .map(|(start, _)| bucket_label(start, detail.bucket_seconds))
                .collect(),
            series: vec![Series {
                name: format!("{} ({})", p.id, p.severity),
                role: severity_role(&p.severity),
                values: detail.timeline.iter().map(|(_, n)| *n as f64).collect(),
            }],
        };
        view! { <Card title="Over time"><Chart spec /></Card> }
    });
    let facts = [
        (
            "Events",
            format!(
                "{} ({:.2} % of {})",
                thousands(p.count),
                p.share * 100.0,
                thousands(detail.events)
            ),
        ),
        (
            "Level",
            p.level.clone().unwrap_or_else(|| "none stated".into()),
        ),
        ("Category", p.category.replace('_', " ")),
        ("Severity rule", p.severity_rule.clone()),
        (
            "First seen",
            p.first_seen.clone().unwrap_or_else(|| "–".into()),
        ),
        (
            "Last seen",
            p.last_seen.clone().unwrap_or_else(|| "–".into()),
        ),
    ];
    view! {
        <p class="breadcrumb"><A href=back.clone()>"Analysis"</A>" › "{p.id.clone()}</p>
        <div class="page-head">
            <h1>{format!("Pattern {}", p.id)}</h1>
            <Badge tone=severity_tone(&p.severity) label=p.severity.clone() />
        </div>
        <Card title="Template">
            <p class="template-detail" data-testid="template"><Template pattern=for_template /></p>
            <dl class="facts">
                {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
        </Card>
        {chart}
        <Variables pattern=p.clone() />
        <Risk risk=p.risk.clone() />
        <AskCard org=org.clone() id=id.clone() pattern=p.id.clone() ai />
        <ModelTestsCard org=org.clone() id=id.clone() pattern=p.id.clone() providers=enabled teams=teams
            testable=p.is_error || matches!(p.severity.as_str(), "critical" | "high") />
        <Samples org=org.clone() id=id.clone() pattern=p.clone() />
        {per_file}
        {detail.family.clone().map(|f| {
            let others: Vec<String> = f.patterns.iter().filter(|x| **x != pid).cloned().collect();
            let back = back.clone();
            view! {
                <Card title="Error family" subtitle=format!("{} · {} events", f.kind, thousands(f.count))>
                    <p><strong>{f.title.clone()}</strong></p>
                    {(!f.frames.is_empty()).then(|| view! {
                        <pre class="stack-trace">{f.frames.join("\n")}</pre>
                    })}
                    {(!others.is_empty()).then(|| view! {
                        <p>"Other patterns in it: "
                            {others.into_iter().map(|o| view! { <A href=format!("{back}/patterns/{o}") attr:class="chip">{o.clone()}</A>" " }).collect_view()}
                        </p>
                    })}
                </Card>
            }
        })}
        <Chains back=back chains=detail.chains.clone() current />
    }
}

/// Asks about the pattern: an explanation or fix suggestions, from the organisation's model
/// providers (one may be picked to ask first), or from the built-in engine when there are none
/// or none answers. Those who may configure AI can also compare models side by side.
#[component]
fn AskCard(org: String, id: String, pattern: String, ai: PatternAi) -> impl IntoView {
    let state = RwSignal::new(Asking::Idle);
    let busy = move || state.with(Asking::busy);
    let provider = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let asked = RwSignal::new(AiTask::Explain);
    let ask = {
        let (org, id, pattern) = (org.clone(), id.clone(), pattern.clone());
        move |task: AiTask| {
            asked.set(task);
            let provider = provider.get_untracked();
            let request = StreamRequest {
                task,
                pattern_id: Some(pattern.clone()),
                provider: (!provider.is_empty()).then_some(provider),
                team: Some(team.get_untracked()).filter(|t| !t.is_empty()),
            };
            #[cfg(feature = "hydrate")]
            crate::components::ai_stream::ask(&org, &id, &request, state);
            #[cfg(not(feature = "hydrate"))]
            let _ = (&org, &id, request);
        }
    };
    let explain = {
        let ask = ask.clone();
        move |_| ask(AiTask::Explain)
    };
    let recommend = move |_| ask(AiTask::Recommend);
    let enabled: Vec<Provider> = ai.providers.into_iter().filter(|p| p.enabled).collect();
    let compare = (ai.can_compare && !enabled.is_empty()).then(|| {
        view! { <ComparePanel org id pattern providers=enabled.clone() team /> }
    });
    let choice = (!enabled.is_empty()).then(|| view! {
        <div class="field">
            <label for="explain-provider">"Ask first"</label>
            <select id="explain-provider" class="input" on:change=move |ev| provider.set(event_target_value(&ev))>
                <option value="">"As routed"</option>
                {enabled.into_iter().map(|p| view! { <option value=p.id.clone()>{p.name.clone()}</option> }).collect_view()}
            </select>
        </div>
    });
    let writing = move |task: AiTask| busy() && asked.get() == task;
    view! {
        <Card title="Explanation and fixes" subtitle="Written by the organisation's model when one is configured, else by the built-in engine">
            <div class="form form--inline">
                {choice}
                <PromptsChoice id="explain-prompts" teams=ai.teams.clone() team />
                <button class="button" type="button" data-testid="explain" on:click=explain disabled=busy>
                    {move || if writing(AiTask::Explain) { "Explaining…" } else { "Explain this pattern" }}
                </button>
                <button class="button" type="button" data-testid="recommend" on:click=recommend disabled=busy>
                    {move || if writing(AiTask::Recommend) { "Suggesting…" } else { "Suggest fixes" }}
                </button>
            </div>
            {move || match state.get() {
                Asking::Idle => ().into_any(),
                Asking::Writing { text, restarts } => view! {
                    <div data-testid="writing" aria-live="polite" aria-busy="true">
                        {(!restarts.is_empty()).then(|| view! {
                            <div class="notice notice--info"><ul>{restarts.into_iter().map(|n| view! { <li>{n}" — starting over."</li> }).collect_view()}</ul></div>
                        })}
                        {if text.is_empty() {
                            view! { <Loading label=if asked.get_untracked() == AiTask::Recommend { "Asking for fixes" } else { "Asking for an explanation" } /> }.into_any()
                        } else {
                            // Shown as plain text while it is written; the finished answer is
                            // rendered from its Markdown on the server.
                            view! { <p class="muted">"Writing…"</p><div class="streaming-text">{text}</div> }.into_any()
                        }}
                    </div>
                }.into_any(),
                Asking::Done(explained) => view! { <Explanation explained /> }.into_any(),
                Asking::Failed(message) => view! { <ErrorNotice title="No answer" message /> }.into_any(),
            }}
            {compare}
        </Card>
    }
}

/// The most models compared at once (the API's limit).
const MAX_COMPARED: usize = 4;

/// Runs the same task on up to four of the organisation's models and shows them side by side
/// with the built-in engine: output, tokens, time, cost and checks.
#[component]
fn ComparePanel(
    org: String,
    id: String,
    pattern: String,
    providers: Vec<Provider>,
    /// The team whose prompts to use (empty: the built-in ones).
    team: RwSignal<String>,
) -> impl IntoView {
    let action = ServerAction::<CompareModels>::new();
    let pending = action.pending();
    let result = action.value();
    let chosen = RwSignal::new(Vec::<String>::new());
    let task = RwSignal::new("explain".to_owned());
    let options = model_options(&providers);
    let run = move |_| {
        action.dispatch(CompareModels {
            org: org.clone(),
            id: id.clone(),
            pattern: pattern.clone(),
            task: task.get_untracked(),
            targets: chosen.get_untracked(),
            team: team.get_untracked(),
        });
    };
    let boxes = options
        .into_iter()
        .map(|(value, label)| {
            let v = value.clone();
            let checked = move || chosen.with(|c| c.contains(&v));
            let full = {
                let checked = checked.clone();
                move || !checked() && chosen.with(|c| c.len() >= MAX_COMPARED)
            };
            let toggle = move |ev: leptos::ev::Event| {
                let on = event_target_checked(&ev);
                chosen.update(|c| {
                    c.retain(|x| *x != value);
                    if on {
                        c.push(value.clone());
                    }
                });
            };
            view! {
                <label class="check">
                    <input type="checkbox" prop:checked=checked on:change=toggle disabled=full />
                    {label}
                </label>
            }
        })
        .collect_view();
    view! {
        <details class="compare" data-testid="compare-models">
            <summary>"Compare models"</summary>
            <p class="muted">"The same question to up to four models at once, beside the built-in engine. Each call is billed and recorded like any other."</p>
            <fieldset class="checks">
                <legend>"Models"</legend>
                {boxes}
            </fieldset>
            <div class="form form--inline">
                <div class="field">
                    <label for="compare-task">"Task"</label>
                    <select id="compare-task" class="input" on:change=move |ev| task.set(event_target_value(&ev))>
                        <option value="explain">"Explain this pattern"</option>
                        <option value="recommend">"Suggest fixes"</option>
                        <option value="tests">"Write tests"</option>
                    </select>
                </div>
                <button class="button" type="button" data-testid="compare" on:click=run
                    disabled=move || pending.get() || chosen.with(Vec::is_empty)>
                    {move || if pending.get() { "Comparing…" } else { "Compare" }}
                </button>
            </div>
            {move || pending.get().then(|| view! { <Loading label="Asking each model" /> })}
            {move || match result.get() {
                Some(Ok(rows)) => view! { <ComparisonTable rows /> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice title="No comparison" message=e.message /> }.into_any(),
                None => ().into_any(),
            }}
        </details>
    }
}

/// Models side by side: one column each, one row per measure.
#[component]
fn ComparisonTable(rows: Vec<ComparedRow>) -> impl IntoView {
    let head = rows
        .iter()
        .map(|r| {
            let name = if r.row.provider == "faultline" {
                "Built-in engine".to_owned()
            } else {
                format!("{} · {}", r.row.provider, r.row.model)
            };
            view! { <th scope="col">{name}</th> }
        })
        .collect_view();
    let output = rows
        .iter()
        .map(|r| match (&r.html, &r.row.error) {
            (Some(html), _) => view! { <td><div class="markdown" inner_html=html.clone()></div></td> }.into_any(),
            (None, error) => view! {
                <td><div class="notice notice--danger">{error.clone().unwrap_or_default()}</div></td>
            }.into_any(),
        })
        .collect_view();
    let cell = |f: &dyn Fn(&ComparedRow) -> String| {
        rows.iter()
            .map(|r| view! { <td class="num">{f(r)}</td> })
            .collect_view()
    };
    let tokens = cell(&|r| {
        format!(
            "{} in · {} out",
            thousands(r.row.tokens_in),
            thousands(r.row.tokens_out)
        )
    });
    let time = cell(&|r| {
        if r.row.cached {
            format!("{} ms (cached)", thousands(r.row.duration_ms))
        } else {
            format!("{} ms", thousands(r.row.duration_ms))
        }
    });
    let cost = cell(&|r| format!("{:.4}", r.row.cost));
    let checks = rows
        .iter()
        .map(|r| {
            let items = r
                .row
                .checks
                .iter()
                .map(|c| {
                    let mark = if c.passed { "✓" } else { "✗" };
                    let text = match &c.detail {
                        Some(d) => format!("{} — {d}", c.name),
                        None => c.name.clone(),
                    };
                    view! {
                        <li class=if c.passed { "check-pass" } else { "check-fail" }>
                            <span aria-hidden="true">{mark}" "</span>
                            <span class="visually-hidden">{if c.passed { "passed: " } else { "failed: " }}</span>
                            {text}
                        </li>
                    }
                })
                .collect_view();
            view! { <td><ul class="checklist">{items}</ul></td> }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table compare-table" data-testid="comparison">
                <thead><tr><th scope="col">""</th>{head}</tr></thead>
                <tbody>
                    <tr><th scope="row">"Output"</th>{output}</tr>
                    <tr><th scope="row">"Tokens"</th>{tokens}</tr>
                    <tr><th scope="row">"Time"</th>{time}</tr>
                    <tr><th scope="row">"Cost"</th>{cost}</tr>
                    <tr><th scope="row">"Checks"</th>{checks}</tr>
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Explanation(explained: Explained) -> impl IntoView {
    let a = explained.answer;
    let built_in = a.provider == "faultline";
    let source = if built_in {
        "built-in engine".to_owned()
    } else {
        format!("{} · {}", a.provider, a.model)
    };
    let usage = (!built_in).then(|| {
        format!(
            "{} tokens in, {} out · cost {:.4}",
            thousands(a.tokens_in),
            thousands(a.tokens_out),
            a.cost
        )
    });
    let notes = a
        .notes
        .iter()
        .map(|n| view! { <li>{n.clone()}</li> })
        .collect_view();
    view! {
        <div data-testid="explanation" aria-live="polite">
            <p class="code-actions">
                <Badge tone=if built_in { Tone::Neutral } else { Tone::Info } label=source />
                {a.cached.then(|| view! { <Badge tone=Tone::Neutral label="from the cache" /> })}
                {usage.map(|u| view! { <span class="muted">{u}</span> })}
            </p>
            {(!a.notes.is_empty()).then(|| view! { <div class="notice notice--info"><ul>{notes}</ul></div> })}
            // Rendered on the server from the model's Markdown: raw HTML shown as text, unsafe
            // links removed, no images.
            <div class="markdown" inner_html=explained.html></div>
        </div>
    }
}

/// The template with each `<*>` shown as a numbered slot whose tooltip lists its top values.
#[component]
fn Template(pattern: PatternDoc) -> impl IntoView {
    let parts: Vec<&str> = pattern.template.split("<*>").collect();
    let last = parts.len().saturating_sub(1);
    let pieces = parts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let slot = (i < last).then(|| {
                let top = pattern
                    .variables
                    .get(i)
                    .map(|v| {
                        v.top
                            .iter()
                            .map(|t| format!("{} ({})", t.value, thousands(t.count)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                let title = format!("Variable {}: {top}", i + 1);
                view! { <mark class="slot" title=title.clone() aria-label=title>{format!("<{}>", i + 1)}</mark> }
            });
            view! { <code>{text.to_string()}</code>{slot} }
        })
        .collect_view();
    view! { <span class="template">{pieces}</span> }
}

#[component]
fn Variables(pattern: PatternDoc) -> impl IntoView {
    (!pattern.variables.is_empty()).then(|| {
        view! {
            <Card title="Variables" subtitle="What each slot held, most frequent values first">
                <div class="table-wrap">
                    <table class="table" data-testid="variables">
                        <thead><tr><th scope="col">"Slot"</th><th scope="col" class="num">"Distinct values"</th><th scope="col">"Top values"</th></tr></thead>
                        <tbody>
                            {pattern.variables.iter().enumerate().map(|(i, v)| {
                                let distinct = if v.cardinality_exact { thousands(v.cardinality) } else { format!("≈ {}", thousands(v.cardinality)) };
                                view! {
                                    <tr>
                                        <th scope="row"><mark class="slot">{format!("<{}>", i + 1)}</mark></th>
                                        <td class="num">{distinct}</td>
                                        <td>{v.top.iter().map(|t| view! {
                                            <span class="value-chip"><code>{t.value.clone()}</code>" "<span class="muted">{thousands(t.count)}</span></span>
                                        }).collect_view()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </Card>
        }
    })
}

#[component]
fn Risk(risk: RiskDoc) -> impl IntoView {
    let impact = match risk.impact_class.as_str() {
        "auth_payment" => "authentication, payment or security (1.0)",
        "api" => "an API, dependency or validation path (0.7)",
        "internal" => "internal (0.4)",
        "logging" => "logging only (0.1)",
        _ => "unknown",
    };
    let factors = [
        (
            "Severity",
            risk.severity,
            0.4,
            "severity weight × 0.4".to_owned(),
        ),
        (
            "Frequency",
            risk.frequency,
            0.15,
            "min(log10(events + 1) / 2, 0.5) × 0.3".to_owned(),
        ),
        (
            "Impact",
            risk.impact,
            0.2,
            format!("business impact: {impact}, × 0.2"),
        ),
        (
            "Recency",
            risk.recency,
            0.1,
            "how close to the end of the log it was last seen × 0.1".to_owned(),
        ),
    ];
    view! {
        <Card title="Risk" subtitle=format!("Score {:.2} of 0.85", risk.score)>
            <table class="table" data-testid="risk">
                <thead><tr><th scope="col">"Factor"</th><th scope="col" class="num">"Points"</th><th scope="col">"Of its maximum"</th><th scope="col">"Why"</th></tr></thead>
                <tbody>
                    {factors.into_iter().map(|(name, value, max, why)| {
                        let percent = (value / max * 100.0).clamp(0.0, 100.0);
                        view! {
                            <tr>
                                <th scope="row">{name}</th>
                                <td class="num">{format!("{value:.3}")}</td>
                                <td><meter class="meter" min="0" max=max value=value.clamp(0.0, max) aria-label=format!("{name}: {percent:.0} % of its maximum {max}")></meter></td>
                                <td>{why}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </Card>
    }
}

#[component]
fn Samples(org: String, id: String, pattern: PatternDoc) -> impl IntoView {
    (!pattern.samples.is_empty()).then(|| {
        let pid = pattern.id.clone();
        view! {
            <Card title="Sample events">
                <ol class="samples" data-testid="samples">
                    {pattern.samples.iter().enumerate().map(|(n, s)| {
                        let lines = if s.end_line > s.line { format!("lines {}–{}", s.line, s.end_line) } else { format!("line {}", s.line) };
                        view! {
                            <li>
                                <p class="muted">{format!("{} · {lines}", s.file)}</p>
                                <pre class="sample"><span class="line-no" aria-hidden="true">{s.line}</span>{s.text.clone()}</pre>
                                {s.stack.clone().map(|stack| view! {
                                    <details open>
                                        <summary>"Stack trace"</summary>
                                        <pre class="stack-trace">{stack}</pre>
                                    </details>
                                })}
                                <SampleContextView org=org.clone() id=id.clone() pattern=pid.clone() n />
                            </li>
                        }
                    }).collect_view()}
                </ol>
            </Card>
        }
    })
}

/// A button that reads the lines around sample `n` from its file and shows them, the
/// event's own lines marked.
#[component]
fn SampleContextView(org: String, id: String, pattern: String, n: usize) -> impl IntoView {
    let shown = RwSignal::new(false);
    let loaded = RwSignal::new(None::<Result<SampleContext, ApiError>>);
    let toggle = move |_| {
        if shown.get_untracked() {
            shown.set(false);
            return;
        }
        shown.set(true);
        if loaded.with_untracked(|l| matches!(l, Some(Ok(_)))) {
            return;
        }
        loaded.set(None);
        let (org, id, pattern) = (org.clone(), id.clone(), pattern.clone());
        leptos::task::spawn_local(async move {
            loaded.set(Some(load_sample_context(org, id, pattern, n).await));
        });
    };
    let body = move || {
        shown.get().then(|| match loaded.get() {
            None => view! { <Loading label="Reading the file" /> }.into_any(),
            Some(Err(e)) => view! { <ErrorNotice title="The surrounding lines could not be read" message=e.message /> }.into_any(),
            Some(Ok(c)) => view! {
                <pre class="context" data-testid="sample-context">
                    {c.lines.into_iter().map(|l| {
                        let class = if l.event { "context__line context__line--event" } else { "context__line" };
                        let mark = if l.truncated { " …" } else { "" };
                        view! { <span class=class><span class="line-no" aria-hidden="true">{l.number}</span>{l.text}{mark}"\n"</span> }
                    }).collect_view()}
                </pre>
                {c.cut.then(|| view! { <p class="muted">"The event is longer than the lines shown."</p> })}
            }.into_any(),
        })
    };
    view! {
        <button type="button" class="button button--small button--quiet" aria-expanded=move || shown.get().to_string() on:click=toggle>
            {move || if shown.get() { "Hide surrounding lines" } else { "Show surrounding lines" }}
        </button>
        {body}
    }
}

#[component]
fn Chains(back: String, chains: Vec<ChainView>, current: String) -> impl IntoView {
    (!chains.is_empty()).then(|| {
        view! {
            <Card title="Root-cause chains" subtitle="Patterns that come before others within a window more often than chance">
                {chains.into_iter().map(|c| {
                    let back = back.clone();
                    let current = current.clone();
                    view! {
                        <section class="chain" aria-label=format!("Chain {}", c.id)>
                            <p class="muted">{format!("{} · confidence {:.2} · window {} ms", c.id, c.confidence, thousands(c.window_ms.max(0) as u64))}</p>
                            <ol class="chain__steps">
                                {c.steps.into_iter().enumerate().map(|(i, step)| {
                                    let link = step.link.map(|l| format!("{:.0} % preceded by it · lift {:.1} · lag {} ms", l.probability * 100.0, l.lift, l.lag_ms));
                                    let here = step.pattern == current;
                                    view! {
                                        <li class="chain__step" class:chain__step--here=here>
                                            {link.map(|l| view! { <span class="chain__link">{l}</span> })}
                                            <span class="chain__pattern">
                                                {if i == 0 { "Root · " } else { "" }}
                                                <A href=format!("{back}/patterns/{}", step.pattern)>{step.pattern.clone()}</A>
                                                " "<code class="template">{step.template}</code>
                                            </span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ol>
                        </section>
                    }
                }).collect_view()}
            </Card>
        }
    })
}
