//! `/`: what Faultline does, with a sample chart drawn in the browser.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::demo::sample_incident_chart;
use crate::components::chart::Chart;
use crate::components::ui::{ErrorNotice, Loading};

/// The landing page.
#[component]
pub fn Landing() -> impl IntoView {
    let chart = Resource::new(|| (), |_| sample_incident_chart());
    view! {
        <Title text="" />
        <section class="hero">
            <h1>"From production logs to findings and regression tests"</h1>
            <p class="hero__lead">
                "Faultline reads your application logs in any common format, mines every message into exact patterns, "
                "groups error families, traces root causes and cascades, flags performance and security signals, "
                "scores the risk of each, and writes runnable regression tests in your team's framework."
            </p>
        </section>
        <section class="features" aria-label="What Faultline does">
            <Feature title="Logs → patterns → tests">
                "Upload logs or stream them from CI. Templates come with exact counts, first and last seen, and "
                "sample lines; tests come out for pytest, Jest, JUnit, Go and seven more frameworks."
            </Feature>
            <Feature title="No AI required">
                "The built-in engine is deterministic and needs no API key. Add an OpenAI-compatible, Anthropic or "
                "Gemini provider to enrich explanations, with routing, fallback, caching and cost tracking."
            </Feature>
            <Feature title="Built for teams">
                "Organisations are tenants with teams, roles, MFA, SSO and an audit log. Every resource is checked "
                "against your organisation and role."
            </Feature>
        </section>
        <section class="card" aria-labelledby="sample-heading">
            <h2 id="sample-heading" class="card__title">"What an incident looks like"</h2>
            <p class="muted">
                "A sample day: a database connection pool runs dry at 14:00 and API errors follow an hour later. "
                "Faultline finds that chain in your own logs."
            </p>
            <Suspense fallback=|| view! { <Loading label="Loading the sample chart" /> }>
                {move || Suspend::new(async move {
                    match chart.await {
                        Ok(spec) => view! { <Chart spec /> }.into_any(),
                        Err(e) => view! { <ErrorNotice title="The sample chart could not be loaded" message=e.to_string() /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn Feature(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <article class="feature">
            <h2>{title}</h2>
            <p>{children()}</p>
        </article>
    }
}
