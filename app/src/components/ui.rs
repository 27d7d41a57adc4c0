//! Small design-system elements. Their look lives in `style/faultline.css`.

use leptos::prelude::*;

/// Visual weight of a badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Neutral information.
    Neutral,
    /// Success or health.
    Ok,
    /// Needs attention.
    Warn,
    /// Failure or critical severity.
    Danger,
    /// Informational accent.
    Info,
}

impl Tone {
    /// CSS modifier name.
    pub fn class(self) -> &'static str {
        match self {
            Self::Neutral => "neutral",
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Danger => "danger",
            Self::Info => "info",
        }
    }
}

/// A short label such as a severity or a status.
#[component]
pub fn Badge(tone: Tone, #[prop(into)] label: String) -> impl IntoView {
    view! { <span class=format!("badge badge--{}", tone.class())>{label}</span> }
}

/// A titled surface.
#[component]
pub fn Card(
    #[prop(into)] title: String,
    #[prop(optional, into)] subtitle: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="card">
            <header class="card__header">
                <h2 class="card__title">{title}</h2>
                {subtitle.map(|s| view! { <p class="card__subtitle">{s}</p> })}
            </header>
            <div class="card__body">{children()}</div>
        </section>
    }
}

/// A progress bar with its value spelled out next to it. `value` is clamped to `0..=max`.
#[component]
pub fn ProgressBar(
    #[prop(into)] label: String,
    #[prop(into)] value: Signal<f64>,
    #[prop(default = 100.0)] max: f64,
) -> impl IntoView {
    let clamped = move || value.get().clamp(0.0, max);
    let percent = move || {
        if max > 0.0 {
            format!("{:.0} %", clamped() / max * 100.0)
        } else {
            "0 %".to_owned()
        }
    };
    view! {
        <div class="progress">
            <span class="progress__label">{label.clone()}</span>
            <progress class="progress__bar" max=max value=clamped aria-label=label></progress>
            <span class="progress__value">{percent}</span>
        </div>
    }
}

/// What a list or a page shows when it has nothing yet, with the next step to take.
#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    #[prop(into)] message: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="empty-state">
            <svg class="empty-state__icon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M4 6h16M4 12h10M4 18h6" />
            </svg>
            <h3>{title}</h3>
            <p>{message}</p>
            {children.map(|c| c())}
        </div>
    }
}

/// An error message block, for failed loads and error boundaries.
#[component]
pub fn ErrorNotice(#[prop(into)] title: String, #[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="notice notice--danger" role="alert">
            <strong>{title}</strong>
            <p>{message}</p>
        </div>
    }
}

/// A placeholder shown while data loads.
#[component]
pub fn Loading(#[prop(into)] label: String) -> impl IntoView {
    view! {
        <div class="loading" role="status" aria-live="polite">
            <span class="loading__spinner" aria-hidden="true"></span>
            <span>{label}</span>
        </div>
    }
}
