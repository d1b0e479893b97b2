//! `summary.md`: what a person reads. Every figure is computed from the same rows that
//! `runs.csv` holds; nothing here is written by hand.

use std::collections::BTreeSet;
use std::fmt::Write;

use super::{groups, matrix_markdown, mips, stat, workloads, Group};
use crate::impls::Builtin;
use crate::plan::{median_interval, MIN_RUN};
use crate::schema::{Env, Mode, Observation, Row};
use crate::workloads::Workload;

/// The median throughput with its 95% interval, (median, lo, hi, coverage).
fn interval(g: &Group) -> Option<(f64, f64, f64, f64)> {
    let mut v: Vec<f64> = g.ok.iter().filter_map(|r| mips(r)).filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let (median, ..) = stat(&g.ok, mips)?;
    let (lo, hi, cov) = median_interval(&v, 0.95)?;
    Some((median, lo, hi, cov))
}

/// An interval wider than ±10% of the median.
const UNSTABLE: f64 = 0.10;

fn wide(m: f64, lo: f64, hi: f64) -> bool {
    (m - lo).max(hi - m) > UNSTABLE * m
}

/// Why a configuration's interval is wide, when the rows say: more threads than cores, or a
/// design that keeps the cores busy (spins) while it waits.
fn unstable(g: &Group, cores: usize) -> Option<String> {
    let (m, lo, hi, _) = interval(g)?;
    if !wide(m, lo, hi) {
        return None;
    }
    let threads = if g.workload == Workload::Seq {
        1
    } else if g.mode == Mode::NativeTasks {
        cores as u64 // tasks run on one worker thread per core
    } else {
        g.producers + g.consumers
    };
    let cpu = stat(&g.ok, |r| Some(r.cpu_per_wall)).map_or(0.0, |s| s.0);
    let waits = stat(&g.ok, |r| Some(r.push_wait_share + r.pop_wait_share)).map_or(0.0, |s| s.0);
    let mut why = Vec::new();
    if cores > 0 && threads as usize > cores {
        why.push(format!("oversubscribed: {threads} threads on {cores} cores"));
    }
    // Cores busy while the threads wait: they spin instead of sleeping.
    if cores > 0 && threads > 1 && waits > 0.01 && cpu >= 0.9 * cores.min(threads as usize) as f64 {
        why.push(format!("busy waiting: {cpu:.1} CPU-seconds per second while {:.0}% of operations waited", waits * 100.0));
    }
    if why.is_empty() && threads as usize == cores && cores > 1 {
        why.push(format!("{threads} threads on {cores} cores: they run in parallel or take turns, and that flips between runs"));
    }
    Some(if why.is_empty() { "no cause in the rows (machine noise?)".into() } else { why.join("; ") })
}

/// "1.23 [1.10–1.30]", with ⚠ when the interval is wider than ±10%; "–" when nothing succeeded.
fn throughput_cell(g: &Group) -> String {
    match interval(g) {
        Some((m, lo, hi, _)) => {
            let mark = if wide(m, lo, hi) { " ⚠" } else { "" };
            format!("{m:.2} [{lo:.2}–{hi:.2}]{mark}")
        }
        None => "–".into(),
    }
}

/// Median over configurations of max/min across repetitions: the spread the goal is about.
fn spread_of_reps(gs: &[Group]) -> Option<f64> {
    let mut v: Vec<f64> =
        gs.iter().filter_map(|g| stat(&g.ok, mips)).filter(|s| s.1 > 0.0).map(|(_, lo, hi)| hi / lo).collect();
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

/// How long the runs were, how many items they moved, and how stable the figures are.
pub(super) fn stability(gs: &[Group], rows: &[Row], cores: usize) -> String {
    let mut out = String::new();
    let ok: Vec<&Row> = rows.iter().filter(|r| r.ok() && r.repetition > 0).collect();
    if let (Some(secs), Some(items)) = (stat(&ok, |r| Some(r.seconds * 1e3)), stat(&ok, |r| Some(r.items as f64))) {
        let short = ok.iter().filter(|r| r.seconds < MIN_RUN.as_secs_f64()).count();
        writeln!(
            out,
            "Runs lasted {:.0} ms at the median ({:.1}–{:.0} ms; {short} of {} shorter than {} ms) and moved {:.0} to \
             {:.0} items (sized per configuration by a pilot run; the `items` column of `runs.csv`).\n",
            secs.0,
            secs.1,
            secs.2,
            ok.len(),
            MIN_RUN.as_millis(),
            items.1,
            items.2
        )
        .unwrap();
    }
    if let Some(spread) = spread_of_reps(gs) {
        writeln!(out, "Median over configurations of max/min throughput across repetitions: **{spread:.2}**.
").unwrap();
    }
    let flagged: Vec<(&Group, String)> = gs.iter().filter_map(|g| unstable(g, cores).map(|why| (g, why))).collect();
    let measured = gs.iter().filter(|g| !g.ok.is_empty()).count();
    writeln!(
        out,
        "{} of {measured} configurations are marked ⚠ unstable: their 95% interval is wider than ±{:.0}% of the \
         median. Compare them with care.\n",
        flagged.len(),
        UNSTABLE * 100.0
    )
    .unwrap();
    if !flagged.is_empty() {
        out.push_str("| implementation | workload | capacity | median [95% interval] | why |\n|---|---|---|---|---|\n");
        for (g, why) in flagged {
            writeln!(out, "| {} | {} | {} | {} | {why} |", g.label(), g.workload, g.capacity, throughput_cell(g)).unwrap();
        }
        out.push('\n');
    }
    out
}

/// Failed runs first, loudly: they are excluded from every median.
pub(super) fn failures(rows: &[Row]) -> String {
    let mut out = String::new();
    let failed: Vec<&Row> = rows.iter().filter(|r| !r.ok()).collect();
    if !failed.is_empty() {
        writeln!(out, "## ⚠ FAILED RUNS ({})\n", failed.len()).unwrap();
        writeln!(out, "These runs lost, duplicated or reordered items, overfilled the queue, hung or panicked (repetition \
                       0 is a pilot or the warm-up). They are not averaged into any figure below.\n").unwrap();
        out.push_str("| implementation | mode | workload | threads | capacity | repetition | what went wrong |\n|---|---|---|---|---|---|---|\n");
        for r in &failed {
            writeln!(
                out,
                "| {} | {} | {} | {}+{} | {} | {} | {} |",
                r.implementation, r.mode, r.workload, r.producers, r.consumers, r.capacity, r.repetition, r.error.replace('|', "/")
            )
            .unwrap();
        }
        out.push('\n');
    }
    out
}

/// The machine and the command, under the title.
pub(super) fn header(out: &mut String, title: &str, env: &Env) {
    writeln!(out, "# {title}\n").unwrap();
    writeln!(
        out,
        "{} · {} ({} cores) · Linux {} · {} · OCaml {} · {} · commit {}\n",
        env.date_utc, env.cpu_model, env.cores, env.kernel, env.rustc, env.ocamlopt, env.cc, env.git_commit
    )
    .unwrap();
}

/// Capacities present for a workload, ascending.
fn capacities(gs: &[&Group]) -> Vec<usize> {
    gs.iter().map(|g| g.capacity).collect::<BTreeSet<_>>().into_iter().collect()
}

/// Row labels in first-seen order.
pub(super) fn labels(gs: &[&Group]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in gs {
        let l = g.label();
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

fn table_by_capacity(out: &mut String, gs: &[&Group], cell: impl Fn(&Group) -> String) {
    let caps = capacities(gs);
    out.push_str("| implementation |");
    caps.iter().for_each(|c| write!(out, " cap {c} |").unwrap());
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(caps.len()));
    out.push('\n');
    for l in labels(gs) {
        write!(out, "| {l} |").unwrap();
        for c in &caps {
            let g = gs.iter().find(|g| g.label() == l && g.capacity == *c);
            write!(out, " {} |", g.map_or("".into(), |g| cell(g))).unwrap();
        }
        out.push('\n');
    }
    out.push('\n');
}

pub fn summary_markdown(env: &Env, rows: &[Row], shutdown: &[Vec<Observation>], plots: &[(String, String)]) -> String {
    let gs = groups(rows);
    let workloads = workloads(&gs);
    let reps = rows.iter().map(|r| r.repetition).max().unwrap_or(0);
    let mut out = String::new();
    header(&mut out, "Bounded queues compared", env);
    writeln!(out, "Command: `{}`. Every figure is the median of {reps} repetitions; throughput comes with a 95% \
                   interval for the median, [low–high] (order statistics: the interval between the k-th lowest and the \
                   k-th highest repetition that covers the median with 95% probability; below 6 repetitions no such \
                   interval exists and it is min–max). The rows behind each figure are in `runs.csv`.\n", env.command).unwrap();

    out.push_str(&failures(rows));

    out.push_str("## Reading\n\n");
    out.push_str(&reading(&gs, &workloads));

    writeln!(out, "## Throughput (million items per second)\n").unwrap();
    out.push_str("Median [95% interval]; ⚠: the interval is wider than ±10% (see Stability). `driven`: Rust threads drive \
                  the queue through the harness interface (rows without a mode); `native`: the language's own threads \
                  (pthreads in C; OCaml domains or systhreads; tokio tasks).\n\n");
    for w in &workloads {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == *w).collect();
        let (p, c) = (ws[0].producers, ws[0].consumers);
        writeln!(out, "### {w} ({p} producer{}, {c} consumer{})\n", if p == 1 { "" } else { "s" }, if c == 1 { "" } else { "s" }).unwrap();
        table_by_capacity(&mut out, &ws, throughput_cell);
    }
    out.push_str("## Stability\n\n");
    out.push_str(&stability(&gs, rows, env.cores));
    out.push_str(&ceiling(&gs, &workloads));

    out.push_str("## CPU time per wall-clock second\n\n(user + system) / wall, median: 2.0 means both cores were busy the whole run. \
                  A design that spins instead of sleeping shows here.\n\n");
    for w in &workloads {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == *w).collect();
        writeln!(out, "### {w}\n").unwrap();
        table_by_capacity(&mut out, &ws, |g| stat(&g.ok, |r| Some(r.cpu_per_wall)).map_or("–".into(), |s| format!("{:.2}", s.0)));
    }

    out.push_str("## Blocking (backpressure)\n\nDriven mode. Waits: share of pushes (pops) that found the queue full (empty) and had to \
                  block; blocked: total seconds producers (consumers) spent blocked, summed over threads; occupancy: the largest \
                  length a consumer sampled (every 64 pops), never above the capacity (rust-sync-channel has no length).\n\n");
    for w in &workloads {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == *w && g.mode == Mode::Driven).collect();
        if ws.is_empty() {
            continue;
        }
        writeln!(out, "### {w}\n").unwrap();
        out.push_str("| implementation | capacity | push waits | pop waits | producers blocked (s) | consumers blocked (s) | max occupancy |\n|---|---|---|---|---|---|---|\n");
        for g in &ws {
            let pct = |f: fn(&Row) -> f64| stat(&g.ok, |r| Some(f(r) * 100.0)).map_or("–".into(), |s| format!("{:.1}%", s.0));
            let secs = |f: fn(&Row) -> f64| stat(&g.ok, |r| Some(f(r))).map_or("–".into(), |s| format!("{:.3}", s.0));
            let occ = stat(&g.ok, |r| r.max_occupancy.map(|x| x as f64)).map_or("n/a".into(), |s| format!("{:.0}", s.2));
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                g.implementation,
                g.capacity,
                pct(|r| r.push_wait_share),
                pct(|r| r.pop_wait_share),
                secs(|r| r.producer_blocked_s),
                secs(|r| r.consumer_blocked_s),
                occ
            )
            .unwrap();
        }
        out.push('\n');
    }

    out.push_str("## Latency, push to pop (µs)\n\np50 / p99 / p99.9 of sampled items (1 in 16), from the start of the push \
                  (so it includes time blocked on a full queue) to the end of the pop; median over repetitions. \
                  `seq` has none: one thread pushes and pops.\n\n");
    for w in &workloads {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == *w && g.ok.iter().any(|r| r.latency_samples.is_some())).collect();
        if ws.is_empty() {
            continue;
        }
        writeln!(out, "### {w}\n").unwrap();
        table_by_capacity(&mut out, &ws, |g| {
            let q = |f: fn(&Row) -> Option<u64>| stat(&g.ok, |r| f(r).map(|x| x as f64 / 1e3)).map_or("–".into(), |s| fmt_us(s.0));
            format!("{} / {} / {}", q(|r| r.latency_p50_ns), q(|r| r.latency_p99_ns), q(|r| r.latency_p999_ns))
        });
    }

    out.push_str("## The cost of the boundary: native against driven\n\n");
    out.push_str(&boundary(&gs));

    if !shutdown.is_empty() {
        out.push_str("## Shutdown semantics, observed\n\nEach cell is what a probe saw when run against the implementation under a \
                      watchdog (`bqh shutdown` prints the same matrix).\n\n");
        out.push_str(&matrix_markdown(shutdown));
        out.push('\n');
    }

    out.push_str(&plots_section(plots));
    out
}

/// Links to the plots, with their captions.
pub(super) fn plots_section(plots: &[(String, String)]) -> String {
    let mut out = String::new();
    if !plots.is_empty() {
        out.push_str("## Plots\n\n");
        for (file, caption) in plots {
            writeln!(out, "- [{caption}]({file})").unwrap();
        }
        out.push('\n');
    }
    out
}

/// Every throughput as a share of the lock-free ring's (`c-vyukov`, driven) for the same
/// workload and capacity: how far each design is from what one CAS per operation allows.
fn ceiling(gs: &[Group], workloads: &[Workload]) -> String {
    let top = Builtin::CVyukov.name();
    let mut out = String::new();
    if !gs.iter().any(|g| g.implementation == top && g.mode == Mode::Driven && !g.ok.is_empty()) {
        return out;
    }
    out.push_str("## Share of the lock-free ceiling\n\n");
    writeln!(
        out,
        "Median throughput as a share of `{top}`'s (Dmitry Vyukov's bounded MPMC ring, one CAS per operation, driven) \
         for the same workload and capacity. Above 100%: faster than the ring (crossbeam's ring with its own waiting \
         strategy can be); `–`: no ring figure (capacity 0).\n"
    )
    .unwrap();
    for w in workloads {
        let ws: Vec<&Group> = gs.iter().filter(|g| g.workload == *w).collect();
        writeln!(out, "### {w}\n").unwrap();
        table_by_capacity(&mut out, &ws, |g| {
            let base = median_of(gs, top, Mode::Driven, g.workload, g.capacity);
            match (stat(&g.ok, mips), base) {
                (Some(m), Some(b)) if b > 0.0 => format!("{:.0}%", 100.0 * m.0 / b),
                _ => "–".into(),
            }
        });
    }
    out
}

fn fmt_us(us: f64) -> String {
    if us >= 100.0 { format!("{us:.0}") } else if us >= 1.0 { format!("{us:.1}") } else { format!("{us:.2}") }
}

fn median_of(gs: &[Group], imp: &str, mode: Mode, workload: Workload, capacity: usize) -> Option<f64> {
    gs.iter()
        .find(|g| g.implementation == imp && g.mode == mode && g.workload == workload && g.capacity == capacity)
        .and_then(|g| stat(&g.ok, mips))
        .map(|s| s.0)
}

fn geomean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
}

/// Per native mode: native / driven throughput for every configuration both ran.
fn boundary(gs: &[Group]) -> String {
    let mut out = String::new();
    let natives: Vec<(&str, Mode)> = {
        let mut v: Vec<(&str, Mode)> = Vec::new();
        gs.iter().filter(|g| g.mode != Mode::Driven).for_each(|g| if !v.contains(&(g.implementation, g.mode)) { v.push((g.implementation, g.mode)) });
        v
    };
    if natives.is_empty() {
        return "No native runs in this selection.\n\n".into();
    }
    out.push_str("Throughput in million items per second; ratio = native / driven. A ratio above 1 is what crossing the \
                  language boundary once per operation costs; below 1, the language's own threads do worse than Rust's \
                  (for OCaml systhreads: one runtime lock for all threads). The Rust queues are native in driven mode.\n\n");
    out.push_str("| implementation | native mode | workload | capacity | driven | native | ratio |\n|---|---|---|---|---|---|---|\n");
    let mut per_mode: Vec<(String, Vec<f64>)> = Vec::new();
    for &(imp, mode) in &natives {
        let mut ratios = Vec::new();
        for g in gs.iter().filter(|g| g.implementation == imp && g.mode == mode) {
            let d = median_of(gs, imp, Mode::Driven, g.workload, g.capacity);
            let n = stat(&g.ok, mips).map(|s| s.0);
            let ratio = d.zip(n).map(|(d, n)| n / d);
            if let Some(r) = ratio {
                ratios.push(r);
            }
            let f = |x: Option<f64>| x.map_or("–".into(), |x| format!("{x:.2}"));
            writeln!(out, "| {imp} | {mode} | {} | {} | {} | {} | {} |", g.workload, g.capacity, f(d), f(n), ratio.map_or("–".into(), |r| format!("{r:.2}×"))).unwrap();
        }
        per_mode.push((format!("{imp} {mode}"), ratios));
    }
    out.push('\n');
    for (name, ratios) in per_mode {
        if let Some(g) = geomean(&ratios) {
            writeln!(out, "- **{name}**: native / driven = {g:.2}× (geometric mean over {} configurations)", ratios.len()).unwrap();
        }
    }
    out.push('\n');
    out
}

/// A short plain-language reading, computed from the figures.
fn reading(gs: &[Group], workloads: &[Workload]) -> String {
    let mut out = String::new();
    let driven: Vec<&Group> = gs.iter().filter(|g| g.mode == Mode::Driven && !g.ok.is_empty()).collect();
    for w in workloads {
        let ws: Vec<&&Group> = driven.iter().filter(|g| g.workload == *w).collect();
        let Some(cap) = ws.iter().map(|g| g.capacity).max() else { continue };
        let mut at: Vec<(&str, f64)> =
            ws.iter().filter(|g| g.capacity == cap).filter_map(|g| stat(&g.ok, mips).map(|s| (g.implementation, s.0))).collect();
        if at.len() < 2 {
            continue;
        }
        at.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (best, worst) = (at[0], at[at.len() - 1]);
        writeln!(
            out,
            "- **{w}** (capacity {cap}, driven): fastest {} at {:.2} M items/s, slowest {} at {:.2}: {:.1}× apart.",
            best.0, best.1, worst.0, worst.1, best.1 / worst.1
        )
        .unwrap();
    }
    // Capacity: how much a larger buffer buys, per implementation, on spsc.
    let caps: BTreeSet<usize> = driven.iter().filter(|g| g.capacity > 0).map(|g| g.capacity).collect();
    if let (Some(&lo), Some(&hi)) = (caps.first(), caps.last()) {
        if lo != hi {
            let mut parts = Vec::new();
            for imp in driven.iter().map(|g| g.implementation).collect::<BTreeSet<_>>() {
                let a = median_of(gs, imp, Mode::Driven, Workload::Spsc, lo);
                let b = median_of(gs, imp, Mode::Driven, Workload::Spsc, hi);
                if let (Some(a), Some(b)) = (a, b) {
                    parts.push(format!("{imp} {:.1}×", b / a));
                }
            }
            if !parts.is_empty() {
                writeln!(out, "- **Capacity** (spsc, capacity {hi} against {lo}): {}. At capacity {lo} every push waits for a pop, so the queue runs at the speed of a thread hand-off.", parts.join(", ")).unwrap();
            }
        }
    }
    // Backpressure: in slow-consumer, producers should wait on most pushes.
    let slow: Vec<String> = driven
        .iter()
        .filter(|g| g.workload == Workload::SlowConsumer && g.capacity == 16)
        .filter_map(|g| stat(&g.ok, |r| Some(r.push_wait_share * 100.0)).map(|s| format!("{} {:.0}%", g.implementation, s.0)))
        .collect();
    if !slow.is_empty() {
        writeln!(out, "- **Backpressure** (slow-consumer, capacity 16): share of pushes that had to wait: {}. The queue's capacity bounds the memory a fast producer can fill; the producers wait instead.", slow.join(", ")).unwrap();
    }
    // Fan-in: the single consumer is the bottleneck.
    let fan: Vec<String> = driven
        .iter()
        .filter(|g| g.workload == Workload::FanIn && g.capacity == 16)
        .filter_map(|g| {
            let p = stat(&g.ok, |r| Some(r.push_wait_share * 100.0))?;
            let c = stat(&g.ok, |r| Some(r.pop_wait_share * 100.0))?;
            Some(format!("{} pushes {:.0}% / pops {:.0}%", g.implementation, p.0, c.0))
        })
        .collect();
    if !fan.is_empty() {
        writeln!(out, "- **Fan-in** (64 producers, capacity 16), waits: {}. Producers wait far more than the consumer: the one consumer is the bottleneck (batching, taking many items per lock, is the usual way out).", fan.join(", ")).unwrap();
    }
    // Swap buffers against the mutex-and-condition queue of their language, in the same run.
    for w in [Workload::FanInBatch, Workload::FanIn] {
        let Some(cap) = driven.iter().filter(|g| g.workload == w).map(|g| g.capacity).max() else { continue };
        let pairs: Vec<String> = Builtin::ALL
            .iter()
            .filter_map(|&b| Some((b, b.swap_sibling()?)))
            .filter_map(|(swap, sibling)| {
                let a = median_of(gs, swap.name(), Mode::Driven, w, cap)?;
                let b = median_of(gs, sibling.name(), Mode::Driven, w, cap)?;
                Some(format!("{swap} / {sibling} {:.1}×", a / b))
            })
            .collect();
        if !pairs.is_empty() {
            writeln!(out, "- **Swap buffers** ({w}, capacity {cap}, driven): {} (the goal at 64 producers: at least 3× with the consumer taking batches, fan-in-batch).", pairs.join(", ")).unwrap();
        }
    }
    // Boundary, OCaml.
    let mut ratios = Vec::new();
    let ocaml = Builtin::Ocaml.name();
    for g in gs.iter().filter(|g| g.implementation == ocaml && g.mode == Mode::NativeDomains) {
        if let (Some(d), Some(n)) = (median_of(gs, ocaml, Mode::Driven, g.workload, g.capacity), stat(&g.ok, mips)) {
            ratios.push(n.0 / d);
        }
    }
    if let Some(r) = geomean(&ratios) {
        writeln!(out, "- **Boundary**: the OCaml queue run on OCaml domains moves {r:.2}× the items per second it moves when Rust threads drive it over FFI (geometric mean over {} configurations); see the boundary table.", ratios.len()).unwrap();
    }
    out.push('\n');
    out
}
