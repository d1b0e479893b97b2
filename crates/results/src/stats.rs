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

#[cfg(test)]
mod tests {
    use super::*;

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
