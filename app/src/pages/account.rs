//! `/account`: preferences, password, two-factor authentication and sessions.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::account::{
    ChangePassword, ConfirmTotp, DisableTotp, Me, RegenerateRecoveryCodes, ResendVerification,
    RevokeSession, SavePreferences, SignOutEverywhere, StartTotp, list_sessions,
};
use crate::api::error::form_error;
use crate::components::form::{FormError, TextField, field};
use crate::components::session::use_session;
use crate::components::ui::{Badge, Card, ErrorNotice, Loading, Tone};

/// Shows `signed_in` with the account, or a prompt to sign in.
#[component]
pub fn RequireUser<F, V>(signed_in: F) -> impl IntoView
where
    F: Fn(Me) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let session = use_session();
    view! {
        <Suspense fallback=|| view! { <Loading label="Checking your session" /> }>
            {move || {
                let signed_in = signed_in.clone();
                Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(me)) => signed_in(me).into_any(),
                        Ok(None) => view! {
                            <div class="empty-state empty-state--page">
                                <h1>"Sign in to continue"</h1>
                                <p><A href="/login">"Sign in"</A> " or " <A href="/signup">"create an account"</A>"."</p>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice title="Your session could not be read" message=e.message /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The account page.
#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Your account" />
        <RequireUser signed_in=|me: Me| view! {
            <h1>"Your account"</h1>
            <p class="muted">
                {me.email.clone()} " "
                {if me.email_verified { view! { <Badge tone=Tone::Ok label="verified" /> }.into_any() } else { view! { <Badge tone=Tone::Warn label="not verified" /> " " <ResendVerification /> }.into_any() }}
            </p>
            <div class="grid">
                <TwoFactorCard enabled=me.mfa_enabled />
                <PasswordCard />
                <PreferencesCard me=me.clone() />
            </div>
            <SessionsCard />
        } />
    }
}

/// Mails a fresh confirmation link and says so.
#[component]
fn ResendVerification() -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    view! {
        {move || match resend.value().get() {
            Some(Ok(())) => view! { <span role="status">"A new link is on its way; check your inbox."</span> }.into_any(),
            Some(Err(e)) => view! { <span class="error" role="alert">{e.message}</span> }.into_any(),
            None => view! {
                <button class="button button--small" on:click=move |_| { resend.dispatch(ResendVerification {}); }>"Send the link again"</button>
            }.into_any(),
        }}
    }
}

#[component]
fn PreferencesCard(me: Me) -> impl IntoView {
    let action = ServerAction::<SavePreferences>::new();
    let result = action.value();
    let p = me.preferences;
    let option = |value: &'static str, current: &str| view! { <option value=value selected=value == current>{value}</option> };
    view! {
        <Card title="Preferences">
            <ActionForm action attr:class="form">
                <div class="field">
                    <label for="pref-theme">"Theme"</label>
                    <select id="pref-theme" class="input" name="theme">
                        {["system", "light", "dark"].map(|t| option(t, &p.theme)).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="pref-framework">"Default test framework"</label>
                    <select id="pref-framework" class="input" name="default_framework">
                        {crate::api::account::FRAMEWORKS.map(|f| option(f, &p.default_framework)).collect_view()}
                    </select>
                </div>
                <TextField label="Time zone" name="time_zone" value=p.time_zone.clone() help="An IANA name such as Europe/Paris, or UTC." error=field(result, "time_zone") />
                <FormError message=Signal::derive(move || form_error(&result.get())) />
                {move || matches!(result.get(), Some(Ok(_))).then(|| view! { <p class="notice notice--ok" role="status">"Saved."</p> })}
                <button class="button" type="submit">"Save preferences"</button>
            </ActionForm>
        </Card>
    }
}

#[component]
fn PasswordCard() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let result = action.value();
    view! {
        <Card title="Password" subtitle="Changing it signs out your other sessions.">
            <ActionForm action attr:class="form">
                <TextField label="Current password" name="current_password" input_type="password" autocomplete="current-password" error=field(result, "current_password") />
                <TextField label="New password" name="new_password" input_type="password" autocomplete="new-password" error=field(result, "new_password") />
                <FormError message=Signal::derive(move || form_error(&result.get())) />
                {move || matches!(result.get(), Some(Ok(()))).then(|| view! { <p class="notice notice--ok" role="status">"Password changed."</p> })}
                <button class="button" type="submit">"Change password"</button>
            </ActionForm>
        </Card>
    }
}

#[component]
fn TwoFactorCard(enabled: bool) -> impl IntoView {
    let session = use_session();
    let start = ServerAction::<StartTotp>::new();
    let confirm = ServerAction::<ConfirmTotp>::new();
    let disable = ServerAction::<DisableTotp>::new();
    let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
    let confirmed = confirm.value();
    Effect::new(move |_| {
        if matches!(disable.value().get(), Some(Ok(()))) {
            session.changed();
        }
    });
    let body = move || {
        if let Some(Ok(codes)) = confirmed.get().or_else(|| regenerate.value().get()) {
            return view! { <RecoveryCodes codes /> }.into_any();
        }
        if enabled && !matches!(disable.value().get(), Some(Ok(()))) {
            return view! {
                <p><Badge tone=Tone::Ok label="on" /> " Sign-in asks for a code from your authenticator app."</p>
                <ActionForm action=disable attr:class="form">
                    <TextField label="Password" name="password" input_type="password" autocomplete="current-password" error=field(disable.value(), "password") />
                    <TextField label="Current code" name="code" autocomplete="one-time-code" error=field(disable.value(), "code") />
                    <FormError message=Signal::derive(move || form_error(&disable.value().get())) />
                    <button class="button button--danger" type="submit">"Turn off two-factor authentication"</button>
                </ActionForm>
                <details class="disclosure">
                    <summary>"New recovery codes"</summary>
                    <p class="muted">"Lost your recovery codes, or used most of them? New ones replace every old code."</p>
                    <ActionForm action=regenerate attr:class="form">
                        <TextField id="regenerate-code" label="Code from your authenticator app" name="code" autocomplete="one-time-code" error=field(regenerate.value(), "code") />
                        <FormError message=Signal::derive(move || form_error(&regenerate.value().get())) />
                        <button class="button" type="submit">"Replace my recovery codes"</button>
                    </ActionForm>
                </details>
            }.into_any();
        }
        match start.value().get() {
            Some(Ok(enrolment)) => view! {
                <ol class="steps">
                    <li>"Scan this code with an authenticator app (1Password, Google Authenticator, Aegis…)."</li>
                </ol>
                <div class="qr" inner_html=enrolment.qr_svg.clone()></div>
                <p class="muted">"Or enter this key by hand: " <code data-testid="totp-secret">{enrolment.secret.clone()}</code></p>
                <ActionForm action=confirm attr:class="form">
                    <TextField label="Code from the app" name="code" autocomplete="one-time-code" error=field(confirmed, "code") />
                    <FormError message=Signal::derive(move || form_error(&confirmed.get())) />
                    <button class="button button--primary" type="submit">"Turn on"</button>
                </ActionForm>
            }.into_any(),
            other => view! {
                <p><Badge tone=Tone::Warn label="off" /> " Protect your account with a code from an authenticator app."</p>
                <ActionForm action=start attr:class="form">
                    <TextField label="Your password, to confirm it is you" name="password" input_type="password" autocomplete="current-password" error=field(start.value(), "password") />
                    <FormError message=Signal::derive(move || form_error(&other)) />
                    <button class="button button--primary" type="submit">"Set up two-factor authentication"</button>
                </ActionForm>
            }.into_any(),
        }
    };
    view! { <Card title="Two-factor authentication">{body}</Card> }
}

#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    view! {
        <div class="notice notice--ok" role="status"><p>"Two-factor authentication is on."</p></div>
        <p>"Keep these recovery codes somewhere safe. Each works once if you lose your device; they are not shown again."</p>
        <ul class="code-list" data-testid="recovery-codes">
            {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
        </ul>
    }
}

#[component]
fn SessionsCard() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let session = use_session();
    let sessions = Resource::new(move || revoke.version().get(), |_| list_sessions());
    Effect::new(move |_| {
        if matches!(everywhere.value().get(), Some(Ok(()))) {
            session.changed();
        }
    });
    view! {
        <Card title="Sessions" subtitle="Where your account is signed in.">
            <Suspense fallback=|| view! { <Loading label="Loading sessions" /> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! {
                            <div class="table-wrap">
                                <table class="table">
                                    <thead><tr><th>"Device"</th><th>"Address"</th><th>"Signed in"</th><th>"Two-factor"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|s| {
                                            let id = s.id.clone();
                                            view! {
                                                <tr>
                                                    <td>{if s.user_agent.is_empty() { "Unknown client".to_owned() } else { s.user_agent.clone() }}
                                                        {s.current.then(|| view! { " " <Badge tone=Tone::Info label="this browser" /> })}</td>
                                                    <td>{s.ip.clone()}</td>
                                                    <td>{crate::pages::status::format_date(s.created_at_ms)}</td>
                                                    <td>{if s.mfa { "yes" } else { "no" }}</td>
                                                    <td>{(!s.current).then(|| view! {
                                                        <button class="button" on:click=move |_| { revoke.dispatch(RevokeSession { id: id.clone() }); }>"Sign out"</button>
                                                    })}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                        Err(e) => view! { <ErrorNotice title="Sessions unavailable" message=e.message /> }.into_any(),
                    }
                })}
            </Suspense>
            <button class="button button--danger" on:click=move |_| { everywhere.dispatch(SignOutEverywhere {}); }>"Sign out everywhere"</button>
        </Card>
    }
}
