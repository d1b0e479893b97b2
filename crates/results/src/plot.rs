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
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
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
    let root = SVGBackend::new(&path, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
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
        .draw()?;
    for (label, c, pts) in series {
        let c = *c;
        let pts: Vec<(f64, (f64, f64, f64))> = pts.iter().map(|&(i, v)| (i as f64, v)).collect();
        chart
            .draw_series(LineSeries::new(pts.iter().map(|&(x, (m, _, _))| (x, m)), c.stroke_width(2)))?
            .label(label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart.draw_series(pts.iter().map(|&(x, (m, _, _))| Circle::new((x, m), 3, c.filled())))?;
        chart.draw_series(pts.iter().map(|&(x, (_, lo, hi))| PathElement::new(vec![(x, lo), (x, hi)], c.stroke_width(1))))?;
    }
    chart.configure_series_labels().position(SeriesLabelPosition::LowerRight).border_style(BLACK).background_style(WHITE.mix(0.85)).draw()?;
    root.present()?;
    Ok(())
}
