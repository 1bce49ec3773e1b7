//! Burn windows and alert tiers as data: the SRE workbook's multi-window,
//! multi-burn-rate table, and the one rule that fits it to any SLO window and
//! objective. Rules and the `warn` verdict read [`tiers`] per SLO; dashboards
//! draw the uncapped factors of the most common window.

use super::PromDuration;

/// How generated recording rules compute a window's error ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleSource {
    /// From the raw counters: exact, and what slogate's gauges compute.
    Raw,
    /// Summed from the recorded 5-minute counts: one series per group to read.
    Recorded,
}

/// One burn window and the roles it plays: how rules compute it, whether the
/// overview dashboard draws it, whether reports show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurnWindow {
    pub window: PromDuration,
    pub rules: RuleSource,
    /// Drawn on the overview dashboard's burn panel (a fast and a slow page window).
    pub on_dashboard: bool,
    /// The burn people read first in tables, reports and the status page.
    pub shown: bool,
}

const fn row(secs: u64, rules: RuleSource, on_dashboard: bool, shown: bool) -> BurnWindow {
    BurnWindow {
        window: PromDuration::from_secs(secs),
        rules,
        on_dashboard,
        shown,
    }
}

/// Every burn window, shortest first; every alert tier's windows are taken from it.
/// Windows up to 6h are read raw (cheap enough, exact); 1d and 3d are summed from
/// recorded 5m counts. A new window is one row here.
pub const WINDOWS: [BurnWindow; 7] = [
    row(5 * 60, RuleSource::Raw, false, false),
    row(30 * 60, RuleSource::Raw, false, false),
    row(3600, RuleSource::Raw, true, true),
    row(2 * 3600, RuleSource::Raw, false, false),
    row(6 * 3600, RuleSource::Raw, true, false),
    row(86400, RuleSource::Recorded, false, false),
    row(3 * 86400, RuleSource::Recorded, false, false),
];

/// The burn windows alone, shortest first.
pub const BURN_WINDOWS: [PromDuration; WINDOWS.len()] = {
    let mut out = [PromDuration::from_secs(0); WINDOWS.len()];
    let mut i = 0;
    while i < WINDOWS.len() {
        out[i] = WINDOWS[i].window;
        i += 1;
    }
    out
};

/// The burn window shown in tables, reports and the status page (1h).
pub fn shown_window() -> PromDuration {
    WINDOWS
        .iter()
        .find(|w| w.shown)
        .map_or(BURN_WINDOWS[0], |w| w.window)
}

/// How rules compute `window`'s ratio: raw for table windows marked so, recorded
/// for the rest (the long table windows and any SLO window).
pub fn rule_source(window: PromDuration) -> RuleSource {
    WINDOWS
        .iter()
        .find(|w| w.window == window)
        .map_or(RuleSource::Recorded, |w| w.rules)
}

/// The windows the overview dashboard draws burn rates for.
pub fn dashboard_windows() -> Vec<PromDuration> {
    WINDOWS
        .iter()
        .filter(|w| w.on_dashboard)
        .map(|w| w.window)
        .collect()
}

/// The window the SRE workbook's tiers are quoted for.
const WORKBOOK_WINDOW: PromDuration = PromDuration::from_secs(30 * 86400);

/// The highest error ratio a tier's threshold may ask for: a total outage (error
/// ratio 1) then crosses it within 3/4 of the long window, so the fast tier pages
/// within its long window for any objective of 25 % and more (SRE workbook: a
/// 14.4x burn of a 90 % objective would need a 144 % error ratio, and never fires).
pub const MAX_THRESHOLD_ERROR_RATIO: f64 = 0.75;

/// How urgent a burn alert is; also the alert's `severity` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Page,
    Ticket,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Ticket => "ticket",
        }
    }
}

/// One row of the workbook's table, quoted for a 30-day window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnTier {
    pub long: PromDuration,
    pub short: PromDuration,
    /// The burn rate both windows must exceed: how many times faster than budget
    /// pace the budget is being spent.
    pub factor: f64,
    pub severity: Severity,
}

/// The SRE workbook's table (chapter 5, "Multiwindow, multi-burn-rate alerts"):
/// 2 % of a 30-day budget spent in 1h is a 14.4x burn, 5 % in 6h is 6x (both page);
/// 10 % in 1d is 3x and 10 % in 3d is 1x (both ticket). The short window is 1/12 of
/// the long one so the alert resets soon after the burn stops.
pub const BURN_TIERS: [BurnTier; 4] = [
    tier(3600, 5 * 60, 14.4, Severity::Page),
    tier(6 * 3600, 30 * 60, 6.0, Severity::Page),
    tier(86400, 2 * 3600, 3.0, Severity::Ticket),
    tier(3 * 86400, 6 * 3600, 1.0, Severity::Ticket),
];

const fn tier(long_secs: u64, short_secs: u64, factor: f64, severity: Severity) -> BurnTier {
    BurnTier {
        long: PromDuration::from_secs(long_secs),
        short: PromDuration::from_secs(short_secs),
        factor,
        severity,
    }
}

/// A tier fitted to one SLO: its windows, the factor it alerts at, and why the
/// factor differs from the workbook's when it does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tier {
    pub long: PromDuration,
    pub short: PromDuration,
    pub factor: f64,
    pub severity: Severity,
    /// The workbook factor before the cap, when the cap lowered it.
    pub capped_from: Option<f64>,
}

impl Tier {
    /// How long a burn at exactly this factor takes to spend the whole budget.
    pub fn exhausts_in(&self, window: PromDuration) -> std::time::Duration {
        std::time::Duration::from_secs_f64(window.as_secs_f64() / self.factor)
    }
}

/// The burn window nearest to `target` on a log scale (3x too long and 3x too short
/// are equally far), at least `at_least`.
fn nearest_window(target: f64, at_least: PromDuration) -> PromDuration {
    BURN_WINDOWS
        .iter()
        .copied()
        .filter(|w| *w >= at_least)
        .min_by(|a, b| {
            let d = |w: &PromDuration| (w.as_secs_f64() / target).ln().abs();
            d(a).total_cmp(&d(b))
        })
        .unwrap_or(BURN_WINDOWS[BURN_WINDOWS.len() - 1])
}

/// The alert tiers of an SLO over `window` with error budget `budget` (1 -
/// objective; `None` leaves factors uncapped). The rule, for any window:
///
/// 1. Factors are the workbook's (14.4, 6, 3, 1): a burn rate is a speed, and 14.4x
///    spends any budget in 1/14.4 of its window.
/// 2. Windows scale with the SLO window (x window / 30d), each rounded to the
///    nearest burn window; the short window is at least 5m, the long window is
///    longer than the short one and shorter than the SLO window, else the tier is
///    left out.
/// 3. A tier whose windows repeat an earlier (faster) tier's is left out.
/// 4. A factor is capped so that its threshold asks for an error ratio of at most
///    [`MAX_THRESHOLD_ERROR_RATIO`]; a tier capped below 1x is left out (a burn
///    below budget pace never pages nor tickets).
pub fn tiers(window: PromDuration, budget: Option<f64>) -> Vec<Tier> {
    let scale = window.as_secs_f64() / WORKBOOK_WINDOW.as_secs_f64();
    let mut out: Vec<Tier> = Vec::new();
    for t in BURN_TIERS {
        let short = nearest_window(t.short.as_secs_f64() * scale, BURN_WINDOWS[0]);
        let Some(above_short) = BURN_WINDOWS.iter().copied().find(|w| *w > short) else {
            continue;
        };
        let long = nearest_window(t.long.as_secs_f64() * scale, above_short);
        if long >= window || out.iter().any(|o| o.long == long && o.short == short) {
            continue;
        }
        let cap = budget
            .filter(|b| *b > 0.0)
            .map_or(f64::INFINITY, |b| MAX_THRESHOLD_ERROR_RATIO / b);
        let (factor, capped_from) = if t.factor > cap {
            (cap, Some(t.factor))
        } else {
            (t.factor, None)
        };
        if factor < 1.0 {
            continue;
        }
        out.push(Tier {
            long,
            short,
            factor,
            severity: t.severity,
            capped_from,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> PromDuration {
        text.parse().expect("duration")
    }

    /// `(long, short, factor, severity)` of each tier, as text.
    fn table(window: &str, budget: Option<f64>) -> Vec<(String, String, f64, &'static str)> {
        tiers(d(window), budget)
            .into_iter()
            .map(|t| {
                (
                    t.long.to_string(),
                    t.short.to_string(),
                    t.factor,
                    t.severity.as_str(),
                )
            })
            .collect()
    }

    fn row(
        long: &str,
        short: &str,
        factor: f64,
        sev: &'static str,
    ) -> (String, String, f64, &'static str) {
        (long.into(), short.into(), factor, sev)
    }

    #[test]
    fn thirty_days_is_the_workbook_table() {
        assert_eq!(
            table("30d", Some(0.001)),
            vec![
                row("1h", "5m", 14.4, "page"),
                row("6h", "30m", 6.0, "page"),
                row("1d", "2h", 3.0, "ticket"),
                row("3d", "6h", 1.0, "ticket"),
            ]
        );
        assert_eq!(table("28d", Some(0.001)), table("30d", Some(0.001)));
    }

    #[test]
    fn one_day_window_scales_the_windows_not_the_factors() {
        assert_eq!(
            table("1d", Some(0.001)),
            vec![
                row("30m", "5m", 14.4, "page"),
                row("1h", "5m", 3.0, "ticket"),
                row("2h", "5m", 1.0, "ticket"),
            ]
        );
    }

    #[test]
    fn seven_day_window_keeps_four_tiers() {
        assert_eq!(
            table("7d", Some(0.001)),
            vec![
                row("30m", "5m", 14.4, "page"),
                row("1h", "5m", 6.0, "page"),
                row("6h", "30m", 3.0, "ticket"),
                row("1d", "1h", 1.0, "ticket"),
            ]
        );
    }

    #[test]
    fn no_tier_ever_alerts_below_budget_pace() {
        for window in [
            "1h", "2h", "6h", "1d", "3d", "7d", "14d", "28d", "30d", "90d", "365d",
        ] {
            for budget in [0.5, 0.25, 0.1, 0.05, 0.001, 0.00001] {
                for t in tiers(d(window), Some(budget)) {
                    assert!(t.factor >= 1.0, "{window} {budget}: {t:?}");
                    assert!(t.short < t.long && t.long < d(window), "{window}: {t:?}");
                    // A total outage (error ratio 1) crosses the threshold.
                    assert!(t.factor * budget <= MAX_THRESHOLD_ERROR_RATIO + 1e-12);
                }
            }
        }
    }

    #[test]
    fn a_ninety_percent_objective_caps_the_page_factor() {
        let t = tiers(d("30d"), Some(0.1));
        assert_eq!((t[0].factor, t[0].capped_from), (7.5, Some(14.4)));
        assert_eq!((t[1].factor, t[1].capped_from), (6.0, None));
        // 95 %: 14.4 x 5 % = 72 % errors, under the cap: the workbook's factor.
        assert_eq!(tiers(d("30d"), Some(0.05))[0].factor, 14.4);
    }
}
