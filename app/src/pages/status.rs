//! `/status`: version, database backend and schema state of this installation.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::system::{SystemStatus, get_system_status};
use crate::components::ui::{Badge, Card, ErrorNotice, Loading, ProgressBar, Tone};

/// The status page.
#[component]
pub fn Status() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_system_status());
    view! {
        <Title text="Status" />
        <h1>"System status"</h1>
        <Suspense fallback=|| view! { <Loading label="Reading the system status" /> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(s) => view! { <StatusCards status=s /> }.into_any(),
                    Err(e) => view! { <ErrorNotice title="Status unavailable" message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StatusCards(status: SystemStatus) -> impl IntoView {
    let applied = status.schema_version.unwrap_or(0);
    let current = status.schema_version == Some(status.schema_expected);
    let (tone, label) = if current {
        (Tone::Ok, "Ready")
    } else {
        (Tone::Warn, "Migrations pending")
    };
    view! {
        <div class="grid">
            <Card title="Database" subtitle=status.database.clone()>
                <p><Badge tone label /></p>
                <ProgressBar
                    label="Migrations applied"
                    value=Signal::derive(move || applied as f64)
                    max=status.schema_expected.max(1) as f64
                />
                <dl class="facts">
                    <dt>"Schema version"</dt>
                    <dd>{format!("{applied} of {}", status.schema_expected)}</dd>
                </dl>
            </Card>
            <Card title="Installation">
                <dl class="facts">
                    <dt>"Version"</dt>
                    <dd>{status.version.clone()}</dd>
                    <dt>"Instance"</dt>
                    <dd><code>{status.instance_id.clone()}</code></dd>
                    <dt>"Created"</dt>
                    <dd>{format_date(status.instance_created_ms)}</dd>
                    <dt>"Uptime"</dt>
                    <dd>{format_uptime(status.uptime_seconds)}</dd>
                </dl>
            </Card>
        </div>
    }
}

/// `2026-11-22 14:05 UTC` from milliseconds since the epoch.
pub fn format_date(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::time::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// `3 d 4 h`, `5 h 12 min`, `42 s`.
pub fn format_uptime(seconds: u64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_in_utc() {
        assert_eq!(format_date(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_date(1_795_000_000_000), "2026-11-18 11:06 UTC");
        assert_eq!(format_date(951_782_400_000), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn uptime_reads_naturally() {
        assert_eq!(format_uptime(42), "42 s");
        assert_eq!(format_uptime(125), "2 min");
        assert_eq!(format_uptime(3 * 3600 + 60), "3 h 1 min");
        assert_eq!(format_uptime(2 * 86_400 + 5 * 3600), "2 d 5 h");
    }
}
