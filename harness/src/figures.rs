//! The few-series figures every study draws beside its full plots, for pages that must read at
//! any width (the book shows the narrow one on a phone, the column one on a wider page): at most
//! eight series, each in a colour of its own that survives the common colour-vision
//! deficiencies, the same colour for the same queue in every figure.

use plotters::style::RGBColor;

use bq_engine::row::{Mode, Row};
use bq_engine::Builtin;
use bq_results::plot::{Frame, Series, COLUMN, MOST_SERIES, NARROW, PALETTE};

use crate::runs_csv::{series_by_label, Group};

/// The frames every few-series figure is drawn at.
pub const FRAMES: [Frame; 2] = [NARROW, COLUMN];

/// The colour of a series a few-series figure keeps, `None` for one it leaves out: the built-ins'
/// table says which (each design once, in driven mode, and OCaml on its own domains, the native
/// mode the studies' readings discuss; not the swap buffers, compared with their mutex queue in
/// tables of their own) and in which of Okabe and Ito's colours. A plugin is never kept.
pub fn headline_colour(implementation: &str, mode: Mode) -> Option<RGBColor> {
    let (r, g, b) = Builtin::from_name(implementation)?.headline_colour(mode)?;
    Some(RGBColor(r, g, b))
}

/// [`series_by_label`] for the series of `gs` a few-series figure keeps, in their colours.
pub fn headline_series<X: PartialEq>(
    gs: &[&Group],
    xs: &[X],
    x: impl Fn(&Group) -> X,
    y: impl Fn(&Row) -> Option<f64> + Copy,
) -> Vec<Series> {
    let kept: Vec<&Group> =
        gs.iter().copied().filter(|g| headline_colour(g.implementation, g.mode).is_some()).collect();
    let mut series = series_by_label(&kept, xs, x, y);
    for s in &mut series {
        if let Some(c) = kept.iter().find(|g| g.label() == s.0).and_then(|g| headline_colour(g.implementation, g.mode))
        {
            s.1 = c;
        }
    }
    series
}

/// Recolours `series` (one per label of `gs`) for a figure that keeps them all: each in its
/// headline colour, the others in Okabe-Ito colours none of those use (a native mode's lighter
/// shade of its driven colour is too close to tell apart on a phone).
pub fn recolour(series: &mut [Series], gs: &[&Group]) {
    let own =
        |label: &str| gs.iter().find(|g| g.label() == label).and_then(|g| headline_colour(g.implementation, g.mode));
    let taken: Vec<RGBColor> = series.iter().filter_map(|s| own(&s.0)).collect();
    let mut free = PALETTE[..7].iter().filter(|c| !taken.contains(c)).copied();
    for s in series.iter_mut() {
        if let Some(c) = own(&s.0).or_else(|| free.next()) {
            s.1 = c;
        }
    }
}

/// The panels of a full plot: all its series in one when they are few ([`MOST_SERIES`]), else
/// the designs the few-series figures keep (`colour` gives their colours: `None` for the
/// others), then the others (swap buffers, the other native modes, plugins) beside crossbeam,
/// the reference, in panels of at most [`MOST_SERIES`], each other in an Okabe-Ito colour of its
/// own. `shared` (a bound drawn for comparison) goes into every panel.
pub fn facets(
    caption: &str,
    series: Vec<Series>,
    shared: Vec<Series>,
    colour: impl Fn(&str) -> Option<RGBColor>,
) -> Vec<(String, Vec<Series>)> {
    if series.len() + shared.len() <= MOST_SERIES {
        return vec![(caption.to_string(), series.into_iter().chain(shared).collect())];
    }
    let (mut designs, mut others): (Vec<Series>, Vec<Series>) =
        series.into_iter().partition(|s| colour(&s.0).is_some());
    for s in &mut designs {
        s.1 = colour(&s.0).expect("kept for its colour");
    }
    // The designs that do not fit beside the shared series, or share a colour with one, join
    // the others.
    let (clash, mut designs): (Vec<Series>, Vec<Series>) =
        designs.into_iter().partition(|d| shared.iter().any(|s| s.1 == d.1));
    let overflow = designs.split_off(designs.len().min(MOST_SERIES - shared.len().min(MOST_SERIES)));
    others.splice(0..0, overflow.into_iter().chain(clash));
    let reference: Vec<Series> = designs.iter().filter(|s| s.0 == "crossbeam").cloned().collect();
    // Okabe and Ito's, grey for the yellow that is hard to see on white, none the reference or
    // a shared series has.
    let free: Vec<RGBColor> = PALETTE[..7]
        .iter()
        .copied()
        .chain([RGBColor(110, 110, 110)])
        .filter(|c| !reference.iter().chain(&shared).any(|r| r.1 == *c))
        .collect();
    let room = MOST_SERIES - reference.len() - shared.len();
    let mut panels =
        vec![(format!("{caption}: the designs"), designs.into_iter().chain(shared.iter().cloned()).collect())];
    for chunk in others.chunks(room.max(1)) {
        let mut panel: Vec<Series> = reference.clone();
        panel.extend(chunk.iter().cloned().zip(free.iter().cycle()).map(|(mut s, c)| {
            s.1 = *c;
            s
        }));
        panel.extend(shared.iter().cloned());
        panels.push((format!("{caption}: variants, beside crossbeam"), panel));
    }
    panels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_eight_series_each_in_a_colour_of_its_own() {
        let modes = [Mode::Driven, Mode::Native, Mode::NativeDomains, Mode::NativeSysthreads, Mode::NativeTasks];
        let kept: Vec<RGBColor> =
            Builtin::ALL.iter().flat_map(|b| modes.iter().filter_map(move |&m| headline_colour(b.name(), m))).collect();
        assert!(kept.len() <= 8, "{} series", kept.len());
        for (i, a) in kept.iter().enumerate() {
            assert!(kept[i + 1..].iter().all(|b| (a.0, a.1, a.2) != (b.0, b.1, b.2)), "a colour is used twice");
        }
        assert_eq!(headline_colour("c-swap", Mode::Driven), None);
        assert_eq!(headline_colour("a-plugin", Mode::Driven), None);
    }

    #[test]
    fn a_plot_of_many_series_is_split_into_panels_of_at_most_eight() {
        let line = |name: &str| (name.to_string(), RGBColor(1, 2, 3), vec![(0, (1.0, 1.0, 1.0))]);
        let names = [
            "rust-sync-channel",
            "crossbeam",
            "c-pthread",
            "c-pthread (native)",
            "c-vyukov",
            "ocaml",
            "ocaml (native-domains)",
            "ocaml (native-systhreads)",
            "rust-port",
            "tokio",
            "tokio (native-tasks)",
            "c-swap",
            "ocaml-swap",
            "rust-swap",
        ];
        let colour = |label: &str| {
            let (imp, mode) = match label.split_once(" (") {
                Some((i, "native-domains)")) => (i, Mode::NativeDomains),
                Some((i, _)) => (i, Mode::Native),
                None => (label, Mode::Driven),
            };
            headline_colour(imp, mode)
        };
        let bound = vec![("bound".to_string(), RGBColor(0, 0, 0), vec![])];
        let panels = facets("c", names.iter().map(|n| line(n)).collect(), bound.clone(), colour);
        assert!(panels.len() >= 2, "{} panels", panels.len());
        let all: Vec<&str> = panels.iter().flat_map(|p| p.1.iter().map(|s| s.0.as_str())).collect();
        for n in names {
            assert!(all.contains(&n), "{n} is in no panel");
        }
        for (_, p) in &panels {
            assert!(p.len() <= MOST_SERIES, "{} series", p.len());
            assert!(p.iter().any(|s| s.0 == "crossbeam") && p.iter().any(|s| s.0 == "bound"));
            for (i, a) in p.iter().enumerate() {
                assert!(p[i + 1..].iter().all(|b| a.1 != b.1), "two series of one panel share a colour");
            }
        }
        // Few series: one panel, as they were.
        assert_eq!(facets("c", vec![line("crossbeam")], vec![], colour).len(), 1);
    }
}
