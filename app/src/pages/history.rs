//! `/orgs/:org/analyses`: the drop zone that starts analyses, and the history of every
//! analysis the reader may see — searched by name, file names and pattern text, filtered by
//! date, status, severity, project, author, team and model, sorted and paged, all in the URL —
//! with the projects that group them.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::account::Me;
use crate::api::analyses::{AnalysesList, AnalysisItem, HistoryPage, list_analyses};
use crate::api::error::form_error;
use crate::api::history::{
    BUILT_IN, CreateProject, DeleteProject, HistoryFacets, HistoryQuery, HistorySort, PRESETS,
    Project,
};
use crate::components::form::{FormError, QueryForm, TextField, field};
use crate::components::ui::{Badge, Card, EmptyState, ErrorNotice, Loading, Tone};
use crate::components::upload::UploadPanel;
use crate::format::{capitalised, thousands};
use crate::pages::account::RequireUser;
use crate::pages::analyses::{severity_tone, status_tone};
use crate::pages::orgs::on_success;
use crate::pages::status::format_date;

const STATUSES: [&str; 5] = ["done", "running", "queued", "failed", "cancelled"];
const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// `/orgs/:org/analyses`.
#[component]
pub fn AnalysesPage() -> impl IntoView {
    let params = use_params_map();
    let org = move || params.read().get("org").unwrap_or_default();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let map = query_map.read();
        HistoryQuery::from_params(|k| map.get(k))
    });
    let list = Resource::new(
        move || (org(), query.get()),
        |(org, query)| list_analyses(org, query),
    );
    let refresh = Callback::new(move |()| list.refetch());
    view! {
        <Title text="Analyses" />
        <RequireUser signed_in=move |_me: Me| view! {
            <h1>"Analyses"</h1>
            <Transition fallback=|| view! { <Loading label="Loading analyses" /> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(data) => view! { <Workspace org=org() query=query.get_untracked() data refresh /> }.into_any(),
                        Err(e) => view! { <ErrorNotice title="The analyses could not be loaded" message=e.message /> }.into_any(),
                    }
                })}
            </Transition>
        } />
    }
}

#[component]
fn Workspace(
    org: String,
    query: HistoryQuery,
    data: AnalysesList,
    refresh: Callback<()>,
) -> impl IntoView {
    let AnalysesList {
        page,
        can_create,
        can_delete,
        limits,
    } = data;
    let projects = page.facets.projects.clone();
    let base = format!("/orgs/{org}/analyses");
    // A drop while the history shows one project files the new analysis there.
    let into_project = projects
        .iter()
        .find(|p| p.id == query.project)
        .map(|p| p.id.clone())
        .unwrap_or_default();
    view! {
        {can_create.then(|| view! { <UploadPanel org=org.clone() limits projects=projects.clone() project=into_project /> })}
        <History base=base.clone() compare=format!("/orgs/{org}/compare") query=query.clone() page />
        <ProjectsCard org base query projects can_create can_delete refresh />
    }
}

#[component]
fn History(base: String, compare: String, query: HistoryQuery, page: HistoryPage) -> impl IntoView {
    let HistoryPage {
        items,
        total,
        page: number,
        pages,
        facets,
    } = page;
    let names = facets.clone();
    let body = if items.is_empty() {
        if query.is_filtered() {
            let base = base.clone();
            view! {
                <EmptyState title="No analyses match" message="Try fewer words, another date or fewer filters.">
                    <p><A href=base>"Clear the filters"</A></p>
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title="No analyses yet" message="Drop log files above, push them from CI with `faultline push`, or send them to POST /api/v1/uploads." />
            }
            .into_any()
        }
    } else {
        view! { <HistoryTable base=base.clone() compare items facets=names /> }.into_any()
    };
    let count = if query.is_filtered() {
        format!(
            "{} {} match",
            thousands(total),
            if total == 1 { "analysis" } else { "analyses" }
        )
    } else {
        format!(
            "{} {}",
            thousands(total),
            if total == 1 { "analysis" } else { "analyses" }
        )
    };
    view! {
        <section class="card" aria-labelledby="history-title">
            <header class="card__header">
                <h2 class="card__title" id="history-title">"History"</h2>
            </header>
            <div class="card__body">
                <HistoryFilters base=base.clone() query=query.clone() facets />
                <p class="muted" data-testid="history-count" aria-live="polite">{count}</p>
                {body}
                <HistoryPager base query page=number pages />
            </div>
        </section>
    }
}

/// A `<select name=…>` with "Any" first.
fn choice(
    name: &'static str,
    label: &'static str,
    current: String,
    options: Vec<(String, String)>,
) -> impl IntoView {
    view! {
        <label class="field field--inline">
            <span class="field__label">{label}</span>
            <select class="input" name=name>
                <option value="" selected=current.is_empty()>"Any"</option>
                {options.into_iter().map(|(value, text)| {
                    let selected = value == current;
                    view! { <option value=value selected=selected>{text}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

#[component]
fn HistoryFilters(base: String, query: HistoryQuery, facets: HistoryFacets) -> impl IntoView {
    let named = |values: &[&str]| -> Vec<(String, String)> {
        values
            .iter()
            .map(|v| ((*v).to_owned(), capitalised(v)))
            .collect()
    };
    let mut project_options = vec![("none".to_owned(), "In no project".to_owned())];
    project_options.extend(facets.projects.iter().map(|p| {
        (
            p.id.clone(),
            format!("{} ({})", p.name, thousands(p.analyses)),
        )
    }));
    let authors = facets
        .authors
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect();
    let teams: Vec<(String, String)> = facets
        .teams
        .iter()
        .map(|t| (t.id.clone(), t.name.clone()))
        .collect();
    let models = facets
        .models
        .iter()
        .map(|m| {
            let text = if m == BUILT_IN {
                "Built-in engine".to_owned()
            } else {
                m.clone()
            };
            (m.clone(), text)
        })
        .collect();
    let presets = PRESETS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    view! {
        <QueryForm action=base.clone()>
            <div class="filters" role="search" aria-label="Search analyses">
                <label class="field field--grow">
                    <span class="field__label">"Search"</span>
                    <input class="input" type="search" name="q" value=query.q.clone() placeholder="Name, file name or pattern text" />
                </label>
                {choice("status", "Status", query.status.clone(), named(&STATUSES))}
                {choice("severity", "Worst severity", query.severity.clone(), named(&SEVERITIES))}
                {choice("project", "Project", query.project.clone(), project_options)}
                {choice("author", "Author", query.author.clone(), authors)}
                {(!teams.is_empty()).then(|| choice("team", "Team", query.team.clone(), teams))}
                {choice("model", "Model", query.model.clone(), models)}
            </div>
            <div class="filters">
                {choice("preset", "When", query.preset.clone(), presets)}
                <label class="field field--inline">
                    <span class="field__label">"From (UTC)"</span>
                    <input class="input" type="date" name="since" value=query.since.clone() />
                </label>
                <label class="field field--inline">
                    <span class="field__label">"To (UTC)"</span>
                    <input class="input" type="date" name="until" value=query.until.clone() />
                </label>
                <label class="field field--inline">
                    <span class="field__label">"Sort"</span>
                    <select class="input" name="sort">
                        {HistorySort::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=s == query.sort>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button class="button button--primary" type="submit">"Search"</button>
                <A href=base attr:class="button">"Clear"</A>
            </div>
        </QueryForm>
    }
}

#[component]
fn HistoryTable(
    base: String,
    compare: String,
    items: Vec<AnalysisItem>,
    facets: HistoryFacets,
) -> impl IntoView {
    let project_name = |id: &Option<String>| {
        id.as_ref().and_then(|id| {
            facets
                .projects
                .iter()
                .find(|p| &p.id == id)
                .map(|p| (p.id.clone(), p.name.clone()))
        })
    };
    let author_name = |id: &str| {
        facets
            .authors
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| "a former member".to_owned())
    };
    // A plain GET form: the ticked boxes become `ids=…&ids=…` on the comparison page.
    view! {
        <form method="get" action=compare aria-label="Compare analyses">
        <div class="table-wrap">
            <table class="table" data-testid="analyses">
                <thead>
                    <tr>
                        <th scope="col"><span class="visually-hidden">"Compare"</span></th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Project"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Worst severity"</th>
                        <th scope="col" class="num">"Events"</th>
                        <th scope="col" class="num">"Patterns"</th>
                        <th scope="col">"Author"</th>
                        <th scope="col">"Started"</th>
                    </tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|a| {
                        let href = format!("{base}/{}", a.id);
                        let summary = a.summary.clone().unwrap_or_default();
                        let done = a.summary.is_some();
                        let count = move |n: u64| if done { thousands(n) } else { "–".to_owned() };
                        let status = if a.status == "running" {
                            format!("running · {:.0} %", a.progress.percent)
                        } else {
                            a.status.clone()
                        };
                        let files = match a.files.len() {
                            0 | 1 => None,
                            n => Some(format!("{n} files")),
                        };
                        let project = project_name(&a.project_id).map(|(id, name)| {
                            let href = format!("{base}?project={}", crate::api::account::urlencode(&id));
                            view! { <A href=href>{name}</A> }
                        });
                        let pick = done.then(|| {
                            let label = format!("Compare {}", a.name);
                            view! { <input type="checkbox" name="ids" value=a.id.clone() aria-label=label /> }
                        });
                        view! {
                            <tr>
                                <td>{pick}</td>
                                <td>
                                    <A href=href>{a.name.clone()}</A>
                                    {match a.visibility.as_str() {
                                        "private" => Some(view! { " " <Badge tone=Tone::Neutral label="only you" /> }),
                                        "teams" => Some(view! { " " <Badge tone=Tone::Neutral label="teams" /> }),
                                        _ => None,
                                    }}
                                    {files.map(|f| view! { <br /><span class="muted">{f}</span> })}
                                </td>
                                <td>{project.map_or_else(|| view! { <span class="muted">"–"</span> }.into_any(), IntoAny::into_any)}</td>
                                <td><Badge tone=status_tone(&a.status) label=status /></td>
                                <td>{a.top_severity.clone().map_or_else(
                                    || view! { <span class="muted">"–"</span> }.into_any(),
                                    |s| view! { <Badge tone=severity_tone(&s) label=s.clone() /> }.into_any(),
                                )}</td>
                                <td class="num">{count(summary.events)}</td>
                                <td class="num">{count(summary.patterns)}</td>
                                <td>{author_name(&a.created_by)}</td>
                                <td>{format_date(a.created_at_ms)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <p class="history-actions">
            <button class="button" type="submit">"Compare ticked analyses"</button>
            <span class="muted">"Tick two or more finished analyses, or one of several files."</span>
        </p>
        </form>
    }
}

#[component]
fn HistoryPager(base: String, query: HistoryQuery, page: usize, pages: usize) -> impl IntoView {
    let link = move |to: usize| format!("{base}{}", query.on_page(to).to_query_string());
    (pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label="History pages">
                {(page > 1).then(|| view! { <A href=link(page - 1) attr:class="button" attr:rel="prev">"← Previous"</A> })}
                <span>{format!("Page {page} of {pages}")}</span>
                {(page < pages).then(|| view! { <A href=link(page + 1) attr:class="button" attr:rel="next">"Next →"</A> })}
            </nav>
        }
    })
}

#[component]
fn ProjectsCard(
    org: String,
    base: String,
    query: HistoryQuery,
    projects: Vec<Project>,
    can_create: bool,
    can_delete: bool,
    refresh: Callback<()>,
) -> impl IntoView {
    let create = ServerAction::<CreateProject>::new();
    let delete = ServerAction::<DeleteProject>::new();
    on_success(create, "Project created.", move || refresh.run(()));
    on_success(
        delete,
        "Project deleted; its analyses are in no project now.",
        move || refresh.run(()),
    );
    let result = create.value();
    let delete_error = Signal::derive(move || form_error(&delete.value().get()));
    let list = if projects.is_empty() {
        view! {
            <EmptyState title="No projects yet" message="A project groups the analyses of one service. An analysis whose logs name a service joins the project of that name when it finishes." />
        }
        .into_any()
    } else {
        view! {
            <ul class="project-list" data-testid="projects">
                {projects.into_iter().map(|p| {
                    let href = format!("{base}?project={}", crate::api::account::urlencode(&p.id));
                    let current = p.id == query.project;
                    let org = org.clone();
                    let id = p.id.clone();
                    let label = format!("Delete project {}", p.name);
                    view! {
                        <li class="project-list__item">
                            <div>
                                <A href=href attr:aria-current=current.then_some("true")><strong>{p.name.clone()}</strong></A>
                                <span class="muted">{format!(" · {} {}", thousands(p.analyses), if p.analyses == 1 { "analysis" } else { "analyses" })}</span>
                                {(!p.description.is_empty()).then(|| view! { <p class="muted">{p.description.clone()}</p> })}
                            </div>
                            {can_delete.then(|| view! {
                                <button class="button button--danger" type="button" aria-label=label
                                    on:click=move |_| { delete.dispatch(DeleteProject { org: org.clone(), id: id.clone() }); }>
                                    "Delete"
                                </button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <Card title="Projects" subtitle="Group analyses by service.">
            {list}
            <FormError message=delete_error />
            {can_create.then(|| view! {
                <ActionForm action=create attr:class="form form--inline">
                    <input type="hidden" name="org" value=org.clone() />
                    <TextField id="project-name" label="New project" name="name" error=field(result, "name") />
                    <TextField id="project-description" label="Description (optional)" name="description" required=false error=field(result, "description") />
                    <button class="button" type="submit">"Create project"</button>
                </ActionForm>
                <FormError message=Signal::derive(move || form_error(&result.get())) />
            })}
        </Card>
    }
}
