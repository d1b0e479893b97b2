//! The timeline picture of a linearizability failure: one lane per thread, each command a bar
//! from invocation to return labelled with its call and result, the commands no order explains
//! in red. Plain SVG text (no fonts or libraries needed to view it); drawn by the parent from
//! the report's [`History`], written with `outdir::Claim` (see `mod.rs`).

use std::fmt::Write as _;

use super::report::History;

const WIDTH: f64 = 1000.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 64.0;
const LANE: f64 = 70.0;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The picture, titled `title`.
pub fn svg(h: &History, title: &str) -> String {
    let t0 = h.ops.iter().map(|o| o.start_ns).min().unwrap_or(0);
    let t1 = h.ops.iter().map(|o| o.end_ns).max().unwrap_or(1).max(t0 + 1);
    let x = |t: u64| LEFT + (t - t0) as f64 / (t1 - t0) as f64 * (WIDTH - LEFT - RIGHT);
    let height = TOP + LANE * h.threads as f64 + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="monospace" font-size="11">"##
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="white"/>"##);
    let _ = writeln!(s, r##"<text x="10" y="20" font-size="14">{}</text>"##, escape(title));
    let _ = writeln!(s, r##"<text x="10" y="36" fill="#555">{}</text>"##, escape(&h.start));
    let _ = writeln!(
        s,
        r##"<text x="10" y="50" fill="#555">bars: invocation to return; red: no order of the history explains these results on the model queue</text>"##
    );
    for lane in 0..h.threads {
        let y = TOP + LANE * lane as f64;
        let _ = writeln!(s, r##"<text x="10" y="{:.1}">thread {}</text>"##, y + 34.0, lane + 1);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#ddd"/>"##,
            WIDTH - RIGHT,
            y + 30.0,
            y + 30.0
        );
        let mut ops: Vec<_> = h.ops.iter().filter(|o| o.thread == lane).collect();
        ops.sort_by_key(|o| o.start_ns);
        for (k, o) in ops.iter().enumerate() {
            let (a, b) = (x(o.start_ns), x(o.end_ns).max(x(o.start_ns) + 3.0));
            let (fill, stroke) = if o.unexplained { ("#f4a0a0", "#c00") } else { ("#a8c8f0", "#36c") };
            let _ = writeln!(
                s,
                r##"<rect x="{a:.1}" y="{:.1}" width="{:.1}" height="14" fill="{fill}" stroke="{stroke}"><title>{} -> {} [{:.3}..{:.3} µs]</title></rect>"##,
                y + 23.0,
                b - a,
                escape(&o.call),
                escape(&o.result),
                o.start_ns as f64 / 1e3,
                o.end_ns as f64 / 1e3
            );
            // Labels alternate above and below the bar, so that neighbours overlap less.
            let ly = if k % 2 == 0 { y + 19.0 } else { y + 50.0 };
            let colour = if o.unexplained { "#c00" } else { "black" };
            // Right of the middle, the label ends at the bar's end (it stays inside the picture).
            let (lx, anchor) = if a > WIDTH / 2.0 { (b, "end") } else { (a, "start") };
            let _ = writeln!(
                s,
                r##"<text x="{lx:.1}" y="{ly:.1}" fill="{colour}" text-anchor="{anchor}">{} → {}</text>"##,
                escape(&o.call),
                escape(&o.result)
            );
        }
    }
    let axis = TOP + LANE * h.threads as f64 + 10.0;
    let _ =
        writeln!(s, r##"<line x1="{LEFT}" x2="{:.1}" y1="{axis:.1}" y2="{axis:.1}" stroke="black"/>"##, WIDTH - RIGHT);
    for i in 0..=4 {
        let t = t0 + (t1 - t0) * i / 4;
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{:.1} µs</text>"##,
            x(t),
            axis + 16.0,
            t as f64 / 1e3
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::super::report::HistoryOp;
    use super::*;

    #[test]
    fn draws_every_command_and_marks_the_unexplained() {
        let op = |thread, call: &str, start_ns, end_ns, unexplained| HistoryOp {
            thread,
            call: call.into(),
            result: "ok".into(),
            start_ns,
            end_ns,
            unexplained,
        };
        let h = History {
            start: "capacity 1".into(),
            threads: 2,
            ops: vec![op(0, "push(1)", 0, 10, false), op(1, "try_pop()", 20, 30, true)],
        };
        let s = svg(&h, "a <title>");
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert_eq!(s.matches("<rect x=").count(), 2);
        assert!(s.contains("#f4a0a0") && s.contains("a &lt;title&gt;"));
    }
}
