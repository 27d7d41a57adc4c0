//! The analysis page's charts rendered on the server: the same specs ([`app::charts`]) and the
//! same drawing code ([`app::components::chart`]) as the browser's canvas, on plotters' SVG
//! backend, for the PDF report.

use app::api::patterns::ResultDoc;
use app::charts;
use app::components::chart::{ChartSpec, HeatmapSpec, Palette, draw, draw_heatmap};
use plotters::prelude::{IntoDrawingArea, SVGBackend};

/// Canvas size of a bar chart and of a heat map, as on the page.
pub const CHART_SIZE: (u32, u32) = (720, 300);
pub const HEATMAP_SIZE: (u32, u32) = (720, 200);

/// A chart of a report: its title, its SVG and the SVG's size in pixels.
#[derive(Clone, Debug)]
pub struct ReportChart {
    /// What it shows.
    pub title: String,
    /// The drawing.
    pub svg: String,
    /// Width and height of `svg`.
    pub size: (u32, u32),
}

/// `spec` drawn as SVG (light palette, for print).
pub fn chart_svg(spec: &ChartSpec) -> Result<String, String> {
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        draw(&area, spec, &Palette::LIGHT)?;
    }
    Ok(svg)
}

/// `spec` drawn as SVG (light palette, for print).
pub fn heatmap_svg(spec: &HeatmapSpec) -> Result<String, String> {
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, HEATMAP_SIZE).into_drawing_area();
        draw_heatmap(&area, spec, &Palette::LIGHT)?;
    }
    Ok(svg)
}

/// Every chart the result has data for, in the analysis page's order: events over time, the
/// severity heat map, the error distribution and latency per endpoint.
pub fn report_charts(doc: &ResultDoc) -> Result<Vec<ReportChart>, String> {
    let bars = |spec: ChartSpec| -> Result<ReportChart, String> {
        Ok(ReportChart {
            svg: chart_svg(&spec)?,
            title: spec.title,
            size: CHART_SIZE,
        })
    };
    let timeline = &doc.timeline;
    let mut out = Vec::new();
    if let Some(spec) = charts::events_over_time(&timeline.buckets, timeline.bucket_seconds) {
        out.push(bars(spec)?);
    }
    let rows = charts::severity_by_bucket(doc);
    if let Some(spec) = charts::severity_heatmap(&rows, &timeline.buckets, timeline.bucket_seconds)
    {
        out.push(ReportChart {
            svg: heatmap_svg(&spec)?,
            title: spec.title,
            size: HEATMAP_SIZE,
        });
    }
    if let Some(spec) = charts::error_distribution(&charts::error_mix(&doc.patterns)) {
        out.push(bars(spec)?);
    }
    if let Some(spec) = charts::latency(&charts::busiest(&doc.performance.endpoints)) {
        out.push(bars(spec)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::components::chart::{ColorRole, Series};

    #[test]
    fn the_svg_holds_the_bars_and_the_axis_labels() {
        let spec = ChartSpec {
            title: "Events per minute".into(),
            x_label: "time (UTC)".into(),
            y_label: "events".into(),
            labels: vec!["10:00".into(), "10:01".into()],
            series: vec![Series {
                name: "errors".into(),
                role: ColorRole::High,
                values: vec![3.0, 7.0],
            }],
            grouped: false,
        };
        let svg = chart_svg(&spec).expect("draws");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("10:01") && svg.contains("time (UTC)"), "{svg}");
        // The light palette's "high" fill, once per bar.
        assert_eq!(svg.matches("#EA580C").count(), 2, "{svg}");
    }
}
