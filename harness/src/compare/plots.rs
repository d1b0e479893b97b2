//! SVG plots drawn from the rows of `runs.csv` with plotters (SVG only: no font or bitmap
//! libraries needed). Each returns (file name, caption) for the summary to link.

use std::collections::BTreeSet;
use std::path::Path;

use plotters::prelude::*;

use bq_engine::row::{Mode, Row};
use bq_engine::workloads::Workload;
use bq_results::plot::{bar_chart, dots_in, lines, lines_in, log_range, ForestSeries, Plot};

use crate::figures::{headline_colour, headline_series, FRAMES};
use crate::runs_csv::{color, groups, mips, series_by_label, stat, workloads, Group};

pub fn write_plots(dir: &Path, rows: &[Row]) -> anyhow::Result<Vec<Plot>> {
    let gs = groups(rows);
    let mut plots = Vec::new();
    let workloads = workloads(&gs);
    if let Some(p) = throughput_bars(dir, &gs, &workloads)? {
        plots.push(p);
    }
    for &w in &workloads {
        if let Some(p) = throughput_vs_capacity(dir, &gs, w)? {
            plots.push(p);
        }
    }
    for &w in &workloads {
        if let Some(p) = latency_bars(dir, &gs, w)? {
            plots.push(p);
        }
    }
    Ok(plots)
}

/// Median throughput per workload, one bar per implementation and mode, at one capacity.
fn throughput_bars(dir: &Path, gs: &[Group], workloads: &[Workload]) -> anyhow::Result<Option<Plot>> {
    let caps: BTreeSet<usize> = gs.iter().map(|g| g.capacity).collect();
    let Some(&cap) = caps.iter().find(|&&c| c == 16).or_else(|| caps.iter().next_back()) else { return Ok(None) };
    let series: Vec<(String, &str, Mode)> = {
        let mut v: Vec<(String, &str, Mode)> = Vec::new();
        gs.iter().filter(|g| g.capacity == cap).for_each(|g| {
            if !v.iter().any(|s| s.0 == g.label()) {
                v.push((g.label(), g.implementation, g.mode))
            }
        });
        v
    };
    let value = |w: Workload, s: &(String, &str, Mode)| {
        gs.iter()
            .find(|g| g.workload == w && g.capacity == cap && g.implementation == s.1 && g.mode == s.2)
            .and_then(|g| stat(&g.ok, mips))
    };
    let all = workloads
        .iter()
        .flat_map(|&w| series.iter().filter_map(move |s| value(w, s)))
        .flat_map(|(m, lo, hi)| [m, lo, hi]);
    let y = log_range(all.collect::<Vec<_>>().into_iter());
    let file = "throughput.svg".to_string();
    let path = dir.join(&file);
    let root = SVGBackend::new(&path, (1100, 560)).into_drawing_area();
    let names: Vec<String> = workloads.iter().map(|w| w.to_string()).collect();
    let caption = format!("Throughput by workload (capacity {cap}, median; whiskers: min-max)");
    let mut chart = bar_chart(&root, caption, &names, y.clone(), "million items per second (log)")?;
    let width = 0.8 / series.len().max(1) as f64;
    for (k, s) in series.iter().enumerate() {
        let c = color(s.1, s.2);
        let bars: Vec<(f64, (f64, f64, f64))> = workloads
            .iter()
            .enumerate()
            .filter_map(|(i, &w)| value(w, s).map(|v| (i as f64 + 0.1 + k as f64 * width, v)))
            .collect();
        chart
            .draw_series(
                bars.iter().map(|&(x, (m, _, _))| Rectangle::new([(x, y.start), (x + width * 0.9, m)], c.filled())),
            )?
            .label(s.0.clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
        chart.draw_series(bars.iter().map(|&(x, (_, lo, hi))| {
            let mid = x + width * 0.45;
            PathElement::new(vec![(mid, lo), (mid, hi)], BLACK.stroke_width(1))
        }))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", bq_results::plot::TEXT_PX))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .draw()?;
    root.present()?;
    Ok(Some((file, format!("throughput per workload and implementation, capacity {cap}"))))
}

/// Throughput against capacity for one workload: one line per implementation and mode.
fn throughput_vs_capacity(dir: &Path, gs: &[Group], workload: Workload) -> anyhow::Result<Option<Plot>> {
    let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == workload).collect();
    let caps: Vec<usize> = ws.iter().map(|g| g.capacity).collect::<BTreeSet<_>>().into_iter().collect();
    if caps.len() < 2 {
        return Ok(None);
    }
    let file = format!("throughput-vs-capacity-{workload}.svg");
    let caption = format!("{workload}: throughput against capacity (median; whiskers: min-max)");
    let xs: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
    let series = series_by_label(&ws, &caps, |g| g.capacity, mips);
    lines(dir, &file, caption.clone(), &xs, "capacity", "million items per second (log)", &series)?;
    let few = headline_series(&ws, &caps, |g| g.capacity, mips);
    for f in FRAMES {
        lines_in(f, dir, &f.file(&file), &caption, &xs, "capacity", "million items per second (log)", &few)?;
    }
    Ok(Some((file, format!("{workload}: throughput against capacity"))))
}

/// Latency percentiles (p50, p99, p99.9) per implementation and mode for one workload.
fn latency_bars(dir: &Path, gs: &[Group], workload: Workload) -> anyhow::Result<Option<Plot>> {
    let caps: BTreeSet<usize> = gs.iter().filter(|g| g.workload == workload).map(|g| g.capacity).collect();
    let Some(&cap) = caps.iter().find(|&&c| c == 16).or_else(|| caps.iter().next_back()) else { return Ok(None) };
    let ws: Vec<&Group> = gs
        .iter()
        .filter(|g| g.workload == workload && g.capacity == cap && g.ok.iter().any(|r| r.latency_samples.is_some()))
        .collect();
    if ws.is_empty() {
        return Ok(None);
    }
    type Pick = fn(&Row) -> Option<u64>;
    let pcts: [(&str, Pick, RGBColor); 3] = [
        ("p50", |r| r.latency_p50_ns, RGBColor(120, 170, 220)),
        ("p99", |r| r.latency_p99_ns, RGBColor(40, 100, 180)),
        ("p99.9", |r| r.latency_p999_ns, RGBColor(10, 40, 110)),
    ];
    let val = |g: &Group, f: Pick| stat(&g.ok, |r| f(r).map(|ns| ns as f64 / 1e3)).map(|s| s.0);
    let y = log_range(ws.iter().flat_map(|g| pcts.iter().filter_map(|p| val(g, p.1))).collect::<Vec<_>>().into_iter());
    let file = format!("latency-{workload}.svg");
    let path = dir.join(&file);
    let root = SVGBackend::new(&path, (1100, 480)).into_drawing_area();
    let names: Vec<String> = ws.iter().map(|g| g.label()).collect();
    let caption = format!("{workload}: push-to-pop latency, capacity {cap} (median over repetitions)");
    let mut chart = bar_chart(&root, caption.clone(), &names, y.clone(), "microseconds (log)")?;
    for (k, (name, f, c)) in pcts.iter().enumerate() {
        let c = *c;
        chart
            .draw_series(ws.iter().enumerate().filter_map(|(i, g)| {
                let x = i as f64 + 0.15 + k as f64 * 0.23;
                val(g, *f).map(|v| Rectangle::new([(x, y.start), (x + 0.2, v)], c.filled()))
            }))?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", bq_results::plot::TEXT_PX))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .draw()?;
    root.present()?;
    // The few-series figures: a row per implementation they keep, a dot per percentile.
    let kept: Vec<&Group> =
        ws.iter().copied().filter(|g| headline_colour(g.implementation, g.mode).is_some()).collect();
    let rows: Vec<String> = kept.iter().map(|g| g.label()).collect();
    let dots: Vec<ForestSeries> = pcts
        .iter()
        .map(|(name, f, c)| {
            let pts = kept.iter().enumerate().filter_map(|(i, g)| val(g, *f).map(|v| (i, (v, v, v)))).collect();
            (name.to_string(), *c, pts)
        })
        .collect();
    for f in FRAMES {
        dots_in(f, dir, &f.file(&file), &caption, &rows, "microseconds (log)", &dots, None)?;
    }
    Ok(Some((file, format!("{workload}: latency percentiles, capacity {cap}"))))
}
