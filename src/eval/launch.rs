//! Launch verdicts: a checkpoint's state and the weighted launch score. Pure.

use std::collections::BTreeMap;

use super::{SloResult, State};
use crate::slo::{PromDuration, Slo};

/// Score credit of a state: warn counts half (a launch with warnings is not clean).
fn credit(state: State) -> f64 {
    match state {
        State::Pass => 1.0,
        State::Warn => 0.5,
        _ => 0.0,
    }
}

/// The weighted launch score, 0 to 1: each SLO counts with its weight, spread evenly
/// over its groups; a failing key SLO vetoes (0). `None` when nothing was judged.
pub fn score(results: &[SloResult]) -> Option<f64> {
    if results.iter().any(|r| r.state == State::Pending) {
        return None;
    }
    if results.iter().any(|r| r.key && r.state == State::Fail) {
        return Some(0.0);
    }
    let mut per_slo: BTreeMap<&str, (f64, f64, usize)> = BTreeMap::new();
    for r in results {
        let e = per_slo.entry(r.slo.as_str()).or_insert((r.weight, 0.0, 0));
        e.1 += credit(r.state);
        e.2 += 1;
    }
    let total_weight: f64 = per_slo.values().map(|(w, _, _)| w).sum();
    if total_weight <= 0.0 {
        return None;
    }
    let earned: f64 = per_slo
        .values()
        .map(|(w, credits, n)| w * credits / *n as f64)
        .sum();
    Some(earned / total_weight)
}

/// A checkpoint's state: pending until due; then fail beats unknown beats
/// insufficient_data beats warn beats pass (as `check`'s exit code ranks them).
pub fn checkpoint_state(results: &[SloResult]) -> State {
    const ORDER: [State; 6] = [
        State::Pending,
        State::Fail,
        State::Unknown,
        State::InsufficientData,
        State::Warn,
        State::Pass,
    ];
    ORDER
        .into_iter()
        .find(|s| results.iter().any(|r| r.state == *s))
        .unwrap_or(State::InsufficientData)
}

impl Slo {
    /// The placeholder result of a checkpoint not reached yet.
    pub fn pending(&self, (name, window): (&str, PromDuration), due: &str) -> SloResult {
        let input = super::Input {
            window,
            window_name: Some(name),
            answers: &Default::default(),
            period: None,
            queries: Vec::new().into(),
            known_groups: &[],
        };
        let mut r = self.result(&input, &BTreeMap::new());
        r.state = State::Pending;
        r.reason = format!("checkpoint due at {due}");
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(slo: &str, state: State, key: bool, weight: f64) -> SloResult {
        SloResult {
            slo: slo.into(),
            kind: crate::slo::SliKind::Ratio,
            service: None,
            group: BTreeMap::new(),
            slo_labels: BTreeMap::new(),
            objective: Some(0.999),
            window: PromDuration::from_secs(3600),
            window_name: "1h".into(),
            sli: None,
            events: None,
            error_budget_remaining: None,
            burn_rates: Vec::new(),
            window_events: Vec::new(),
            latency_seconds: None,
            value: None,
            latency_threshold: None,
            burn_thresholds: Vec::new(),
            state,
            ready: state.is_ready(),
            key,
            weight,
            runbook_url: None,
            vanished: false,
            baseline: None,
            period: None,
            exclusions: Vec::new(),
            excluded: None,
            datasource: None,
            reason: String::new(),
            queries: Vec::new().into(),
        }
    }

    #[test]
    fn warn_counts_half_and_weights_apply() {
        let rs = [
            result("a", State::Pass, true, 2.0),
            result("b", State::Warn, true, 1.0),
            result("c", State::InsufficientData, false, 1.0),
        ];
        // (2 * 1 + 1 * 0.5 + 1 * 0) / 4
        assert_eq!(score(&rs), Some(0.625));
    }

    #[test]
    fn groups_share_their_slo_weight() {
        let rs = [
            result("a", State::Pass, true, 1.0),
            result("a", State::Fail, false, 1.0),
            result("b", State::Pass, true, 1.0),
        ];
        assert_eq!(score(&rs), Some(0.75));
    }

    #[test]
    fn a_failing_key_slo_vetoes() {
        let rs = [
            result("a", State::Pass, true, 10.0),
            result("b", State::Fail, true, 0.1),
        ];
        assert_eq!(score(&rs), Some(0.0));
        assert_eq!(checkpoint_state(&rs), State::Fail);
    }

    #[test]
    fn pending_and_empty_have_no_score() {
        assert_eq!(score(&[result("a", State::Pending, true, 1.0)]), None);
        assert_eq!(score(&[]), None);
        assert_eq!(checkpoint_state(&[]), State::InsufficientData);
    }

    #[test]
    fn fail_outranks_unknown_which_outranks_insufficient_data() {
        let rs = |states: &[State]| -> Vec<SloResult> {
            states.iter().map(|s| result("a", *s, true, 1.0)).collect()
        };
        assert_eq!(
            checkpoint_state(&rs(&[State::Unknown, State::Fail])),
            State::Fail
        );
        assert_eq!(
            checkpoint_state(&rs(&[State::InsufficientData, State::Unknown])),
            State::Unknown
        );
        assert_eq!(
            checkpoint_state(&rs(&[State::Warn, State::Pass])),
            State::Warn
        );
    }
}
