//! `/orgs/:org/compare?ids=…`: analyses (or the files of one) side by side — the error trend
//! across them, and a matrix of patterns × columns with counts, rates and changes, filtered
//! and sorted in the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::account::Me;
use crate::api::compare::{
    Change, CompareQuery, CompareRow, CompareSort, Comparison, MAX_COMPARED, load_comparison,
};
use crate::charts::{self, severity_role};
use crate::components::chart::{Chart, Sparkline};
use crate::components::form::QueryForm;
use crate::components::ui::{Badge, Card, EmptyState, ErrorNotice, Loading, Tone};
use crate::format::{format_rate, thousands};
use crate::pages::account::RequireUser;
use crate::pages::analyses::severity_tone;
use crate::pages::status::format_date;

/// `/orgs/:org/compare`.
#[component]
pub fn ComparePage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org").unwrap_or_default();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let map = query_map.read();
        CompareQuery::from_params(|k| map.get(k), |k| map.get_all(k).unwrap_or_default())
    });
    let comparison = Resource::new(
        move || (org(), query.get()),
        |(org, query)| load_comparison(org, query),
    );
    view! {
        <Title text="Compare analyses" />
        <RequireUser signed_in=move |_me: Me| view! {
            <p class="breadcrumb"><A href=move || format!("/orgs/{}/analyses", org())>"Analyses"</A>" › Compare"</p>
            <h1>"Compare"</h1>
            <Transition fallback=|| view! { <Loading label="Comparing" /> }>
                {move || Suspend::new(async move {
                    let history = format!("/orgs/{}/analyses", org());
                    match comparison.await {
                        Ok(c) => view! { <CompareView org=org() query=query.get_untracked() comparison=c /> }.into_any(),
                        Err(e) if e.status == 422 => view! {
                            <EmptyState title="Pick what to compare" message=format!("Tick two to {MAX_COMPARED} finished analyses in the history and choose Compare, or one analysis of several files to compare its files.")>
                                <p><A href=history>"Go to the history"</A></p>
                            </EmptyState>
                        }.into_any(),
                        Err(e) if e.status == 404 => view! {
                            <EmptyState title="An analysis is not available" message="One of the analyses was deleted, belongs to another organisation, or is not shared with you.">
                                <p><A href=history>"Go to the history"</A></p>
                            </EmptyState>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice title="The analyses could not be compared" message=e.message /> }.into_any(),
                    }
                })}
            </Transition>
        } />
    }
}

fn change_tone(change: Change) -> Tone {
    match change {
        Change::New | Change::Up => Tone::Danger,
        Change::Gone | Change::Down => Tone::Ok,
        Change::Steady => Tone::Neutral,
    }
}

#[component]
fn CompareView(org: String, query: CompareQuery, comparison: Comparison) -> impl IntoView {
    let base = format!("/orgs/{org}/compare");
    let trend = charts::comparison_trend(&comparison).map(|spec| {
        view! { <Card title="Trend" subtitle="Events per 1,000 by severity, info left out"><Chart spec /></Card> }
    });
    let what = if comparison.by_file {
        "files"
    } else {
        "analyses"
    };
    let tallies = comparison
        .changes
        .iter()
        .map(|(kind, n)| {
            view! { <li><Badge tone=change_tone(*kind) label=kind.label() />" "{thousands(*n as u64)}</li> }
        })
        .collect_view();
    let more = (comparison.matched > comparison.rows.len()).then(|| {
        let next = CompareQuery {
            limit: Some(comparison.rows.len() * 2),
            ..query.clone()
        };
        view! {
            <p><A href=format!("{base}{}", next.to_query_string())>
                {format!("Show more ({} of {} shown)", thousands(comparison.rows.len() as u64), thousands(comparison.matched as u64))}
            </A></p>
        }
    });
    let count = if comparison.matched == comparison.total {
        format!("{} patterns", thousands(comparison.total as u64))
    } else {
        format!(
            "{} of {} patterns match",
            thousands(comparison.matched as u64),
            thousands(comparison.total as u64)
        )
    };
    let analyses_base = format!("/orgs/{org}/analyses");
    let column_list = comparison
        .columns
        .iter()
        .map(|c| {
            let href = format!("{analyses_base}/{}", c.analysis_id);
            let when = c
                .first_seen
                .clone()
                .unwrap_or_else(|| format!("started {}", format_date(c.created_at_ms)));
            let about = format!(" · {} events · {when}", thousands(c.events));
            let name = c.name.clone();
            view! {
                <li>
                    <A href=href>{name}</A>
                    <span class="muted">{about}</span>
                </li>
            }
        })
        .collect_view();
    let title = format!("{} {what}", comparison.columns.len());
    let matrix_title = format!("Patterns × {what}");
    view! {
        <Card title subtitle="Oldest first; changes are from the first column to the last">
            <ol class="compare-columns" data-testid="compare-columns">{column_list}</ol>
            <ul class="change-tallies" aria-label="Patterns by change">{tallies}</ul>
        </Card>
        {trend}
        <Card title=matrix_title>
            <CompareFilters base=base.clone() query=query.clone() />
            <p class="muted" data-testid="compare-count" aria-live="polite">{count}</p>
            {if comparison.rows.is_empty() {
                view! {
                    <EmptyState title="No patterns match" message="Try fewer words, or show steady patterns too.">
                        <p><A href=format!("{base}{}", CompareQuery { ids: query.ids.clone(), ..CompareQuery::default() }.to_query_string())>"Clear the filters"</A></p>
                    </EmptyState>
                }.into_any()
            } else {
                view! { <Matrix analyses_base comparison /> }.into_any()
            }}
            {more}
        </Card>
    }
}

#[component]
fn CompareFilters(base: String, query: CompareQuery) -> impl IntoView {
    view! {
        <QueryForm action=base>
            <input type="hidden" name="ids" value=query.ids.clone() />
            <div class="filters" role="search" aria-label="Filter the comparison">
                <label class="field field--grow">
                    <span class="field__label">"Search"</span>
                    <input class="input" type="search" name="q" value=query.q.clone() placeholder="Words of the template" />
                </label>
                <label class="field field--inline">
                    <span class="field__label">"Sort"</span>
                    <select class="input" name="sort">
                        {CompareSort::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=s == query.sort>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="field field--check">
                    <input type="checkbox" name="changed" value="true" checked=query.changed />
                    <span>"Only changed patterns"</span>
                </label>
                <button class="button" type="submit">"Apply"</button>
            </div>
        </QueryForm>
    }
}

#[component]
fn Matrix(analyses_base: String, comparison: Comparison) -> impl IntoView {
    let Comparison { columns, rows, .. } = comparison;
    let heads = columns
        .iter()
        .map(|c| view! { <th scope="col" class="num">{c.name.clone()}</th> })
        .collect_view();
    let ids: Vec<String> = columns.iter().map(|c| c.analysis_id.clone()).collect();
    view! {
        <div class="table-wrap">
            <table class="table" data-testid="compare-matrix">
                <caption class="visually-hidden">"Events of each pattern in each column, with events per 1,000 and the change from first to last"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Pattern"</th>
                        {heads}
                        <th scope="col">"Change"</th>
                        <th scope="col">"Trend"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| view! { <MatrixRow analyses_base=analyses_base.clone() ids=ids.clone() row=r /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn MatrixRow(analyses_base: String, ids: Vec<String>, row: CompareRow) -> impl IntoView {
    let cells = row
        .counts
        .iter()
        .zip(&row.rates)
        .zip(&row.pattern_ids)
        .zip(&ids)
        .map(|(((count, rate), pid), analysis)| {
            let text = thousands(*count);
            let rate = format!("{} ‰", format_rate(*rate));
            match pid {
                Some(pid) => {
                    let href = format!("{analyses_base}/{analysis}/patterns/{pid}");
                    view! { <td class="num"><A href=href>{text}</A><br /><span class="muted">{rate}</span></td> }.into_any()
                }
                None => view! { <td class="num"><span class="muted">"–"</span></td> }.into_any(),
            }
        })
        .collect_view();
    let change = match row.ratio {
        Some(r) if row.change != Change::Steady => format!("{} ×{r}", row.change.label()),
        _ => row.change.label().to_owned(),
    };
    let spark: Vec<u64> = row
        .rates
        .iter()
        .map(|r| (r * 1000.0).round() as u64)
        .collect();
    let summary = format!(
        "{}: {}",
        row.template,
        row.rates
            .iter()
            .map(|r| format!("{} ‰", format_rate(*r)))
            .collect::<Vec<_>>()
            .join(" → ")
    );
    view! {
        <tr>
            <td>
                <code class="template">{row.template.clone()}</code>
                <br /><Badge tone=severity_tone(&row.severity) label=row.severity.clone() />
                <span class="muted">{format!(" {}", row.category.replace('_', " "))}</span>
            </td>
            {cells}
            <td><Badge tone=change_tone(row.change) label=change /></td>
            <td><Sparkline values=spark role=severity_role(&row.severity) summary /></td>
        </tr>
    }
}
