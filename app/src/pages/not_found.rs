//! The page for any unknown address, answered with status 404.

use leptos::prelude::*;
use leptos_meta::Title;

/// The 404 page.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="empty-state empty-state--page">
            <p class="empty-state__code">"404"</p>
            <h1>"This page does not exist"</h1>
            <p>"The address may be mistyped, or the page may have moved."</p>
            <a class="button button--primary" href="/">"Go to the overview"</a>
        </section>
    }
}
