//! `/design`: the design system's elements in one place, for people building Faultline's pages
//! and for visual checks in both themes.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::toast::use_toasts;
use crate::components::ui::{Badge, Card, EmptyState, ErrorNotice, Loading, ProgressBar, Tone};

/// The design system gallery.
#[component]
pub fn Design() -> impl IntoView {
    let toasts = use_toasts();
    let progress = RwSignal::new(30.0);
    let name = RwSignal::new(String::new());
    let name_error = move || {
        let value = name.get();
        (!value.is_empty() && value.trim().len() < 3).then_some("Use at least 3 characters.")
    };
    view! {
        <Title text="Design system" />
        <h1>"Design system"</h1>
        <div class="grid">
            <Card title="Buttons">
                <div class="row">
                    <button type="button" class="button button--primary" on:click=move |_| toasts.push("Saved")>
                        "Show a toast"
                    </button>
                    <button type="button" class="button">"Secondary"</button>
                    <button type="button" class="button button--danger">"Delete"</button>
                    <button type="button" class="button" disabled=true>"Disabled"</button>
                </div>
            </Card>
            <Card title="Badges">
                <div class="row">
                    <Badge tone=Tone::Danger label="critical" />
                    <Badge tone=Tone::Warn label="high" />
                    <Badge tone=Tone::Info label="medium" />
                    <Badge tone=Tone::Neutral label="low" />
                    <Badge tone=Tone::Ok label="done" />
                </div>
            </Card>
            <Card title="Inputs">
                <div class="field">
                    <label for="design-name">"Analysis name"</label>
                    <input
                        id="design-name"
                        class="input"
                        type="text"
                        placeholder="checkout-service, Tuesday"
                        aria-describedby="design-name-help"
                        aria-invalid=move || name_error().is_some().to_string()
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                    <p id="design-name-help" class="field__help">
                        {move || name_error().unwrap_or("Shown in history and reports.")}
                    </p>
                </div>
            </Card>
            <Card title="Progress">
                <ProgressBar label="Mining templates" value=Signal::derive(move || progress.get()) />
                <div class="row">
                    <button
                        type="button"
                        class="button"
                        on:click=move |_| progress.update(|p| *p = if *p >= 100.0 { 0.0 } else { (*p + 10.0).min(100.0) })
                    >
                        "Advance"
                    </button>
                </div>
            </Card>
        </div>
        <Card title="Table">
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr><th scope="col">"Pattern"</th><th scope="col" class="num">"Count"</th><th scope="col">"Severity"</th></tr>
                    </thead>
                    <tbody>
                        <tr><td><code>"Connection to <*> timed out after <*> ms"</code></td><td class="num">"1,204"</td><td><Badge tone=Tone::Danger label="critical" /></td></tr>
                        <tr><td><code>"GET <*> returned 503"</code></td><td class="num">"388"</td><td><Badge tone=Tone::Warn label="high" /></td></tr>
                        <tr><td><code>"Cache miss for key <*>"</code></td><td class="num">"52"</td><td><Badge tone=Tone::Neutral label="low" /></td></tr>
                    </tbody>
                </table>
            </div>
        </Card>
        <div class="grid">
            <Card title="Empty state">
                <EmptyState title="No analyses yet" message="Upload a log file to see its patterns here." />
            </Card>
            <Card title="Error and loading states">
                <ErrorNotice title="Upload failed" message="The file is a PNG image, not a log. Choose a text, JSON or gzip file." />
                <Loading label="Loading patterns" />
            </Card>
        </div>
    }
}
