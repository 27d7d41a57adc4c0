//! The application shell: skip link, header with navigation and theme switch, main landmark,
//! footer and the toast region.

use leptos::prelude::*;
use leptos_router::components::A;

use super::theme::ThemeToggle;
use super::toast::ToastHost;

/// Wraps every page.
#[component]
pub fn AppShell(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="app-header">
            <div class="app-header__inner">
                <A href="/" attr:class="brand" attr:aria-label="Faultline home">
                    <svg class="brand__mark" viewBox="0 0 24 24" aria-hidden="true">
                        <path d="M3 12h4l3-8 4 16 3-8h4" />
                    </svg>
                    <span>"Faultline"</span>
                </A>
                <nav class="app-nav" aria-label="Main">
                    <A href="/" exact=true>"Overview"</A>
                    <A href="/status">"Status"</A>
                    <A href="/design">"Design"</A>
                </nav>
                <ThemeToggle />
            </div>
        </header>
        <main id="main" class="app-main" tabindex="-1">
            {children()}
        </main>
        <footer class="app-footer">
            <p>
                "Faultline " {env!("CARGO_PKG_VERSION")} " · "
                <a href="/healthz">"health"</a> " · " <a href="/metrics">"metrics"</a>
            </p>
        </footer>
        <ToastHost />
    }
}
