//! The analysis page's other views: latency per endpoint, slow operations, the endpoints table,
//! security findings and what changed against the previous analysis. Each shows only when the
//! result has something for it.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::patterns::{ChangeDoc, ComparisonDoc, EndpointDoc, FindingDoc, LatencyDoc};
use crate::components::chart::Chart;
use crate::components::ui::{Badge, Card};
use crate::format::{short, thousands};
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
