//! Organisation pages: the list of your organisations, creating one, accepting an invitation,
//! the administration page (members, invitations, teams, roles, API tokens, settings) and the
//! audit log. What each section offers follows the caller's permissions.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::api::account::Me;
use crate::api::ai::{
    AddAiProvider, AiAdmin, DeleteAiProvider, ProviderKind, SaveAiSettings, SetAiProviderEnabled,
    load_ai_admin,
};
use crate::api::error::{ApiError, field_error, form_error};
use crate::api::orgs::{
    AcceptInvitation, AddTeamMember, AuditFilter, ChangeMemberRole, CreateOrg, CreateRole,
    CreateTeam, CreateToken, DeleteOrg, DeleteRole, DeleteTeam, InviteMember, OrgAdmin,
    RemoveMember, RemoveTeamMember, RenameTeam, RevokeInvitation, RevokeToken, TransferOwnership,
    UpdateOrg, UpdateRole, audit_log, load_org_admin,
};
use crate::components::form::{FormError, TextField, field};
use crate::components::session::use_session;
use crate::components::toast::use_toasts;
use crate::components::ui::{Badge, Card, EmptyState, ErrorNotice, Loading, Tone};
use crate::pages::account::RequireUser;
use crate::pages::ai_admin::{RoutingForm, UsageSection};
use crate::pages::prompts::PromptsCard;
use crate::pages::status::format_date;

/// Each time `action` succeeds: says `done` in a toast (toasts outlive the reload) and calls
/// `then`.
pub(crate) fn on_success<A, T>(
    action: ServerAction<A>,
    done: &'static str,
    then: impl Fn() + 'static,
) where
    A: leptos::server_fn::ServerFn<Output = T, Error = ApiError> + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    let toasts = use_toasts();
    Effect::new(move |_| {
        if matches!(action.value().get(), Some(Ok(_))) {
            toasts.push(done);
            then();
        }
    });
}

/// `/orgs`: the organisations you belong to.
#[component]
pub fn OrgsIndexPage() -> impl IntoView {
    view! {
        <Title text="Organisations" />
        <RequireUser signed_in=|me: Me| view! {
            <h1>"Your organisations"</h1>
            <ul class="org-list">
                {me.orgs.into_iter().map(|o| view! {
                    <li><A href=format!("/orgs/{}", o.slug)>{o.name}</A> " " <Badge tone=Tone::Neutral label=o.role /></li>
                }).collect_view()}
            </ul>
            <p><A href="/orgs/new" attr:class="button">"New organisation"</A></p>
        } />
    }
}

/// `/orgs/new`.
#[component]
pub fn NewOrgPage() -> impl IntoView {
    let session = use_session();
    let action = ServerAction::<CreateOrg>::new();
    let result = action.value();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(slug)) = result.get() {
            session.changed();
            navigate(&format!("/orgs/{slug}"), Default::default());
        }
    });
    view! {
        <Title text="New organisation" />
        <section class="auth">
            <h1>"New organisation"</h1>
            <ActionForm action attr:class="form">
                <TextField label="Name" name="name" autocomplete="organization" error=field(result, "name") />
                <FormError message=Signal::derive(move || form_error(&result.get())) />
                <button class="button button--primary" type="submit">"Create organisation"</button>
            </ActionForm>
        </section>
    }
}

/// `/invitations/accept?org=…&token=…`.
#[component]
pub fn AcceptInvitationPage() -> impl IntoView {
    let query = use_query_map();
    let org = move || query.read().get("org").unwrap_or_default();
    let token = move || query.read().get("token").unwrap_or_default();
    let session = use_session();
    let action = ServerAction::<AcceptInvitation>::new();
    let result = action.value();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(slug)) = result.get() {
            session.changed();
            navigate(&format!("/orgs/{slug}"), Default::default());
        }
    });
    let here = move || format!("/invitations/accept?org={}&token={}", org(), token());
    view! {
        <Title text="Join an organisation" />
        <section class="auth">
            <h1>"Join " {org}</h1>
            <Suspense fallback=|| view! { <Loading label="Checking your session" /> }>
                {move || Suspend::new(async move {
                    match session.user.await {
                        Ok(Some(me)) => view! {
                            <p>"Signed in as " <strong>{me.email}</strong> "."</p>
                            <ActionForm action attr:class="form">
                                <input type="hidden" name="org" value=org />
                                <input type="hidden" name="token" value=token />
                                <FormError message=Signal::derive(move || form_error(&result.get())) />
                                <button class="button button--primary" type="submit">"Accept the invitation"</button>
                            </ActionForm>
                        }.into_any(),
                        _ => {
                            let next = crate::api::account::urlencode(&here());
                            view! {
                                <p>"Sign in with the address the invitation was sent to, or create an account with it."</p>
                                <p>
                                    <A href=format!("/login?next={next}") attr:class="button button--primary">"Sign in"</A> " "
                                    <A href=format!("/signup?next={next}") attr:class="button">"Create an account"</A>
                                </p>
                            }.into_any()
                        }
                    }
                })}
            </Suspense>
        </section>
    }
}

/// `/orgs/:org`: the organisation's administration.
#[component]
pub fn OrgAdminPage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org").unwrap_or_default();
    let reload = RwSignal::new(0_u32);
    // Lives outside the reloaded view, so a new token's secret stays on screen after the list
    // refreshes.
    let new_token = RwSignal::new(None::<String>);
    let data = Resource::new(
        move || (org(), reload.get()),
        |(org, _)| load_org_admin(org),
    );
    // Loaded with the page (not inside a card of its own), so the page hydrates as one; those
    // who may not configure AI get none.
    let ai = Resource::new(move || (org(), reload.get()), |(org, _)| load_ai_admin(org));
    view! {
        <Title text="Organisation" />
        <Transition fallback=|| view! { <Loading label="Loading the organisation" /> }>
            {move || Suspend::new(async move {
                let ai = ai.await.ok().flatten();
                match data.await {
                    Ok(page) => view! { <OrgAdminView page reload new_token ai /> }.into_any(),
                    Err(e) if e.status == 401 => view! { <EmptyState title="Sign in to continue" message="This page needs you to be signed in."><A href="/login">"Sign in"</A></EmptyState> }.into_any(),
                    Err(e) if e.code == "mfa_enrolment_required" => view! {
                        <ErrorNotice title="Two-factor authentication required" message=e.message />
                        <p><A href="/account">"Set it up in your account"</A></p>
                    }.into_any(),
                    Err(e) if e.status == 404 => view! { <EmptyState title="No such organisation" message="It does not exist, or you are not a member." /> }.into_any(),
                    Err(e) => view! { <ErrorNotice title="The organisation could not be loaded" message=e.message /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OrgAdminView(
    page: OrgAdmin,
    reload: RwSignal<u32>,
    new_token: RwSignal<Option<String>>,
    ai: Option<AiAdmin>,
) -> impl IntoView {
    let org = page.org.clone();
    let bump = move || reload.update(|v| *v += 1);
    view! {
        <header class="page-header">
            <h1>{org.name.clone()}</h1>
            <p class="muted">
                "Your role: " <Badge tone=Tone::Info label=role_name(&page, &org.role) />
                {org.require_mfa.then(|| view! { " " <Badge tone=Tone::Ok label="two-factor required" /> })}
                {org.can("view_audit").then(|| view! { " · " <A href=format!("/orgs/{}/audit", org.slug)>"Audit log"</A> })}
            </p>
        </header>
        <MembersCard page=page.clone() bump />
        <div class="grid">
            {org.can("manage_members").then(|| view! { <InviteCard page=page.clone() bump /> })}
            <TeamsCard page=page.clone() bump />
            <RolesCard page=page.clone() bump />
            <TokensCard page=page.clone() bump new_token />
            {org.can("manage_members").then(|| view! { <SettingsCard page=page.clone() bump /> })}
        </div>
        {ai.filter(|_| org.can("configure_ai")).map(|admin| view! {
            <AiCard org=org.slug.clone() admin bump />
            <PromptsCard org=org.slug.clone() teams=page.teams.clone() />
        })}
    }
}

fn role_name(page: &OrgAdmin, key: &str) -> String {
    page.roles
        .iter()
        .find(|r| r.key == key)
        .map_or_else(|| key.to_owned(), |r| r.name.clone())
}

#[component]
fn MembersCard(page: OrgAdmin, bump: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let change = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    on_success(change, "Role changed.", bump);
    on_success(remove, "Member removed.", bump);
    let session = use_session();
    let me = Signal::derive(move || {
        session
            .user
            .get()
            .and_then(Result::ok)
            .flatten()
            .map(|m| m.id)
            .unwrap_or_default()
    });
    let can_manage = page.org.can("manage_members");
    let slug = page.org.slug.clone();
    let roles: Vec<(String, String)> = page
        .roles
        .iter()
        .filter(|r| r.key != "owner")
        .map(|r| (r.key.clone(), r.name.clone()))
        .collect();
    let error = Signal::derive(move || {
        form_error(&change.value().get()).or_else(|| form_error(&remove.value().get()))
    });
    view! {
        <Card title="Members" subtitle=format!("{} people", page.members.len())>
            <FormError message=error />
            <div class="table-wrap">
                <table class="table" data-testid="members">
                    <thead><tr><th>"Email"</th><th>"Role"</th><th>"Two-factor"</th><th>"Joined"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                    <tbody>
                        {page.members.iter().map(|m| {
                            let editable = can_manage && m.role != "owner";
                            let (slug, slug2, user, user2) = (slug.clone(), slug.clone(), m.user_id.clone(), m.user_id.clone());
                            let role_label = role_name(&page, &m.role);
                            let options = roles.clone();
                            let current = m.role.clone();
                            let is_me = Signal::derive({ let id = m.user_id.clone(); move || me.get() == id });
                            view! {
                                <tr>
                                    <td>{m.email.clone()}</td>
                                    <td>{if editable {
                                        view! {
                                            <select class="input input--compact" aria-label=format!("Role of {}", m.email)
                                                disabled=is_me
                                                on:change=move |ev| { change.dispatch(ChangeMemberRole { org: slug.clone(), user_id: user.clone(), role: event_target_value(&ev) }); }>
                                                {options.into_iter().map(|(key, name)| { let selected = key == current; view! { <option value=key selected=selected>{name}</option> } }).collect_view()}
                                            </select>
                                        }.into_any()
                                    } else {
                                        view! { <Badge tone=Tone::Neutral label=role_label /> }.into_any()
                                    }}</td>
                                    <td>{if m.mfa { "on" } else { "off" }}</td>
                                    <td>{format_date(m.joined_at_ms)}</td>
                                    <td>{(editable).then(|| view! {
                                        <button class="button button--danger" disabled=is_me on:click=move |_| { remove.dispatch(RemoveMember { org: slug2.clone(), user_id: user2.clone() }); }>"Remove"</button>
                                    })}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </Card>
    }
}

#[component]
fn InviteCard(page: OrgAdmin, bump: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    on_success(invite, "Invitation sent.", bump);
    on_success(revoke, "Invitation withdrawn.", bump);
    let result = invite.value();
    let slug = page.org.slug.clone();
    let open: Vec<_> = page
        .invitations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.accepted_at_ms.is_none() && i.revoked_at_ms.is_none())
        .collect();
    let form_slug = slug.clone();
    view! {
        <Card title="Invite people" subtitle="They get a link by email that works for seven days.">
            <ActionForm action=invite attr:class="form">
                <input type="hidden" name="org" value=form_slug />
                <TextField id="invite-email" label="Email" name="email" input_type="email" error=field(result, "email") />
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select id="invite-role" class="input" name="role">
                        {page.roles.iter().filter(|r| r.key != "owner").map(|r| view! { <option value=r.key.clone() selected=r.key == "member">{r.name.clone()}</option> }).collect_view()}
                    </select>
                </div>
                <FormError message=Signal::derive(move || form_error(&result.get())) />
                <button class="button button--primary" type="submit">"Send invitation"</button>
            </ActionForm>
            {(!open.is_empty()).then(|| view! {
                <h3>"Pending"</h3>
                <ul class="plain-list" data-testid="invitations">
                    {open.into_iter().map(|i| { let slug = slug.clone(); let id = i.id.clone(); view! {
                        <li>{i.email} " · " {i.role} " · until " {format_date(i.expires_at_ms)} " "
                            <button class="button" on:click=move |_| { revoke.dispatch(RevokeInvitation { org: slug.clone(), id: id.clone() }); }>"Withdraw"</button></li>
                    }}).collect_view()}
                </ul>
            })}
        </Card>
    }
}

#[component]
fn TeamsCard(page: OrgAdmin, bump: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let create = ServerAction::<CreateTeam>::new();
    on_success(create, "Team created.", bump);
    let result = create.value();
    let manage = page.org.can("manage_team");
    view! {
        <Card title="Teams" subtitle="Group people; analyses can later be shared with a team.">
            {if page.teams.is_empty() {
                view! { <EmptyState title="No teams yet" message="Create one below to group people." /> }.into_any()
            } else {
                let slug = page.org.slug.clone();
                let members = page.members.clone();
                view! {
                    <div class="stack" data-testid="teams">
                        {page.teams.iter().cloned().map(|t| view! {
                            <TeamRow org=slug.clone() team=t org_members=members.clone() manage bump />
                        }).collect_view()}
                    </div>
                }.into_any()
            }}
            {manage.then(|| view! {
                <ActionForm action=create attr:class="form form--inline">
                    <input type="hidden" name="org" value=page.org.slug.clone() />
                    <TextField id="team-name" label="New team" name="name" error=field(result, "name") />
                    <button class="button" type="submit">"Create team"</button>
                </ActionForm>
            })}
        </Card>
    }
}

/// One team: its members, and (with `manage_team`) adding, removing, renaming and deleting.
#[component]
fn TeamRow(
    org: String,
    team: crate::api::orgs::TeamView,
    org_members: Vec<crate::api::orgs::MemberView>,
    manage: bool,
    bump: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let add = ServerAction::<AddTeamMember>::new();
    let remove = ServerAction::<RemoveTeamMember>::new();
    let rename = ServerAction::<RenameTeam>::new();
    let delete = ServerAction::<DeleteTeam>::new();
    on_success(add, "Added to the team.", bump);
    on_success(remove, "Taken out of the team.", bump);
    on_success(rename, "Team renamed.", bump);
    on_success(delete, "Team deleted.", bump);
    let outsiders: Vec<_> = org_members
        .into_iter()
        .filter(|m| !team.members.iter().any(|t| t.user_id == m.user_id))
        .collect();
    let select_id = format!("team-add-{}", team.id);
    let rename_id = format!("team-rename-{}", team.id);
    let errors = Signal::derive(move || {
        form_error(&add.value().get())
            .or_else(|| form_error(&rename.value().get()))
            .or_else(|| form_error(&delete.value().get()))
    });
    let (org_r, team_r) = (org.clone(), team.id.clone());
    let add_form = (manage && !outsiders.is_empty()).then(|| {
        let (org, team_id) = (org.clone(), team.id.clone());
        view! {
            <ActionForm action=add attr:class="form form--inline">
                <input type="hidden" name="org" value=org />
                <input type="hidden" name="team" value=team_id />
                <label for=select_id.clone()>"Add"</label>
                <select id=select_id.clone() class="input input--compact" name="user_id">
                    {outsiders.iter().map(|m| view! { <option value=m.user_id.clone()>{m.email.clone()}</option> }).collect_view()}
                </select>
                <button class="button" type="submit">"Add to team"</button>
            </ActionForm>
        }
    });
    let edit_forms = manage.then(|| {
        let (org2, team2) = (org.clone(), team.id.clone());
        let (org3, team3, name) = (org.clone(), team.id.clone(), team.name.clone());
        view! {
            <details>
                <summary>"Rename or delete"</summary>
                <ActionForm action=rename attr:class="form form--inline">
                    <input type="hidden" name="org" value=org2 />
                    <input type="hidden" name="team" value=team2 />
                    <TextField id=rename_id.clone() label="New name" name="name" value=name error=field(rename.value(), "name") />
                    <button class="button" type="submit">"Rename"</button>
                </ActionForm>
                <ActionForm action=delete attr:class="form form--inline">
                    <input type="hidden" name="org" value=org3 />
                    <input type="hidden" name="team" value=team3 />
                    <button class="button button--danger" type="submit">"Delete team"</button>
                </ActionForm>
            </details>
        }
    });
    let list = if team.members.is_empty() {
        view! { <p class="muted">"Nobody in this team yet."</p> }.into_any()
    } else {
        view! {
            <ul class="plain-list">
                {team.members.iter().map(|m| {
                    let (org, team_id, user_id) = (org_r.clone(), team_r.clone(), m.user_id.clone());
                    let label = format!("Take {} out of the team", m.email);
                    view! {
                        <li>{m.email.clone()} {manage.then(|| view! { " "
                            <button class="button button--small" aria-label=label
                                on:click=move |_| { remove.dispatch(RemoveTeamMember { org: org.clone(), team: team_id.clone(), user_id: user_id.clone() }); }>"Remove"</button>
                        })}</li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    };
    view! {
        <section class="team" aria-label=team.name.clone()>
            <h3>{team.name.clone()} " " <span class="muted">{format!("· {} {}", team.member_count, if team.member_count == 1 { "member" } else { "members" })}</span></h3>
            {list}
            <div class="form form--inline">{add_form}{edit_forms}</div>
            <FormError message=errors />
        </section>
    }
}

/// Checkboxes for a set of permissions, kept in `selected`.
#[component]
fn PermissionPicker(
    #[prop(into)] legend: String,
    available: Vec<String>,
    selected: RwSignal<Vec<String>>,
) -> impl IntoView {
    view! {
        <fieldset class="checks">
            <legend>{legend}</legend>
            {available.into_iter().map(|p| {
                let name = p.clone();
                let checked = { let p = p.clone(); move || selected.get().contains(&p) };
                view! {
                    <label class="check">
                        <input type="checkbox" value=p.clone() prop:checked=checked
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                selected.update(|s| { s.retain(|x| *x != name); if on { s.push(name.clone()); } });
                            } />
                        {p.replace('_', " ")}
                    </label>
                }
            }).collect_view()}
        </fieldset>
    }
}

#[component]
fn RolesCard(page: OrgAdmin, bump: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let create = ServerAction::<CreateRole>::new();
    on_success(create, "Role created.", bump);
    let result = create.value();
    let selected = RwSignal::new(Vec::<String>::new());
    let manage = page.org.can("manage_members");
    let slug = page.org.slug.clone();
    let available = page.org.permissions.clone();
    view! {
        <Card title="Roles">
            <ul class="plain-list">
                {page.roles.iter().map(|r| {
                    let custom = !r.builtin;
                    let (slug, available) = (slug.clone(), available.clone());
                    view! {
                        <li>
                            <strong>{r.name.clone()}</strong> {custom.then_some(" (custom)")} ": "
                            <span class="muted">{r.permissions.join(", ").replace('_', " ")}</span>
                            {(custom && manage).then(|| view! { <CustomRoleEditor org=slug role=r.clone() available bump /> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
            {manage.then(|| view! {
                <ActionForm action=create attr:class="form">
                    <input type="hidden" name="org" value=page.org.slug.clone() />
                    <TextField id="role-name" label="Custom role name" name="name" error=field(result, "name") />
                    <PermissionPicker legend="Permissions" available=page.org.permissions.clone() selected />
                    <input type="hidden" name="permissions" prop:value=move || selected.get().join(",") />
                    <FormError message=Signal::derive(move || form_error(&result.get()).or_else(|| field_error(&result.get(), "permissions"))) />
                    <button class="button" type="submit">"Create role"</button>
                </ActionForm>
            })}
        </Card>
    }
}

/// Editing or deleting one custom role.
#[component]
fn CustomRoleEditor(
    org: String,
    role: crate::api::orgs::RoleView,
    available: Vec<String>,
    bump: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let update = ServerAction::<UpdateRole>::new();
    let delete = ServerAction::<DeleteRole>::new();
    on_success(update, "Role saved.", bump);
    on_success(delete, "Role deleted.", bump);
    let selected = RwSignal::new(role.permissions.clone());
    let name_id = format!("role-edit-{}", role.key);
    let errors = Signal::derive(move || {
        form_error(&update.value().get())
            .or_else(|| field_error(&update.value().get(), "permissions"))
            .or_else(|| form_error(&delete.value().get()))
    });
    let (org2, key2) = (org.clone(), role.key.clone());
    view! {
        <details class="role-edit">
            <summary>{format!("Edit {}", role.name)}</summary>
            <ActionForm action=update attr:class="form">
                <input type="hidden" name="org" value=org2 />
                <input type="hidden" name="role" value=key2 />
                <TextField id=name_id label="Name" name="name" value=role.name.clone() error=field(update.value(), "name") />
                <PermissionPicker legend="Permissions" available selected />
                <input type="hidden" name="permissions" prop:value=move || selected.get().join(",") />
                <button class="button" type="submit">"Save role"</button>
            </ActionForm>
            <ActionForm action=delete attr:class="form form--inline">
                <input type="hidden" name="org" value=org />
                <input type="hidden" name="role" value=role.key />
                <button class="button button--danger" type="submit">"Delete role"</button>
            </ActionForm>
            <FormError message=errors />
        </details>
    }
}

#[component]
fn TokensCard(
    page: OrgAdmin,
    bump: impl Fn() + Copy + Send + Sync + 'static,
    new_token: RwSignal<Option<String>>,
) -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    Effect::new(move |_| {
        if let Some(Ok(secret)) = create.value().get() {
            new_token.set(Some(secret));
            bump();
        }
    });
    on_success(revoke, "Token revoked.", bump);
    let result = create.value();
    let selected = RwSignal::new(vec!["view_analyses".to_owned()]);
    let slug = page.org.slug.clone();
    let live: Vec<_> = page
        .tokens
        .iter()
        .filter(|t| t.revoked_at_ms.is_none())
        .cloned()
        .collect();
    view! {
        <Card title="API tokens" subtitle="For CI and the command line: send as Authorization: Bearer.">
            {move || new_token.get().map(|secret| view! {
                <div class="notice notice--ok" role="status">
                    <p>"Copy the token now; it is not shown again."</p>
                    <code class="secret" data-testid="new-token">{secret}</code>
                </div>
            })}
            {(!live.is_empty()).then(|| view! {
                <ul class="plain-list">
                    {live.into_iter().map(|t| { let slug = slug.clone(); let id = t.id.clone(); view! {
                        <li><strong>{t.name.clone()}</strong> " " <code>{format!("flt_{}…", t.prefix)}</code> " · " {t.kind.clone()} " · " {t.scopes.join(", ")}
                            " · last used " {t.last_used_at_ms.map_or_else(|| "never".to_owned(), format_date)}
                            " " <button class="button" on:click=move |_| { revoke.dispatch(RevokeToken { org: slug.clone(), id: id.clone() }); }>"Revoke"</button></li>
                    }}).collect_view()}
                </ul>
            })}
            <ActionForm action=create attr:class="form">
                <input type="hidden" name="org" value=page.org.slug.clone() />
                <TextField id="token-name" label="Token name" name="name" error=field(result, "name") />
                <PermissionPicker legend="Scopes" available=page.org.permissions.clone() selected />
                <input type="hidden" name="scopes" prop:value=move || selected.get().join(",") />
                {if page.org.can("manage_members") {
                    view! {
                        <div class="field"><label for="token-kind">"Acts as"</label>
                            <select id="token-kind" class="input" name="kind"><option value="personal">"me"</option><option value="org">"the organisation"</option></select></div>
                    }.into_any()
                } else {
                    view! { <input type="hidden" name="kind" value="personal" /> }.into_any()
                }}
                <TextField id="token-days" label="Expires in (days)" name="expires_in_days" input_type="number" value="90" error=field(result, "expires_in_days") />
                <FormError message=Signal::derive(move || form_error(&result.get()).or_else(|| field_error(&result.get(), "scopes"))) />
                <button class="button" type="submit">"Create token"</button>
            </ActionForm>
        </Card>
    }
}

#[component]
fn SettingsCard(page: OrgAdmin, bump: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let update = ServerAction::<UpdateOrg>::new();
    let delete = ServerAction::<DeleteOrg>::new();
    let transfer = ServerAction::<TransferOwnership>::new();
    on_success(update, "Settings saved.", bump);
    on_success(
        transfer,
        "Ownership transferred; you are now an admin.",
        bump,
    );
    let session = use_session();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(()))) {
            session.changed();
            navigate("/orgs", Default::default());
        }
    });
    let result = update.value();
    let require = RwSignal::new(page.org.require_mfa);
    let (slug, slug2, name) = (
        page.org.slug.clone(),
        page.org.slug.clone(),
        page.org.name.clone(),
    );
    let owner = page.org.role == "owner";
    let heirs: Vec<(String, String)> = page
        .members
        .iter()
        .filter(|m| m.role != "owner")
        .map(|m| (m.user_id.clone(), m.email.clone()))
        .collect();
    let slug3 = page.org.slug.clone();
    view! {
        <Card title="Settings">
            <ActionForm action=update attr:class="form">
                <input type="hidden" name="org" value=slug />
                <TextField id="org-name" label="Name" name="name" value=name error=field(result, "name") />
                <label class="check">
                    <input type="checkbox" prop:checked=move || require.get() on:change=move |ev| require.set(event_target_checked(&ev)) />
                    "Require two-factor authentication of every member"
                </label>
                <input type="hidden" name="require_mfa" prop:value=move || require.get().to_string() />
                <FormError message=Signal::derive(move || form_error(&result.get()).or_else(|| field_error(&result.get(), "require_mfa"))) />
                <button class="button" type="submit">"Save settings"</button>
            </ActionForm>
            {(owner && !heirs.is_empty()).then(|| view! {
                <details class="danger-zone">
                    <summary>"Transfer ownership"</summary>
                    <p>"The member you choose becomes the owner; you stay on as an admin."</p>
                    <ActionForm action=transfer attr:class="form">
                        <input type="hidden" name="org" value=slug3.clone() />
                        <label for="transfer-to">"New owner"</label>
                        <select id="transfer-to" name="user_id" class="input" required=true>
                            {heirs.into_iter().map(|(id, email)| view! { <option value=id>{email}</option> }).collect_view()}
                        </select>
                        <FormError message=Signal::derive(move || form_error(&transfer.value().get()).or_else(|| field_error(&transfer.value().get(), "user_id"))) />
                        <button class="button button--danger" type="submit">"Transfer ownership"</button>
                    </ActionForm>
                </details>
            })}
            {owner.then(|| view! {
                <details class="danger-zone">
                    <summary>"Delete this organisation"</summary>
                    <p>"This removes its members, teams, tokens and every analysis. It cannot be undone."</p>
                    <ActionForm action=delete attr:class="form">
                        <input type="hidden" name="org" value=slug2.clone() />
                        <TextField id="delete-confirm" label=format!("Type {slug2} to confirm") name="confirm" error=field(delete.value(), "confirm") />
                        <button class="button button--danger" type="submit">"Delete organisation"</button>
                    </ActionForm>
                </details>
            })}
        </Card>
    }
}

/// Model providers (keys go in, never come out), the AI switch, PII redaction and the monthly
/// ceiling.
#[component]
fn AiCard(
    org: String,
    admin: AiAdmin,
    bump: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let add = ServerAction::<AddAiProvider>::new();
    let save = ServerAction::<SaveAiSettings>::new();
    let toggle = ServerAction::<SetAiProviderEnabled>::new();
    let remove = ServerAction::<DeleteAiProvider>::new();
    // A provider added: the form empties, so its key does not linger in the page.
    let add_form = NodeRef::<leptos::html::Form>::new();
    on_success(add, "Provider added; its key is sealed.", move || {
        bump();
        if let Some(form) = add_form.get_untracked() {
            form.reset();
        }
    });
    on_success(save, "AI settings saved.", bump);
    on_success(toggle, "Provider updated.", bump);
    on_success(remove, "Provider removed.", bump);
    let added = add.value();
    let saved = save.value();
    let (org2, org3) = (org.clone(), org.clone());
    view! {
        <Card title="AI" subtitle="Optional: Faultline works fully without a model. Providers are tried in order, with retries, a circuit breaker and a cache; when none answers, the built-in engine does.">
            {
                                let settings = admin.settings.clone();
                                let enabled = RwSignal::new(settings.enabled);
                                let redact = RwSignal::new(settings.redact_pii);
                                let budget = settings.monthly_budget.map(|b| b.to_string()).unwrap_or_default();
                                let rows = admin.providers.iter().map(|p| {
                                    let (org_t, org_d, id_t, id_d) = (org.clone(), org.clone(), p.id.clone(), p.id.clone());
                                    let on = p.enabled;
                                    view! {
                                        <tr data-testid="ai-provider">
                                            <td>{p.name.clone()}</td>
                                            <td>{p.kind.label()}</td>
                                            <td><code>{p.base_url.clone()}</code></td>
                                            <td>{p.models.join(", ")}</td>
                                            <td><code>{p.key_hint.clone()}</code></td>
                                            <td class="num">{format!("{} / {}", p.price_in_per_1k, p.price_out_per_1k)}</td>
                                            <td>{if on { view! { <Badge tone=Tone::Ok label="on" /> } } else { view! { <Badge tone=Tone::Neutral label="off" /> } }}</td>
                                            <td>
                                                <button class="button button--small" type="button" on:click=move |_| { toggle.dispatch(SetAiProviderEnabled { org: org_t.clone(), id: id_t.clone(), enabled: !on }); }>
                                                    {if on { "Turn off" } else { "Turn on" }}
                                                </button>" "
                                                <button class="button button--small button--danger" type="button" on:click=move |_| { remove.dispatch(DeleteAiProvider { org: org_d.clone(), id: id_d.clone() }); }>"Remove"</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view();
                                let empty = admin.providers.is_empty();
                                view! {
                                    {if empty {
                                        view! { <p class="muted" data-testid="ai-empty">"No provider yet: explanations come from the built-in engine."</p> }.into_any()
                                    } else {
                                        view! {
                                            <div class="table-wrap">
                                                <table class="table">
                                                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Kind"</th><th scope="col">"Address"</th><th scope="col">"Models"</th><th scope="col">"Key"</th><th scope="col" class="num">"Price in / out per 1k tokens"</th><th scope="col">"State"</th><th scope="col">"Actions"</th></tr></thead>
                                                    <tbody>{rows}</tbody>
                                                </table>
                                            </div>
                                        }.into_any()
                                    }}
                                    <ActionForm action=save attr:class="form form--inline">
                                        <input type="hidden" name="org" value=org.clone() />
                                        <label class="check">
                                            <input type="checkbox" prop:checked=move || enabled.get() on:change=move |ev| enabled.set(event_target_checked(&ev)) />
                                            "Use AI (off: nothing is sent anywhere)"
                                        </label>
                                        <input type="hidden" name="enabled" prop:value=move || enabled.get().to_string() />
                                        <label class="check">
                                            <input type="checkbox" prop:checked=move || redact.get() on:change=move |ev| redact.set(event_target_checked(&ev)) />
                                            "Redact e-mails, IP addresses and secrets before sending"
                                        </label>
                                        <input type="hidden" name="redact_pii" prop:value=move || redact.get().to_string() />
                                        <TextField id="ai-budget" label="Monthly ceiling (empty: none)" name="monthly_budget" value=budget required=false error=field(saved, "monthly_budget") />
                                        <FormError message=Signal::derive(move || form_error(&saved.get())) />
                                        <button class="button" type="submit">"Save AI settings"</button>
                                    </ActionForm>
                }
            }
            <details>
                <summary>"Add a provider"</summary>
                <ActionForm action=add node_ref=add_form attr:class="form">
                    <input type="hidden" name="org" value=org2.clone() />
                    <TextField id="ai-name" label="Name" name="input[name]" error=field(added, "name") />
                    <div class="field">
                        <label for="ai-kind">"Kind"</label>
                        <select id="ai-kind" name="input[kind]" class="input">
                            {ProviderKind::ALL.into_iter().map(|k| view! { <option value=k.as_str()>{k.label()}</option> }).collect_view()}
                        </select>
                    </div>
                    <TextField id="ai-url" label="Address" name="input[base_url]" input_type="url" help="e.g. https://api.openai.com/v1, https://api.anthropic.com, https://generativelanguage.googleapis.com/v1beta, or a local Ollama at http://127.0.0.1:11434/v1" error=field(added, "base_url") />
                    <TextField id="ai-key" label="API key" name="input[api_key]" input_type="password" autocomplete="new-password" help="Sealed on the server and never shown again" error=field(added, "api_key") />
                    <TextField id="ai-models" label="Models (the default first)" name="input[models]" help="Separated by commas" error=field(added, "models") />
                    <TextField id="ai-price-in" label="Price per 1,000 input tokens" name="input[price_in]" required=false error=field(added, "price_in_per_1k") />
                    <TextField id="ai-price-out" label="Price per 1,000 output tokens" name="input[price_out]" required=false error=field(added, "price_out_per_1k") />
                    <FormError message=Signal::derive(move || form_error(&added.get())) />
                    <button class="button button--primary" type="submit">"Add provider"</button>
                </ActionForm>
            </details>
            <RoutingForm org=org3.clone() settings=admin.settings.clone() providers=admin.providers.clone() bump />
            <UsageSection org=org3 initial=admin.usage.clone() />
            <p class="muted">"Every call is also in the audit log (ai.call), with who asked, the task, the model and the tokens."</p>
        </Card>
    }
}

/// `yyyy-mm-dd` → ms at the start of that day (UTC).
fn day_start_ms(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    ((1970..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then(|| crate::time::days_from_civil(y, m, d) * 86_400_000)
}

/// The query string the API and the CSV export take for `filter`.
fn audit_query(filter: &AuditFilter) -> String {
    let mut q = String::new();
    for (key, value) in [
        ("action", filter.action.trim()),
        ("actor", filter.actor.trim()),
    ] {
        if !value.is_empty() {
            q.push_str(&format!("&{key}={}", crate::api::account::urlencode(value)));
        }
    }
    if let Some(since) = filter.since_ms {
        q.push_str(&format!("&since={since}"));
    }
    if let Some(until) = filter.until_ms {
        q.push_str(&format!("&until={until}"));
    }
    q
}

/// `/orgs/:org/audit`: the audit log, filterable by action, actor and dates, with a CSV export
/// of what the filters select.
#[component]
pub fn AuditPage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org").unwrap_or_default();
    let filter = RwSignal::new(AuditFilter::default());
    let entries = Resource::new(
        move || (org(), filter.get()),
        |(org, filter)| audit_log(org, filter),
    );
    let admin = Resource::new(org, load_org_admin);
    let set_date = move |until: bool, value: String| {
        // "To" includes the whole day.
        let ms = day_start_ms(&value).map(|ms| if until { ms + 86_400_000 } else { ms });
        filter.update(|f| {
            if until {
                f.until_ms = ms
            } else {
                f.since_ms = ms
            }
        });
    };
    view! {
        <Title text="Audit log" />
        <h1>"Audit log"</h1>
        <div class="toolbar" role="search">
            <label for="audit-filter">"Action starts with"</label>
            <input id="audit-filter" class="input input--compact" placeholder="auth. or member." on:change=move |ev| filter.update(|f| f.action = event_target_value(&ev)) />
            <label for="audit-actor">"Who"</label>
            <select id="audit-actor" class="input input--compact" on:change=move |ev| filter.update(|f| f.actor = event_target_value(&ev))>
                <option value="">"Anyone"</option>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        admin.await.map(|a| a.members.into_iter().map(|m| view! { <option value=m.user_id>{m.email}</option> }).collect_view()).ok()
                    })}
                </Suspense>
            </select>
            <label for="audit-since">"From"</label>
            <input id="audit-since" type="date" class="input input--compact" on:change=move |ev| set_date(false, event_target_value(&ev)) />
            <label for="audit-until">"To"</label>
            <input id="audit-until" type="date" class="input input--compact" on:change=move |ev| set_date(true, event_target_value(&ev)) />
            <a class="button" href=move || format!("/api/v1/orgs/{}/audit?format=csv{}", org(), audit_query(&filter.get())) download="">"Export CSV"</a>
        </div>
        <Transition fallback=|| view! { <Loading label="Loading the audit log" /> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(list) if list.is_empty() => view! { <EmptyState title="Nothing recorded" message="No entries match." /> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-wrap">
                            <table class="table" data-testid="audit">
                                <thead><tr><th class="num">"#"</th><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Target"</th><th>"Address"</th><th>"Details"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|e| view! {
                                        <tr><td class="num">{e.seq}</td><td>{format_date(e.at_ms)}</td><td>{e.actor}</td><td><code>{e.action}</code></td><td>{e.target}</td><td>{e.ip}</td><td><code>{e.detail}</code></td></tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice title="The audit log could not be loaded" message=e.message /> }.into_any(),
                }
            })}
        </Transition>
    }
}
