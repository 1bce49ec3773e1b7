//! The one way slogate writes numbers for people and for PromQL: fixed decimals
//! with trailing zeros trimmed (`14.4`, `0.933333`, `99.9%`), never NaN.

/// `v` with at most `places` decimals, trailing zeros and point trimmed.
pub fn decimal(v: f64, places: usize) -> String {
    let text = format!("{v:.places$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A ratio as a percentage with at most `places` decimals: `0.999` -> `99.9%`.
pub fn percent(ratio: f64, places: usize) -> String {
    format!("{}%", decimal(ratio * 100.0, places))
}

/// A number for a reason string: whole numbers and anything from 1000 up without
/// decimals, the rest with at most 3.
pub fn short(v: f64) -> String {
    if v.abs() >= 1000.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        decimal(v, 3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_zeros_go_but_whole_numbers_keep_theirs() {
        assert_eq!(decimal(14.4, 6), "14.4");
        assert_eq!(decimal(0.9333333333, 6), "0.933333");
        assert_eq!(decimal(100.0, 3), "100");
        assert_eq!(decimal(100.0, 0), "100");
        assert_eq!(percent(0.999, 3), "99.9%");
        assert_eq!(percent(-0.5, 4), "-50%");
        assert_eq!(short(86400.0), "86400");
        assert_eq!(short(0.48), "0.48");
        assert_eq!(short(1234.5678), "1235");
    }
}
