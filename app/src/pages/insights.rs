//! The analysis page's other views: latency per endpoint, slow operations, the endpoints table,
//! security findings and what changed against the previous analysis. Each shows only when the
//! result has something for it.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::patterns::{
    ChainView, ChangeDoc, ComparisonDoc, EndpointDoc, FindingDoc, LatencyDoc,
};
use crate::components::chart::Chart;
use crate::components::ui::{Badge, Card};
use crate::format::{short, thousands};
use crate::graph;
use crate::pages::analyses::severity_tone;

/// `12 ms`, `1.5 s`.
fn duration(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{ms:.0} ms")
    }
}

/// p50, p95 and p99 per endpoint, side by side.
#[component]
pub fn LatencyView(base: String, latency: Vec<LatencyDoc>, slow: Vec<LatencyDoc>) -> impl IntoView {
    let chart = crate::charts::latency(&latency).map(|spec| view! { <Chart spec /> });
    let slow_table = (!slow.is_empty()).then(|| {
        view! {
            <h3>"Slow operations"</h3>
            <div class="table-wrap">
                <table class="table" data-testid="slow-operations">
                    <thead><tr><th scope="col">"Pattern"</th><th scope="col" class="num">"Timed"</th><th scope="col" class="num">"p50"</th><th scope="col" class="num">"p95"</th><th scope="col" class="num">"max"</th></tr></thead>
                    <tbody>{slow.into_iter().map(|s| view! {
                        <tr>
                            <td><A href=format!("{base}/patterns/{}", s.pattern)><code class="template">{s.template}</code></A></td>
                            <td class="num">{thousands(s.count)}</td>
                            <td class="num">{duration(s.p50_ms)}</td>
                            <td class="num">{duration(s.p95_ms)}</td>
                            <td class="num">{duration(s.max_ms)}</td>
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            </div>
        }
    });
    (chart.is_some() || slow_table.is_some())
        .then(|| view! { <Card title="Performance">{chart}{slow_table}</Card> })
}

/// Requests, statuses and error rates per endpoint.
#[component]
pub fn EndpointsView(endpoints: Vec<EndpointDoc>) -> impl IntoView {
    (!endpoints.is_empty()).then(|| {
        view! {
            <Card title="Endpoints" subtitle="Most requests first">
                <div class="table-wrap">
                    <table class="table" data-testid="endpoints">
                        <thead><tr><th scope="col">"Endpoint"</th><th scope="col" class="num">"Requests"</th><th scope="col">"Statuses"</th><th scope="col" class="num">"5xx"</th><th scope="col" class="num">"4xx"</th></tr></thead>
                        <tbody>{endpoints.into_iter().map(|e| {
                            let mut statuses = e.statuses.clone();
                            statuses.sort_by_key(|s| std::cmp::Reverse(s.1));
                            let statuses = statuses.iter().take(4).map(|(code, n)| format!("{code} × {}", thousands(*n))).collect::<Vec<_>>().join(", ");
                            view! {
                                <tr>
                                    <td><code>{format!("{} {}", e.method, e.path)}</code></td>
                                    <td class="num">{thousands(e.count)}</td>
                                    <td>{statuses}</td>
                                    <td class="num">{format!("{:.1} %", e.error_rate * 100.0)}</td>
                                    <td class="num">{format!("{:.1} %", e.client_error_rate * 100.0)}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                </div>
            </Card>
        }
    })
}

/// Attacks, brute force, leaked secrets and personal data, most severe first.
#[component]
pub fn SecurityView(findings: Vec<FindingDoc>) -> impl IntoView {
    (!findings.is_empty()).then(|| {
        view! {
            <Card title="Security findings" subtitle="Samples have e-mail addresses, card numbers and secrets redacted">
                <div class="table-wrap">
                    <table class="table" data-testid="security">
                        <thead><tr><th scope="col">"Severity"</th><th scope="col">"Finding"</th><th scope="col" class="num">"Events"</th><th scope="col">"Sources"</th><th scope="col">"Example"</th></tr></thead>
                        <tbody>{findings.into_iter().map(|f| {
                            let sources = f.sources.iter().take(3).map(|(s, n)| format!("{s} ({})", thousands(*n))).collect::<Vec<_>>().join(", ");
                            let example = f.samples.first().map(|(line, text)| format!("line {line}: {}", short(text, 120)));
                            view! {
                                <tr>
                                    <td><Badge tone=severity_tone(&f.severity) label=f.severity.clone() /></td>
                                    <td><strong>{f.kind.replace('_', " ")}</strong><span class="muted share">{f.description}</span></td>
                                    <td class="num">{thousands(f.count)}</td>
                                    <td>{sources}</td>
                                    <td><code class="template">{example}</code></td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                </div>
            </Card>
        }
    })
}

/// New, gone and changed patterns against the previous analysis.
#[component]
pub fn ComparisonView(base: String, comparison: Option<ComparisonDoc>) -> impl IntoView {
    comparison.map(|c| {
        let unit = c.rate_unit.replace('_', " ");
        let list = move |title: &'static str, items: Vec<ChangeDoc>, what: fn(&ChangeDoc) -> String| {
            let base = base.clone();
            (!items.is_empty()).then(|| view! {
                <h3>{title}</h3>
                <ul class="changes">{items.into_iter().take(20).map(|e| {
                    let label = view! { <code class="template">{e.template.clone()}</code> };
                    let link = e.pattern.clone().map(|p| view! { <A href=format!("{base}/patterns/{p}")>{p.clone()}</A>" " });
                    view! { <li>{link}{label}<span class="muted">{format!(" · {}", what(&e))}</span></li> }
                }).collect_view()}</ul>
            })
        };
        let summary = format!(
            "{} new, {} gone, {} changed in rate ({unit}).",
            c.new.len(),
            c.gone.len(),
            c.changed.len()
        );
        view! {
            <Card title="Against the previous analysis" subtitle=summary>
                <div data-testid="comparison">
                    {list("New", c.new, |e| format!("{} events", thousands(e.count)))}
                    {list("Gone", c.gone, |e| format!("{} events before", thousands(e.count)))}
                    {list("Changed", c.changed, |e| format!("× {:.1} ({:.2} → {:.2})", e.ratio, e.previous_rate, e.rate))}
                </div>
            </Card>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_durations_read_well() {
        assert_eq!(short("GET /api/orders/{id}", 10), "GET /api/…");
        assert_eq!(short("GET /", 10), "GET /");
        assert_eq!(duration(12.4), "12 ms");
        assert_eq!(duration(1500.0), "1.5 s");
    }
}

/// The most confident root-cause chains drawn as one graph (causes on the left, what follows
/// to the right; thicker links are surer), each node a link to its pattern, with the links as
/// a table for those who would rather read.
#[component]
pub fn ChainGraphView(base: String, chains: Vec<ChainView>, total: u64) -> impl IntoView {
    (!chains.is_empty()).then(|| {
        let graph = graph::layout(&chains);
        let shown = chains.len() as u64;
        let subtitle = if total > shown {
            format!("The {shown} most confident of {} chains: patterns that come before others within a window more often than chance", thousands(total))
        } else {
            "Patterns that come before others within a window more often than chance".to_owned()
        };
        let edges = graph
            .edges
            .iter()
            .map(|e| {
                let (from, to) = (&graph.nodes[e.from], &graph.nodes[e.to]);
                let width = format!("{:.1}", 1.0 + 3.0 * e.link.confidence.clamp(0.0, 1.0));
                let tip = format!(
                    "{} → {}: {:.0} % of {} follow {} · lift {:.1} · lag {} · confidence {:.2}",
                    from.pattern,
                    to.pattern,
                    e.link.probability * 100.0,
                    to.pattern,
                    from.pattern,
                    e.link.lift,
                    duration(e.link.lag_ms as f64),
                    e.link.confidence
                );
                view! {
                    <path class="graph__edge" d=e.path.clone() stroke-width=width marker-end="url(#graph-arrow)">
                        <title>{tip}</title>
                    </path>
                }
            })
            .collect_view();
        let nodes = graph
            .nodes
            .iter()
            .map(|n| {
                let href = format!("{base}/patterns/{}", n.pattern);
                let (x, y) = (n.x, n.y);
                let label = format!("{} · {}", n.pattern, if n.severity.is_empty() { "pattern" } else { &n.severity });
                let tip = format!("{}: {}", n.pattern, n.template);
                let class = format!(
                    "graph__node graph__node--{}",
                    if n.severity.is_empty() { "info" } else { &n.severity }
                );
                view! {
                    <g class=class>
                        <a href=href>
                            <title>{tip}</title>
                            <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{:.1}", graph::NODE_W) height=format!("{:.1}", graph::NODE_H) rx="6"></rect>
                            <text class="graph__label" x=format!("{:.1}", x + 10.0) y=format!("{:.1}", y + 18.0)>{label}</text>
                            <text class="graph__template" x=format!("{:.1}", x + 10.0) y=format!("{:.1}", y + 36.0)>{short(&n.template, 30)}</text>
                        </a>
                    </g>
                }
            })
            .collect_view();
        let rows = graph
            .edges
            .iter()
            .map(|e| {
                let (from, to) = (graph.nodes[e.from].pattern.clone(), graph.nodes[e.to].pattern.clone());
                view! {
                    <tr>
                        <td><A href=format!("{base}/patterns/{from}")>{from.clone()}</A></td>
                        <td><A href=format!("{base}/patterns/{to}")>{to.clone()}</A></td>
                        <td class="num">{thousands(e.link.support)}</td>
                        <td class="num">{format!("{:.0} %", e.link.probability * 100.0)}</td>
                        <td class="num">{format!("{:.1}", e.link.lift)}</td>
                        <td class="num">{duration(e.link.lag_ms as f64)}</td>
                        <td class="num">{format!("{:.2}", e.link.confidence)}</td>
                    </tr>
                }
            })
            .collect_view();
        let (w, h) = (graph.width, graph.height);
        view! {
            <Card title="Root-cause chains" subtitle>
                <div class="graph-wrap">
                    <svg class="graph" data-testid="chain-graph" viewBox=format!("0 0 {w:.0} {h:.0}") width=format!("{w:.0}") height=format!("{h:.0}") role="group" aria-label="Root-cause chains as a graph">
                        <defs>
                            <marker id="graph-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                                <path class="graph__arrow" d="M0,0 L10,5 L0,10 z"></path>
                            </marker>
                        </defs>
                        {edges}
                        {nodes}
                    </svg>
                </div>
                <details class="chart__data">
                    <summary>"Show the links as a table"</summary>
                    <div class="table-wrap">
                        <table class="table" data-testid="chain-links">
                            <thead><tr>
                                <th scope="col">"Cause"</th><th scope="col">"Effect"</th>
                                <th scope="col" class="num">"Support"</th><th scope="col" class="num">"Preceded"</th>
                                <th scope="col" class="num">"Lift"</th><th scope="col" class="num">"Lag"</th>
                                <th scope="col" class="num">"Confidence"</th>
                            </tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </details>
            </Card>
        }
    })
}
