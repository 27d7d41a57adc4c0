//! The application shell: skip link, header with navigation and theme switch, main landmark,
//! footer and the toast region.

use leptos::prelude::*;
use leptos_router::components::A;

use super::session::use_session;
use super::theme::ThemeToggle;
use super::toast::ToastHost;
use crate::api::account::SignOut;

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
                    <A href="/api">"API"</A>
                </nav>
                <UserMenu />
                <ThemeToggle />
            </div>
        </header>
        <main id="main" class="app-main" tabindex="-1">
            {children()}
        </main>
        <footer class="app-footer">
            <p>
                "Faultline " {env!("CARGO_PKG_VERSION")} " · "
                <a href="/status">"status"</a> " · " <a href="/design">"design system"</a> " · "
                <a href="/healthz">"health"</a> " · " <a href="/metrics">"metrics"</a>
            </p>
        </footer>
        <ToastHost />
    }
}

/// Sign-in links, or the signed-in account's organisations, settings and sign-out.
#[component]
fn UserMenu() -> impl IntoView {
    let session = use_session();
    let sign_out = ServerAction::<SignOut>::new();
    let navigate = leptos_router::hooks::use_navigate();
    let pathname = leptos_router::hooks::use_location().pathname;
    Effect::new(move |_| {
        if matches!(sign_out.value().get(), Some(Ok(()))) {
            session.changed();
            navigate("/", Default::default());
        }
    });
    view! {
        <div class="user-menu">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(me)) => {
                            let orgs = me.orgs.clone();
                            // The organisation being looked at, else the first one.
                            let current = move || {
                                let path = pathname.get();
                                let slug = path.strip_prefix("/orgs/").and_then(|rest| rest.split('/').next());
                                orgs.iter()
                                    .find(|o| Some(o.slug.as_str()) == slug)
                                    .or(orgs.first())
                                    .cloned()
                            };
                            view! {
                            <nav class="app-nav" aria-label="Account">
                                {move || current().map(|o| {
                                    let unread = o.unread_mentions;
                                    let label = match unread {
                                        0 => "Mentions".to_owned(),
                                        1 => "Mentions, 1 unread".to_owned(),
                                        n => format!("Mentions, {n} unread"),
                                    };
                                    view! {
                                        <A href=format!("/orgs/{}/analyses", o.slug)>"Analyses"</A>
                                        <A href=format!("/orgs/{}/mentions", o.slug) attr:aria-label=label>
                                            "Mentions"
                                            {(unread > 0).then(|| view! { <span class="count-badge" aria-hidden="true">{unread}</span> })}
                                        </A>
                                        <A href=format!("/orgs/{}", o.slug) exact=true>{o.name}</A>
                                    }
                                })}
                                <A href="/orgs" exact=true>"Organisations"</A>
                                <A href="/account">"Account"</A>
                            </nav>
                            <ActionForm action=sign_out attr:class="inline">
                                <button class="button button--quiet" type="submit" title=me.email.clone()>"Sign out"</button>
                            </ActionForm>
                        }.into_any()
                        }
                        _ => view! {
                            <nav class="app-nav" aria-label="Account">
                                <A href="/login">"Sign in"</A>
                                <A href="/signup">"Sign up"</A>
                            </nav>
                        }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
