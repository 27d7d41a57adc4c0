//! The PDF report: executive summary, charts, top patterns, risk, findings, generated tests,
//! recommendations and an appendix, on A4 pages with an outline and page numbers.
//!
//! The report is laid out first into a list of drawing operations per page (so the footer can
//! say "page 2 of 7", and so the layout is testable without a PDF reader), then drawn with
//! krilla. Text uses the embedded DejaVu fonts: the file looks the same on every machine and
//! its text can be searched and copied. Charts are the analysis page's own, rendered to SVG
//! ([`super::charts`]) and drawn as vector graphics.

use std::sync::{Arc, OnceLock};

use app::api::patterns::ResultDoc;
use app::api::testgen::Suite;
use app::format::{short, thousands};
use app::pages::status::format_uptime;
use krilla::Document;
use krilla::color::rgb;
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use krilla_svg::{SurfaceExt, SvgSettings};
use skrifa::MetadataProvider;

use super::ModelSummary;
use super::brief::{brief, by_risk};
use super::charts::{ReportChart, report_charts};

/// A4, in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN_X: f32 = 50.0;
const MARGIN_TOP: f32 = 56.0;
const MARGIN_BOTTOM: f32 = 64.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN_X;
const BODY: f32 = 9.5;
const SMALL: f32 = 8.0;
/// Patterns in the "Top patterns" table and in the risk breakdown.
const TOP_PATTERNS: usize = 25;
const RISK_PATTERNS: usize = 10;
/// Rows of the longer appendix tables.
const APPENDIX_ROWS: usize = 40;
/// Lines a table cell may take before it is cut with an ellipsis.
const CELL_LINES: usize = 3;

/// Colours, as RGB.
type Rgb = (u8, u8, u8);
const INK: Rgb = (31, 41, 55);
const MUTED: Rgb = (91, 100, 114);
const RULE: Rgb = (209, 213, 219);
const SHADE: Rgb = (243, 244, 246);
const ACCENT: Rgb = (29, 78, 216);

/// The colour of a severity or priority word.
fn tone(word: &str) -> Rgb {
    match word {
        "critical" | "urgent" => (185, 28, 28),
        "high" => (194, 65, 12),
        "medium" => (161, 98, 7),
        "low" => (29, 78, 216),
        _ => MUTED,
    }
}

/// The three faces a report uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
    Mono,
}

/// A font with the advance of every character up to [`MEASURED`], in ems.
struct Measured {
    font: Font,
    advances: Vec<f32>,
}

/// Characters measured in advance: Latin, Greek, Cyrillic, punctuation, arrows and symbols.
const MEASURED: u32 = 0x2400;

impl Measured {
    fn load(data: &'static [u8]) -> Option<Self> {
        let font = Font::new(data.into(), 0)?;
        let face = skrifa::FontRef::new(data).ok()?;
        let charmap = face.charmap();
        let metrics = face.glyph_metrics(
            skrifa::instance::Size::new(1.0),
            skrifa::instance::LocationRef::default(),
        );
        let advances = (0..MEASURED)
            .map(|cp| {
                char::from_u32(cp)
                    .and_then(|c| charmap.map(c))
                    .and_then(|glyph| metrics.advance_width(glyph))
                    .unwrap_or(0.6)
            })
            .collect();
        Some(Self { font, advances })
    }

    /// Width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advances.get(c as usize).copied().unwrap_or(0.6))
            .sum::<f32>()
            * size
    }
}

struct Fonts {
    regular: Measured,
    bold: Measured,
    mono: Measured,
    /// The same faces for the charts' SVG text.
    svg_fonts: Arc<usvg::fontdb::Database>,
}

impl Fonts {
    fn get(&self, face: Face) -> &Measured {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
            Face::Mono => &self.mono,
        }
    }
}

/// The embedded fonts, loaded once.
fn fonts() -> Result<&'static Fonts, String> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(dejavu::sans::regular().to_vec());
            db.load_font_data(dejavu::sans::bold().to_vec());
            db.set_sans_serif_family("DejaVu Sans");
            Some(Fonts {
                regular: Measured::load(dejavu::sans::regular())?,
                bold: Measured::load(dejavu::sans::bold())?,
                mono: Measured::load(dejavu::sans_mono::regular())?,
                svg_fonts: Arc::new(db),
            })
        })
        .as_ref()
        .ok_or_else(|| "the report fonts could not be read".to_owned())
}

/// One drawing operation; `y` grows downwards from the top of the page.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    /// Text with its baseline at `y`.
    Text {
        x: f32,
        y: f32,
        size: f32,
        face: Face,
        colour: Rgb,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        colour: Rgb,
    },
    Rule {
        y: f32,
    },
    /// Chart `index` of the report, scaled into the box.
    Chart {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        index: usize,
    },
}

/// How a table column lays out its cells.
#[derive(Clone, Copy)]
struct Column {
    title: &'static str,
    /// Share of the content width.
    share: f32,
    face: Face,
    right: bool,
    /// Cells are severities and take their colour.
    toned: bool,
}

const fn col(title: &'static str, share: f32) -> Column {
    Column {
        title,
        share,
        face: Face::Regular,
        right: false,
        toned: false,
    }
}

impl Column {
    const fn num(mut self) -> Self {
        self.right = true;
        self
    }
    const fn mono(mut self) -> Self {
        self.face = Face::Mono;
        self
    }
    const fn toned(mut self) -> Self {
        self.toned = true;
        self
    }
}

/// Pages of operations being laid out.
struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    y: f32,
    /// Section titles with the page and height they start at.
    outline: Vec<(String, usize, f32)>,
}

/// Log text made printable: control characters become spaces.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl<'f> Layout<'f> {
    fn new(fonts: &'f Fonts) -> Self {
        Self {
            fonts,
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
            outline: Vec::new(),
        }
    }

    fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room(&mut self, height: f32) {
        if self.y + height > PAGE_HEIGHT - MARGIN_BOTTOM && self.y > MARGIN_TOP {
            self.new_page();
        }
    }

    fn gap(&mut self, height: f32) {
        self.y += height;
    }

    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        self.fonts.get(face).width(text, size)
    }

    /// `text` broken into lines of at most `width` points: at spaces where it can, inside a
    /// word where a word alone is too wide.
    fn wrap(&self, face: Face, size: f32, text: &str, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in printable(text).split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(face, size, &candidate) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone: break it wherever it overflows.
                for c in word.chars() {
                    line.push(c);
                    if self.width(face, size, &line) > width {
                        line.pop();
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }

    /// `lines` cut to `max`, the last ending in an ellipsis when some were dropped.
    fn clamp(
        &self,
        face: Face,
        size: f32,
        mut lines: Vec<String>,
        width: f32,
        max: usize,
    ) -> Vec<String> {
        if lines.len() > max {
            lines.truncate(max);
            if let Some(last) = lines.last_mut() {
                while !last.is_empty() && self.width(face, size, &format!("{last}…")) > width {
                    last.pop();
                }
                last.push('…');
            }
        }
        lines
    }

    fn text(&mut self, x: f32, size: f32, face: Face, colour: Rgb, text: String) {
        let y = self.y;
        self.push(Op::Text {
            x,
            y,
            size,
            face,
            colour,
            text,
        });
    }

    /// A section title, kept with at least `keep` points of what follows, and listed in the
    /// outline.
    fn section(&mut self, title: &str, keep: f32) {
        self.room(40.0 + keep);
        if self.y > MARGIN_TOP {
            self.gap(14.0);
        }
        let page = self.pages.len() - 1;
        self.outline.push((title.to_owned(), page, self.y));
        self.gap(15.0);
        self.text(MARGIN_X, 15.0, Face::Bold, ACCENT, title.to_owned());
        self.gap(6.0);
        self.push(Op::Rule { y: self.y });
        self.gap(12.0);
    }

    fn subheading(&mut self, title: &str) {
        self.room(50.0);
        self.gap(12.0);
        self.text(MARGIN_X, 11.0, Face::Bold, INK, title.to_owned());
        self.gap(8.0);
    }

    fn paragraph(&mut self, text: &str, size: f32, face: Face, colour: Rgb) {
        let leading = size * 1.4;
        for line in self.wrap(face, size, text, CONTENT_WIDTH) {
            self.room(leading);
            self.gap(leading);
            self.text(MARGIN_X, size, face, colour, line);
        }
        self.gap(size * 0.5);
    }

    /// A bulleted item: a coloured label, a bold title and the detail below it.
    fn item(&mut self, number: usize, label: &str, title: &str, detail: &str) {
        let indent = MARGIN_X + 18.0;
        let width = CONTENT_WIDTH - 18.0;
        let leading = BODY * 1.4;
        let title_lines = self.wrap(Face::Bold, BODY, title, width);
        let detail_lines = self.wrap(Face::Regular, BODY, detail, width);
        self.room(leading * (1 + title_lines.len().min(2)) as f32);
        self.gap(leading);
        self.text(MARGIN_X, BODY, Face::Bold, MUTED, format!("{number}."));
        self.text(indent, SMALL, Face::Bold, tone(label), label.to_uppercase());
        for (i, line) in title_lines.into_iter().enumerate() {
            if i > 0 {
                self.room(leading);
                self.gap(leading);
            } else {
                self.gap(leading);
            }
            self.text(indent, BODY, Face::Bold, INK, line);
        }
        for line in detail_lines {
            self.room(leading);
            self.gap(leading);
            self.text(indent, BODY, Face::Regular, MUTED, line);
        }
        self.gap(4.0);
    }

    /// Labelled figures in boxes, three to a row.
    fn stats(&mut self, stats: &[(&str, String)]) {
        let per_row = 3;
        let gap = 8.0;
        let w = (CONTENT_WIDTH - gap * (per_row - 1) as f32) / per_row as f32;
        let h = 40.0;
        for row in stats.chunks(per_row) {
            self.room(h + gap);
            let top = self.y;
            for (i, (label, value)) in row.iter().enumerate() {
                let x = MARGIN_X + i as f32 * (w + gap);
                self.push(Op::Rect {
                    x,
                    y: top,
                    w,
                    h,
                    colour: SHADE,
                });
                self.y = top + 14.0;
                self.text(x + 8.0, SMALL, Face::Regular, MUTED, (*label).to_owned());
                self.y = top + 32.0;
                self.text(x + 8.0, 14.0, Face::Bold, INK, value.clone());
            }
            self.y = top + h + gap;
        }
    }

    /// A table whose header repeats on every page it spans.
    fn table(&mut self, columns: &[Column], rows: &[Vec<String>]) {
        let pad = 4.0;
        let leading = SMALL * 1.35;
        let widths: Vec<f32> = columns.iter().map(|c| c.share * CONTENT_WIDTH).collect();
        let header_height = leading + 2.0 * pad;
        let header = |layout: &mut Self| {
            let top = layout.y;
            layout.push(Op::Rect {
                x: MARGIN_X,
                y: top,
                w: CONTENT_WIDTH,
                h: header_height,
                colour: SHADE,
            });
            layout.y = top + pad + SMALL;
            let mut x = MARGIN_X;
            for (c, w) in columns.iter().zip(&widths) {
                let text_x = if c.right {
                    x + w - pad - layout.width(Face::Bold, SMALL, c.title)
                } else {
                    x + pad
                };
                layout.text(text_x, SMALL, Face::Bold, INK, c.title.to_owned());
                x += w;
            }
            layout.y = top + header_height;
        };
        self.room(header_height + leading + 2.0 * pad);
        header(self);
        for row in rows {
            let cells: Vec<Vec<String>> = columns
                .iter()
                .zip(&widths)
                .zip(row)
                .map(|((c, w), text)| {
                    let lines = self.wrap(c.face, SMALL, text, w - 2.0 * pad);
                    self.clamp(c.face, SMALL, lines, w - 2.0 * pad, CELL_LINES)
                })
                .collect();
            let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let height = lines as f32 * leading + 2.0 * pad;
            if self.y + height > PAGE_HEIGHT - MARGIN_BOTTOM {
                self.new_page();
                header(self);
            }
            let top = self.y;
            let mut x = MARGIN_X;
            for ((c, w), lines) in columns.iter().zip(&widths).zip(cells) {
                for (i, line) in lines.into_iter().enumerate() {
                    self.y = top + pad + SMALL + i as f32 * leading;
                    let colour = if c.toned { tone(&line) } else { INK };
                    let text_x = if c.right {
                        x + w - pad - self.width(c.face, SMALL, &line)
                    } else {
                        x + pad
                    };
                    self.text(text_x, SMALL, c.face, colour, line);
                }
                x += w;
            }
            self.y = top + height;
            self.push(Op::Rule { y: self.y });
        }
        self.gap(6.0);
    }

    /// Chart `index`, full width, with its title above.
    fn chart(&mut self, index: usize, chart: &ReportChart) {
        let (w, h) = chart.size;
        let height = CONTENT_WIDTH * h as f32 / w as f32;
        self.room(height + 24.0);
        self.gap(14.0);
        self.text(MARGIN_X, BODY, Face::Bold, INK, chart.title.clone());
        self.gap(6.0);
        let y = self.y;
        self.push(Op::Chart {
            x: MARGIN_X,
            y,
            w: CONTENT_WIDTH,
            h: height,
            index,
        });
        self.gap(height + 4.0);
    }
}

/// The report of `doc` as a PDF, titled `title`, stamped `generated` (a readable time), with
/// the summary of `tests`, the suite written for it.
pub fn pdf(
    title: &str,
    doc: &ResultDoc,
    tests: &Suite,
    generated: &str,
) -> Result<Vec<u8>, String> {
    pdf_with(title, doc, tests, generated, None)
}

/// [`pdf`], with the executive summary a model wrote in place of the engine's.
pub fn pdf_with(
    title: &str,
    doc: &ResultDoc,
    tests: &Suite,
    generated: &str,
    summary: Option<&ModelSummary>,
) -> Result<Vec<u8>, String> {
    let fonts = fonts()?;
    let charts = report_charts(doc)?;
    let layout = lay_out(fonts, title, doc, tests, generated, &charts, summary);
    render(fonts, title, &layout, &charts)
}

/// The suite written for the analysis: its figures, its files and the error patterns left
/// without a test.
fn generated_tests(l: &mut Layout<'_>, doc: &ResultDoc, tests: &Suite) {
    let coverage = &tests.coverage;
    l.stats(&[
        ("Framework", tests.framework.label().to_owned()),
        ("Tests", thousands(u64::from(tests.tests))),
        (
            "Files valid",
            format!("{} of {}", tests.valid_files, tests.checked_files),
        ),
        (
            "Error patterns covered",
            format!("{} of {}", coverage.covered, coverage.error_patterns),
        ),
    ]);
    if tests.tests == 0 {
        l.paragraph(
            "No error pattern called for a test: the logs hold no errors or warnings.",
            BODY,
            Face::Regular,
            MUTED,
        );
        return;
    }
    l.paragraph(
        &format!(
            "{} {} written from the error patterns with the settings of whoever asked for this \
             report; the tests page of the analysis downloads them, with fixtures and a CI \
             configuration, in any of eleven frameworks.",
            thousands(u64::from(tests.tests)),
            if tests.tests == 1 {
                "test was"
            } else {
                "tests were"
            },
        ),
        BODY,
        Face::Regular,
        INK,
    );
    let rows: Vec<Vec<String>> = tests
        .files
        .iter()
        .filter(|f| f.tests > 0)
        .take(APPENDIX_ROWS)
        .map(|f| {
            let status = if f.validation.valid {
                "valid".to_owned()
            } else {
                format!("{} errors", f.validation.errors.len())
            };
            vec![
                f.path.clone(),
                thousands(u64::from(f.tests)),
                f.patterns.join(", "),
                status,
            ]
        })
        .collect();
    l.table(
        &[
            col("File", 0.46).mono(),
            col("Tests", 0.1).num(),
            col("Patterns", 0.3),
            col("Validation", 0.14),
        ],
        &rows,
    );
    if !coverage.uncovered.is_empty() {
        l.subheading("Error patterns without a test");
        let by_id = |id: &str| doc.patterns.iter().find(|p| p.id == id);
        for (i, u) in coverage.uncovered.iter().take(APPENDIX_ROWS).enumerate() {
            let count = by_id(&u.pattern).map_or(0, |p| p.count);
            l.item(
                i + 1,
                &format!("risk {:.0}", u.risk),
                &format!(
                    "{}: {} ({} events)",
                    u.pattern,
                    u.template,
                    thousands(count)
                ),
                &u.suggestion,
            );
        }
    }
}

/// Lays the report out into pages.
fn lay_out<'f>(
    fonts: &'f Fonts,
    title: &str,
    doc: &ResultDoc,
    tests: &Suite,
    generated: &str,
    charts: &[ReportChart],
    summary: Option<&ModelSummary>,
) -> Layout<'f> {
    let mut l = Layout::new(fonts);
    let s = &doc.summary;
    let words = brief(doc);

    l.gap(10.0);
    l.text(
        MARGIN_X,
        SMALL,
        Face::Bold,
        MUTED,
        "FAULTLINE · LOG ANALYSIS REPORT".into(),
    );
    l.gap(8.0);
    for line in l.wrap(Face::Bold, 22.0, title, CONTENT_WIDTH) {
        l.gap(26.0);
        l.text(MARGIN_X, 22.0, Face::Bold, INK, line);
    }
    l.gap(16.0);
    let files: Vec<&str> = doc.files.iter().map(|f| f.name.as_str()).collect();
    l.paragraph(
        &format!(
            "Generated {generated} from {}.",
            short(&files.join(", "), 300)
        ),
        SMALL,
        Face::Regular,
        MUTED,
    );

    l.section("Executive summary", 60.0);
    match summary {
        Some(written) => {
            for block in &written.blocks {
                l.paragraph(block, BODY, Face::Regular, INK);
                l.gap(4.0);
            }
            l.paragraph(
                &format!(
                    "Summary written by {}; every figure in this report is the engine's.",
                    written.by
                ),
                SMALL,
                Face::Regular,
                MUTED,
            );
        }
        None => l.paragraph(&words.summary.join(" "), BODY, Face::Regular, INK),
    }
    l.gap(6.0);
    let when = |t: &Option<String>| t.clone().unwrap_or_else(|| "–".into());
    let span = s
        .span_seconds
        .map_or_else(|| "–".to_owned(), |x| format_uptime(x.round() as u64));
    l.stats(&[
        ("Lines", thousands(s.lines)),
        ("Events", thousands(s.events)),
        ("Patterns", thousands(s.patterns)),
        ("Error families", thousands(s.families)),
        ("Critical patterns", thousands(s.critical_patterns)),
        ("Time span", span),
    ]);
    l.paragraph(
        &format!(
            "First event {}, last event {}.",
            when(&s.first_seen),
            when(&s.last_seen)
        ),
        SMALL,
        Face::Regular,
        MUTED,
    );

    if !charts.is_empty() {
        l.section("Charts", 200.0);
        for (i, chart) in charts.iter().enumerate() {
            l.chart(i, chart);
        }
    }

    let risky = by_risk(doc);
    l.section("Top patterns", 60.0);
    if risky.is_empty() {
        l.paragraph("The logs held no events.", BODY, Face::Regular, MUTED);
    } else {
        l.paragraph(
            &format!(
                "The {} riskiest of {} patterns. Variable parts of a message read <*>.",
                risky.len().min(TOP_PATTERNS),
                thousands(risky.len() as u64)
            ),
            SMALL,
            Face::Regular,
            MUTED,
        );
        let rows: Vec<Vec<String>> = risky
            .iter()
            .take(TOP_PATTERNS)
            .map(|p| {
                vec![
                    p.id.clone(),
                    format!("{:.2}", p.risk.score),
                    p.severity.clone(),
                    p.category.clone(),
                    thousands(p.count),
                    p.template.clone(),
                ]
            })
            .collect();
        l.table(
            &[
                col("Id", 0.07),
                col("Risk", 0.07).num(),
                col("Severity", 0.1).toned(),
                col("Category", 0.12),
                col("Events", 0.1).num(),
                col("Template", 0.54).mono(),
            ],
            &rows,
        );
    }

    l.section("Risk", 60.0);
    l.paragraph(
        "Each pattern's risk (0 to 1) adds four weighted factors: severity (up to 0.4), \
         frequency (up to 0.15, growing with the logarithm of its count), business impact of \
         what it touches (up to 0.2) and recency (up to 0.1, highest when it was still \
         happening at the end of the log).",
        SMALL,
        Face::Regular,
        MUTED,
    );
    let rows: Vec<Vec<String>> = risky
        .iter()
        .take(RISK_PATTERNS)
        .map(|p| {
            let r = &p.risk;
            vec![
                p.id.clone(),
                format!("{:.2}", r.score),
                format!("{:.2}", r.severity),
                format!("{:.2}", r.frequency),
                format!("{:.2}", r.impact),
                format!("{:.2}", r.recency),
                r.impact_class.replace('_', " "),
                p.severity_rule.clone(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        l.table(
            &[
                col("Id", 0.07),
                col("Score", 0.08).num(),
                col("Severity", 0.09).num(),
                col("Frequency", 0.1).num(),
                col("Impact", 0.08).num(),
                col("Recency", 0.09).num(),
                col("Impact class", 0.14),
                col("Why this severity", 0.35),
            ],
            &rows,
        );
    }

    l.section("Findings", 60.0);
    let mut any = false;
    if !doc.security.is_empty() {
        any = true;
        l.subheading("Security");
        let rows: Vec<Vec<String>> = doc
            .security
            .iter()
            .map(|f| {
                vec![
                    f.kind.replace('_', " "),
                    f.severity.clone(),
                    thousands(f.count),
                    f.description.clone(),
                ]
            })
            .collect();
        l.table(
            &[
                col("Kind", 0.18),
                col("Severity", 0.1).toned(),
                col("Events", 0.1).num(),
                col("Description", 0.62),
            ],
            &rows,
        );
    }
    if !doc.families.is_empty() {
        any = true;
        l.subheading("Error families");
        let rows: Vec<Vec<String>> = doc
            .families
            .iter()
            .take(APPENDIX_ROWS)
            .map(|f| {
                vec![
                    f.id.clone(),
                    f.severity.clone(),
                    thousands(f.count),
                    f.patterns.len().to_string(),
                    f.title.clone(),
                ]
            })
            .collect();
        l.table(
            &[
                col("Id", 0.07),
                col("Severity", 0.1).toned(),
                col("Events", 0.1).num(),
                col("Patterns", 0.1).num(),
                col("Title", 0.63).mono(),
            ],
            &rows,
        );
    }
    if !doc.chains.is_empty() {
        any = true;
        l.subheading("Root causes and cascades");
        let template = |id: &str| {
            doc.patterns
                .iter()
                .find(|p| p.id == id)
                .map_or_else(|| id.to_owned(), |p| format!("{id} {}", p.template))
        };
        for c in doc.chains.iter().take(APPENDIX_ROWS) {
            l.paragraph(
                &format!(
                    "{} (confidence {:.2}): {}",
                    c.id,
                    c.confidence,
                    template(&c.root)
                ),
                BODY,
                Face::Bold,
                INK,
            );
            for link in &c.links {
                l.paragraph(
                    &format!(
                        "→ {}: {} of its events follow within {} s (lift {:.1}, median lag {} ms)",
                        template(&link.to),
                        thousands(link.support),
                        c.window_ms / 1000,
                        link.lift,
                        link.lag_ms
                    ),
                    SMALL,
                    Face::Regular,
                    MUTED,
                );
            }
        }
    }
    if !doc.endpoints.is_empty() {
        any = true;
        l.subheading("Endpoints");
        let mut endpoints: Vec<_> = doc.endpoints.iter().collect();
        endpoints.sort_by(|a, b| {
            b.error_rate
                .total_cmp(&a.error_rate)
                .then(b.count.cmp(&a.count))
        });
        let rows: Vec<Vec<String>> = endpoints
            .iter()
            .take(APPENDIX_ROWS)
            .map(|e| {
                vec![
                    format!("{} {}", e.method, e.path),
                    thousands(e.count),
                    format!("{:.1} %", e.error_rate * 100.0),
                    format!("{:.1} %", e.client_error_rate * 100.0),
                ]
            })
            .collect();
        l.table(
            &[
                col("Endpoint", 0.58).mono(),
                col("Requests", 0.14).num(),
                col("5xx", 0.14).num(),
                col("4xx", 0.14).num(),
            ],
            &rows,
        );
    }
    if !any {
        l.paragraph(
            "No security findings, error families, root-cause chains or HTTP endpoints.",
            BODY,
            Face::Regular,
            MUTED,
        );
    }

    l.section("Generated tests", 40.0);
    generated_tests(&mut l, doc, tests);

    l.section("Recommendations", 60.0);
    if words.recommendations.is_empty() {
        l.paragraph(
            "Nothing stands out: no errors, security findings, failing endpoints or slow \
             operations.",
            BODY,
            Face::Regular,
            MUTED,
        );
    }
    for (i, r) in words.recommendations.iter().enumerate() {
        l.item(i + 1, r.priority.as_str(), &r.title, &r.detail);
    }

    l.section("Appendix", 60.0);
    l.subheading("Files");
    let rows: Vec<Vec<String>> = doc
        .files
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                f.format.clone(),
                thousands(f.lines),
                thousands(f.events),
            ]
        })
        .collect();
    l.table(
        &[
            col("File", 0.52),
            col("Format", 0.16),
            col("Lines", 0.16).num(),
            col("Events", 0.16).num(),
        ],
        &rows,
    );
    let perf = &doc.performance;
    if !perf.endpoints.is_empty() || !perf.slow_operations.is_empty() {
        l.subheading("Performance");
        let rows: Vec<Vec<String>> = perf
            .endpoints
            .iter()
            .map(|e| (e.endpoint.clone(), e))
            .chain(
                perf.slow_operations
                    .iter()
                    .map(|p| (format!("{} {}", p.pattern, p.template), p)),
            )
            .take(APPENDIX_ROWS)
            .map(|(what, l)| {
                vec![
                    what,
                    thousands(l.count),
                    format!("{:.0}", l.p50_ms),
                    format!("{:.0}", l.p95_ms),
                    format!("{:.0}", l.p99_ms),
                    format!("{:.0}", l.max_ms),
                ]
            })
            .collect();
        l.table(
            &[
                col("What", 0.5).mono(),
                col("Timed", 0.1).num(),
                col("p50 ms", 0.1).num(),
                col("p95 ms", 0.1).num(),
                col("p99 ms", 0.1).num(),
                col("max ms", 0.1).num(),
            ],
            &rows,
        );
    }
    if let Some(c) = &doc.comparison {
        l.subheading("Compared with the previous analysis");
        let rows: Vec<Vec<String>> = c
            .new
            .iter()
            .map(|e| ("new".to_owned(), e))
            .chain(c.gone.iter().map(|e| ("gone".to_owned(), e)))
            .chain(c.changed.iter().map(|e| (format!("×{:.1}", e.ratio), e)))
            .take(APPENDIX_ROWS)
            .map(|(what, e)| vec![what, thousands(e.count), e.template.clone()])
            .collect();
        if rows.is_empty() {
            l.paragraph(
                "The same patterns at the same rates.",
                BODY,
                Face::Regular,
                MUTED,
            );
        } else {
            l.table(
                &[
                    col("Change", 0.12),
                    col("Events", 0.12).num(),
                    col("Template", 0.76).mono(),
                ],
                &rows,
            );
        }
    }
    if !doc.context.is_empty() {
        l.subheading("Context");
        let rows: Vec<Vec<String>> = doc
            .context
            .iter()
            .take(APPENDIX_ROWS)
            .map(|v| {
                vec![
                    v.kind.clone(),
                    v.value.clone(),
                    thousands(v.count),
                    format!("{} ({}:{})", v.evidence, v.file, v.line),
                ]
            })
            .collect();
        l.table(
            &[
                col("Kind", 0.14),
                col("Value", 0.34).mono(),
                col("Events", 0.12).num(),
                col("Found by", 0.4),
            ],
            &rows,
        );
    }
    if !doc.timeline.spikes.is_empty() {
        l.subheading("Spikes");
        let rows: Vec<Vec<String>> = doc
            .timeline
            .spikes
            .iter()
            .take(APPENDIX_ROWS)
            .map(|s| {
                vec![
                    s.pattern.clone(),
                    s.start.clone(),
                    thousands(s.count),
                    format!("{:.1}", s.baseline),
                ]
            })
            .collect();
        l.table(
            &[
                col("Pattern", 0.16),
                col("Bucket start", 0.44),
                col("Events", 0.2).num(),
                col("Usual", 0.2).num(),
            ],
            &rows,
        );
    }
    l.subheading("About this report");
    l.paragraph(
        "Patterns are message templates mined from every event, with exact counts. Severity \
         and category come from rules over the level, the words and the structure of each \
         message; the JSON export (docs/analysis-format.md) holds every pattern, variable and \
         sample line, and the CSV and XLSX exports list every pattern.",
        SMALL,
        Face::Regular,
        MUTED,
    );
    l
}

fn rgb((r, g, b): Rgb) -> rgb::Color {
    rgb::Color::new(r, g, b)
}

fn fill(colour: Rgb) -> Option<Fill> {
    Some(Fill {
        paint: rgb(colour).into(),
        ..Fill::default()
    })
}

/// Draws the laid-out pages, with a footer on each, into a PDF.
fn render(
    fonts: &Fonts,
    title: &str,
    layout: &Layout<'_>,
    charts: &[ReportChart],
) -> Result<Vec<u8>, String> {
    let options = usvg::Options {
        fontdb: fonts.svg_fonts.clone(),
        ..usvg::Options::default()
    };
    let trees = charts
        .iter()
        .map(|c| usvg::Tree::from_str(&c.svg, &options).map_err(|e| format!("chart: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).ok_or("page size")?;
    let mut document = Document::new();
    let total = layout.pages.len();
    let footer_title = short(&printable(title), 70);
    for (number, ops) in layout.pages.iter().enumerate() {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        let text = |surface: &mut krilla::surface::Surface<'_>,
                    x: f32,
                    y: f32,
                    size: f32,
                    face: Face,
                    colour: Rgb,
                    text: &str| {
            surface.set_fill(fill(colour));
            surface.draw_text(
                Point::from_xy(x, y),
                fonts.get(face).font.clone(),
                size,
                text,
                false,
                TextDirection::Auto,
            );
        };
        let rect = |surface: &mut krilla::surface::Surface<'_>, x, y, w, h, colour| {
            let mut path = PathBuilder::new();
            if let Some(r) = Rect::from_xywh(x, y, w, h) {
                path.push_rect(r);
            }
            if let Some(path) = path.finish() {
                surface.set_stroke(None);
                surface.set_fill(fill(colour));
                surface.draw_path(&path);
            }
        };
        let rule = |surface: &mut krilla::surface::Surface<'_>, y: f32| {
            rect(surface, MARGIN_X, y, CONTENT_WIDTH, 0.6, RULE);
        };
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    size,
                    face,
                    colour,
                    text: t,
                } => text(&mut surface, *x, *y, *size, *face, *colour, t),
                Op::Rect { x, y, w, h, colour } => rect(&mut surface, *x, *y, *w, *h, *colour),
                Op::Rule { y } => rule(&mut surface, *y),
                Op::Chart { x, y, w, h, index } => {
                    if let (Some(tree), Some(size)) = (trees.get(*index), Size::from_wh(*w, *h)) {
                        surface.push_transform(&Transform::from_translate(*x, *y));
                        surface.draw_svg(tree, size, SvgSettings::default());
                        surface.pop();
                    }
                }
            }
        }
        let y = PAGE_HEIGHT - MARGIN_BOTTOM + 28.0;
        rule(&mut surface, y - 12.0);
        text(
            &mut surface,
            MARGIN_X,
            y,
            SMALL,
            Face::Regular,
            MUTED,
            &footer_title,
        );
        let numbering = format!("Page {} of {total}", number + 1);
        let right = PAGE_WIDTH - MARGIN_X - fonts.get(Face::Regular).width(&numbering, SMALL);
        text(
            &mut surface,
            right,
            y,
            SMALL,
            Face::Regular,
            MUTED,
            &numbering,
        );
        surface.finish();
        page.finish();
    }
    let mut outline = Outline::new();
    for (section, page, y) in &layout.outline {
        outline.push_child(OutlineNode::new(
            section.clone(),
            XyzDestination::new(*page, Point::from_xy(MARGIN_X, *y)),
        ));
    }
    document.set_outline(outline);
    document.set_metadata(
        Metadata::new()
            .title(printable(title))
            .creator("Faultline".to_owned())
            .language("en".to_owned()),
    );
    document
        .finish()
        .map_err(|e| format!("the PDF could not be written: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The suite the report of `doc` summarises: pytest, the default settings.
    fn suite(doc: &ResultDoc) -> Suite {
        crate::testgen::generate(doc, &crate::testgen::Request::default()).expect("a suite")
    }

    fn layout_of(doc: &ResultDoc) -> Vec<Vec<Op>> {
        let fonts = fonts().expect("fonts");
        let charts = report_charts(doc).expect("charts");
        lay_out(
            fonts,
            "nightly",
            doc,
            &suite(doc),
            "2026-12-02 10:00 UTC",
            &charts,
            None,
        )
        .pages
    }

    fn texts(pages: &[Vec<Op>]) -> Vec<&str> {
        pages
            .iter()
            .flatten()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn lines_wrap_at_spaces_and_inside_words_too_long_for_a_line() {
        let fonts = fonts().expect("fonts");
        let l = Layout::new(fonts);
        let lines = l.wrap(
            Face::Regular,
            10.0,
            "aaa bbb ccc",
            l.width(Face::Regular, 10.0, "aaa bbb") + 0.1,
        );
        assert_eq!(lines, ["aaa bbb", "ccc"]);
        let long = "x".repeat(400);
        let lines = l.wrap(Face::Mono, 8.0, &long, 100.0);
        assert!(lines.len() > 3);
        assert!(
            lines
                .iter()
                .all(|line| l.width(Face::Mono, 8.0, line) <= 100.0)
        );
        assert_eq!(lines.concat(), long, "nothing lost");
        let cut = l.clamp(Face::Mono, 8.0, lines, 100.0, 3);
        assert_eq!(cut.len(), 3);
        assert!(cut[2].ends_with('…'));
        assert_eq!(
            l.wrap(Face::Regular, 10.0, "tab\there\u{1b}[0m", 500.0),
            ["tab here [0m"]
        );
    }

    #[test]
    fn a_long_table_repeats_its_header_on_every_page_and_stays_inside_the_margins() {
        let fonts = fonts().expect("fonts");
        let mut l = Layout::new(fonts);
        let rows: Vec<Vec<String>> = (0..300)
            .map(|i| {
                vec![
                    format!("svc-{i}"),
                    "a value long enough to wrap onto a second line of its narrow column".into(),
                ]
            })
            .collect();
        l.table(&[col("Kind", 0.2), col("Value", 0.2).mono()], &rows);
        assert!(l.pages.len() >= 4, "{}", l.pages.len());
        for page in &l.pages {
            let headers = page
                .iter()
                .filter(
                    |op| matches!(op, Op::Text { text, face: Face::Bold, .. } if text == "Kind"),
                )
                .count();
            assert_eq!(headers, 1, "one header per page");
            for op in page {
                if let Op::Text { y, .. } | Op::Rule { y } = op {
                    assert!(
                        *y >= MARGIN_TOP && *y <= PAGE_HEIGHT - MARGIN_BOTTOM,
                        "{op:?}"
                    );
                }
            }
        }
        let all = texts(&l.pages);
        assert!(
            all.contains(&"svc-0") && all.contains(&"svc-299"),
            "every row"
        );
    }

    #[test]
    fn the_report_is_a_pdf_with_every_section() {
        let doc: ResultDoc = serde_json::from_value(serde_json::json!({
            "summary": {"lines": 3, "events": 3, "patterns": 2, "error_patterns": 1, "error_events": 1, "families": 0, "critical_patterns": 0},
            "files": [{"name": "api.log", "format": "plain", "lines": 3, "events": 3}],
            "patterns": [
                {"id": "p1", "template": "GET <*> 200", "count": 2, "severity": "info", "category": "api"},
                {"id": "p2", "template": "Ошибка: timeout", "count": 1, "severity": "high", "category": "database", "is_error": true,
                 "risk": {"score": 0.5}}
            ]
        }))
        .expect("a result");
        let all = texts(&layout_of(&doc)).join("\n");
        for section in [
            "Executive summary",
            "Top patterns",
            "Risk",
            "Findings",
            "Generated tests",
            "Recommendations",
            "Appendix",
        ] {
            assert!(all.contains(section), "{section}");
        }
        assert!(
            all.contains("Error patterns covered") && all.contains("1 of 1"),
            "the tests written for p2 are summarised"
        );
        insta::assert_snapshot!("pdf_report_text", all);
        let bytes = pdf("nightly", &doc, &suite(&doc), "2026-12-02 10:00 UTC").expect("a PDF");
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.len() > 1000);
    }
}
