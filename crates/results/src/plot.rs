//! The SVG chart frames every report draws on, with plotters (SVG only: no font or bitmap
//! libraries needed on the machine). A report picks the data and the colours; these draw.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A plot of a report: (file name, caption), for its summary to link.
pub type Plot = (String, String);

/// Log-axis bounds with a margin, from the values to be drawn.
pub fn log_range(values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (lo, hi) =
        values.filter(|v| *v > 0.0 && v.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        0.01..1.0
    } else {
        lo / 1.5..hi * 1.5
    }
}

/// A chart with one group of bars per category on x and a log y axis: the frame shared by the
/// throughput and latency bar charts.
pub fn bar_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    caption: String,
    categories: &'a [String],
    y: std::ops::Range<f64>,
    y_desc: &str,
) -> anyhow::Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, LogCoord<f64>>>> {
    root.fill(&WHITE)?;
    let n = categories.len();
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", TEXT_PX + 4))
        .margin(12)
        .x_label_area_size(52)
        .y_label_area_size(96)
        // Headroom above the tallest bar for the legend.
        .build_cartesian_2d(0f64..n as f64, (y.start..y.end * 6.0).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            // Label only the middle of each group.
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 0.01 && i < n {
                categories[i].clone()
            } else {
                String::new()
            }
        })
        .y_desc(y_desc)
        .label_style(("sans-serif", TEXT_PX))
        .axis_desc_style(("sans-serif", TEXT_PX))
        .draw()?;
    Ok(chart)
}

/// One line of a [`lines`] chart: its label, colour, and (x index, (median, min, max)) points.
pub type Series = (String, RGBColor, Vec<(usize, (f64, f64, f64))>);

/// A chart of lines over categories on x (capacities, thread counts), with a log y axis and
/// min-max whiskers: the frame shared by throughput-against-capacity and thread scaling.
pub fn lines(
    dir: &Path,
    file: &str,
    caption: String,
    xs: &[String],
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
) -> anyhow::Result<()> {
    lines_faceted(dir, file, &[(caption, series.to_vec())], xs, x_desc, y_desc)
}

/// A legend in a column of its own, right of a plot (off the data): an entry per series, top
/// down. Its width: [`legend_width`].
pub fn legend_column<'a>(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: impl Iterator<Item = (&'a String, RGBColor)>,
    swatch: Swatch,
) -> anyhow::Result<()> {
    for (i, (label, c)) in entries.enumerate() {
        let y = 50 + 24 * i as i32;
        match swatch {
            Swatch::Bar => area.draw(&Rectangle::new([(8, y - 6), (20, y + 6)], c.filled()))?,
            Swatch::Dot => area.draw(&Circle::new((14, y), 5, c.filled()))?,
            _ => area.draw(&PathElement::new(vec![(4, y), (24, y)], c.stroke_width(3)))?,
        }
        area.draw(&Text::new(label.clone(), (30, y - 9), ("sans-serif", TEXT_PX).into_font().color(&BLACK)))?;
    }
    Ok(())
}

/// The width of a [`legend_column`] whose longest label has `chars` characters.
pub fn legend_width(chars: usize) -> u32 {
    40 + chars as u32 * (TEXT_PX * 55 / 100)
}

/// The most series one panel of [`lines_faceted`] should hold: more are told apart by colour
/// alone with difficulty.
pub const MOST_SERIES: usize = 8;

/// [`lines`] in panels stacked one above the other, each with its caption and its legend (in
/// its own column right of the data), all on one y axis range: a plot of more series than one
/// panel reads well ([`MOST_SERIES`]) split into groups the caller names.
pub fn lines_faceted(
    dir: &Path,
    file: &str,
    panels: &[(String, Vec<Series>)],
    xs: &[String],
    x_desc: &str,
    y_desc: &str,
) -> anyhow::Result<()> {
    let all = || panels.iter().flat_map(|p| p.1.iter());
    let y = log_range(all().flat_map(|s| s.2.iter().flat_map(|&(_, (m, lo, hi))| [m, lo, hi])));
    let path = dir.join(file);
    // The legend gets its own column right of the plot, off the data.
    let legend_w = legend_width(all().map(|s| s.0.chars().count()).max().unwrap_or(0));
    let panel_h = |n: usize| 520.max(60 + 24 * n as u32);
    let height: u32 = panels.iter().map(|p| panel_h(p.1.len())).sum();
    let root = SVGBackend::new(&path, (900 + legend_w, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut rest = root;
    for (caption, series) in panels {
        let (panel, below) = rest.split_vertically(panel_h(series.len()));
        rest = below;
        let (plot_area, legend_area) = panel.split_horizontally(900);
        legend_column(&legend_area, series.iter().map(|s| (&s.0, s.1)), Swatch::Line)?;
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(caption, ("sans-serif", TEXT_PX + 4))
            .margin(12)
            .x_label_area_size(52)
            .y_label_area_size(96)
            .build_cartesian_2d(-0.3f64..xs.len() as f64 - 0.7, y.clone().log_scale())?;
        chart
            .configure_mesh()
            .x_labels(xs.len())
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && i >= 0.0 {
                    xs.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style(("sans-serif", TEXT_PX))
            .axis_desc_style(("sans-serif", TEXT_PX))
            .draw()?;
        draw_lines(&mut chart, series)?;
    }
    // Every panel's area shares the root's backend: presenting any presents the file.
    rest.present()?;
    Ok(())
}

/// The lines of a [`lines`] chart: per series a line through its medians, a dot at each and
/// a whisker from min to max.
fn draw_lines(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, LogCoord<f64>>>,
    series: &[Series],
) -> anyhow::Result<()> {
    for (_, c, pts) in series {
        let c = *c;
        let pts: Vec<(f64, (f64, f64, f64))> = pts.iter().map(|&(i, v)| (i as f64, v)).collect();
        chart.draw_series(LineSeries::new(pts.iter().map(|&(x, (m, _, _))| (x, m)), c.stroke_width(2)))?;
        chart.draw_series(pts.iter().map(|&(x, (m, _, _))| Circle::new((x, m), 3, c.filled())))?;
        chart.draw_series(
            pts.iter().map(|&(x, (_, lo, hi))| PathElement::new(vec![(x, lo), (x, hi)], c.stroke_width(1))),
        )?;
    }
    Ok(())
}

/// Okabe and Ito's eight colours, distinct for the common colour-vision deficiencies: for plots
/// whose series are not implementations (capacities, placements).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// Text of every plot, in pixels at the SVG's natural size.
pub const TEXT_PX: u32 = 16;

/// A point and its interval: (value, low, high).
pub type Interval = (f64, f64, f64);

/// One series of a [`forest`] plot: its name, colour, and (row index, interval) points.
pub type ForestSeries = (String, RGBColor, Vec<(usize, Interval)>);

/// A forest plot: one row per label, a point and its interval per series, on a log x axis
/// with a line at 1.0 (no difference); the legend above the plot area, outside the data.
pub fn forest(
    dir: &Path,
    file: &str,
    caption: &str,
    labels: &[String],
    x_desc: &str,
    series: &[ForestSeries],
) -> anyhow::Result<()> {
    let n = labels.len().max(1);
    let k = series.len().max(1);
    let row_px = (k as u32 * 12 + 14).max(30);
    let legend_px = if series.len() > 1 { 34 } else { 0 };
    let label_px = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4) as u32 * (TEXT_PX * 55 / 100) + 16;
    let (width, height) = (760, 40 + legend_px + 70 + row_px * n as u32);
    let mut x =
        log_range(series.iter().flat_map(|s| s.2.iter().flat_map(|&(_, (m, lo, hi))| [m, lo, hi])).chain([1.0]));
    x = x.start.min(0.8)..x.end.max(1.25);
    let path = dir.join(file);
    let root = SVGBackend::new(&path, (width, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(40 + legend_px);
    top.draw(&Text::new(caption.to_string(), (12, 8), ("sans-serif", TEXT_PX + 4).into_font().color(&BLACK)))?;
    // The legend: a swatch and a name per series, in one line above the plot.
    let mut lx = 12i32;
    if series.len() > 1 {
        for (name, c, _) in series {
            top.draw(&Circle::new((lx + 6, 52), 6, c.filled()))?;
            top.draw(&Text::new(name.clone(), (lx + 18, 44), ("sans-serif", TEXT_PX).into_font().color(&BLACK)))?;
            lx += 30 + name.chars().count() as i32 * (TEXT_PX as i32 * 55 / 100);
        }
    }
    let mut chart = ChartBuilder::on(&body)
        .margin_right(24)
        .margin_left(8)
        .x_label_area_size(56)
        .y_label_area_size(label_px)
        .build_cartesian_2d(x.log_scale().base(2.0), 0f64..n as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(6)
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            // Rows from the top: row i is centred at n - i - 0.5.
            let i = n as f64 - y - 0.5;
            let r = i.round();
            if (i - r).abs() < 0.01 && r >= 0.0 {
                labels.get(r as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|v| format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_string())
        .label_style(("sans-serif", TEXT_PX))
        .axis_desc_style(("sans-serif", TEXT_PX))
        .x_desc(x_desc)
        .draw()?;
    chart.draw_series(std::iter::once(PathElement::new(vec![(1.0, 0.0), (1.0, n as f64)], BLACK.stroke_width(1))))?;
    for (j, (_, c, pts)) in series.iter().enumerate() {
        let c = *c;
        // Series spread over the row's middle, first on top.
        let offset =
            |i: usize| n as f64 - i as f64 - 0.5 + if k > 1 { 0.3 - 0.6 * j as f64 / (k - 1) as f64 } else { 0.0 };
        chart
            .draw_series(pts.iter().map(|&(i, (_, lo, hi))| {
                PathElement::new(vec![(lo, offset(i)), (hi, offset(i))], c.stroke_width(2))
            }))?;
        chart.draw_series(pts.iter().map(|&(i, (m, _, _))| Circle::new((m, offset(i)), 5, c.filled())))?;
    }
    root.present()?;
    Ok(())
}

/// The size a plot is drawn at for the page that shows it: its width and its text (plotters'
/// font size; the SVG's font-size comes out at text / 1.24). A book page shows the narrow one
/// on a phone or beside the sidebar, the column one on a wider page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    pub name: &'static str,
    pub width: u32,
    pub text: u32,
}

/// For a phone: a 360 px screen shows it about 305 px wide, its text then 13 px.
pub const NARROW: Frame = Frame { name: "narrow", width: 340, text: 18 };
/// For a page column: shown 737 px wide or more (a 1100 px window with the book's sidebar
/// open), its text stays above 12 px.
pub const COLUMN: Frame = Frame { name: "column", width: 760, text: TEXT_PX };

impl Frame {
    /// `name.svg` drawn at this frame: `name-narrow.svg`, `name-column.svg`.
    pub fn file(self, name: &str) -> String {
        format!("{}-{}.svg", name.trim_end_matches(".svg"), self.name)
    }

    /// Width of `n` characters of its text, generously (a sans-serif character is about half
    /// the font size, and the SVG's font size is text / 1.24).
    pub fn chars_px(self, n: usize) -> i32 {
        (n as u32 * self.text / 2) as i32
    }

    fn font(self, extra: u32) -> TextStyle<'static> {
        ("sans-serif", self.text + extra).into_font().color(&BLACK)
    }
}

/// How a legend entry draws its series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swatch {
    Line,
    Dashed,
    Dotted,
    Dot,
    Bar,
}

/// A legend entry: name, colour, swatch.
pub type Key = (String, RGBColor, Swatch);

/// The caption (wrapped to the width) and the legend (entries in rows that fit the width)
/// above a plot, so that neither lies on the data.
pub struct Header {
    frame: Frame,
    caption: Vec<String>,
    rows: Vec<Vec<(Key, i32)>>,
    /// Pixels it takes at the top of the plot.
    pub height: u32,
}

impl Header {
    pub fn new(frame: Frame, caption: &str, keys: &[Key]) -> Header {
        let per_line =
            ((frame.width as i32 - 24) / Frame { text: frame.text + 2, ..frame }.chars_px(1).max(1)) as usize;
        let mut caption_lines: Vec<String> = Vec::new();
        for word in caption.split_whitespace() {
            match caption_lines.last_mut() {
                Some(l) if l.chars().count() + 1 + word.chars().count() <= per_line => {
                    l.push(' ');
                    l.push_str(word);
                }
                _ => caption_lines.push(word.to_string()),
            }
        }
        let mut rows: Vec<Vec<(Key, i32)>> = Vec::new();
        let mut x = 12;
        for k in keys {
            let w = 30 + frame.chars_px(k.0.chars().count()) + 14;
            if rows.is_empty() || x + w > frame.width as i32 - 8 {
                rows.push(Vec::new());
                x = 12;
            }
            rows.last_mut().unwrap().push((k.clone(), x));
            x += w;
        }
        let height = 10 + caption_lines.len() as u32 * (frame.text + 6) + 6 + rows.len() as u32 * (frame.text + 8);
        Header { frame, caption: caption_lines, rows, height }
    }

    pub fn draw(&self, area: &DrawingArea<SVGBackend<'_>, Shift>) -> anyhow::Result<()> {
        let t = self.frame.text as i32;
        for (i, line) in self.caption.iter().enumerate() {
            area.draw(&Text::new(line.clone(), (12, 10 + i as i32 * (t + 6)), self.frame.font(2)))?;
        }
        let top = 10 + self.caption.len() as i32 * (t + 6) + 6;
        for (r, row) in self.rows.iter().enumerate() {
            let y = top + r as i32 * (t + 8) + t / 2;
            for ((name, c, swatch), x) in row {
                let c = *c;
                match swatch {
                    Swatch::Line => area.draw(&PathElement::new(vec![(*x, y), (x + 24, y)], c.stroke_width(3)))?,
                    Swatch::Dashed => {
                        area.draw(&PathElement::new(vec![(*x, y), (x + 9, y)], c.stroke_width(3)))?;
                        area.draw(&PathElement::new(vec![(x + 15, y), (x + 24, y)], c.stroke_width(3)))?;
                    }
                    Swatch::Dotted => {
                        for d in [0, 8, 16] {
                            area.draw(&PathElement::new(vec![(x + d, y), (x + d + 3, y)], c.stroke_width(3)))?;
                        }
                    }
                    Swatch::Dot => area.draw(&Circle::new((x + 12, y), 5, c.filled()))?,
                    Swatch::Bar => area.draw(&Rectangle::new([(x + 6, y - 6), (x + 18, y + 6)], c.filled()))?,
                }
                area.draw(&Text::new(name.clone(), (x + 30, y - t / 2), self.frame.font(0)))?;
            }
        }
        Ok(())
    }
}

/// An axis value in few characters: 0.004, 0.25, 40, 1.5k, 100k, 2M.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    // Two significant digits below 1, whole thousands and millions above.
    let decimals = if a > 0.0 && a < 1.0 { (-a.log10()).ceil() as usize + 1 } else { 3 };
    let trim = |x: f64| {
        let s = format!("{x:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if a >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if a >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

/// Which of `labels`, evenly spaced over `px` pixels, can be shown without touching the one
/// shown before: all of them where there is room, the first and then every one that fits.
fn spaced(frame: Frame, labels: &[String], px: i32) -> Vec<bool> {
    let room = px / labels.len().max(1) as i32;
    let half = |l: &String| frame.chars_px(l.chars().count()) / 2;
    let mut shown = vec![false; labels.len()];
    let mut last: Option<usize> = None;
    for (i, l) in labels.iter().enumerate() {
        if last.is_none_or(|j| (i - j) as i32 * room >= half(&labels[j]) + half(l) + 8) {
            shown[i] = true;
            last = Some(i);
        }
    }
    shown
}

/// [`lines`] at a frame: the legend above the plot in rows, the caption wrapped, every label at
/// the frame's text size (x labels thinned where they would touch).
#[allow(clippy::too_many_arguments)]
pub fn lines_in(
    frame: Frame,
    dir: &Path,
    file: &str,
    caption: &str,
    xs: &[String],
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
) -> anyhow::Result<()> {
    let y = log_range(series.iter().flat_map(|s| s.2.iter().flat_map(|&(_, (m, lo, hi))| [m, lo, hi])));
    let keys: Vec<Key> = series.iter().map(|s| (s.0.clone(), s.1, Swatch::Line)).collect();
    let head = Header::new(frame, caption, &keys);
    let t = frame.text;
    let plot_h = if frame.width < 500 { 320 } else { 420 };
    let path = dir.join(file);
    let root = SVGBackend::new(&path, (frame.width, head.height + plot_h)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(head.height);
    head.draw(&top)?;
    let y_area = t * 4;
    let shown = spaced(frame, xs, frame.width as i32 - y_area as i32 - 24);
    let mut chart = ChartBuilder::on(&body)
        .margin(8)
        .margin_right(16)
        .x_label_area_size(t * 3)
        .y_label_area_size(y_area)
        .build_cartesian_2d(-0.3f64..xs.len() as f64 - 0.7, y.log_scale())?;
    chart
        .configure_mesh()
        .x_labels(xs.len())
        .y_labels(if frame.width < 500 { 5 } else { 8 })
        .x_label_formatter(&|x| {
            let i = x.round();
            let at = (x - i).abs() < 0.01 && i >= 0.0 && shown.get(i as usize) == Some(&true);
            if at {
                xs[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| compact(*v))
        .light_line_style(TRANSPARENT)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(("sans-serif", t))
        .axis_desc_style(("sans-serif", t))
        .draw()?;
    draw_lines(&mut chart, series)?;
    root.present()?;
    Ok(())
}

/// A dot plot at a frame: one row per label, the label above its row (so a narrow frame keeps
/// the whole width for the data), a dot and its interval per series on a log x axis, and a
/// line at `reference` where one is given (1.0 for ratios); the legend above the plot.
#[allow(clippy::too_many_arguments)]
pub fn dots_in(
    frame: Frame,
    dir: &Path,
    file: &str,
    caption: &str,
    labels: &[String],
    x_desc: &str,
    series: &[ForestSeries],
    reference: Option<f64>,
) -> anyhow::Result<()> {
    let (n, k) = (labels.len().max(1), series.len().max(1));
    let t = frame.text as i32;
    let (label_h, gap) = (t + 8, (t / 2).max(9));
    let row_h = label_h + gap * k as i32 + 6;
    let mut x =
        log_range(series.iter().flat_map(|s| s.2.iter().flat_map(|&(_, (m, lo, hi))| [m, lo, hi])).chain(reference));
    if let Some(r) = reference {
        x = x.start.min(r * 0.8)..x.end.max(r * 1.25);
    }
    let keys: Vec<Key> =
        if series.len() > 1 { series.iter().map(|s| (s.0.clone(), s.1, Swatch::Dot)).collect() } else { Vec::new() };
    let head = Header::new(frame, caption, &keys);
    let x_area = frame.text * 3 + 4;
    let rows_px = n as i32 * row_h;
    let path = dir.join(file);
    let root = SVGBackend::new(&path, (frame.width, head.height + rows_px as u32 + x_area + 8)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(head.height);
    head.draw(&top)?;
    let mut chart = ChartBuilder::on(&body)
        .margin_left(t as u32)
        .margin_right(t as u32 + 8)
        .margin_bottom(8)
        .x_label_area_size(x_area)
        .y_label_area_size(0)
        // Ratios read best in doublings (0.5, 1, 2), anything else in powers of ten.
        .build_cartesian_2d(
            x.clone().log_scale().base(if reference.is_some() { 2.0 } else { 10.0 }),
            0f64..rows_px as f64,
        )?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(if frame.width < 500 { 4 } else { 6 })
        .y_labels(0)
        .x_label_formatter(&|v| compact(*v))
        .label_style(("sans-serif", frame.text))
        .axis_desc_style(("sans-serif", frame.text))
        .x_desc(x_desc)
        .draw()?;
    // y counts pixels down from the top of the rows.
    let y = |px: i32| (rows_px - px) as f64;
    for (i, label) in labels.iter().enumerate() {
        let row = i as i32 * row_h;
        if i > 0 {
            let rule = PathElement::new(vec![(x.start, y(row)), (x.end, y(row))], BLACK.mix(0.15).stroke_width(1));
            chart.draw_series(std::iter::once(rule))?;
        }
        chart.draw_series(std::iter::once(Text::new(label.clone(), (x.start, y(row + 4)), frame.font(0))))?;
        if let Some(r) = reference {
            let at_r = PathElement::new(vec![(r, y(row + label_h - 2)), (r, y(row + row_h))], BLACK.stroke_width(1));
            chart.draw_series(std::iter::once(at_r))?;
        }
    }
    for (j, (_, c, pts)) in series.iter().enumerate() {
        let c = *c;
        let at = |i: usize| y(i as i32 * row_h + label_h + gap * j as i32 + gap / 2);
        chart.draw_series(
            pts.iter().map(|&(i, (_, lo, hi))| PathElement::new(vec![(lo, at(i)), (hi, at(i))], c.stroke_width(2))),
        )?;
        chart.draw_series(pts.iter().map(|&(i, (m, _, _))| Circle::new((m, at(i)), 4, c.filled())))?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_values_are_short() {
        assert_eq!(compact(0.0625), "0.062");
        assert_eq!(compact(0.004), "0.004");
        assert_eq!(compact(2.0), "2");
        assert_eq!(compact(1500.0), "1.5k");
        assert_eq!(compact(100000.0), "100k");
        assert_eq!(compact(2e6), "2M");
    }

    #[test]
    fn labels_that_would_touch_are_thinned() {
        let xs: Vec<String> = ["1", "16", "1024", "unbounded"].iter().map(|s| s.to_string()).collect();
        assert_eq!(spaced(NARROW, &xs, 1000), vec![true; 4]);
        assert_eq!(spaced(NARROW, &xs, 200), vec![true, true, true, false]);
    }

    /// The smallest font size in an SVG plotters wrote.
    fn smallest_font(path: &Path) -> f64 {
        let svg = std::fs::read_to_string(path).unwrap();
        svg.split("font-size=\"")
            .skip(1)
            .map(|s| s[..s.find('"').unwrap()].parse::<f64>().unwrap())
            .fold(f64::MAX, f64::min)
    }

    #[test]
    fn a_narrow_plot_keeps_its_text_large_and_its_width() {
        let dir = std::env::temp_dir().join(format!("bq-plot-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let xs: Vec<String> = (0..9).map(|i| (1u32 << i).to_string()).collect();
        let line = |j: usize| (0..9).map(|i| (i, (1.0 + (i * j) as f64, 1.0, 2.0 + (i * j) as f64))).collect();
        let series: Vec<Series> = (0..8).map(|j| (format!("series {j}"), PALETTE[j], line(j))).collect();
        lines_in(
            NARROW,
            &dir,
            "l.svg",
            "a caption long enough to need a second line at this width",
            &xs,
            "x",
            "y",
            &series,
        )
        .unwrap();
        let labels: Vec<String> = (0..5).map(|i| format!("row {i}")).collect();
        let row = |j: usize| (0..5).map(|i| (i, (0.5 + j as f64, 0.4, 0.6 + j as f64))).collect();
        let dots: Vec<ForestSeries> = (0..4).map(|j| (format!("capacity {j}"), PALETTE[j], row(j))).collect();
        dots_in(NARROW, &dir, "d.svg", "dots", &labels, "ratio", &dots, Some(1.0)).unwrap();
        for f in ["l.svg", "d.svg"] {
            let svg = std::fs::read_to_string(dir.join(f)).unwrap();
            assert!(svg.starts_with("<svg width=\"340\""), "{f}: {}", &svg[..40]);
            // 18 / 1.24: 14.5 px at 340 px, 13 px when a 360 px phone shows it 305 px wide.
            assert!(smallest_font(&dir.join(f)) >= 14.0, "{f}: text of {} px", smallest_font(&dir.join(f)));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
