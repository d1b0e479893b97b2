//! The memory report (`bqh memory`): from `memory-runs.csv` (one row per configuration),
//! `memory.csv` (every sample) and `env.json` alone, `summary.md` and the plots: RSS and live
//! bytes against time with the phases marked, bounded against unbounded, per allocator (and for
//! ocaml-native, with the OCaml GC's heap); peak RSS against capacity with the line capacity × S,
//! per implementation.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

use bq_engine::memory::Phase;
use bq_engine::row::Mode;
use bq_results::files::{present, read_csv, read_env, write_csv, write_env, ENV_JSON, SUMMARY_MD};
use bq_results::markdown::{header, plots_section, table_head};
use bq_results::plot::{compact, lines_faceted, lines_in, Frame, Header, Key, Plot, Series, Swatch};
use bq_results::stats::median;
use bq_results::Env;

use crate::figures::{facets, headline_colour, FRAMES};
use crate::runs_csv::color;
use crate::study::Report;

use super::rows::{
    size_label, Allocator, Capacity, RunRecord, SampleRow, ALLOWANCE, CONSUMERS, MEMORY_CSV, MEMORY_RUNS_CSV,
    OCAML_NATIVE, PRODUCERS,
};

const MIB: f64 = (1u64 << 20) as f64;

fn mib(b: u64) -> f64 {
    b as f64 / MIB
}

/// A memory study's folder.
pub struct Results {
    pub env: Env,
    pub runs: Vec<RunRecord>,
    pub samples: Vec<SampleRow>,
}

impl Report for Results {
    fn write(&self, dir: &Path) -> anyhow::Result<()> {
        write(dir, self)
    }

    fn rows(&self) -> usize {
        self.runs.len()
    }

    fn describe(&self) -> String {
        format!("{} memory runs, {} samples", self.runs.len(), self.samples.len())
    }
}

/// The memory section of another study's folder (`bqh compare`'s short one).
pub struct Section {
    pub runs: Vec<RunRecord>,
    pub samples: Vec<SampleRow>,
}

/// The files [`read`] reads: `bqh report` puts them back byte for byte.
pub const DATA_FILES: &[&str] = &[ENV_JSON, MEMORY_RUNS_CSV, MEMORY_CSV];

/// Reads a memory study's folder.
pub fn read(dir: &Path) -> anyhow::Result<Results> {
    Ok(Results {
        env: read_env(dir)?,
        runs: read_csv(&dir.join(MEMORY_RUNS_CSV))?,
        samples: read_csv(&dir.join(MEMORY_CSV))?,
    })
}

/// A folder's memory section, where it has one.
pub fn read_section(dir: &Path) -> anyhow::Result<Option<Section>> {
    if !present(&dir.join(MEMORY_RUNS_CSV)) {
        return Ok(None);
    }
    Ok(Some(Section { runs: read_csv(&dir.join(MEMORY_RUNS_CSV))?, samples: read_csv(&dir.join(MEMORY_CSV))? }))
}

/// Writes every file of a memory results folder into `dir` (which exists).
pub fn write(dir: &Path, r: &Results) -> anyhow::Result<()> {
    write_env(dir, &r.env)?;
    write_csv(&dir.join(MEMORY_RUNS_CSV), &r.runs)?;
    write_csv(&dir.join(MEMORY_CSV), &r.samples)?;
    let plots = write_plots(dir, &r.runs, &r.samples).context("drawing the memory plots")?;
    std::fs::write(dir.join(SUMMARY_MD), summary_markdown(&r.env, &r.runs, &plots))?;
    Ok(())
}

/// The short memory section of a comparison (`bqh compare`): writes its data files beside
/// `runs.csv`, one timeline, and appends a section to `summary.md`. Nothing when `runs` is empty.
pub fn append_section(dir: &Path, runs: &[RunRecord], samples: &[SampleRow]) -> anyhow::Result<()> {
    if runs.is_empty() {
        return Ok(());
    }
    write_csv(&dir.join(MEMORY_RUNS_CSV), runs)?;
    write_csv(&dir.join(MEMORY_CSV), samples)?;
    let mut out = std::fs::read_to_string(dir.join(SUMMARY_MD))?;
    let r0 = &runs[0];
    writeln!(
        out,
        "## Memory (a short look: `make memory` is the full study)

{} payloads × {}, allocator {}, one producer, a consumer slower than it; peak live payload bytes (exact) and peak RSS (the kernel's), in MiB. With a bound the peak of live bytes must stay within (capacity + 2) × S, checked on every run.
",
        size_label(r0.payload_bytes),
        r0.items,
        r0.allocator
    )
    .unwrap();
    let caps: Vec<Capacity> = runs.iter().map(|r| r.capacity).collect::<BTreeSet<_>>().into_iter().collect();
    out.push_str("| implementation |");
    caps.iter().for_each(|c| write!(out, " capacity {c}: live / RSS |").unwrap());
    out.push_str(
        " RSS kept after the drop (unbounded) |
|---|",
    );
    out.push_str(&"---|".repeat(caps.len() + 1));
    out.push('\n');
    for imp in distinct(runs.iter().map(|r| r.implementation.as_str())) {
        write!(out, "| {imp} |").unwrap();
        for &c in &caps {
            let cell = runs.iter().find(|r| r.implementation == imp && r.capacity == c).map_or("–".into(), |r| {
                if r.ok() {
                    format!("{:.0} / {:.0}", mib(r.peak_live_bytes), r.peak_rss_bytes.map_or(f64::NAN, mib))
                } else {
                    format!("**FAILED**: {}", r.error.replace('|', "/"))
                }
            });
            write!(out, " {cell} |").unwrap();
        }
        let kept = find(runs, imp, Capacity::Unbounded, r0.allocator, r0.payload_bytes)
            .and_then(|r| r.rss_after_drop_bytes.map(|b| format!("{:.0}", mib(b.saturating_sub(r.rss_start_bytes)))));
        writeln!(out, " {} |", kept.unwrap_or("–".into())).unwrap();
    }
    let caps_here: Vec<Capacity> = timeline_bounded(&caps)
        .into_iter()
        .chain(caps.contains(&Capacity::Unbounded).then_some(Capacity::Unbounded))
        .collect();
    if let Some(imp) = timeline_impl(runs) {
        let file = "memory-timeline.svg";
        if timeline(dir, file, samples, &imp, r0.payload_bytes, r0.allocator, &caps_here, &[])? {
            writeln!(out, "\n[{imp}: RSS and live bytes against time, bounded and unbounded]({file})").unwrap();
        }
    }
    out.push('\n');
    std::fs::write(dir.join(SUMMARY_MD), out)?;
    Ok(())
}

/// Values in first-seen order.
fn distinct<T: PartialEq + Copy>(it: impl Iterator<Item = T>) -> Vec<T> {
    let mut v = Vec::new();
    it.for_each(|x| {
        if !v.contains(&x) {
            v.push(x)
        }
    });
    v
}

fn find<'a>(runs: &'a [RunRecord], imp: &str, cap: Capacity, alloc: Allocator, bytes: u64) -> Option<&'a RunRecord> {
    runs.iter().find(|r| {
        r.ok() && r.implementation == imp && r.capacity == cap && r.allocator == alloc && r.payload_bytes == bytes
    })
}

/// The implementation whose timeline the plots show: crossbeam (the user report's channel)
/// where it ran, else the first.
fn timeline_impl(runs: &[RunRecord]) -> Option<String> {
    let names = distinct(runs.iter().map(|r| r.implementation.as_str()));
    names.iter().find(|n| **n == "crossbeam").or(names.first()).map(|s| s.to_string())
}

/// The bounded capacity the timelines set beside the unbounded one: 16 where it ran.
fn timeline_bounded(caps: &[Capacity]) -> Option<Capacity> {
    caps.iter()
        .copied()
        .find(|&c| c == Capacity::Bounded(16))
        .or_else(|| caps.iter().copied().find(|c| *c != Capacity::Unbounded))
}

fn write_plots(dir: &Path, runs: &[RunRecord], samples: &[SampleRow]) -> anyhow::Result<Vec<Plot>> {
    let mut plots = Vec::new();
    let sizes = distinct(runs.iter().map(|r| r.payload_bytes));
    let allocs = distinct(runs.iter().map(|r| r.allocator));
    let caps: Vec<Capacity> = runs.iter().map(|r| r.capacity).collect::<BTreeSet<_>>().into_iter().collect();
    if let Some(imp) = timeline_impl(runs) {
        for &bytes in &sizes {
            for &alloc in &allocs {
                let panels: Vec<Capacity> = timeline_bounded(&caps)
                    .into_iter()
                    .chain(caps.contains(&Capacity::Unbounded).then_some(Capacity::Unbounded))
                    .collect();
                let file = format!("timeline-{}-{alloc}.svg", size_label(bytes).replace(' ', ""));
                if timeline(dir, &file, samples, &imp, bytes, alloc, &panels, &FRAMES)? {
                    plots.push((
                        file,
                        format!(
                            "{imp}, {} payloads, {alloc}: RSS and live bytes against time, bounded and unbounded",
                            size_label(bytes)
                        ),
                    ));
                }
            }
        }
    }
    // OCaml's own memory: the same panels for ocaml-native, with the GC's heap.
    let panels: Vec<Capacity> = timeline_bounded(&caps)
        .into_iter()
        .chain(caps.contains(&Capacity::Unbounded).then_some(Capacity::Unbounded))
        .collect();
    for &bytes in &sizes {
        let file = format!("timeline-{OCAML_NATIVE}-{}.svg", size_label(bytes).replace(' ', ""));
        if timeline(dir, &file, samples, OCAML_NATIVE, bytes, Allocator::Glibc, &panels, &FRAMES)? {
            plots.push((file, format!("{OCAML_NATIVE} (Bytes on OCaml domains), {} payloads, glibc: RSS, live bytes and the GC's major heap against time", size_label(bytes))));
        }
    }
    for &bytes in &sizes {
        for &alloc in &allocs {
            let file = format!("peak-rss-{}-{alloc}.svg", size_label(bytes).replace(' ', ""));
            if peak_vs_capacity(dir, &file, runs, bytes, alloc, &caps)? {
                plots.push((
                    file,
                    format!("{} payloads, {alloc}: peak RSS against capacity, per implementation", size_label(bytes)),
                ));
            }
        }
    }
    Ok(plots)
}

/// One timeline's samples, per panel (capacity), and the axes' ends.
struct Timeline<'a> {
    imp: &'a str,
    bytes: u64,
    alloc: Allocator,
    panels: Vec<(Capacity, Vec<&'a SampleRow>)>,
    t_max: f64,
    y_max: f64,
}

/// The samples of `imp`'s timeline in each of `panels` that has some; None when none has.
fn timeline_data<'a>(
    samples: &'a [SampleRow],
    imp: &'a str,
    bytes: u64,
    alloc: Allocator,
    panels: &[Capacity],
) -> Option<Timeline<'a>> {
    let panels: Vec<(Capacity, Vec<&SampleRow>)> = panels
        .iter()
        .map(|&c| {
            (
                c,
                samples
                    .iter()
                    .filter(|s| {
                        s.implementation == imp && s.capacity == c && s.allocator == alloc && s.payload_bytes == bytes
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if panels.is_empty() {
        return None;
    }
    let t_max = panels.iter().flat_map(|(_, v)| v.iter().map(|s| s.t_s)).fold(0.0f64, f64::max).max(0.01);
    let y_max = panels
        .iter()
        .flat_map(|(_, v)| v.iter().map(|s| mib(s.rss_bytes.max(s.live_bytes).max(s.gc_heap_bytes.unwrap_or(0)))))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    Some(Timeline { imp, bytes, alloc, panels, t_max, y_max })
}

const TIMELINE_COLOURS: (RGBColor, RGBColor, RGBColor) =
    (RGBColor(31, 100, 200), RGBColor(230, 120, 0), RGBColor(40, 160, 60));

/// RSS (solid) and live payload bytes (dashed) against time, and the OCaml GC's major heap
/// (dotted) where it was sampled, one panel per capacity, the phases marked by dashed lines
/// at their first sample: the report's own figure at `file`, 1000 px wide, and one at each of
/// `frames` beside it (`name-narrow.svg`, ...). False when there was nothing to draw.
#[allow(clippy::too_many_arguments)]
fn timeline(
    dir: &Path,
    file: &str,
    samples: &[SampleRow],
    imp: &str,
    bytes: u64,
    alloc: Allocator,
    panels: &[Capacity],
    frames: &[Frame],
) -> anyhow::Result<bool> {
    const REPORT: Frame = Frame { name: "report", width: 1000, text: bq_results::plot::TEXT_PX };
    let Some(tl) = timeline_data(samples, imp, bytes, alloc, panels) else { return Ok(false) };
    draw_timeline(REPORT, &dir.join(file), &tl)?;
    for &f in frames {
        draw_timeline(f, &dir.join(f.file(file)), &tl)?;
    }
    Ok(true)
}

/// The panels' margins, left and right: [`phase_names`] places the names by them.
const TIMELINE_MARGIN: u32 = 8;
const TIMELINE_MARGIN_RIGHT: u32 = 16;

/// A phase's name above a timeline panel: where its line is (`t_s`), where its name starts
/// (`x`, in the frame's pixels) and on which line of names it sits (0 the top one).
struct PhaseName {
    phase: Phase,
    t_s: f64,
    x: i32,
    line: usize,
}

/// The names of the phases a panel's samples went through, each from its line on (kept inside
/// the frame), on the first line where it touches no name placed before it. The x axis is the
/// one [`draw_timeline`] draws: from the y labels' area to the right margin, 0 to `t_max` * 1.02.
fn phase_names(frame: Frame, v: &[&SampleRow], t_max: f64) -> Vec<PhaseName> {
    let left = (TIMELINE_MARGIN + frame.text * 4) as f64;
    let right = (frame.width - TIMELINE_MARGIN_RIGHT) as f64;
    let mut ends: Vec<i32> = Vec::new(); // per line, where its last name ends
    let mut out = Vec::new();
    for phase in Phase::ALL {
        let Some(s) = v.iter().find(|s| s.phase == phase) else { continue };
        let w = frame.chars_px(phase.name().chars().count());
        let x = ((left + s.t_s / (t_max * 1.02) * (right - left)) as i32).min(frame.width as i32 - w - 4);
        let line = ends.iter().position(|&end| end + 6 <= x).unwrap_or(ends.len());
        if line == ends.len() {
            ends.push(x + w);
        } else {
            ends[line] = x + w;
        }
        out.push(PhaseName { phase, t_s: s.t_s, x, line });
    }
    out
}

/// A [`timeline`] at a frame: the caption and the legend above the panels, off the data, the
/// phases named at the top of each panel in the frame's text.
fn draw_timeline(frame: Frame, path: &Path, tl: &Timeline) -> anyhow::Result<()> {
    let Timeline { imp, bytes, alloc, panels: runs, t_max, y_max } = tl;
    let (t_max, y_max) = (*t_max, *y_max);
    let (rss_c, live_c, gc_c) = TIMELINE_COLOURS;
    let mut keys: Vec<Key> =
        vec![("RSS".into(), rss_c, Swatch::Line), ("live payload bytes".into(), live_c, Swatch::Dashed)];
    if runs.iter().any(|(_, v)| v.iter().any(|s| s.gc_heap_bytes.is_some())) {
        keys.push(("OCaml GC major heap".into(), gc_c, Swatch::Dotted));
    }
    let caption = format!("{imp}, {} payloads, allocator {alloc}: memory against time", size_label(*bytes));
    let t = frame.text;
    // The phase names above each panel, on as many lines as the busiest panel needs: phases
    // that begin together (done sending, draining, done receiving) each keep a line of their own.
    let names: Vec<Vec<PhaseName>> = runs.iter().map(|(_, v)| phase_names(frame, v, t_max)).collect();
    let lines = names.iter().flatten().map(|n| n.line + 1).max().unwrap_or(1) as u32;
    let (panel_h, phase_h) = (if frame.width < 500 { 300 } else { 320 }, lines * (t + 4));
    let head = Header::new(frame, &caption, &keys);
    let root =
        SVGBackend::new(path, (frame.width, head.height + (panel_h + phase_h) * runs.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, body) = root.split_vertically(head.height);
    head.draw(&top)?;
    for (((cap, v), area), placed) in runs.iter().zip(body.split_evenly((runs.len(), 1))).zip(&names) {
        let (top, plot) = area.split_vertically(phase_h + t + 8);
        top.draw(&Text::new(format!("capacity {cap}"), (8, 4), ("sans-serif", t + 2).into_font().color(&BLACK)))?;
        let mut chart = ChartBuilder::on(&plot)
            .margin(TIMELINE_MARGIN)
            .margin_right(TIMELINE_MARGIN_RIGHT)
            .x_label_area_size(t * 3)
            .y_label_area_size(t * 4)
            .build_cartesian_2d(0f64..t_max * 1.02, 0f64..y_max)?;
        chart
            .configure_mesh()
            .x_labels(if frame.width < 500 { 4 } else { 8 })
            .y_labels(5)
            .x_label_formatter(&|v| compact(*v))
            .y_label_formatter(&|v| compact(*v))
            .light_line_style(TRANSPARENT)
            // The only vertical lines are the phases': a grid line would pass for one.
            .disable_x_mesh()
            .x_desc("seconds")
            .y_desc("MiB")
            .label_style(("sans-serif", t))
            .axis_desc_style(("sans-serif", t))
            .draw()?;
        for n in placed {
            chart.draw_series(DashedLineSeries::new(
                [(n.t_s, 0.0), (n.t_s, y_max)],
                5,
                4,
                BLACK.mix(0.6).stroke_width(1),
            ))?;
            let y = (t + 12 + n.line as u32 * (t + 4)) as i32;
            top.draw(&Text::new(n.phase.name().to_string(), (n.x, y), ("sans-serif", t).into_font().color(&BLACK)))?;
        }
        chart.draw_series(LineSeries::new(v.iter().map(|s| (s.t_s, mib(s.rss_bytes))), rss_c.stroke_width(2)))?;
        chart.draw_series(DashedLineSeries::new(
            v.iter().map(|s| (s.t_s, mib(s.live_bytes))),
            6,
            4,
            live_c.stroke_width(2),
        ))?;
        if v.iter().any(|s| s.gc_heap_bytes.is_some()) {
            let gc = v.iter().filter_map(|s| Some((s.t_s, mib(s.gc_heap_bytes?))));
            chart.draw_series(DashedLineSeries::new(gc, 2, 3, gc_c.stroke_width(2)))?;
        }
    }
    root.present()?;
    Ok(())
}

/// Peak RSS against capacity, one line per implementation, and the line capacity × S (N × S
/// for unbounded). False when there was nothing to draw.
fn peak_vs_capacity(
    dir: &Path,
    file: &str,
    runs: &[RunRecord],
    bytes: u64,
    alloc: Allocator,
    caps: &[Capacity],
) -> anyhow::Result<bool> {
    let ours: Vec<&RunRecord> =
        runs.iter().filter(|r| r.ok() && r.payload_bytes == bytes && r.allocator == alloc).collect();
    if ours.is_empty() || caps.len() < 2 {
        return Ok(false);
    }
    let mut series: Vec<Series> = Vec::new();
    for imp in distinct(ours.iter().map(|r| r.implementation.as_str())) {
        let pts = caps
            .iter()
            .enumerate()
            .filter_map(|(i, &c)| {
                ours.iter()
                    .find(|r| r.implementation == imp && r.capacity == c)
                    .and_then(|r| r.peak_rss_bytes)
                    .map(|b| (i, (mib(b), mib(b), mib(b))))
            })
            .collect();
        series.push((imp.to_string(), color(imp, Mode::Driven), pts));
    }
    let items = ours[0].items;
    let line = caps
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let n = match c {
                Capacity::Bounded(n) => *n as u64,
                Capacity::Unbounded => items,
            };
            let v = mib(n * bytes);
            (i, (v, v, v))
        })
        .collect();
    let bound: Series = ("capacity × S (unbounded: N × S)".into(), BLACK, line);
    let xs: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
    let caption = format!("{} payloads, {alloc}: peak RSS against capacity", size_label(bytes));
    let panels = facets(&caption, series.clone(), vec![bound.clone()], |name| headline_colour(name, Mode::Driven));
    lines_faceted(dir, file, &panels, &xs, "capacity", "peak RSS, MiB (log)")?;
    series.push(bound);
    let few: Vec<Series> = series
        .iter()
        .filter_map(|(name, c, pts)| {
            let c = if *c == BLACK { BLACK } else { headline_colour(name, Mode::Driven)? };
            Some((name.clone(), c, pts.clone()))
        })
        .collect();
    for f in FRAMES {
        lines_in(f, dir, &f.file(file), &caption, &xs, "capacity", "peak RSS, MiB (log)", &few)?;
    }
    Ok(true)
}

/// What the OCaml GC did in the ocaml-native runs of one payload size (glibc), read from their
/// figures: the heap's peak against live bytes, and what it kept after the drop and after
/// `Gc.compact ()`. `None` when ocaml-native did not run (or failed) unbounded.
fn gc_reading(runs: &[RunRecord], bytes: u64, bounded: Option<Capacity>) -> Option<String> {
    let u = find(runs, OCAML_NATIVE, Capacity::Unbounded, Allocator::Glibc, bytes)?;
    let (peak, drop, compact) = (u.gc_heap_peak_bytes?, u.gc_heap_after_drop_bytes?, u.gc_heap_after_compact_bytes?);
    let above = |b: Option<u64>| b.map_or(f64::NAN, |b| mib(b.saturating_sub(u.rss_start_bytes)));
    let mut line = format!(
        "- {OCAML_NATIVE} (`Bytes` payloads on OCaml domains, glibc), unbounded: live payload peaked at {:.0} MiB, the \
         GC's major heap at {:.0} MiB. With no payload live, the heap was {:.0} MiB after the queue was dropped and \
         the process idled ({}), RSS {:.0} MiB above its start; after `Gc.compact ()` the heap was {:.1} MiB ({}) \
         and RSS {:.0} MiB above its start.",
        mib(u.peak_live_bytes),
        mib(peak),
        mib(drop),
        if drop * 2 >= peak {
            "the GC frees dead blocks only as it runs, and it runs as the program allocates: an idle program keeps its heap"
        } else {
            "the GC had already given much of it back"
        },
        above(u.rss_after_drop_bytes),
        mib(compact),
        if compact * 10 <= peak { "compaction gives the heap back" } else { "compaction kept much of it" },
        above(u.rss_after_trim_bytes),
    );
    if let Some(b) = bounded.and_then(|c| find(runs, OCAML_NATIVE, c, Allocator::Glibc, bytes)) {
        if let (Some(p), Some(bound)) = (b.gc_heap_peak_bytes, b.bound_bytes) {
            // KiB below a MiB: a bound of 18 payloads of 64 B reads 1.1 KiB, not 0.0 MiB.
            let size = |b: u64| {
                if b < 1 << 20 {
                    format!("{:.1} KiB", b as f64 / 1024.0)
                } else {
                    format!("{:.1} MiB", mib(b))
                }
            };
            write!(
                line,
                " At capacity {}, live payload stayed within its bound ({} of {}) while the heap peaked at {}: \
                 the heap also holds payloads already consumed until a cycle sweeps them.",
                b.capacity,
                size(b.peak_live_bytes),
                size(bound),
                size(p)
            )
            .unwrap();
        }
    }
    line.push('\n');
    Some(line)
}

/// `summary.md`.
pub fn summary_markdown(env: &Env, runs: &[RunRecord], plots: &[Plot]) -> String {
    let mut out = String::new();
    header(&mut out, "Memory: what a bound buys, and what the allocator keeps", env);
    let impls = distinct(runs.iter().map(|r| r.implementation.as_str()));
    let sizes = distinct(runs.iter().map(|r| r.payload_bytes));
    let allocs = distinct(runs.iter().map(|r| r.allocator));
    let caps: Vec<Capacity> = runs.iter().map(|r| r.capacity).collect::<BTreeSet<_>>().into_iter().collect();
    writeln!(
        out,
        "Command: `{}`. One producer sends N payloads of S bytes through the queue; one consumer touches each, \
         spins a calibrated time (at least three times what one item costs on one thread) and frees it. Each configuration \
         ran in its own process; RSS from `/proc/self/statm` and live payload bytes (an exact counter) were sampled \
         every few milliseconds. Unbounded: `std::sync::mpsc::channel` for rust-sync-channel, \
         `crossbeam_channel::unbounded` for crossbeam, and for the other queues a capacity of N (the rings allocate \
         N slots of 8 bytes up front, the port's `VecDeque` N × 8 bytes, OCaml's `Queue` grows with its contents: \
         small beside N payloads). The bound check: with a bound, the exact peak of live payload bytes must be at \
         most (capacity + {PRODUCERS} producer + {CONSUMERS} consumer) × S + {ALLOWANCE} bytes, else the run fails.\n",
        env.command
    )
    .unwrap();
    if runs.iter().any(|r| r.implementation == OCAML_NATIVE) {
        out.push_str(
            "`ocaml-native` is OCaml's own memory: OCaml domains make `Bytes` payloads, pass them through `Bqueue` and \
             drop them for the GC to free; its live bytes are an exact counter too, and its samples add the GC's major \
             heap (`Gc.quick_stat ()`, as of the last collection). It ran under glibc; its last phase (after-trim) is \
             after `Gc.compact ()`.\n\n",
        );
    }
    let failed: Vec<&RunRecord> = runs.iter().filter(|r| !r.ok()).collect();
    if !failed.is_empty() {
        writeln!(out, "## ⚠ FAILED RUNS ({})\n", failed.len()).unwrap();
        out.push_str("| implementation | capacity | allocator | payload | what went wrong |\n|---|---|---|---|---|\n");
        for r in &failed {
            writeln!(
                out,
                "| {} | {} | {} | {} × {} | {} |",
                r.implementation,
                r.capacity,
                r.allocator,
                size_label(r.payload_bytes),
                r.items,
                r.error.replace('|', "/")
            )
            .unwrap();
        }
        out.push('\n');
    }
    out.push_str("## Reading\n\n");
    for &bytes in &sizes {
        let of_size: Vec<&RunRecord> = runs.iter().filter(|r| r.payload_bytes == bytes).collect();
        let items = of_size[0].items;
        writeln!(out, "**{} × {items}** ({:.0} MiB in all):\n", size_label(bytes), mib(bytes * items)).unwrap();
        let bounded: Vec<&&RunRecord> = of_size.iter().filter(|r| r.ok() && r.bound_bytes.is_some()).collect();
        let worst =
            bounded.iter().map(|r| r.peak_live_bytes as f64 / r.bound_bytes.unwrap_or(1) as f64).fold(0.0f64, f64::max);
        let broke = of_size.iter().filter(|r| r.error.starts_with("the bound did not hold")).count();
        let capped = of_size.iter().filter(|r| r.ok() && r.items_sent < r.items).count();
        if capped > 0 {
            writeln!(
                out,
                "- {capped} run(s) reached the producer's time limit before sending all {items} items (see Runs): at small \
                 capacities every item is a thread hand-off, far slower than the consumer's spin; their memory figures \
                 stand for what was sent."
            )
            .unwrap();
        }
        if broke > 0 {
            writeln!(out, "- **The bound did not hold in {broke} run(s)** (see FAILED RUNS).").unwrap();
        }
        if !bounded.is_empty() {
            writeln!(
                out,
                "- The bound holds memory: in all {} bounded runs that completed, the peak of live payload bytes stayed \
                 within (capacity + 2) × S; the closest came to {:.0}% of it.",
                bounded.len(),
                worst * 100.0
            )
            .unwrap();
        }
        let reference = allocs.first().copied().unwrap_or(Allocator::Glibc);
        let top_bound = timeline_bounded(&caps);
        if let (true, Some(tb)) = (caps.contains(&Capacity::Unbounded), top_bound) {
            let ratios: Vec<String> = impls
                .iter()
                .filter_map(|imp| {
                    let u = find(runs, imp, Capacity::Unbounded, reference, bytes)?;
                    let b = find(runs, imp, tb, reference, bytes)?;
                    Some(format!(
                        "{imp} {:.0} MiB (×{:.1})",
                        mib(u.peak_live_bytes),
                        u.peak_live_bytes as f64 / b.peak_live_bytes.max(1) as f64
                    ))
                })
                .collect();
            if let Some(Capacity::Bounded(big)) =
                caps.iter().rev().copied().find(|c| matches!(c, Capacity::Bounded(n) if *n as u64 >= items))
            {
                writeln!(out, "- Capacity {big} is at least N = {items}: the bound never stops the producer, so it behaves like unbounded.").unwrap();
            }
            if !ratios.is_empty() {
                writeln!(
                    out,
                    "- Unbounded grows: peak live payload without a bound ({reference}), and as a multiple of the peak at \
                     capacity {tb}: {}.",
                    ratios.join(", ")
                )
                .unwrap();
            }
        }
        for &alloc in &allocs {
            let ok: Vec<&&RunRecord> = of_size
                .iter()
                .filter(|r| {
                    r.ok()
                        && r.allocator == alloc
                        && r.capacity == Capacity::Unbounded
                        && r.implementation != OCAML_NATIVE
                })
                .collect();
            if ok.is_empty() {
                continue;
            }
            let kept = |f: fn(&RunRecord) -> Option<u64>| {
                median(ok.iter().filter_map(|r| f(r).map(|v| mib(v.saturating_sub(r.rss_start_bytes)))))
            };
            let peak =
                median(ok.iter().filter_map(|r| r.peak_rss_bytes.map(|v| mib(v.saturating_sub(r.rss_start_bytes)))));
            let mut line = format!(
                "- {alloc}, unbounded runs (median over implementations, RSS above its start): peak {:.0} MiB; after the \
                 drain {:.0} MiB; after the queue is dropped {:.0} MiB",
                peak.unwrap_or(f64::NAN),
                kept(|r| r.rss_done_receiving_bytes).unwrap_or(f64::NAN),
                kept(|r| r.rss_after_drop_bytes).unwrap_or(f64::NAN)
            );
            if let Some(t) = kept(|r| r.rss_after_trim_bytes) {
                write!(line, "; after `malloc_trim(0)` {t:.0} MiB").unwrap();
            }
            out.push_str(&line);
            out.push_str(", with no live payload bytes left.\n");
        }
        if let Some(line) = gc_reading(runs, bytes, top_bound) {
            out.push_str(&line);
        }
        out.push('\n');
    }
    out.push_str(
        "RSS is not live bytes: once the consumer has freed every payload, the live count is zero, and what RSS still \
         shows above its start is memory the allocator keeps for reuse. The timelines show whether, and how soon, each \
         allocator gives it back while the process idles; a process that never allocates again may keep it until it \
         exits.\n\n",
    );
    for &bytes in &sizes {
        writeln!(out, "## {} payloads\n", size_label(bytes)).unwrap();
        for &alloc in &allocs {
            writeln!(out, "### {alloc}: peak live payload / peak RSS, MiB\n").unwrap();
            table_head(&mut out, "implementation", &caps, |c| c.to_string());
            for imp in &impls {
                write!(out, "| {imp} |").unwrap();
                for &c in &caps {
                    let cell = find(runs, imp, c, alloc, bytes).map_or("–".into(), |r| {
                        format!("{:.1} / {:.1}", mib(r.peak_live_bytes), r.peak_rss_bytes.map_or(f64::NAN, mib))
                    });
                    write!(out, " {cell} |").unwrap();
                }
                out.push('\n');
            }
            out.push_str("| bound (capacity + 2) × S |");
            for &c in &caps {
                let b = super::rows::bound_bytes(c, bytes);
                write!(out, " {} |", b.map_or("none".into(), |b| format!("{:.1}", mib(b)))).unwrap();
            }
            out.push_str("\n\n");
        }
        writeln!(
            out,
            "### What each allocator keeps: RSS above its start after the queue is dropped, unbounded runs, MiB\n"
        )
        .unwrap();
        table_head(&mut out, "implementation", &allocs, |a| a.to_string());
        for imp in &impls {
            write!(out, "| {imp} |").unwrap();
            for &a in &allocs {
                let cell = find(runs, imp, Capacity::Unbounded, a, bytes).map_or("–".into(), |r| {
                    // ocaml-native's after-trim is after Gc.compact: the Reading has it.
                    let trimmed = if *imp == OCAML_NATIVE { None } else { r.rss_after_trim_bytes };
                    let end = trimmed.or(r.rss_after_drop_bytes).unwrap_or(0);
                    format!("{:.1}", mib(end.saturating_sub(r.rss_start_bytes)))
                });
                write!(out, " {cell} |").unwrap();
            }
            out.push('\n');
        }
        out.push_str(
            "\n(glibc-trim: after `malloc_trim(0)`; ocaml-native: after the drop, before `Gc.compact ()`.)\n\n",
        );
    }
    out.push_str("## Runs\n\n| implementation | capacity | allocator | payload | items sent | queue | consumer spin per item | sending | draining done |\n|---|---|---|---|---|---|---|---|---|\n");
    for r in runs.iter().filter(|r| r.ok()) {
        writeln!(
            out,
            "| {} | {} | {} | {} × {} | {}{} | {} | {:.1} µs | {:.2} s | {:.2} s |",
            r.implementation,
            r.capacity,
            r.allocator,
            size_label(r.payload_bytes),
            r.items,
            r.items_sent,
            if r.items_sent < r.items { " (time limit)" } else { "" },
            r.queue,
            r.spin_ns as f64 / 1e3,
            r.send_s,
            r.receive_s
        )
        .unwrap();
    }
    out.push('\n');
    out.push_str(&plots_section(plots));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bq_results::plot::{COLUMN, NARROW};

    fn sample(t_s: f64, phase: Phase) -> SampleRow {
        let (implementation, capacity, allocator) = ("crossbeam".into(), Capacity::Bounded(16), Allocator::Glibc);
        SampleRow {
            implementation,
            capacity,
            allocator,
            payload_bytes: 64,
            t_s,
            rss_bytes: 0,
            live_bytes: 0,
            buffered: None,
            phase,
            gc_heap_bytes: None,
        }
    }

    #[test]
    fn phase_names_take_only_the_lines_they_need_and_stay_in_the_frame() {
        // Sending alone, then three phases at once (one line each), then one far from them.
        let rows = [
            sample(0.0, Phase::Sending),
            sample(0.5, Phase::DoneSending),
            sample(0.5, Phase::Draining),
            sample(0.5, Phase::DoneReceiving),
            sample(1.0, Phase::AfterDrop),
        ];
        let v: Vec<&SampleRow> = rows.iter().collect();
        for frame in [NARROW, COLUMN] {
            let names = phase_names(frame, &v, 1.0);
            let lines: Vec<usize> = names.iter().map(|n| n.line).collect();
            assert_eq!(lines[..4], [0, 0, 1, 2], "{}: names begun together share no line", frame.name);
            assert!(lines.iter().all(|&l| l <= 3), "{}: {lines:?}", frame.name);
            for n in &names {
                let end = n.x + frame.chars_px(n.phase.name().chars().count());
                assert!(n.x >= 0 && end <= frame.width as i32, "{}: {} at {}..{end}", frame.name, n.phase.name(), n.x);
            }
        }
        // A phase far from the others goes back to the top line.
        let names = phase_names(COLUMN, &v, 1.0);
        assert_eq!(names[4].line, 0, "after-drop has the top line to itself at 760 px");
    }
}
