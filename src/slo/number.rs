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

/// A ratio as people read it everywhere (tables, pages, reasons): at most 3
/// decimals, rounded *down* so a value never shows on the far side of its
/// objective (99.8996% is `99.899%`, not `99.9%`), and whole numbers from
/// 1000% up (`-33239%`).
pub fn shown_percent(ratio: f64) -> String {
    let v = ratio * 100.0;
    if v.abs() >= 1000.0 {
        return format!("{}%", v.floor());
    }
    // The epsilon absorbs binary error (0.999 * 100 is 99.89999999999999).
    let floored = ((v * 1000.0) + 1e-6).floor() / 1000.0;
    format!("{}%", decimal(floored, 3))
}

/// A count with three significant digits and a suffix: `5.76M`, `1.23k`, `999`.
pub fn count(v: f64) -> String {
    const SUFFIXES: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    for (scale, suffix) in SUFFIXES {
        if v.abs() >= scale {
            let x = v / scale;
            let places = if x.abs() >= 100.0 {
                0
            } else if x.abs() >= 10.0 {
                1
            } else {
                2
            };
            return format!("{}{suffix}", decimal(x, places));
        }
    }
    if v == v.trunc() {
        format!("{v:.0}")
    } else {
        decimal(v, 2)
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

    /// One rule for every percentage people read: never rounded across the
    /// objective, never "100%" for something short of it.
    #[test]
    fn shown_percentages_round_down_and_counts_get_suffixes() {
        assert_eq!(shown_percent(0.998996), "99.899%");
        assert_eq!(shown_percent(0.999), "99.9%");
        assert_eq!(shown_percent(0.9999999), "99.999%");
        assert_eq!(shown_percent(1.0), "100%");
        assert_eq!(shown_percent(-332.38889), "-33239%");
        assert_eq!(shown_percent(-0.0625), "-6.25%");
        assert_eq!(count(5_760_000.0), "5.76M");
        assert_eq!(count(1234.0), "1.23k");
        assert_eq!(count(999.0), "999");
        assert_eq!(count(61.0), "61");
        assert_eq!(count(123_456.0), "123k");
        assert_eq!(count(0.5), "0.5");
    }
}
