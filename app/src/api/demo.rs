//! The sample incident on the landing page: events per hour by severity over one day, with a
//! database outage in the afternoon. It shows what Faultline's charts look like before a team
//! has uploaded anything.

use leptos::prelude::*;

use crate::components::chart::{ChartSpec, ColorRole, Series};

/// Builds the sample incident's chart. Deterministic, so the page renders the same every time.
pub fn sample_incident() -> ChartSpec {
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    // A quiet baseline with a daily rhythm, then a connection-pool outage from 14:00 to 16:00
    // whose API errors trail it by an hour.
    let wave = |h: usize| {
        40.0 + 25.0
            * ((h as f64 - 6.0) / 24.0 * std::f64::consts::TAU)
                .sin()
                .max(-0.8)
    };
    let info = (0..24).map(|h| (wave(h) * 3.0).round()).collect();
    let low = (0..24).map(|h| (wave(h) / 4.0).round()).collect();
    let medium = (0..24)
        .map(|h| if (13..=17).contains(&h) { 18.0 } else { 4.0 })
        .collect();
    let high = (0..24)
        .map(|h| match h {
            15 => 96.0,
            16 => 130.0,
            17 => 41.0,
            _ => 2.0,
        })
        .collect();
    let critical = (0..24)
        .map(|h| match h {
            14 => 57.0,
            15 => 88.0,
            16 => 23.0,
            _ => 0.0,
        })
        .collect();
    let series = |name: &str, role, values| Series {
        name: name.into(),
        role,
        values,
    };
    ChartSpec {
        grouped: false,
        title: "Sample incident: events per hour by severity".into(),
        x_label: "Hour (UTC)".into(),
        y_label: "Events".into(),
        labels: hours,
        series: vec![
            series("Info", ColorRole::Info, info),
            series("Low", ColorRole::Low, low),
            series("Medium", ColorRole::Medium, medium),
            series("High", ColorRole::High, high),
            series("Critical", ColorRole::Critical, critical),
        ],
    }
}

/// The sample chart, served so the page carries its data from the server.
#[server(prefix = "/rpc", endpoint = "sample_incident")]
pub async fn sample_incident_chart() -> Result<ChartSpec, ServerFnError> {
    Ok(sample_incident())
}

#[cfg(test)]
mod tests {
    use super::sample_incident;

    #[test]
    fn the_outage_is_the_tallest_bar() {
        let spec = sample_incident();
        assert_eq!(spec.labels.len(), 24);
        assert!(spec.series.iter().all(|s| s.values.len() == 24));
        let totals: Vec<f64> = (0..24)
            .map(|i| spec.series.iter().map(|s| s.values[i]).sum())
            .collect();
        let peak = totals
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i);
        assert!(matches!(peak, Some(15 | 16)), "{totals:?}");
    }
}
