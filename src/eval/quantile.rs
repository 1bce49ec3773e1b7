//! `histogram_quantile` as Prometheus 2.x computes it over classic buckets, so a
//! latency SLO's p95/p99 come from the same bucket increases as its SLI (one read
//! per window instead of two): buckets sorted and merged by upper bound (one bound
//! may be spelled `0.2` and `0.20` by different targets), counts forced monotonic,
//! linear interpolation inside the bucket, the highest finite bound when the rank
//! falls in `+Inf`. Counts may be increases or rates: the result is the same.

/// The `q` quantile of `(upper bound, cumulative count)` buckets, or `None` where
/// Prometheus answers NaN (no `+Inf` bucket, fewer than two buckets, no
/// observations, `q` outside 0..=1 answers ±Inf there and `None` here).
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut b: Vec<(f64, f64)> = buckets
        .iter()
        .copied()
        .filter(|(le, count)| !le.is_nan() && !count.is_nan())
        .collect();
    b.sort_by(|x, y| x.0.total_cmp(&y.0));
    if b.last().is_none_or(|(le, _)| *le != f64::INFINITY) {
        return None;
    }
    // Coalesce equal bounds, summing their counts.
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(b.len());
    for (le, count) in b {
        match merged.last_mut() {
            Some(last) if last.0 == le => last.1 += count,
            _ => merged.push((le, count)),
        }
    }
    // Counter resets between series can break monotonicity: carry the maximum.
    let mut max = f64::NEG_INFINITY;
    for bucket in &mut merged {
        if bucket.1 > max {
            max = bucket.1;
        } else {
            bucket.1 = max;
        }
    }
    if merged.len() < 2 {
        return None;
    }
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 {
        return None;
    }
    let mut rank = q * observations;
    let last = merged.len() - 1;
    let i = merged[..last]
        .iter()
        .position(|(_, count)| *count >= rank)
        .unwrap_or(last);
    if i == last {
        return Some(merged[last - 1].0);
    }
    if i == 0 && merged[0].0 <= 0.0 {
        return Some(merged[0].0);
    }
    let (mut start, end, mut count) = (0.0, merged[i].0, merged[i].1);
    if i > 0 {
        start = merged[i - 1].0;
        count -= merged[i - 1].1;
        rank -= merged[i - 1].1;
    }
    Some(start + (end - start) * (rank / count))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: f64 = f64::INFINITY;

    #[test]
    fn interpolates_inside_the_bucket_like_prometheus() {
        // 60/15/22/3 requests under 0.1/0.2/0.5/+Inf: p95 at rank 95 sits in
        // (0.2, 0.5], 20 of its 22: 0.2 + 0.3 * 20/22.
        let b = [(0.1, 60.0), (0.2, 75.0), (0.5, 97.0), (INF, 100.0)];
        let p95 = histogram_quantile(0.95, &b).expect("p95");
        assert!((p95 - (0.2 + 0.3 * 20.0 / 22.0)).abs() < 1e-12, "{p95}");
        // p99 falls in +Inf: the highest finite bound.
        assert_eq!(histogram_quantile(0.99, &b), Some(0.5));
        // In the first bucket the lower bound is 0.
        assert_eq!(histogram_quantile(0.3, &b), Some(0.05));
    }

    #[test]
    fn equal_bounds_merge_and_order_does_not_matter() {
        let split = [
            (INF, 100.0),
            (0.2, 40.0),
            (0.1, 60.0),
            (0.2, 35.0),
            (0.5, 97.0),
        ];
        let whole = [(0.1, 60.0), (0.2, 75.0), (0.5, 97.0), (INF, 100.0)];
        // Merging sums the two 0.2 series (40 + 35 = 75), as Prometheus does.
        assert_eq!(
            histogram_quantile(0.95, &split),
            histogram_quantile(0.95, &whole)
        );
    }

    #[test]
    fn what_prometheus_answers_nan_for_is_none() {
        assert_eq!(histogram_quantile(0.95, &[(0.1, 1.0), (0.2, 2.0)]), None);
        assert_eq!(histogram_quantile(0.95, &[(INF, 5.0)]), None);
        assert_eq!(histogram_quantile(0.95, &[(0.1, 0.0), (INF, 0.0)]), None);
        assert_eq!(histogram_quantile(1.5, &[(0.1, 1.0), (INF, 2.0)]), None);
        assert_eq!(histogram_quantile(0.5, &[]), None);
    }

    #[test]
    fn a_non_monotonic_count_is_raised_to_the_maximum_before() {
        // 0.2 reads lower than 0.1 (a reset on one series): treated as 60.
        let b = [(0.1, 60.0), (0.2, 50.0), (0.5, 90.0), (INF, 100.0)];
        let p50 = histogram_quantile(0.5, &b).expect("p50");
        assert!((p50 - 0.1 * 50.0 / 60.0).abs() < 1e-12, "{p50}");
    }
}
