//! `/api`: the JSON API reference, rendered from the OpenAPI document the server publishes at
//! `/api/v1/openapi.json`.

use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::Value;

use crate::api::reference::api_reference;
use crate::components::ui::{Badge, ErrorNotice, Loading, Tone};

/// The reference page.
#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let doc = Resource::new(|| (), |_| api_reference());
    view! {
        <Title text="API reference" />
        <h1>"API reference"</h1>
        <p class="muted">
            "Machine-readable: " <a href="/api/v1/openapi.json"><code>"/api/v1/openapi.json"</code></a>
            " (OpenAPI 3.1). Paths below are relative to " <code>"/api/v1"</code> "."
        </p>
        <Suspense fallback=|| view! { <Loading label="Loading the reference" /> }>
            {move || Suspend::new(async move {
                match doc.await {
                    Ok(doc) => view! { <Reference doc /> }.into_any(),
                    Err(e) => view! { <ErrorNotice title="The reference could not be loaded" message=e.message /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One operation, flattened from the document.
struct Operation {
    method: String,
    path: String,
    op: Value,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            out.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                op: op.clone(),
            });
        }
    }
    out
}

fn schema_name(schema: &Value) -> String {
    let reference = schema["$ref"]
        .as_str()
        .or_else(|| schema["items"]["$ref"].as_str());
    match reference {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or(r).to_owned();
            if schema["items"].is_object() {
                format!("[{name}]")
            } else {
                name
            }
        }
        None => schema["type"].as_str().unwrap_or("object").to_owned(),
    }
}

#[component]
fn Reference(doc: Value) -> impl IntoView {
    let ops = operations(&doc);
    let tags: Vec<(String, String)> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["description"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    tags.into_iter()
        .map(|(tag, description)| {
            let in_tag: Vec<&Operation> = ops.iter().filter(|o| o.op["tags"][0] == tag.as_str()).collect();
            view! {
                <section class="card api-tag" id=format!("tag-{tag}")>
                    <h2 class="card__title">{tag.clone()}</h2>
                    <p class="card__subtitle">{description}</p>
                    {in_tag.into_iter().map(|o| view! { <OperationView method=o.method.clone() path=o.path.clone() op=o.op.clone() /> }).collect_view()}
                </section>
            }
        })
        .collect_view()
}

#[component]
fn OperationView(method: String, path: String, op: Value) -> impl IntoView {
    let tone = match method.as_str() {
        "GET" => Tone::Info,
        "DELETE" => Tone::Danger,
        _ => Tone::Ok,
    };
    let public = op["security"].as_array().is_some_and(|s| {
        s.iter()
            .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
    });
    let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
    let params: Vec<String> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{} ({}): {}",
                p["name"].as_str().unwrap_or_default(),
                p["in"].as_str().unwrap_or_default(),
                p["description"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let responses: Vec<(String, String, String)> = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, r)| {
            let schema = &r["content"]["application/json"]["schema"];
            let schema = if schema.is_null() {
                String::new()
            } else {
                schema_name(schema)
            };
            (
                status.clone(),
                r["description"].as_str().unwrap_or_default().to_owned(),
                schema,
            )
        })
        .collect();
    view! {
        <article class="api-op">
            <h3><Badge tone label=method.clone() /> " " <code>{format!("{method} {path}")}</code></h3>
            <p><strong>{op["summary"].as_str().unwrap_or_default().to_owned()}</strong>
                {public.then(|| view! { " " <Badge tone=Tone::Neutral label="no credentials" /> })}</p>
            {op["description"].as_str().map(|d| view! { <p class="muted">{d.to_owned()}</p> })}
            {(!params.is_empty()).then(|| view! { <ul class="plain-list">{params.into_iter().map(|p| view! { <li><code>{p}</code></li> }).collect_view()}</ul> })}
            {(!body.is_null()).then(|| view! { <p>"Body: " <code>{schema_name(&body)}</code></p> })}
            <table class="table">
                <thead><tr><th>"Status"</th><th>"Meaning"</th><th>"Body"</th></tr></thead>
                <tbody>
                    {responses.into_iter().map(|(s, d, b)| view! { <tr><td>{s}</td><td>{d}</td><td><code>{b}</code></td></tr> }).collect_view()}
                </tbody>
            </table>
        </article>
    }
}
