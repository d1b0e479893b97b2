//! The statistics of every report, and the only place they are computed: medians, their
//! distribution-free confidence intervals, ranges and geometric means. Values that are not
//! finite (the NaN of a failed run's figures) are left out everywhere.

/// The finite values, ascending.
pub fn finite_sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// The median of sorted values (the mean of the middle two for an even count).
fn median_of_sorted(v: &[f64]) -> Option<f64> {
    let n = v.len();
    (n > 0).then(|| if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

/// The median of the finite values; `None` when there is none.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    median_of_sorted(&finite_sorted(values))
}

/// The higher of the two middle values for an even count (the middle one for an odd count):
/// always a value that was measured.
pub fn upper_median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let v = finite_sorted(values);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

/// (median, min, max) of the finite values.
pub fn median_min_max(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64, f64)> {
    let v = finite_sorted(values);
    Some((median_of_sorted(&v)?, v[0], v[v.len() - 1]))
}

/// (median, lo, hi, coverage): the median of the finite values with its 95% interval
/// ([`median_interval`]; min-max, with its lower coverage, below 6 values).
pub fn median_with_interval(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64, f64, f64)> {
    let v = finite_sorted(values);
    let median = median_of_sorted(&v)?;
    let (lo, hi, coverage) = median_interval(&v, 0.95)?;
    Some((median, lo, hi, coverage))
}

/// A median's distribution-free confidence interval from order statistics: the widest `k` such
/// that `[x(k), x(n+1-k)]` of the sorted values still covers the median with probability at
/// least `level` (binomial, p = 1/2). With fewer than 6 values no such interval reaches 95 %:
/// then it is `[min, max]`, with its real coverage. Returns (lo, hi, coverage).
pub fn median_interval(sorted: &[f64], level: f64) -> Option<(f64, f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    // P(x(k) <= median <= x(n+1-k)) = 1 - 2 * P(Binomial(n, 1/2) < k).
    let below = |k: usize| -> f64 { (0..k).map(|i| binomial(n, i)).sum::<f64>() / 2f64.powi(n as i32) };
    let mut k = 1;
    while k < n.div_ceil(2) && 1.0 - 2.0 * below(k + 1) >= level {
        k += 1;
    }
    Some((sorted[k - 1], sorted[n - k], 1.0 - 2.0 * below(k)))
}

fn binomial(n: usize, k: usize) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// The geometric mean (of ratios); `None` for no values.
pub fn geomean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
}

/// A ratio to a reference from paired measurements: the geometric mean of the pairs' ratios
/// and its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    pub ratio: f64,
    pub low: f64,
    pub high: f64,
    pub pairs: usize,
}

impl Ratio {
    /// The interval's larger distance from the ratio, as a fraction of it (0.03: ±3%).
    pub fn half_width(&self) -> f64 {
        (self.high / self.ratio - 1.0).max(1.0 - self.low / self.ratio)
    }

    /// Whether the interval contains `x`.
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// The ratio of paired log-ratios `ln(candidate / reference)`: a paired t interval on the
/// logs, exponentiated. Why t and not a bootstrap: a run stops adding pairs as soon as its
/// interval is narrow enough, often after 6 to 12 pairs, where a bootstrap's interval is too
/// narrow (it cannot see tails it has not sampled) and t's is exact for normal logs and
/// robust near them; a log-ratio of two timings of the same work is close to normal once the
/// pairs' placement is fixed. `None` below 2 finite values.
pub fn paired_ratio(log_ratios: &[f64]) -> Option<Ratio> {
    let v: Vec<f64> = log_ratios.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n < 2 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t_975(n - 1) * (var / n as f64).sqrt();
    Some(Ratio { ratio: mean.exp(), low: (mean - half).exp(), high: (mean + half).exp(), pairs: n })
}

/// `a / b` for two ratios measured in different pairs (two candidates against one reference in
/// one run, or one candidate in two runs): the quotient with an approximate 95% interval whose
/// log half-width is the two log half-widths added in quadrature (independent errors; each
/// half-width already carries its own t quantile, so with few pairs this is a little wide).
pub fn ratio_between(a: Ratio, b: Ratio) -> Ratio {
    let half = |r: Ratio| ((r.high / r.ratio).ln()).max((r.ratio / r.low).ln());
    let (q, h) = ((a.ratio / b.ratio).ln(), half(a).hypot(half(b)));
    Ratio { ratio: q.exp(), low: (q - h).exp(), high: (q + h).exp(), pairs: a.pairs.min(b.pairs) }
}

/// One of two modes of a set of rates: its share of the values and its median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mode {
    pub share: f64,
    pub median: f64,
}

/// The two modes of positive `values` (rates of slices), when they have two: the best split of
/// their logarithms into a lower and an upper group (1-D 2-means, exact on sorted values),
/// kept only when the groups are well apart (Ashman's D > 2: the distance between their means
/// over their pooled spread), with a valley between them (at most 5% of the values in the
/// middle third between their medians, where a smooth spread puts about a sixth), each holds
/// at least 10% of the values and their medians differ by at least 1.5x. A queue that sometimes catches its partner while spinning and otherwise
/// parks has two such modes; one mean with a wide interval would hide them. `None` below 8
/// values or for one mode.
pub fn two_modes(values: &[f64]) -> Option<[Mode; 2]> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite() && *x > 0.0).map(f64::ln).collect();
    let n = v.len();
    if n < 8 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let min_side = (n as f64 * 0.10).ceil() as usize;
    let mean_var = |s: &[f64]| {
        let m = s.iter().sum::<f64>() / s.len() as f64;
        (m, s.iter().map(|x| (x - m).powi(2)).sum::<f64>() / s.len() as f64)
    };
    let cost = |k: usize| {
        let ((_, va), (_, vb)) = (mean_var(&v[..k]), mean_var(&v[k..]));
        va * k as f64 + vb * (n - k) as f64
    };
    let k = (min_side.max(1)..=n - min_side.max(1)).min_by(|&a, &b| cost(a).total_cmp(&cost(b)))?;
    let ((ma, va), (mb, vb)) = (mean_var(&v[..k]), mean_var(&v[k..]));
    let ashman = std::f64::consts::SQRT_2 * (mb - ma) / (va + vb).sqrt().max(1e-12);
    let med = |s: &[f64]| s[s.len() / 2];
    let (lo, hi) = (med(&v[..k]), med(&v[k..]));
    let third = (hi - lo) / 3.0;
    let valley = v.iter().filter(|&&x| x > lo + third && x < hi - third).count();
    let (lo, hi) = (lo.exp(), hi.exp());
    (ashman > 2.0 && valley as f64 <= 0.05 * n as f64 && hi / lo >= 1.5).then(|| {
        [Mode { share: k as f64 / n as f64, median: lo }, Mode { share: (n - k) as f64 / n as f64, median: hi }]
    })
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (a two-sided 95% interval):
/// the table up to 30, then the Cornish-Fisher expansion around the normal quantile (within
/// 0.001 of the exact value from 30 on).
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => {
            let (z, d) = (1.959_964_f64, df as f64);
            z + (z.powi(3) + z) / (4.0 * d) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_modes_are_found_only_where_they_are() {
        // 60% of slices near 0.8, 40% near 12: two modes.
        let mut v: Vec<f64> = (0..12).map(|i| 0.8 * (1.0 + 0.02 * i as f64)).collect();
        v.extend((0..8).map(|i| 12.0 * (1.0 + 0.03 * i as f64)));
        let [lo, hi] = two_modes(&v).expect("two modes");
        assert!((lo.share - 0.6).abs() < 1e-9 && (hi.share - 0.4).abs() < 1e-9, "{lo:?} {hi:?}");
        assert!((0.8..0.9).contains(&lo.median) && (12.0..14.0).contains(&hi.median), "{lo:?} {hi:?}");
        // One mode with noise, a smooth spread and a single outlier: none.
        let one: Vec<f64> = (0..30).map(|i| 5.0 * (1.0 + 0.01 * (i % 7) as f64)).collect();
        assert_eq!(two_modes(&one), None);
        let smooth: Vec<f64> = (0..30).map(|i| 1.1f64.powi(i)).collect();
        assert_eq!(two_modes(&smooth), None);
        let mut outlier = one.clone();
        outlier.push(50.0);
        assert_eq!(two_modes(&outlier), None, "one value in 31 is not a mode");
        // The edges: too few values, non-positive and infinite values ignored.
        assert_eq!(two_modes(&v[..7]), None);
        assert_eq!(two_modes(&[0.0, -1.0, f64::INFINITY, f64::NAN]), None);
    }

    #[test]
    fn a_ratio_between_two_ratios_adds_their_uncertainty() {
        let a = Ratio { ratio: 2.0, low: 2.0 / 1.03, high: 2.0 * 1.03, pairs: 10 };
        let b = Ratio { ratio: 1.0, low: 1.0 / 1.04, high: 1.04, pairs: 6 };
        let q = ratio_between(a, b);
        assert!((q.ratio - 2.0).abs() < 1e-12 && q.pairs == 6);
        let h = (1.03f64.ln()).hypot(1.04f64.ln()).exp();
        assert!((q.high / q.ratio - h).abs() < 1e-12 && (q.ratio / q.low - h).abs() < 1e-12);
        assert!(ratio_between(a, a).contains(1.0));
    }

    #[test]
    fn t_quantiles_meet_the_normal() {
        assert_eq!(t_975(0), f64::INFINITY);
        assert_eq!(t_975(1), 12.706);
        assert!((t_975(31) - 2.040).abs() < 0.001, "{}", t_975(31));
        assert!((t_975(60) - 2.000).abs() < 0.001, "{}", t_975(60));
        assert!((t_975(usize::MAX) - 1.960).abs() < 0.001);
        // Decreasing throughout: the table meets the expansion without a step up.
        assert!((1..200).all(|d| t_975(d + 1) < t_975(d)));
    }

    #[test]
    fn paired_ratios_and_their_intervals() {
        assert_eq!(paired_ratio(&[]), None);
        assert_eq!(paired_ratio(&[0.1]), None);
        assert_eq!(paired_ratio(&[f64::NAN, 0.1]), None);
        // Identical pairs: the ratio exactly, a zero-width interval.
        let r = paired_ratio(&[2f64.ln(); 5]).unwrap();
        assert!((r.ratio - 2.0).abs() < 1e-12 && r.half_width() < 1e-12 && r.contains(2.0) && r.pairs == 5);
        // Symmetric noise around 1.0: the interval contains 1.0 and is symmetric in logs.
        let r = paired_ratio(&[0.01, -0.01, 0.02, -0.02]).unwrap();
        assert!((r.ratio - 1.0).abs() < 1e-12 && r.contains(1.0));
        assert!(((r.high * r.low) - 1.0).abs() < 1e-12);
        assert!(r.half_width() > 0.02 && r.half_width() < 0.04, "{r:?}");
    }

    #[test]
    fn median_intervals_cover_as_the_binomial_says() {
        let v: Vec<f64> = (1..=9).map(f64::from).collect();
        let (lo, hi, cov) = median_interval(&v, 0.95).unwrap();
        assert_eq!((lo, hi), (2.0, 8.0));
        assert!((cov - 0.9609).abs() < 1e-3, "{cov}");
        // Five values cannot reach 95 %: min and max, 93.75 %.
        let (lo, hi, cov) = median_interval(&v[..5], 0.95).unwrap();
        assert_eq!((lo, hi, cov), (1.0, 5.0, 0.9375));
        assert_eq!(median_interval(&[4.0], 0.95), Some((4.0, 4.0, 0.0)));
        assert_eq!(median_interval(&[], 0.95), None);
    }

    #[test]
    fn medians_skip_what_is_not_a_number() {
        assert_eq!(median([3.0, f64::NAN, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0]), Some(2.5));
        assert_eq!(median([f64::NAN, f64::INFINITY]), None);
        assert_eq!(median_min_max([5.0, f64::NAN, 1.0]), Some((3.0, 1.0, 5.0)));
        assert_eq!(median_min_max(std::iter::empty()), None);
        assert_eq!(median_with_interval([2.0, f64::NAN, 1.0, 3.0]).map(|s| (s.0, s.1, s.2)), Some((2.0, 1.0, 3.0)));
        assert_eq!(upper_median([4.0, 1.0, f64::NAN]), Some(4.0));
        assert_eq!(upper_median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(upper_median(std::iter::empty()), None);
        assert_eq!(geomean(&[2.0, 8.0]), Some(4.0));
        assert_eq!(geomean(&[]), None);
    }
}
