//! Form pieces: labelled fields whose error sits next to them (announced to screen readers and
//! linked with `aria-describedby`), and the form-level message.

use leptos::prelude::*;

use crate::api::error::{ApiError, field_error};

/// The message for one field from an action's last result, as a signal for [`TextField`].
pub fn field<S, T>(result: S, name: &'static str) -> Signal<Option<String>>
where
    S: Get<Value = Option<Result<T, ApiError>>> + Send + Sync + 'static,
    T: 'static,
{
    Signal::derive(move || field_error(&result.get(), name))
}

/// A labelled input with its error message.
#[component]
pub fn TextField(
    /// Visible label.
    #[prop(into)]
    label: String,
    /// Form field name (the server function argument).
    #[prop(into)]
    name: String,
    /// Error to show, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// `text`, `email`, `password`…
    #[prop(into, default = "text".into())]
    input_type: String,
    /// Autocomplete hint.
    #[prop(into, default = "off".into())]
    autocomplete: String,
    /// Initial value.
    #[prop(into, optional)]
    value: String,
    /// Help shown under the field when there is no error.
    #[prop(into, optional)]
    help: Option<String>,
    /// Whether the field must be filled.
    #[prop(default = true)]
    required: bool,
    /// Element id; defaults to `field-<name>`. Set it when a page has two fields of one name.
    #[prop(into, optional)]
    id: Option<String>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("field-{name}"));
    let described = format!("{id}-note");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                class="input"
                name=name
                type=input_type
                autocomplete=autocomplete
                value=value
                required=required
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described.clone()
            />
            <p id=described class="field__help" class:field__error=move || error.get().is_some() aria-live="polite">
                {move || error.get().or_else(|| help.clone()).unwrap_or_default()}
            </p>
        </div>
    }
}

/// A form-level message: an error in an alert box, or nothing.
#[component]
pub fn FormError(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|m| {
            view! {
                <div class="notice notice--danger" role="alert">
                    <p>{m}</p>
                </div>
            }
        })
    }
}

/// A search or filter form that puts its fields in the URL and navigates there without
/// reloading: the router's `Form`, minus empty parameters. Its nameless submit button would add
/// a bare `=`, and a field left empty means the same as one left out.
#[component]
pub fn QueryForm(
    /// The page the query is for.
    #[prop(into)]
    action: String,
    children: Children,
) -> impl IntoView {
    let on_form_data: std::sync::Arc<dyn Fn(&leptos::web_sys::FormData)> =
        std::sync::Arc::new(drop_empty_fields);
    view! {
        <leptos_router::components::Form method="GET" action=action noscroll=true on_form_data>
            {children()}
        </leptos_router::components::Form>
    }
}

/// Removes the entries of `data` whose values are all empty.
fn drop_empty_fields(data: &leptos::web_sys::FormData) {
    let empty: Vec<String> = data
        .keys()
        .into_iter()
        .filter_map(|key| key.ok()?.as_string())
        .filter(|key| {
            data.get_all(key)
                .iter()
                .all(|v| v.as_string().is_some_and(|s| s.is_empty()))
        })
        .collect();
    for key in empty {
        data.delete(&key);
    }
}
