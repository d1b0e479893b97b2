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
    let (lo, hi) = values.filter(|v| *v > 0.0 && v.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi { 0.01..1.0 } else { lo / 1.5..hi * 1.5 }
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
            if (x - i as f64 - 0.5).abs() < 0.01 && i < n { categories[i].clone() } else { String::new() }
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
pub fn lines(dir: &Path, file: &str, caption: String, xs: &[String], x_desc: &str, y_desc: &str, series: &[Series]) -> anyhow::Result<()> {
    let y = log_range(series.iter().flat_map(|s| s.2.iter().flat_map(|&(_, (m, lo, hi))| [m, lo, hi])));
    let path = dir.join(file);
    // The legend gets its own column right of the plot, off the data.
    let legend_w = 40 + series.iter().map(|s| s.0.chars().count() as u32).max().unwrap_or(0) * (TEXT_PX * 55 / 100);
    let root = SVGBackend::new(&path, (900 + legend_w, 520.max(60 + 24 * series.len() as u32))).into_drawing_area();
    root.fill(&WHITE)?;
    let (plot_area, legend_area) = root.split_horizontally(900);
    for (i, (label, c, _)) in series.iter().enumerate() {
        let y = 50 + 24 * i as i32;
        legend_area.draw(&PathElement::new(vec![(4, y), (24, y)], c.stroke_width(3)))?;
        legend_area.draw(&Text::new(label.clone(), (30, y - 9), ("sans-serif", TEXT_PX).into_font().color(&BLACK)))?;
    }
    let mut chart = ChartBuilder::on(&plot_area)
        .caption(caption, ("sans-serif", TEXT_PX + 4))
        .margin(12)
        .x_label_area_size(52)
        .y_label_area_size(96)
        .build_cartesian_2d(-0.3f64..xs.len() as f64 - 0.7, y.log_scale())?;
    chart
        .configure_mesh()
        .x_labels(xs.len())
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 { xs.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
        })
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(("sans-serif", TEXT_PX))
        .axis_desc_style(("sans-serif", TEXT_PX))
        .draw()?;
    for (_, c, pts) in series {
        let c = *c;
        let pts: Vec<(f64, (f64, f64, f64))> = pts.iter().map(|&(i, v)| (i as f64, v)).collect();
        chart.draw_series(LineSeries::new(pts.iter().map(|&(x, (m, _, _))| (x, m)), c.stroke_width(2)))?;
        chart.draw_series(pts.iter().map(|&(x, (m, _, _))| Circle::new((x, m), 3, c.filled())))?;
        chart.draw_series(pts.iter().map(|&(x, (_, lo, hi))| PathElement::new(vec![(x, lo), (x, hi)], c.stroke_width(1))))?;
    }
    root.present()?;
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
pub fn forest(dir: &Path, file: &str, caption: &str, labels: &[String], x_desc: &str, series: &[ForestSeries]) -> anyhow::Result<()> {
    let n = labels.len().max(1);
    let k = series.len().max(1);
    let row_px = (k as u32 * 12 + 14).max(30);
    let legend_px = if series.len() > 1 { 34 } else { 0 };
    let label_px = labels.iter().map(|l| l.chars().count()).max().unwrap_or(4) as u32 * (TEXT_PX * 55 / 100) + 16;
    let (width, height) = (760, 40 + legend_px + 70 + row_px * n as u32);
    let mut x = log_range(series.iter().flat_map(|s| s.2.iter().flat_map(|&(_, (m, lo, hi))| [m, lo, hi])).chain([1.0]));
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
            if (i - r).abs() < 0.01 && r >= 0.0 { labels.get(r as usize).cloned().unwrap_or_default() } else { String::new() }
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
        let offset = |i: usize| n as f64 - i as f64 - 0.5 + if k > 1 { 0.3 - 0.6 * j as f64 / (k - 1) as f64 } else { 0.0 };
        chart.draw_series(pts.iter().map(|&(i, (_, lo, hi))| PathElement::new(vec![(lo, offset(i)), (hi, offset(i))], c.stroke_width(2))))?;
        chart.draw_series(pts.iter().map(|&(i, (m, _, _))| Circle::new((m, offset(i)), 5, c.filled())))?;
    }
    root.present()?;
    Ok(())
}
