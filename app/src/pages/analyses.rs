//! One analysis: its live progress and, once done, its summary, events over time, the
//! pattern table, error families and files, and the project it is filed under.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::account::{Me, urlencode};
use crate::api::analyses::{
    AnalysisDetail, CancelAnalysis, DeleteAnalysis, SummaryView, load_analysis,
};
use crate::api::error::ApiError;
use crate::api::history::SetAnalysisProject;
use crate::api::patterns::{Overview, PatternPage, PatternQuery, load_patterns};
use crate::api::sharing::{Sharing, load_sharing};
use crate::charts;
use crate::components::chart::{Chart, Heatmap};
use crate::components::ui::{Badge, Card, EmptyState, ErrorNotice, Loading, Tone};
use crate::components::upload::LiveProgress;
use crate::format::thousands;
use crate::pages::account::RequireUser;
use crate::pages::insights::{
    ChainGraphView, ComparisonView, EndpointsView, LatencyView, SecurityView,
};
use crate::pages::patterns::PatternTable;
use crate::pages::sharing::SharingCard;
use crate::pages::status::format_uptime;

pub fn status_tone(status: &str) -> Tone {
    match status {
        "done" => Tone::Ok,
        "failed" => Tone::Danger,
        "cancelled" => Tone::Warn,
        "running" => Tone::Info,
        _ => Tone::Neutral,
    }
}

/// The badge tone of a severity.
pub fn severity_tone(severity: &str) -> Tone {
    match severity {
        "critical" | "high" => Tone::Danger,
        "medium" => Tone::Warn,
        "low" => Tone::Info,
        _ => Tone::Neutral,
    }
}

/// `/orgs/:org/analyses/:id`.
///
/// The analysis and the first page of its pattern table load together, in one data section:
/// a table streamed in after the page would make the browser's first render differ from the
/// server's. Later pages, searches and filters reload only the table.
#[component]
pub fn AnalysisPage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org").unwrap_or_default();
    let id = move || params.read().get("id").unwrap_or_default();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let map = query_map.read();
        PatternQuery::from_params(|k| map.get(k))
    });
    let detail = Resource::new(
        move || (org(), id()),
        move |(org, id)| load_with_patterns(org, id, query.get_untracked()),
    );
    let refresh = Callback::new(move |()| detail.refetch());
    view! {
        <Title text="Analysis" />
        <RequireUser signed_in=move |_me: Me| view! {
            <Transition fallback=|| view! { <Loading label="Loading the analysis" /> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(Loaded { detail, sharing, patterns }) => view! { <AnalysisView org=org() detail sharing patterns query refresh /> }.into_any(),
                        Err(e) if e.status == 404 => view! {
                            <EmptyState title="No such analysis" message="It may have been deleted, or it belongs to another organisation.">
                                <p><A href=format!("/orgs/{}/analyses", org())>"All analyses"</A></p>
                            </EmptyState>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice title="The analysis could not be loaded" message=e.message /> }.into_any(),
                    }
                })}
            </Transition>
        } />
    }
}

/// An analysis and who sees it, and, once it has results, the pattern table's page for
/// `query`.
async fn load_with_patterns(
    org: String,
    id: String,
    query: PatternQuery,
) -> Result<Loaded, ApiError> {
    let detail = load_analysis(org.clone(), id.clone()).await?;
    let sharing = load_sharing(org.clone(), id.clone()).await;
    let patterns = match detail.item.summary {
        Some(_) => Some(load_patterns(org, id, query).await),
        None => None,
    };
    Ok(Loaded {
        detail,
        sharing,
        patterns,
    })
}

/// What the analysis page loads in one go.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Loaded {
    detail: AnalysisDetail,
    sharing: Result<Sharing, ApiError>,
    patterns: Option<Result<PatternPage, ApiError>>,
}

#[component]
fn AnalysisView(
    org: String,
    detail: AnalysisDetail,
    sharing: Result<Sharing, ApiError>,
    patterns: Option<Result<PatternPage, ApiError>>,
    query: Memo<PatternQuery>,
    refresh: Callback<()>,
) -> impl IntoView {
    let item = detail.item.clone();
    let live = item.live();
    let running = !live.is_final();
    let cancel = ServerAction::<CancelAnalysis>::new();
    let delete = ServerAction::<DeleteAnalysis>::new();
    let navigate = use_navigate();
    let list_href = format!("/orgs/{org}/analyses");
    {
        let list_href = list_href.clone();
        Effect::new(move |_| {
            if matches!(delete.value().get(), Some(Ok(()))) {
                navigate(&list_href, Default::default());
            }
        });
    }
    let action_error = move || {
        cancel
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| delete.value().get().and_then(Result::err))
            .map(|e| view! { <ErrorNotice title="That did not work" message=e.message /> })
    };
    let (org_c, id_c, org_d, id_d) = (org.clone(), item.id.clone(), org.clone(), item.id.clone());
    let org_r = org.clone();
    let org_s = org.clone();
    let org_p = org.clone();
    view! {
        <p class="breadcrumb"><A href=list_href>"Analyses"</A></p>
        <div class="page-head">
            <h1>{item.name.clone()}</h1>
            <Badge tone=status_tone(&item.status) label=item.status.clone() />
            <div class="page-head__actions">
                {(item.status == "done").then(|| {
                    let file = |ext: &str| format!("/api/v1/analyses/{}/report.{ext}?org={}", urlencode(&item.id), urlencode(&org));
                    let tests = format!("/orgs/{}/analyses/{}/tests", org, item.id);
                    // The reports' executive summary by the organisation's model, when it has one.
                    let by_model = RwSignal::new(false);
                    let report = move |plain: String| move || if by_model.get() { format!("{plain}&summary=ai") } else { plain.clone() };
                    view! {
                        <A href=tests attr:class="button button--primary">"Generate tests"</A>
                        <nav class="downloads" aria-label="Download">
                            <span class="muted">"Download"</span>
                            <a class="button" href=report(file("pdf")) download>"Report (PDF)"</a>
                            <a class="button" href=file("xlsx") download>"Workbook (XLSX)"</a>
                            <a class="button" href=report(file("md")) download>"Markdown"</a>
                            <a class="button" href=file("csv") download>"Patterns (CSV)"</a>
                            <a class="button" href=file("json") download>"JSON"</a>
                            <label class="check" title="The PDF and Markdown reports' executive summary is written by the organisation's model; without one, the engine's stays">
                                <input type="checkbox" data-testid="summary-by-model" prop:checked=move || by_model.get() on:change=move |ev| by_model.set(event_target_checked(&ev)) />
                                "Summary by AI"
                            </label>
                        </nav>
                    }
                })}
                {(running && detail.can_cancel).then(|| view! {
                    <button class="button" on:click=move |_| { cancel.dispatch(CancelAnalysis { org: org_c.clone(), id: id_c.clone() }); }>"Cancel"</button>
                })}
                {detail.can_delete.then(|| view! {
                    <button class="button button--danger" on:click=move |_| { delete.dispatch(DeleteAnalysis { org: org_d.clone(), id: id_d.clone() }); }>"Delete"</button>
                })}
            </div>
        </div>
        {action_error}
        {running.then(|| view! {
            <Card title="Progress">
                <LiveProgress org=org.clone() initial=live.clone() on_final=refresh />
            </Card>
        })}
        {(item.status == "failed").then(|| view! {
            <ErrorNotice title="The analysis failed" message=item.error.clone().unwrap_or_default() />
        })}
        {(item.status == "cancelled").then(|| view! {
            <div class="notice notice--warn" role="status"><p>"This analysis was cancelled before it finished."</p></div>
        })}
        {item.summary.clone().zip(detail.overview.clone()).zip(patterns).map(|((s, overview), patterns)| view! {
            <Results org=org_r id=item.id.clone() summary=s overview patterns query />
        })}
        <ProjectPicker org=org_p id=item.id.clone() current=item.project_id.clone().unwrap_or_default() projects=detail.projects.clone() can_file=detail.can_file />
        <SharingCard org=org_s org_name=detail.org_name.clone() id=item.id.clone() initial=sharing />
    }
}

/// Which project the analysis is filed under, and (with create_analyses) a choice of another.
#[component]
fn ProjectPicker(
    org: String,
    id: String,
    current: String,
    projects: Vec<crate::api::history::Project>,
    can_file: bool,
) -> impl IntoView {
    let save = ServerAction::<SetAnalysisProject>::new();
    // The project on show: the one filed under, once the server confirms a choice.
    let saved = RwSignal::new(current.clone());
    let asked = RwSignal::new(current.clone());
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            saved.set(asked.get_untracked());
        }
    });
    let name_of = {
        let projects = projects.clone();
        move |id: &str| projects.iter().find(|p| p.id == id).map(|p| p.name.clone())
    };
    let shown = move || name_of(&saved.get()).unwrap_or_else(|| "No project".to_owned());
    let error = move || {
        save.value()
            .get()
            .and_then(Result::err)
            .map(|e| view! { <ErrorNotice title="The project could not be changed" message=e.message /> })
    };
    let history = format!("/orgs/{org}/analyses");
    view! {
        <Card title="Project">
            <p data-testid="analysis-project">
                {shown}
                " · "
                <A href=history>"All analyses"</A>
            </p>
            {(can_file && !projects.is_empty()).then(|| {
                let (org, id) = (org.clone(), id.clone());
                view! {
                    <label class="field field--inline">
                        <span class="field__label">"File under"</span>
                        <select class="input" data-testid="project-select" on:change=move |ev| {
                            let project = event_target_value(&ev);
                            asked.set(project.clone());
                            save.dispatch(SetAnalysisProject { org: org.clone(), id: id.clone(), project });
                        }>
                            <option value="" selected=current.is_empty()>"No project"</option>
                            {projects.iter().map(|p| {
                                let selected = p.id == current;
                                view! { <option value=p.id.clone() selected=selected>{p.name.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                }
            })}
            {(can_file && projects.is_empty()).then(|| view! {
                <p class="muted">"Create projects on the analyses page to group analyses by service."</p>
            })}
            {error}
        </Card>
    }
}

#[component]
fn Results(
    org: String,
    id: String,
    summary: SummaryView,
    overview: Overview,
    patterns: Result<PatternPage, ApiError>,
    query: Memo<PatternQuery>,
) -> impl IntoView {
    let span = summary
        .span_seconds
        .map(|s| format_uptime(s.round() as u64))
        .unwrap_or_else(|| "–".to_owned());
    let mut cards = vec![
        ("Lines", thousands(summary.lines)),
        ("Events", thousands(summary.events)),
        ("Patterns", thousands(summary.patterns)),
        ("Error families", thousands(summary.families)),
        ("Critical patterns", thousands(summary.critical_patterns)),
        ("Time span", span),
    ];
    if let Some(tests) = &summary.tests {
        let framework = crate::api::testgen::Framework::parse(&tests.framework)
            .map_or(tests.framework.as_str(), |f| f.label());
        cards.push((
            "Tests written",
            format!("{} {framework}", thousands(u64::from(tests.tests))),
        ));
        if tests.error_patterns > 0 {
            let share = f64::from(tests.covered) * 100.0 / f64::from(tests.error_patterns);
            cards.push(("Test coverage", format!("{share:.0} %")));
        }
    }
    let over_time = charts::events_over_time(&overview.buckets, overview.bucket_seconds)
        .map(|spec| view! { <Chart spec /> });
    let heat = charts::severity_heatmap(
        &overview.severity_by_bucket,
        &overview.buckets,
        overview.bucket_seconds,
    )
    .map(|spec| view! { <Heatmap spec /> });
    let timeline = (over_time.is_some() || heat.is_some())
        .then(|| view! { <Card title="Over time">{over_time}{heat}</Card> });
    let distribution = charts::error_distribution(&overview.errors_by_category)
        .map(|spec| view! { <Card title="Error distribution"><Chart spec /></Card> });
    let detail = overview;
    let base = format!("/orgs/{org}/analyses/{id}");
    let compare_files = format!("/orgs/{org}/compare?ids={id}");
    view! {
        <section class="stat-grid" aria-label="Summary" data-testid="summary">
            {cards.into_iter().map(|(label, value)| view! {
                <div class="stat"><span class="stat__label">{label}</span><span class="stat__value">{value}</span></div>
            }).collect_view()}
        </section>
        {timeline}
        {distribution}
        <ComparisonView base=base.clone() comparison=detail.comparison.clone() />
        <PatternTable org id bucket_seconds=detail.bucket_seconds query initial=patterns />
        <ChainGraphView base=base.clone() chains=detail.chains.clone() total=detail.chain_count />
        <LatencyView base latency=detail.latency.clone() slow=detail.slow_operations.clone() />
        <SecurityView findings=detail.security.clone() />
        <EndpointsView endpoints=detail.endpoints.clone() />
        {(!detail.families.is_empty()).then(|| view! {
            <Card title="Error families">
                <div class="table-wrap">
                    <table class="table" data-testid="families">
                        <thead><tr><th>"Family"</th><th class="num">"Events"</th><th class="num">"Patterns"</th><th>"Severity"</th></tr></thead>
                        <tbody>
                            {detail.families.into_iter().map(|f| view! {
                                <tr><td>{f.title}</td><td class="num">{thousands(f.count)}</td><td class="num">{f.patterns.len()}</td><td><Badge tone=severity_tone(&f.severity) label=f.severity.clone() /></td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            </Card>
        })}
        <Card title="Files">
            {(detail.files.len() > 1).then(|| view! {
                <p><A href=compare_files>"Compare these files pattern by pattern"</A></p>
            })}
            <div class="table-wrap">
                <table class="table" data-testid="files">
                    <thead><tr><th>"File"</th><th>"Format"</th><th class="num">"Lines"</th><th class="num">"Events"</th></tr></thead>
                    <tbody>
                        {detail.files.into_iter().map(|f| view! {
                            <tr><td>{f.name}</td><td>{f.format}</td><td class="num">{thousands(f.lines)}</td><td class="num">{thousands(f.events)}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </Card>
    }
}
