//! The organisation page's AI routing rules and usage: which provider and model each task goes
//! to first, and a month of calls, tokens and cost by day, model and task beside the ceiling.

use leptos::prelude::*;

use crate::api::ai::{
    AiSettings, AiTask, AiUsage, LoadAiUsage, Provider, SaveAiRoutes, UsageRow, model_options,
};
use crate::api::error::form_error;
use crate::components::chart::{Chart, ChartSpec, ColorRole, Series};
use crate::components::form::FormError;
use crate::components::ui::{ErrorNotice, Loading};
use crate::format::thousands;
use crate::pages::orgs::on_success;

fn task_label(task: AiTask) -> &'static str {
    match task {
        AiTask::Explain => "Explanations",
        AiTask::Recommend => "Fix suggestions",
        AiTask::Tests => "Test bodies",
        AiTask::Summary => "Summaries",
    }
}

/// A rule per task: a provider and model to ask first, or the providers in their order.
#[component]
pub fn RoutingForm(
    org: String,
    settings: AiSettings,
    providers: Vec<Provider>,
    bump: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let save = ServerAction::<SaveAiRoutes>::new();
    on_success(save, "Routing rules saved.", bump);
    let saved = save.value();
    let options = model_options(&providers);
    let rows = AiTask::ALL
        .into_iter()
        .map(|task| {
            let rule = settings.routes.iter().find(|r| r.task == task);
            // A rule without a model follows its provider's first; it stays so when saved.
            let current = rule
                .map(|r| format!("{}/{}", r.provider_id, r.model.clone().unwrap_or_default()))
                .unwrap_or_default();
            let mut choices = options.clone();
            if let Some(r) = rule {
                let name = providers
                    .iter()
                    .find(|p| p.id == r.provider_id)
                    .map(|p| p.name.clone());
                if r.model.is_none() {
                    choices.insert(
                        0,
                        (
                            current.clone(),
                            format!("{} · its first model", name.clone().unwrap_or_default()),
                        ),
                    );
                }
                if !choices.iter().any(|(v, _)| *v == current) {
                    // A rule the list cannot show (its model or provider is gone) is kept
                    // until changed, not dropped by saving another.
                    choices.insert(0, (current.clone(), format!("(current: {current})")));
                }
            }
            let id = format!("route-{}", task.as_str());
            let choices = choices
                .iter()
                .map(|(value, label)| {
                    view! { <option value=value.clone() selected=*value == current>{label.clone()}</option> }
                })
                .collect_view();
            view! {
                <div class="field">
                    <label for=id.clone()>{task_label(task)}</label>
                    <select id=id name=task.as_str() class="input">
                        <option value="" selected=current.is_empty()>"Providers in order"</option>
                        {choices}
                    </select>
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="prompt-editor" data-testid="ai-routing">
            <h3>"Routing"</h3>
            <p class="muted">"The provider and model each task asks first, e.g. a cheap model for summaries and a strong one for tests; the other providers follow in order when it fails."</p>
            <ActionForm action=save attr:class="form form--inline">
                <input type="hidden" name="org" value=org />
                {rows}
                <FormError message=Signal::derive(move || form_error(&saved.get())) />
                <button class="button" type="submit">"Save routing"</button>
            </ActionForm>
        </section>
    }
}

/// The last twelve months, newest first, as `YYYY-MM`, counting back from `month`.
fn months_back(month: &str) -> Vec<String> {
    let (y, m) = month
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i64>().ok()?, m.parse::<i64>().ok()?)))
        .unwrap_or((1970, 1));
    (0..12)
        .map(|back| {
            let index = y * 12 + (m - 1) - back;
            format!(
                "{:04}-{:02}",
                index.div_euclid(12),
                index.rem_euclid(12) + 1
            )
        })
        .collect()
}

/// A month of AI usage, this one first; another month on request.
#[component]
pub fn UsageSection(org: String, initial: AiUsage) -> impl IntoView {
    let load = ServerAction::<LoadAiUsage>::new();
    let pending = load.pending();
    let months = months_back(&initial.month);
    let shown = Signal::derive(move || match load.value().get() {
        Some(Ok(usage)) => Ok(usage),
        Some(Err(e)) => Err(e),
        None => Ok(initial.clone()),
    });
    view! {
        <section class="prompt-editor" data-testid="ai-usage">
            <h3>"Usage"</h3>
            <div class="form form--inline">
                <div class="field">
                    <label for="usage-month">"Month"</label>
                    <select id="usage-month" class="input" on:change=move |ev| {
                        load.dispatch(LoadAiUsage { org: org.clone(), month: event_target_value(&ev) });
                    }>
                        {months.into_iter().map(|m| view! { <option value=m.clone()>{m.clone()}</option> }).collect_view()}
                    </select>
                </div>
            </div>
            {move || pending.get().then(|| view! { <Loading label="Loading the month" /> })}
            {move || match shown.get() {
                Ok(usage) => view! { <UsageView usage /> }.into_any(),
                Err(e) => view! { <ErrorNotice title="The usage could not be loaded" message=e.message /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn UsageView(usage: AiUsage) -> impl IntoView {
    if usage.total.calls == 0 {
        return view! {
            <p class="muted" data-testid="usage-empty">{format!("No AI calls in {}.", usage.month)}</p>
        }
        .into_any();
    }
    let t = &usage.total;
    let headline = format!(
        "{} calls ({} from the cache, {} failed) · {} tokens in, {} out · spent {:.4}",
        thousands(t.calls),
        thousands(t.cached),
        thousands(t.failed),
        thousands(t.tokens_in),
        thousands(t.tokens_out),
        usage.spent
    );
    let ceiling = usage.ceiling.map(|c| {
        let share = if c > 0.0 { usage.spent / c } else { 1.0 };
        view! {
            <p>
                <label for="usage-ceiling">{format!("{:.0} % of the monthly ceiling ({c:.2})", (share * 100.0).min(999.0))}</label>" "
                <meter id="usage-ceiling" min="0" max="1" low="0.75" high="0.9" optimum="0" value=share.min(1.0)></meter>
            </p>
        }
    });
    let spec = ChartSpec {
        title: format!("Cost per day, {}", usage.month),
        x_label: "day (UTC)".into(),
        y_label: "cost".into(),
        labels: usage
            .days
            .iter()
            .map(|d| d.day.get(8..).unwrap_or(&d.day).to_owned())
            .collect(),
        series: vec![Series {
            name: "cost".into(),
            role: ColorRole::Info,
            values: usage.days.iter().map(|d| d.cost).collect(),
        }],
        grouped: false,
    };
    view! {
        <p data-testid="usage-headline">{headline}</p>
        {ceiling}
        <Chart spec />
        <UsageTable caption="By model" rows=usage.by_model.clone() by_task=false />
        <UsageTable caption="By task" rows=usage.by_task.clone() by_task=true />
    }
    .into_any()
}

#[component]
fn UsageTable(caption: &'static str, rows: Vec<UsageRow>, by_task: bool) -> impl IntoView {
    let body = rows
        .into_iter()
        .map(|r| {
            let name = if by_task {
                AiTask::parse(&r.task).map_or(r.task.clone(), |t| task_label(t).to_owned())
            } else {
                format!("{} · {}", r.provider, r.model)
            };
            view! {
                <tr>
                    <td>{name}</td>
                    <td class="num">{thousands(r.calls)}</td>
                    <td class="num">{thousands(r.cached)}</td>
                    <td class="num">{thousands(r.failed)}</td>
                    <td class="num">{format!("{} / {}", thousands(r.tokens_in), thousands(r.tokens_out))}</td>
                    <td class="num">{format!("{:.4}", r.cost)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table">
                <caption>{caption}</caption>
                <thead><tr>
                    <th scope="col">{if by_task { "Task" } else { "Model" }}</th>
                    <th scope="col" class="num">"Calls"</th><th scope="col" class="num">"Cached"</th>
                    <th scope="col" class="num">"Failed"</th><th scope="col" class="num">"Tokens in / out"</th>
                    <th scope="col" class="num">"Cost"</th>
                </tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_count_back_across_years() {
        let months = months_back("2026-02");
        assert_eq!(months.len(), 12);
        assert_eq!(&months[..3], ["2026-02", "2026-01", "2025-12"]);
        assert_eq!(months[11], "2025-03");
    }
}
