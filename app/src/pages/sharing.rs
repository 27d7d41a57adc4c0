//! Who sees an analysis, on its page: a sentence for everyone, and for its author or an admin
//! a form to change it — everyone in the organisation, chosen teams (each with a role for this
//! analysis, if it should differ from their own), or only its author.

use leptos::prelude::*;

use crate::api::error::{ApiError, field_error};
use crate::api::sharing::{SaveSharing, ShareView, Sharing};
use crate::components::ui::ErrorNotice;

/// The sharing card of analysis `id`, from `initial` (loaded with the page, so the card has no
/// data section of its own to stream in after the page's).
#[component]
pub fn SharingCard(
    org: String,
    org_name: String,
    id: String,
    initial: Result<Sharing, ApiError>,
) -> impl IntoView {
    let save = ServerAction::<SaveSharing>::new();
    let body = match initial {
        Ok(s) if s.can_change => {
            view! { <SharingForm org org_name id sharing=s save /> }.into_any()
        }
        Ok(s) => view! { <p data-testid="sharing-summary">{s.describe(&org_name)}</p> }.into_any(),
        Err(e) => view! { <ErrorNotice title="Sharing could not be loaded" message=e.message /> }
            .into_any(),
    };
    view! {
        <section class="card" aria-labelledby="sharing-title" data-testid="sharing">
            <div class="card__header"><h2 class="card__title" id="sharing-title">"Sharing"</h2></div>
            {body}
        </section>
    }
}

/// One team's row in the form.
#[derive(Clone, Debug, PartialEq)]
struct TeamRow {
    id: String,
    name: String,
    chosen: RwSignal<bool>,
    /// Empty for "their own roles".
    role: RwSignal<String>,
}

#[component]
fn SharingForm(
    org: String,
    org_name: String,
    id: String,
    sharing: Sharing,
    save: ServerAction<SaveSharing>,
) -> impl IntoView {
    // What the server last confirmed: the saved answer once there is one.
    let saved = RwSignal::new(sharing.clone());
    Effect::new(move |_| {
        if let Some(Ok(s)) = save.value().get() {
            saved.set(s);
        }
    });
    let visibility = RwSignal::new(sharing.visibility.clone());
    let rows: Vec<TeamRow> = sharing
        .available_teams
        .iter()
        .map(|t| {
            let share = sharing.teams.iter().find(|s| s.team_id == t.key);
            TeamRow {
                id: t.key.clone(),
                name: t.name.clone(),
                chosen: RwSignal::new(share.is_some()),
                role: RwSignal::new(share.and_then(|s| s.role.clone()).unwrap_or_default()),
            }
        })
        .collect();
    let roles = sharing.roles.clone();
    let submit = {
        let rows = rows.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let private = visibility.get_untracked() == "private";
            let teams = rows
                .iter()
                .filter(|r| !private && r.chosen.get_untracked())
                .map(|r| ShareView {
                    team_id: r.id.clone(),
                    team: r.name.clone(),
                    role: Some(r.role.get_untracked()).filter(|x| !x.is_empty()),
                })
                .collect();
            save.dispatch(SaveSharing {
                org: org.clone(),
                id: id.clone(),
                visibility: visibility.get_untracked(),
                teams,
            });
        }
    };
    let error = move || match save.value().get() {
        Some(Err(e)) => Some(message(&e)),
        _ => None,
    };
    let name = org_name.clone();
    let summary = move || saved.with(|s| s.describe(&name));
    let option = move |value: &'static str, label: String| {
        let input_id = format!("visibility-{value}");
        view! {
            <div class="choice">
                <input type="radio" id=input_id.clone() name="visibility" value=value
                    prop:checked=move || visibility.get() == value
                    on:change=move |_| visibility.set(value.to_owned()) />
                <label for=input_id>{label}</label>
            </div>
        }
    };
    let no_teams = rows.is_empty();
    view! {
        <p class="muted" data-testid="sharing-summary" aria-live="polite">{summary}</p>
        <form class="form sharing-form" on:submit=submit>
            <fieldset class="choices">
                <legend>"Who can see it"</legend>
                {option("org", format!("Everyone in {org_name}"))}
                {option("teams", "Selected teams".to_owned())}
                {option("private", "Only me (admins always can)".to_owned())}
            </fieldset>
            <fieldset class="choices" disabled=move || visibility.get() == "private">
                <legend>"Teams"</legend>
                {no_teams.then(|| view! { <p class="muted">"This organisation has no teams yet."</p> })}
                {rows.into_iter().map(|row| {
                    let check_id = format!("share-{}", row.id);
                    let role_id = format!("share-role-{}", row.id);
                    let (chosen, role) = (row.chosen, row.role);
                    let roles = roles.clone();
                    view! {
                        <div class="share-row">
                            <input type="checkbox" id=check_id.clone() prop:checked=move || chosen.get()
                                on:change=move |ev| chosen.set(event_target_checked(&ev)) />
                            <label for=check_id>{row.name.clone()}</label>
                            <label class="visually-hidden" for=role_id.clone()>{format!("Role of {} on this analysis", row.name)}</label>
                            <select id=role_id class="input input--compact" disabled=move || !chosen.get()
                                prop:value=move || role.get()
                                on:change=move |ev| role.set(event_target_value(&ev))>
                                <option value="">"Their own roles"</option>
                                {roles.into_iter().map(|r| view! { <option value=r.key.clone()>{format!("As {}", r.name.to_lowercase())}</option> }).collect_view()}
                            </select>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            {move || error().map(|m| view! { <p class="field__help field__error" role="alert">{m}</p> })}
            <button type="submit" class="button button--primary" disabled=move || save.pending().get()>"Save sharing"</button>
        </form>
    }
}

fn message(e: &ApiError) -> String {
    let result: Option<Result<(), ApiError>> = Some(Err(e.clone()));
    field_error(&result, "teams")
        .or_else(|| field_error(&result, "visibility"))
        .unwrap_or_else(|| e.message.clone())
}
