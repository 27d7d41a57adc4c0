//! Dark / light / system theme. The choice lives in a cookie so the server renders the right
//! `data-theme` on `<html>` before the first paint, and in a signal so the page updates at once.

use leptos::prelude::*;

/// Name of the cookie that stores the choice.
pub const COOKIE: &str = "faultline_theme";

/// The user's theme choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// Follow the operating system (`prefers-color-scheme`).
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    /// Every choice, in the order the toggle shows them.
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// The value used in the cookie and the `data-theme` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// The label shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Self::System => "System",
            Self::Light => "Light",
            Self::Dark => "Dark",
        }
    }

    /// Parses a stored value; anything unknown means [`Theme::System`].
    pub fn parse(raw: &str) -> Self {
        match raw.trim() {
            "light" => Self::Light,
            "dark" => Self::Dark,
            _ => Self::System,
        }
    }

    /// Finds the choice in a `Cookie` header value.
    pub fn from_cookie_header(header: &str) -> Self {
        header
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .map_or(Self::System, |(_, value)| Self::parse(value))
    }

    /// The choice carried by the request being rendered.
    #[cfg(feature = "ssr")]
    pub fn from_request() -> Self {
        use_context::<http::request::Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(http::header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .map(Self::from_cookie_header)
            })
            .unwrap_or_default()
    }
}

/// The current theme, shared through context.
#[derive(Clone, Copy, Debug)]
pub struct ThemeContext(pub RwSignal<Theme>, RwSignal<bool>);

/// Provides the theme signal, initialised from the request (server) or the document (browser).
pub fn provide_theme() {
    #[cfg(feature = "ssr")]
    let initial = Theme::from_request();
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    let initial = document_theme();
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let initial = Theme::System;
    let system_dark = RwSignal::new(prefers_dark());
    #[cfg(feature = "hydrate")]
    follow_system(system_dark);
    provide_context(ThemeContext(RwSignal::new(initial), system_dark));
}

/// Whether the page shows dark colours now: the chosen theme, or for `system` the operating
/// system's, followed as it changes.
pub fn use_dark() -> Signal<bool> {
    let theme = use_theme();
    let system = use_context::<ThemeContext>()
        .map(|c| c.1)
        .unwrap_or_else(|| RwSignal::new(prefers_dark()));
    Signal::derive(move || match theme.get() {
        Theme::Dark => true,
        Theme::Light => false,
        Theme::System => system.get(),
    })
}

/// Keeps `dark` in step with the `prefers-color-scheme` media query.
#[cfg(feature = "hydrate")]
fn follow_system(dark: RwSignal<bool>) {
    use wasm_bindgen::JsCast;
    let Some(query) = window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
    else {
        return;
    };
    let changed =
        wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || dark.set(prefers_dark()));
    if query
        .add_event_listener_with_callback("change", changed.as_ref().unchecked_ref())
        .is_ok()
    {
        // The listener lives as long as the page: there is one theme context per page.
        changed.forget();
    }
}

/// The theme signal; falls back to a fresh one outside [`provide_theme`].
pub fn use_theme() -> RwSignal<Theme> {
    use_context::<ThemeContext>()
        .map(|c| c.0)
        .unwrap_or_else(|| RwSignal::new(Theme::System))
}

#[cfg(feature = "hydrate")]
fn document_theme() -> Theme {
    document()
        .document_element()
        .and_then(|el| el.get_attribute("data-theme"))
        .map_or(Theme::System, |v| Theme::parse(&v))
}

#[cfg(feature = "hydrate")]
fn prefers_dark() -> bool {
    window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|q| q.matches())
}

#[cfg(not(feature = "hydrate"))]
fn prefers_dark() -> bool {
    false
}

#[cfg(feature = "hydrate")]
fn apply(theme: Theme) {
    use wasm_bindgen::JsCast;
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    if let Ok(doc) = document().dyn_into::<web_sys::HtmlDocument>() {
        let cookie = format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            theme.as_str()
        );
        let _ = doc.set_cookie(&cookie);
    }
}

/// Three-way theme switch: a group of toggle buttons with `aria-pressed`.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = use_theme();
    let toasts = crate::components::toast::use_toasts();
    let choose = move |choice: Theme| {
        theme.set(choice);
        #[cfg(feature = "hydrate")]
        apply(choice);
        toasts.push(format!("Theme set to {}", choice.label().to_lowercase()));
    };
    view! {
        <div class="theme-toggle" role="group" aria-label="Colour theme">
            {Theme::ALL
                .into_iter()
                .map(|choice| {
                    view! {
                        <button
                            type="button"
                            class="theme-toggle__option"
                            data-theme-choice=choice.as_str()
                            aria-pressed=move || (theme.get() == choice).to_string()
                            on:click=move |_| choose(choice)
                        >
                            {choice.label()}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_theme_cookie_among_others() {
        assert_eq!(
            Theme::from_cookie_header("a=1; faultline_theme=dark; b=2"),
            Theme::Dark
        );
        assert_eq!(
            Theme::from_cookie_header("faultline_theme=light"),
            Theme::Light
        );
        assert_eq!(
            Theme::from_cookie_header("faultline_theme=neon"),
            Theme::System
        );
        assert_eq!(Theme::from_cookie_header(""), Theme::System);
    }

    #[test]
    fn values_round_trip() {
        for theme in Theme::ALL {
            assert_eq!(Theme::parse(theme.as_str()), theme);
        }
    }
}
