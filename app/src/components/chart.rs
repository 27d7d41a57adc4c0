//! Charts: the page carries the data (rendered by the server into an accessible table) and a
//! `<canvas>` that plotters draws on once the page hydrates.
//!
//! [`draw`] and [`draw_heatmap`] are generic over the plotters backend: the browser draws them
//! on a canvas and the server renders the same code to SVG for the PDF report.

use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

/// A stacked bar chart: one bar per x label, one stacked segment per series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChartSpec {
    /// Heading shown above the chart and used as the canvas' accessible name.
    pub title: String,
    /// What the x axis counts (e.g. "hour").
    pub x_label: String,
    /// What the y axis counts (e.g. "events").
    pub y_label: String,
    /// One label per bar.
    pub labels: Vec<String>,
    /// The series, bottom first when stacked.
    pub series: Vec<Series>,
    /// Bars of one label side by side instead of stacked (for values that are not parts of a
    /// whole, such as percentiles).
    #[serde(default)]
    pub grouped: bool,
}

/// One series of a chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// Colour role, so light and dark palettes agree with the CSS.
    pub role: ColorRole,
    /// One value per label; missing values count as zero.
    pub values: Vec<f64>,
}

/// Semantic colours shared by charts and the stylesheet (`--sev-*` variables).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorRole {
    /// Critical severity.
    Critical,
    /// High severity.
    High,
    /// Medium severity.
    Medium,
    /// Low severity.
    Low,
    /// Informational.
    Info,
}

impl ColorRole {
    /// CSS modifier name, matching `.swatch--{name}`.
    pub fn class(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
            Self::Info => "info",
        }
    }
}

/// Colours for one theme.
#[derive(Clone, Copy, Debug)]
pub struct Palette {
    /// Canvas background.
    pub background: RGBColor,
    /// Axis labels.
    pub text: RGBColor,
    /// Axis lines.
    pub axis: RGBColor,
    /// Grid lines.
    pub grid: RGBColor,
    dark: bool,
}

impl Palette {
    /// The light palette (values mirror `style/faultline.css`).
    pub const LIGHT: Palette = Palette {
        background: RGBColor(255, 255, 255),
        text: RGBColor(55, 65, 81),
        axis: RGBColor(156, 163, 175),
        grid: RGBColor(229, 231, 235),
        dark: false,
    };
    /// The dark palette.
    pub const DARK: Palette = Palette {
        background: RGBColor(23, 27, 34),
        text: RGBColor(209, 213, 219),
        axis: RGBColor(107, 114, 128),
        grid: RGBColor(45, 51, 61),
        dark: true,
    };

    /// The fill for a colour role.
    pub fn role(&self, role: ColorRole) -> RGBColor {
        match (role, self.dark) {
            (ColorRole::Critical, false) => RGBColor(185, 28, 28),
            (ColorRole::Critical, true) => RGBColor(248, 113, 113),
            (ColorRole::High, false) => RGBColor(234, 88, 12),
            (ColorRole::High, true) => RGBColor(251, 146, 60),
            (ColorRole::Medium, false) => RGBColor(202, 138, 4),
            (ColorRole::Medium, true) => RGBColor(250, 204, 21),
            (ColorRole::Low, false) => RGBColor(37, 99, 235),
            (ColorRole::Low, true) => RGBColor(96, 165, 250),
            (ColorRole::Info, false) => RGBColor(107, 114, 128),
            (ColorRole::Info, true) => RGBColor(156, 163, 175),
        }
    }
}

impl ChartSpec {
    /// Value of `series` at bar `index`, zero when absent or not finite.
    fn value(series: &Series, index: usize) -> f64 {
        series
            .values
            .get(index)
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(0.0)
    }

    /// Whether any value has a fractional part (costs, not counts).
    fn fractional(&self) -> bool {
        self.series
            .iter()
            .flat_map(|s| &s.values)
            .any(|v| v.is_finite() && v.fract() != 0.0)
    }

    /// Decimals that show values of this chart: none for counts, more for small amounts.
    fn decimals(&self) -> usize {
        if !self.fractional() {
            return 0;
        }
        match self.max_total() {
            m if m < 0.1 => 4,
            m if m < 10.0 => 2,
            _ => 1,
        }
    }

    /// `value` as this chart shows it.
    pub fn show(&self, value: f64) -> String {
        format!("{value:.*}", self.decimals())
    }

    /// The top of the y axis: a little over the tallest bar; at least 1 for counts.
    fn top(&self) -> f64 {
        let top = self.max_total() * 1.1;
        if self.fractional() {
            if top > 0.0 { top } else { 1.0 }
        } else {
            top.max(1.0)
        }
    }

    /// The height of the tallest bar (stacked, or single when grouped).
    pub fn max_total(&self) -> f64 {
        (0..self.labels.len())
            .map(|i| {
                let values = self.series.iter().map(|s| Self::value(s, i));
                if self.grouped {
                    values.fold(0.0, f64::max)
                } else {
                    values.sum::<f64>()
                }
            })
            .fold(0.0, f64::max)
    }
}

/// Labels drawn under a chart at most; more slots get every n-th label.
const MAX_LABELS: usize = 12;

/// An axis of `n` equal slots: slot `i` spans `i..i + 1` and its label sits at its centre. The
/// slots fill the plot exactly, so the pointer's position maps back to a slot by division
/// (the tooltips of [`Chart`] and [`Heatmap`]). At most `labels` labels, evenly spread.
#[derive(Clone, Copy, Debug)]
struct Slots {
    n: usize,
    labels: usize,
}

/// Slots with at most [`MAX_LABELS`] labels (a chart's x axis).
fn slots(n: usize) -> Slots {
    Slots {
        n: n.max(1),
        labels: MAX_LABELS,
    }
}

/// Slots, every one labelled (the rows of a heat map).
fn all_slots(n: usize) -> Slots {
    Slots {
        n: n.max(1),
        labels: n.max(1),
    }
}

impl Ranged for Slots {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = value / self.n as f64;
        limit.0 + (f64::from(limit.1 - limit.0) * share + 1e-3).floor() as i32
    }

    fn key_points<H: KeyPointHint>(&self, _: H) -> Vec<f64> {
        let step = self.n.div_ceil(self.labels.max(1));
        (0..self.n).step_by(step).map(|i| i as f64 + 0.5).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.n as f64
    }
}

/// The label of the slot at `x`.
fn slot_label(labels: &[String], x: f64) -> String {
    if x < 0.0 {
        return String::new();
    }
    labels.get(x.floor() as usize).cloned().unwrap_or_default()
}

/// Draws `spec` as stacked bars on any plotters drawing area.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    palette: &Palette,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&palette.background).map_err(error)?;
    let bars = u32::try_from(spec.labels.len().max(1)).unwrap_or(u32::MAX);
    let top = spec.top();
    let decimals = spec.decimals();
    let label_style = ("sans-serif", 12).into_font().color(&palette.text);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(48)
        .build_cartesian_2d(slots(spec.labels.len()), 0f64..top)
        .map_err(error)?;
    let labels = &spec.labels;
    let x_formatter = |x: &f64| slot_label(labels, *x);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&x_formatter)
        .y_labels(6)
        .y_label_formatter(&|y: &f64| format!("{y:.decimals$}"))
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .label_style(label_style.clone())
        .axis_desc_style(label_style)
        .axis_style(palette.axis)
        .light_line_style(TRANSPARENT)
        .bold_line_style(palette.grid)
        .draw()
        .map_err(error)?;
    // A gap between bars while they are wide enough to keep one.
    let (plot_width, _) = chart.plotting_area().dim_in_pixel();
    let gap = if plot_width / bars >= 8 { 3 } else { 0 };
    let groups = u32::try_from(spec.series.len().max(1)).unwrap_or(1);
    let slot = plot_width / bars / groups;
    for index in 0..spec.labels.len() {
        let x = index as f64;
        let mut base = 0.0;
        for (k, series) in spec.series.iter().enumerate() {
            let value = ChartSpec::value(series, index);
            if value == 0.0 {
                continue;
            }
            let (bottom, top) = if spec.grouped {
                (0.0, value)
            } else {
                (base, base + value)
            };
            let mut bar = Rectangle::new(
                [(x, bottom), (x + 1.0, top)],
                palette.role(series.role).filled(),
            );
            if spec.grouped {
                // Series k takes the k-th of `groups` slots across the bar's width.
                let k = u32::try_from(k).unwrap_or(0);
                let left = gap + k * slot;
                let right = (groups - 1 - k) * slot + gap;
                bar.set_margin(0, 0, left, right);
            } else {
                bar.set_margin(0, 0, gap, gap);
            }
            chart.draw_series(std::iter::once(bar)).map_err(error)?;
            base += value;
        }
    }
    area.present().map_err(error)
}

/// Draws `values` as a row of thin bars filling `area`, scaled to the largest.
pub fn draw_sparkline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    values: &[u64],
    role: ColorRole,
    palette: &Palette,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&palette.background).map_err(error)?;
    let peak = values.iter().copied().max().unwrap_or(0);
    if peak == 0 {
        return area.present().map_err(error);
    }
    let (width, height) = area.dim_in_pixel();
    let step = f64::from(width) / values.len() as f64;
    let fill = palette.role(role).filled();
    for (i, &v) in values.iter().enumerate() {
        if v == 0 {
            continue;
        }
        // At least one pixel, so a single event still shows.
        let h = ((v as f64 / peak as f64) * f64::from(height)).max(1.0);
        let x0 = (i as f64 * step) as i32;
        let x1 = (((i + 1) as f64 * step) as i32).max(x0 + 1);
        let top = height as i32 - h.round() as i32;
        area.draw(&Rectangle::new([(x0, top), (x1, height as i32)], fill))
            .map_err(error)?;
    }
    area.present().map_err(error)
}

/// A heat map: one row per series, one column per label, each cell shaded by its value
/// relative to the largest in its row (so a rare severity's peaks show as clearly as a
/// common one's).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeatmapSpec {
    /// Heading shown above the chart and used as the canvas' accessible name.
    pub title: String,
    /// What the columns are (e.g. "time (UTC)").
    pub x_label: String,
    /// One label per column.
    pub columns: Vec<String>,
    /// The rows, top first; each has one value per column.
    pub rows: Vec<Series>,
}

impl HeatmapSpec {
    /// Value of row `row` in column `column`, zero when absent or not finite.
    pub fn value(&self, row: usize, column: usize) -> f64 {
        self.rows
            .get(row)
            .map_or(0.0, |series| ChartSpec::value(series, column))
    }

    /// How strongly a cell is shaded: 0 for nothing, otherwise between 0.2 and 1 by its share
    /// of the row's largest value.
    pub fn intensity(&self, row: usize, column: usize) -> f64 {
        let value = self.value(row, column);
        if value == 0.0 {
            return 0.0;
        }
        let peak = (0..self.columns.len())
            .map(|c| self.value(row, c))
            .fold(0.0, f64::max);
        0.2 + 0.8 * (value / peak)
    }
}

/// `a` blended towards `b` by `t` (0 = `a`, 1 = `b`).
fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let channel = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    RGBColor(channel(a.0, b.0), channel(a.1, b.1), channel(a.2, b.2))
}

/// Width of the row names left of a heat map, and of its other margins (canvas pixels).
const HEAT_LEFT: u32 = 72;
const HEAT_MARGIN: u32 = 12;
const HEAT_BOTTOM: u32 = 32;

/// Draws `spec` as a grid of shaded cells on any plotters drawing area.
pub fn draw_heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &HeatmapSpec,
    palette: &Palette,
) -> Result<(), String> {
    let error = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    area.fill(&palette.background).map_err(error)?;
    let rows = spec.rows.len().max(1);
    let label_style = ("sans-serif", 12).into_font().color(&palette.text);
    let mut chart = ChartBuilder::on(area)
        .margin(HEAT_MARGIN)
        .x_label_area_size(HEAT_BOTTOM)
        .y_label_area_size(HEAT_LEFT - HEAT_MARGIN)
        .build_cartesian_2d(slots(spec.columns.len()), all_slots(rows))
        .map_err(error)?;
    let labels = &spec.columns;
    let x_formatter = |x: &f64| slot_label(labels, *x);
    // Row 0 is drawn at the top.
    let names: Vec<String> = spec.rows.iter().rev().map(|r| r.name.clone()).collect();
    let y_formatter = |y: &f64| slot_label(&names, *y);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_label_formatter(&x_formatter)
        .y_label_formatter(&y_formatter)
        .x_desc(spec.x_label.as_str())
        .label_style(label_style.clone())
        .axis_desc_style(label_style)
        .axis_style(palette.axis)
        .draw()
        .map_err(error)?;
    let empty = mix(palette.background, palette.grid, 0.6);
    let cells = (0..spec.rows.len())
        .flat_map(|row| (0..spec.columns.len()).map(move |column| (row, column)));
    chart
        .draw_series(cells.map(|(row, column)| {
            let t = spec.intensity(row, column);
            let role = spec.rows[row].role;
            let colour = if t == 0.0 {
                empty
            } else {
                mix(palette.background, palette.role(role), t)
            };
            let (x, y) = (column as f64, (rows - 1 - row) as f64);
            let mut cell = Rectangle::new([(x, y), (x + 1.0, y + 1.0)], colour.filled());
            cell.set_margin(1, 1, 1, 1);
            cell
        }))
        .map_err(error)?;
    area.present().map_err(error)
}

/// Where the bars of [`draw`] lie on its 720-pixel-wide canvas: left edge and right edge.
const PLOT_LEFT: f64 = 12.0 + 48.0;
const PLOT_RIGHT: f64 = 720.0 - 12.0;

/// A chart: a canvas drawn after hydration, an HTML legend, and the same data as a table for
/// screen readers and people who prefer numbers.
#[component]
pub fn Chart(spec: ChartSpec) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let dark = crate::components::theme::use_dark();
    let spec = StoredValue::new(spec);
    let drawn = RwSignal::new(false);
    Effect::new(move |_| {
        let dark = dark.get();
        if let Some(element) = canvas.get() {
            let palette = if dark { Palette::DARK } else { Palette::LIGHT };
            drawn.set(
                spec.with_value(|spec| paint(&element, spec, &palette))
                    .is_ok(),
            );
        }
    });
    let title = spec.with_value(|s| s.title.clone());
    // The bar under the pointer, and where the pointer is (CSS pixels in the figure).
    let hover = RwSignal::new(None::<(usize, f64, f64)>);
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let Some(element) = canvas.get_untracked() else {
            return;
        };
        let shown = f64::from(element.client_width().max(1));
        let x = f64::from(ev.offset_x()) * 720.0 / shown;
        let bars = spec.with_value(|s| s.labels.len());
        let bar = ((x - PLOT_LEFT) / ((PLOT_RIGHT - PLOT_LEFT) / bars.max(1) as f64)).floor();
        hover.set((bar >= 0.0 && (bar as usize) < bars).then(|| {
            (
                bar as usize,
                f64::from(ev.offset_x()),
                f64::from(ev.offset_y()),
            )
        }));
    };
    let tooltip = move || {
        hover.get().map(|(bar, x, y)| {
            let (label, rows) = spec.with_value(|s| {
                let rows = s
                    .series
                    .iter()
                    .map(|series| {
                        (
                            series.name.clone(),
                            series.role,
                            s.show(ChartSpec::value(series, bar)),
                        )
                    })
                    .collect::<Vec<_>>();
                (s.labels.get(bar).cloned().unwrap_or_default(), rows)
            });
            view! {
                <div class="chart__tooltip" role="presentation" style:left=format!("{}px", x + 12.0) style:top=format!("{}px", y + 12.0)>
                    <strong>{label}</strong>
                    {rows.into_iter().map(|(name, role, value)| view! {
                        <span><span class=format!("swatch swatch--{}", role.class()) aria-hidden="true"></span>{format!("{name}: {value}")}</span>
                    }).collect_view()}
                </div>
            }
        })
    };
    view! {
        <figure class="chart">
            <figcaption class="chart__title">{title.clone()}</figcaption>
            <div class="chart__plot">
                <canvas
                    node_ref=canvas
                    class="chart__canvas"
                    width="720"
                    height="300"
                    role="img"
                    aria-label=title
                    data-drawn=move || drawn.get().to_string()
                    on:mousemove=on_move
                    on:mouseleave=move |_| hover.set(None)
                ></canvas>
                {tooltip}
            </div>
            <ul class="chart__legend">
                {spec.with_value(|s| {
                    s.series
                        .iter()
                        .map(|series| {
                            view! {
                                <li>
                                    <span class=format!("swatch swatch--{}", series.role.class()) aria-hidden="true"></span>
                                    {series.name.clone()}
                                </li>
                            }
                        })
                        .collect_view()
                })}
            </ul>
            <details class="chart__data">
                <summary>"Show data as a table"</summary>
                {spec.with_value(|s| view! { <ChartTable spec=s.clone() /> })}
            </details>
        </figure>
    }
}

/// Height of a heat map's canvas (its width is 720, like a chart's).
const HEAT_HEIGHT: u32 = 200;

/// A heat map: a canvas drawn after hydration, a legend of its rows, a tooltip per cell and
/// the same data as a table.
#[component]
pub fn Heatmap(spec: HeatmapSpec) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let dark = crate::components::theme::use_dark();
    let spec = StoredValue::new(spec);
    let drawn = RwSignal::new(false);
    Effect::new(move |_| {
        let dark = dark.get();
        if let Some(element) = canvas.get() {
            let palette = if dark { Palette::DARK } else { Palette::LIGHT };
            drawn.set(
                spec.with_value(|spec| paint_heatmap(&element, spec, &palette))
                    .is_ok(),
            );
        }
    });
    let title = spec.with_value(|s| s.title.clone());
    // The cell under the pointer (row, column) and where the pointer is.
    let hover = RwSignal::new(None::<(usize, usize, f64, f64)>);
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let Some(element) = canvas.get_untracked() else {
            return;
        };
        let scale = 720.0 / f64::from(element.client_width().max(1));
        let (x, y) = (
            f64::from(ev.offset_x()) * scale,
            f64::from(ev.offset_y()) * scale,
        );
        let (columns, rows) = spec.with_value(|s| (s.columns.len(), s.rows.len()));
        let left = f64::from(HEAT_LEFT);
        let top = f64::from(HEAT_MARGIN);
        let width = 720.0 - left - f64::from(HEAT_MARGIN);
        let height = f64::from(HEAT_HEIGHT - HEAT_MARGIN - HEAT_BOTTOM) - top;
        let column = ((x - left) / (width / columns.max(1) as f64)).floor();
        let row = ((y - top) / (height / rows.max(1) as f64)).floor();
        let inside =
            column >= 0.0 && row >= 0.0 && (column as usize) < columns && (row as usize) < rows;
        hover.set(inside.then(|| {
            (
                row as usize,
                column as usize,
                f64::from(ev.offset_x()),
                f64::from(ev.offset_y()),
            )
        }));
    };
    let tooltip = move || {
        hover.get().map(|(row, column, x, y)| {
            let (label, name, role, value) = spec.with_value(|s| {
                let series = &s.rows[row];
                (
                    s.columns.get(column).cloned().unwrap_or_default(),
                    series.name.clone(),
                    series.role,
                    s.value(row, column),
                )
            });
            view! {
                <div class="chart__tooltip" role="presentation" style:left=format!("{}px", x + 12.0) style:top=format!("{}px", y + 12.0)>
                    <strong>{label}</strong>
                    <span><span class=format!("swatch swatch--{}", role.class()) aria-hidden="true"></span>{format!("{name}: {value}")}</span>
                </div>
            }
        })
    };
    let table = spec.with_value(|s| ChartSpec {
        title: s.title.clone(),
        x_label: s.x_label.clone(),
        y_label: String::new(),
        labels: s.columns.clone(),
        series: s.rows.clone(),
        grouped: true,
    });
    view! {
        <figure class="chart">
            <figcaption class="chart__title">{title.clone()}</figcaption>
            <div class="chart__plot">
                <canvas
                    node_ref=canvas
                    class="chart__canvas chart__canvas--heat"
                    width="720"
                    height=HEAT_HEIGHT.to_string()
                    role="img"
                    aria-label=title
                    data-drawn=move || drawn.get().to_string()
                    on:mousemove=on_move
                    on:mouseleave=move |_| hover.set(None)
                ></canvas>
                {tooltip}
            </div>
            <p class="chart__note">"Darker cells hold more of that row's events."</p>
            <details class="chart__data">
                <summary>"Show data as a table"</summary>
                <ChartTable spec=table />
            </details>
        </figure>
    }
}

/// A small bar sparkline of counts per time bucket; its summary is the accessible name and the
/// pointer's tooltip.
#[component]
pub fn Sparkline(
    values: Vec<u64>,
    role: ColorRole,
    #[prop(into)] summary: String,
) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let dark = crate::components::theme::use_dark();
    let values = StoredValue::new(values);
    Effect::new(move |_| {
        let dark = dark.get();
        if let Some(element) = canvas.get() {
            let palette = if dark { Palette::DARK } else { Palette::LIGHT };
            let _ = values.with_value(|v| paint_sparkline(&element, v, role, &palette));
        }
    });
    view! {
        <canvas node_ref=canvas class="sparkline" width="120" height="24" role="img" aria-label=summary.clone() title=summary></canvas>
    }
}

#[component]
fn ChartTable(spec: ChartSpec) -> impl IntoView {
    let rows = spec
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let cells = spec
                .series
                .iter()
                .map(|s| view! { <td class="num">{spec.show(ChartSpec::value(s, i))}</td> })
                .collect_view();
            view! { <tr><th scope="row">{label.clone()}</th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">{spec.x_label.clone()}</th>
                        {spec.series.iter().map(|s| view! { <th scope="col" class="num">{s.name.clone()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[cfg(feature = "hydrate")]
fn paint(
    element: &web_sys::HtmlCanvasElement,
    spec: &ChartSpec,
    palette: &Palette,
) -> Result<(), String> {
    let backend = plotters_canvas::CanvasBackend::with_canvas_object(element.clone())
        .ok_or_else(|| "canvas has no 2D context".to_owned())?;
    draw(&backend.into_drawing_area(), spec, palette)
}

#[cfg(not(feature = "hydrate"))]
fn paint<T>(_element: &T, _spec: &ChartSpec, _palette: &Palette) -> Result<(), String> {
    Err("charts draw in the browser".to_owned())
}

#[cfg(feature = "hydrate")]
fn paint_sparkline(
    element: &web_sys::HtmlCanvasElement,
    values: &[u64],
    role: ColorRole,
    palette: &Palette,
) -> Result<(), String> {
    let backend = plotters_canvas::CanvasBackend::with_canvas_object(element.clone())
        .ok_or_else(|| "canvas has no 2D context".to_owned())?;
    draw_sparkline(&backend.into_drawing_area(), values, role, palette)
}

#[cfg(not(feature = "hydrate"))]
fn paint_sparkline<T>(
    _element: &T,
    _values: &[u64],
    _role: ColorRole,
    _palette: &Palette,
) -> Result<(), String> {
    Err("charts draw in the browser".to_owned())
}

#[cfg(feature = "hydrate")]
fn paint_heatmap(
    element: &web_sys::HtmlCanvasElement,
    spec: &HeatmapSpec,
    palette: &Palette,
) -> Result<(), String> {
    let backend = plotters_canvas::CanvasBackend::with_canvas_object(element.clone())
        .ok_or_else(|| "canvas has no 2D context".to_owned())?;
    draw_heatmap(&backend.into_drawing_area(), spec, palette)
}

#[cfg(not(feature = "hydrate"))]
fn paint_heatmap<T>(_element: &T, _spec: &HeatmapSpec, _palette: &Palette) -> Result<(), String> {
    Err("charts draw in the browser".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters_backend::{BackendColor, BackendStyle, BackendTextStyle, DrawingErrorKind};

    fn spec() -> ChartSpec {
        ChartSpec {
            grouped: false,
            title: "t".into(),
            x_label: "hour".into(),
            y_label: "events".into(),
            labels: vec!["00".into(), "01".into(), "02".into()],
            series: vec![
                Series {
                    name: "a".into(),
                    role: ColorRole::High,
                    values: vec![1.0, 2.0, f64::NAN],
                },
                Series {
                    name: "b".into(),
                    role: ColorRole::Low,
                    values: vec![3.0, -1.0],
                },
            ],
        }
    }

    #[test]
    fn small_amounts_keep_their_scale_and_decimals() {
        let counts = spec();
        assert_eq!((counts.top(), counts.show(3.0)), (4.4, "3".to_owned()));
        let costs = ChartSpec {
            series: vec![Series {
                name: "cost".into(),
                role: ColorRole::Info,
                values: vec![0.02, 0.3, 0.0],
            }],
            ..spec()
        };
        assert!((costs.top() - 0.33).abs() < 1e-9, "{}", costs.top());
        assert_eq!(costs.show(0.1 + 0.2), "0.30");
        let tiny = ChartSpec {
            series: vec![Series {
                name: "cost".into(),
                role: ColorRole::Info,
                values: vec![0.0012],
            }],
            ..spec()
        };
        assert_eq!(tiny.show(0.0012), "0.0012");
    }

    #[test]
    fn totals_ignore_missing_negative_and_non_finite_values() {
        assert_eq!(spec().max_total(), 4.0);
        let grouped = ChartSpec {
            grouped: true,
            ..spec()
        };
        assert_eq!(grouped.max_total(), 3.0, "grouped bars stand alone");
    }

    /// Filled rectangles as drawn: upper left and bottom right corners.
    type Fills = std::rc::Rc<std::cell::RefCell<Vec<((i32, i32), (i32, i32))>>>;

    /// A backend of a given size that records the filled rectangles drawn on it.
    struct Recording {
        size: (u32, u32),
        fills: Fills,
    }

    fn recording(size: (u32, u32)) -> (DrawingArea<Recording, Shift>, Fills) {
        let fills = Fills::default();
        let backend = Recording {
            size,
            fills: fills.clone(),
        };
        (backend.into_drawing_area(), fills)
    }

    impl DrawingBackend for Recording {
        type ErrorType = std::io::Error;
        fn get_size(&self) -> (u32, u32) {
            self.size
        }
        fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            Ok(())
        }
        fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            Ok(())
        }
        fn draw_pixel(
            &mut self,
            _: (i32, i32),
            _: BackendColor,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            Ok(())
        }
        fn draw_rect<S: BackendStyle>(
            &mut self,
            upper_left: (i32, i32),
            bottom_right: (i32, i32),
            _: &S,
            fill: bool,
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            if fill {
                self.fills.borrow_mut().push((upper_left, bottom_right));
            }
            Ok(())
        }
        fn draw_text<S: BackendTextStyle>(
            &mut self,
            _: &str,
            _: &S,
            _: (i32, i32),
        ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
            Ok(())
        }
    }

    #[test]
    fn sparklines_draw_a_bar_per_non_empty_bucket() {
        let (area, fills) = recording((400, 200));
        draw_sparkline(&area, &[0, 5, 0, 1, 9], ColorRole::High, &Palette::DARK).expect("draws");
        // background + 3 bars
        assert_eq!(fills.borrow().len(), 4);
        let (area, fills) = recording((400, 200));
        draw_sparkline(&area, &[0, 0], ColorRole::High, &Palette::DARK).expect("draws");
        assert_eq!(fills.borrow().len(), 1, "nothing but the background");
    }

    #[test]
    fn heat_cells_shade_by_their_share_of_the_row() {
        let heat = HeatmapSpec {
            title: "t".into(),
            x_label: "time".into(),
            columns: vec!["a".into(), "b".into(), "c".into()],
            rows: spec().series,
        };
        assert_eq!(heat.intensity(0, 1), 1.0, "the row's peak");
        assert!((heat.intensity(0, 0) - 0.6).abs() < 1e-9);
        assert_eq!(heat.intensity(0, 2), 0.0, "NaN is nothing");
        assert_eq!(heat.intensity(1, 1), 0.0, "negative is nothing");
        assert_eq!(heat.intensity(1, 2), 0.0, "missing is nothing");
        assert_eq!(heat.intensity(5, 0), 0.0, "no such row");
        let (area, fills) = recording((720, HEAT_HEIGHT));
        draw_heatmap(&area, &heat, &Palette::LIGHT).expect("draws");
        // background + every cell, empty ones included
        let fills = fills.borrow();
        assert_eq!(fills.len(), 1 + 6);
        // The cells tile the plot the tooltip divides: three columns from HEAT_LEFT to the
        // right margin, two rows from the top margin to the label area, each cell inset by 1.
        let (left, right) = (HEAT_LEFT as f64, (720 - HEAT_MARGIN) as f64);
        let (top, bottom) = (
            HEAT_MARGIN as f64,
            (HEAT_HEIGHT - HEAT_MARGIN - HEAT_BOTTOM) as f64,
        );
        let (w, h) = ((right - left) / 3.0, (bottom - top) / 2.0);
        for (k, &((x0, y0), (x1, y1))) in fills[1..].iter().enumerate() {
            let (row, column) = ((k / 3) as f64, (k % 3) as f64);
            let near = |a: i32, b: f64| (f64::from(a) - b).abs() <= 2.0;
            assert!(
                near(x0, left + column * w) && near(x1, left + (column + 1.0) * w),
                "cell {k} spans {x0}..{x1}"
            );
            assert!(
                near(y0, top + row * h) && near(y1, top + (row + 1.0) * h),
                "cell {k} spans {y0}..{y1} vertically"
            );
        }
    }

    #[test]
    fn draws_one_segment_per_positive_value_on_any_backend() {
        let (area, fills) = recording((400, 200));
        draw(&area, &spec(), &Palette::LIGHT).expect("draws");
        // background + 3 positive segments (1, 3, 2)
        assert_eq!(fills.borrow().len(), 4);
    }

    #[test]
    fn bars_fill_the_plot_the_tooltip_divides() {
        // Two bars on the page's 720-pixel canvas: each takes half the plot, none is left
        // empty at the end, and the pointer over either half names the bar drawn there.
        let two = ChartSpec {
            labels: vec!["before".into(), "after".into()],
            series: vec![Series {
                name: "errors".into(),
                role: ColorRole::High,
                values: vec![4.0, 2.0],
            }],
            ..spec()
        };
        let (area, fills) = recording((720, 240));
        draw(&area, &two, &Palette::LIGHT).expect("draws");
        let fills = fills.borrow();
        let bars: Vec<(i32, i32)> = fills[1..]
            .iter()
            .map(|&((x0, _), (x1, _))| (x0, x1))
            .collect();
        let half = (PLOT_RIGHT - PLOT_LEFT) / 2.0;
        let near = |a: i32, b: f64| (f64::from(a) - b).abs() <= 4.0;
        assert_eq!(bars.len(), 2);
        assert!(
            near(bars[0].0, PLOT_LEFT) && near(bars[0].1, PLOT_LEFT + half),
            "{bars:?}"
        );
        assert!(
            near(bars[1].0, PLOT_LEFT + half) && near(bars[1].1, PLOT_RIGHT),
            "{bars:?}"
        );
    }

    #[test]
    fn at_most_twelve_labels_and_each_names_its_slot() {
        let labels: Vec<String> = (0..30).map(|i| format!("b{i}")).collect();
        let axis = slots(labels.len());
        let centres = axis.key_points(MAX_LABELS);
        assert!(
            centres.len() <= MAX_LABELS && centres.len() >= 10,
            "{centres:?}"
        );
        for c in centres {
            let i = c.floor() as usize;
            assert_eq!(slot_label(&labels, c), format!("b{i}"));
        }
        assert_eq!(slot_label(&labels, -0.5), "");
        assert_eq!(slot_label(&labels, 30.5), "");
    }
}
