//! Faultline's user interface and shared contract: pages, components, the types both sides
//! exchange, and the `#[server]` functions that carry them.
//!
//! Server-only code sits behind the `ssr` feature; browser-only code behind `hydrate`.

// Leptos' view types nest deeply; the chart's table needs more than the default 128.
#![recursion_limit = "256"]

pub mod api;
pub mod charts;
pub mod components;
pub mod format;
pub mod graph;
pub mod highlight;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod time;

use leptos::prelude::*;
use leptos_meta::{Meta, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};
use serde::{Deserialize, Serialize};

use components::layout::AppShell;
use components::theme::provide_theme;
use components::toast::provide_toasts;

/// The names of the built, content-hashed assets under `/pkg`, so pages link files that can be
/// cached forever.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetManifest {
    /// The wasm-bindgen JS module.
    pub js: String,
    /// The WASM binary.
    pub wasm: String,
    /// The stylesheet.
    pub css: String,
}

impl Default for AssetManifest {
    /// Unhashed names, used when the site was built without a manifest.
    fn default() -> Self {
        Self {
            js: "faultline.js".into(),
            wasm: "faultline.wasm".into(),
            css: "faultline.css".into(),
        }
    }
}

/// The root component: routes inside the application shell.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_theme();
    provide_toasts();
    components::session::provide_session();
    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "Faultline".to_owned() } else { format!("{title} · Faultline") }
        } />
        <Meta name="description" content="Faultline turns production logs into findings and runnable regression tests." />
        <Router>
            <AppShell>
                <ErrorBoundary fallback=|errors| {
                    let message = errors
                        .get_untracked()
                        .into_iter()
                        .map(|(_, e)| e.to_string())
                        .collect::<Vec<_>>()
                        .join("; ");
                    view! {
                        <components::ui::ErrorNotice title="This page failed to render" message />
                    }
                }>
                    <Routes fallback=pages::not_found::NotFound>
                        <Route path=path!("/") view=pages::landing::Landing />
                        <Route path=path!("/status") view=pages::status::Status />
                        <Route path=path!("/design") view=pages::design::Design />
                        <Route path=path!("/api") view=pages::api_docs::ApiReferencePage />
                        <Route path=path!("/signup") view=pages::auth::SignUpPage />
                        <Route path=path!("/login") view=pages::auth::SignInPage />
                        <Route path=path!("/verify-email") view=pages::auth::VerifyEmailPage />
                        <Route path=path!("/reset-password") view=pages::auth::ResetPasswordPage />
                        <Route path=path!("/account") view=pages::account::AccountPage />
                        <Route path=path!("/orgs") view=pages::orgs::OrgsIndexPage />
                        <Route path=path!("/orgs/new") view=pages::orgs::NewOrgPage />
                        <Route path=path!("/orgs/:org") view=pages::orgs::OrgAdminPage />
                        <Route path=path!("/orgs/:org/audit") view=pages::orgs::AuditPage />
                        <Route path=path!("/orgs/:org/analyses") view=pages::history::AnalysesPage />
                        // These pages nest a section with its own data (the pattern table, the
                        // discussion) inside the page's: rendered whole before sending, so no
                        // section streams in after its page (which hydration cannot follow).
                        <Route path=path!("/orgs/:org/analyses/:id") view=pages::analyses::AnalysisPage ssr=SsrMode::Async />
                        <Route path=path!("/orgs/:org/analyses/:id/patterns/:pattern") view=pages::patterns::PatternPage ssr=SsrMode::Async />
                        <Route path=path!("/orgs/:org/analyses/:id/tests") view=pages::testgen::TestsPage ssr=SsrMode::Async />
                        <Route path=path!("/orgs/:org/compare") view=pages::compare::ComparePage />
                        <Route path=path!("/orgs/:org/mentions") view=pages::discussion::MentionsPage />
                        <Route path=path!("/invitations/accept") view=pages::orgs::AcceptInvitationPage />
                    </Routes>
                </ErrorBoundary>
            </AppShell>
        </Router>
    }
}

/// The HTML document around [`App`]: head, stylesheet, hydration script and the theme chosen
/// before the first paint (from the `faultline_theme` cookie, so there is no flash).
#[cfg(feature = "ssr")]
pub fn shell(assets: std::sync::Arc<AssetManifest>) -> impl IntoView {
    use leptos_meta::MetaTags;

    let theme = components::theme::Theme::from_request();
    let nonce = leptos::nonce::use_nonce();
    if let (Some(nonce), Some(response)) = (&nonce, use_context::<leptos_axum::ResponseOptions>())
        && let Ok(value) = http::HeaderValue::from_str(&ssr::page_csp(nonce))
    {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
    let boot = format!(
        "import init, {{ hydrate }} from '/pkg/{}';\ninit({{ module_or_path: '/pkg/{}' }}).then(() => hydrate());",
        assets.js, assets.wasm
    );
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme.as_str()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="stylesheet" href=format!("/pkg/{}", assets.css) />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="modulepreload" href=format!("/pkg/{}", assets.js) />
                <link
                    rel="preload"
                    href=format!("/pkg/{}", assets.wasm)
                    r#as="fetch"
                    r#type="application/wasm"
                    crossorigin=""
                />
                <script type="module" nonce=nonce>{boot}</script>
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}
