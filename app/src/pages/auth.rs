//! Signing up, signing in (with the second factor when enrolled), confirming an email address
//! and resetting a forgotten password.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::account::{RequestReset, ResetPassword, SignIn, SignUp, VerifyEmail};
use crate::api::error::form_error;
use crate::components::form::{FormError, TextField, field};
use crate::components::session::{safe_next, use_session};

/// `/signup`: an account and its first organisation.
#[component]
pub fn SignUpPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let action = ServerAction::<SignUp>::new();
    let result = action.value();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(slug)) = result.get() {
            session.changed();
            let next = safe_next(query.read_untracked().get("next"), &format!("/orgs/{slug}"));
            navigate(&next, Default::default());
        }
    });
    view! {
        <Title text="Create your account" />
        <section class="auth">
            <h1>"Create your account"</h1>
            <p class="muted">"You will own a new organisation; invite your team from there."</p>
            <ActionForm action attr:class="form">
                <FormError message=Signal::derive(move || form_error(&result.get())) />
                <TextField label="Work email" name="email" input_type="email" autocomplete="email" error=field(result, "email") />
                <TextField
                    label="Password"
                    name="password"
                    input_type="password"
                    autocomplete="new-password"
                    help="At least 8 characters. Long passphrases are best; common passwords are refused."
                    error=field(result, "password")
                />
                <TextField label="Organisation name" name="org_name" autocomplete="organization" error=field(result, "org_name") />
                <button class="button button--primary" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p>"Already have an account? " <A href="/login">"Sign in"</A></p>
        </section>
    }
}

/// `/login`: email and password, then the authenticator code when the account has one.
#[component]
pub fn SignInPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let action = ServerAction::<SignIn>::new();
    let result = action.value();
    let code_error = move || match result.get() {
        Some(Err(e)) if e.code == "mfa_invalid" => Some(e.message),
        _ => None,
    };
    let need_code = move || matches!(result.get(), Some(Err(e)) if e.code == "mfa_required" || e.code == "mfa_invalid");
    let general = move || match result.get() {
        Some(Err(e)) if e.code.starts_with("mfa_") => None,
        other => form_error(&other),
    };
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = result.get() {
            session.changed();
            navigate(
                &safe_next(query.read_untracked().get("next"), "/orgs"),
                Default::default(),
            );
        }
    });
    view! {
        <Title text="Sign in" />
        <section class="auth">
            <h1>"Sign in"</h1>
            <ActionForm action attr:class="form">
                <FormError message=Signal::derive(general) />
                <TextField label="Email" name="email" input_type="email" autocomplete="username" error=field(result, "email") />
                <TextField label="Password" name="password" input_type="password" autocomplete="current-password" error=field(result, "password") />
                {move || if need_code() {
                    view! {
                        <TextField
                            label="Authentication code"
                            name="totp"
                            autocomplete="one-time-code"
                            help="The 6-digit code from your authenticator app, or one of your recovery codes."
                            error=Signal::derive(code_error)
                        />
                    }.into_any()
                } else {
                    view! { <input type="hidden" name="totp" value="" /> }.into_any()
                }}
                <button class="button button--primary" type="submit" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p><A href="/reset-password">"Forgot your password?"</A> " · " <A href="/signup">"Create an account"</A></p>
        </section>
    }
}

/// `/verify-email?token=…`: confirms the address with one click (a POST, never on load).
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<VerifyEmail>::new();
    let result = action.value();
    view! {
        <Title text="Confirm your email" />
        <section class="auth">
            <h1>"Confirm your email address"</h1>
            {move || match result.get() {
                Some(Ok(())) => view! {
                    <div class="notice notice--ok" role="status"><p>"Thank you — your address is confirmed."</p></div>
                    <p><A href="/orgs">"Go to your organisations"</A></p>
                }.into_any(),
                other => view! {
                    <FormError message=Signal::derive(move || form_error(&other)) />
                    <ActionForm action attr:class="form">
                        <input type="hidden" name="token" value=token />
                        <button class="button button--primary" type="submit">"Confirm my address"</button>
                    </ActionForm>
                }.into_any(),
            }}
        </section>
    }
}

/// `/reset-password`: asks for the address, or with `?token=…` sets the new password.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").filter(|t| !t.is_empty());
    view! {
        <Title text="Reset your password" />
        <section class="auth">
            <h1>"Reset your password"</h1>
            {move || match token() {
                Some(token) => view! { <NewPasswordForm token /> }.into_any(),
                None => view! { <RequestResetForm /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn RequestResetForm() -> impl IntoView {
    let action = ServerAction::<RequestReset>::new();
    let result = action.value();
    view! {
        {move || match result.get() {
            Some(Ok(())) => view! {
                <div class="notice notice--ok" role="status">
                    <p>"If an account uses that address, a link to reset its password is on its way. It works for an hour."</p>
                </div>
            }.into_any(),
            _ => view! {
                <ActionForm action attr:class="form">
                    <FormError message=Signal::derive(move || form_error(&result.get())) />
                    <TextField label="Email" name="email" input_type="email" autocomplete="email" error=field(result, "email") />
                    <button class="button button--primary" type="submit">"Send the link"</button>
                </ActionForm>
            }.into_any(),
        }}
    }
}

#[component]
fn NewPasswordForm(token: String) -> impl IntoView {
    let token = StoredValue::new(token);
    let action = ServerAction::<ResetPassword>::new();
    let result = action.value();
    view! {
        {move || match result.get() {
            Some(Ok(())) => view! {
                <div class="notice notice--ok" role="status">
                    <p>"Your password is changed and every session was signed out."</p>
                </div>
                <p><A href="/login">"Sign in with the new password"</A></p>
            }.into_any(),
            _ => view! {
                <ActionForm action attr:class="form">
                    <FormError message=Signal::derive(move || form_error(&result.get())) />
                    <input type="hidden" name="token" value=token.get_value() />
                    <TextField
                        label="New password"
                        name="password"
                        input_type="password"
                        autocomplete="new-password"
                        help="At least 8 characters; common passwords are refused."
                        error=field(result, "password")
                    />
                    <button class="button button--primary" type="submit">"Set the new password"</button>
                </ActionForm>
            }.into_any(),
        }}
    }
}
