//! Analysis pages: the organisation's analyses with the drop zone that starts new ones, and
//! one analysis with its live progress and, once done, its summary, events over time, the
//! pattern table, error families and files.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api::account::{Me, urlencode};
use crate::api::analyses::{
    AnalysisDetail, AnalysisItem, CancelAnalysis, DeleteAnalysis, SummaryView, list_analyses,
    load_analysis,
};
use crate::api::patterns::Overview;
use crate::charts;
use crate::components::chart::{Chart, Heatmap};
use crate::components::ui::{Badge, Card, EmptyState, ErrorNotice, Loading, Tone};
use crate::components::upload::{LiveProgress, UploadPanel};
use crate::format::thousands;
use crate::pages::account::RequireUser;
use crate::pages::insights::{ComparisonView, EndpointsView, LatencyView, SecurityView};
use crate::pages::patterns::PatternTable;
use crate::pages::sharing::SharingCard;
use crate::pages::status::{format_date, format_uptime};

fn status_tone(status: &str) -> Tone {
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

/// `/orgs/:org/analyses`.
#[component]
pub fn AnalysesPage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org").unwrap_or_default();
    let list = Resource::new(org, list_analyses);
    view! {
        <Title text="Analyses" />
        <RequireUser signed_in=move |_me: Me| view! {
            <h1>"Analyses"</h1>
            <Transition fallback=|| view! { <Loading label="Loading analyses" /> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(data) => view! {
                            {data.can_create.then(|| view! { <UploadPanel org=org() limits=data.limits /> })}
                            {if data.items.is_empty() {
                                view! {
                                    <EmptyState title="No analyses yet" message="Drop log files above, push them from CI with `faultline push`, or send them to POST /api/v1/uploads." />
                                }.into_any()
                            } else {
                                view! { <AnalysisTable org=org() items=data.items /> }.into_any()
                            }}
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice title="The analyses could not be loaded" message=e.message /> }.into_any(),
                    }
                })}
            </Transition>
        } />
    }
}

#[component]
fn AnalysisTable(org: String, items: Vec<AnalysisItem>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="analyses">
                <thead>
                    <tr><th>"Name"</th><th>"Status"</th><th class="num">"Events"</th><th class="num">"Patterns"</th><th class="num">"Error families"</th><th>"Started"</th></tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|a| {
                        let href = format!("/orgs/{org}/analyses/{}", a.id);
                        let summary = a.summary.clone().unwrap_or_default();
                        let done = a.summary.is_some();
                        let count = move |n: u64| if done { thousands(n) } else { "–".to_owned() };
                        let status = if a.status == "running" {
                            format!("running · {:.0} %", a.progress.percent)
                        } else {
                            a.status.clone()
                        };
                        view! {
                            <tr>
                                <td>
                                    <A href=href>{a.name.clone()}</A>
                                    {match a.visibility.as_str() {
                                        "private" => Some(view! { " " <Badge tone=Tone::Neutral label="only you" /> }),
                                        "teams" => Some(view! { " " <Badge tone=Tone::Neutral label="teams" /> }),
                                        _ => None,
                                    }}
                                </td>
                                <td><Badge tone=status_tone(&a.status) label=status /></td>
                                <td class="num">{count(summary.events)}</td>
                                <td class="num">{count(summary.patterns)}</td>
                                <td class="num">{count(summary.families)}</td>
                                <td>{format_date(a.created_at_ms)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// `/orgs/:org/analyses/:id`.
#[component]
pub fn AnalysisPage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org").unwrap_or_default();
    let id = move || params.read().get("id").unwrap_or_default();
    let detail = Resource::new(move || (org(), id()), |(org, id)| load_analysis(org, id));
    let refresh = Callback::new(move |()| detail.refetch());
    view! {
        <Title text="Analysis" />
        <RequireUser signed_in=move |_me: Me| view! {
            <Transition fallback=|| view! { <Loading label="Loading the analysis" /> }>
                {move || Suspend::new(async move {
                    match detail.await {
                        Ok(d) => view! { <AnalysisView org=org() detail=d refresh /> }.into_any(),
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

#[component]
fn AnalysisView(org: String, detail: AnalysisDetail, refresh: Callback<()>) -> impl IntoView {
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
    view! {
        <p class="breadcrumb"><A href=list_href>"Analyses"</A></p>
        <div class="page-head">
            <h1>{item.name.clone()}</h1>
            <Badge tone=status_tone(&item.status) label=item.status.clone() />
            <div class="page-head__actions">
                {(item.status == "done").then(|| {
                    let file = |ext: &str| format!("/api/v1/analyses/{}/report.{ext}?org={}", urlencode(&item.id), urlencode(&org));
                    view! {
                        <nav class="downloads" aria-label="Download">
                            <span class="muted">"Download"</span>
                            <a class="button" href=file("pdf") download>"Report (PDF)"</a>
                            <a class="button" href=file("xlsx") download>"Workbook (XLSX)"</a>
                            <a class="button" href=file("md") download>"Markdown"</a>
                            <a class="button" href=file("csv") download>"Patterns (CSV)"</a>
                            <a class="button" href=file("json") download>"JSON"</a>
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
        {item.summary.clone().zip(detail.overview.clone()).map(|(s, overview)| view! {
            <Results org=org_r id=item.id.clone() summary=s overview />
        })}
        <SharingCard org=org_s org_name=detail.org_name.clone() id=item.id.clone() />
    }
}

#[component]
fn Results(org: String, id: String, summary: SummaryView, overview: Overview) -> impl IntoView {
    let span = summary
        .span_seconds
        .map(|s| format_uptime(s.round() as u64))
        .unwrap_or_else(|| "–".to_owned());
    let cards = [
        ("Lines", thousands(summary.lines)),
        ("Events", thousands(summary.events)),
        ("Patterns", thousands(summary.patterns)),
        ("Error families", thousands(summary.families)),
        ("Critical patterns", thousands(summary.critical_patterns)),
        ("Time span", span),
    ];
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
    view! {
        <section class="stat-grid" aria-label="Summary" data-testid="summary">
            {cards.into_iter().map(|(label, value)| view! {
                <div class="stat"><span class="stat__label">{label}</span><span class="stat__value">{value}</span></div>
            }).collect_view()}
        </section>
        {timeline}
        {distribution}
        <ComparisonView base=base.clone() comparison=detail.comparison.clone() />
        <PatternTable org id bucket_seconds=detail.bucket_seconds />
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
