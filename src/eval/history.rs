//! What `serve` remembers of each result's state between evaluations: since when
//! it holds, and the changes of the last day ("failing since 09:55, 3 changes
//! today"). In memory only: a restart begins a new history.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use super::{SloResult, State};

/// How far back changes are kept.
pub const KEPT: TimeDelta = TimeDelta::days(1);

/// Changes kept per result at most, so a flapping SLO costs bounded memory.
const MAX_CHANGES: usize = 100;

/// One result's state over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The current state, and since when it holds (the first evaluation that
    /// saw it; the start of `serve` when it never changed).
    pub state: State,
    pub since: DateTime<Utc>,
    /// The first evaluation that saw this result: `since` equal to it means
    /// "at least since" (the state may be older than the watch).
    pub watched_from: DateTime<Utc>,
    /// Changes within [`KEPT`] of the last evaluation, oldest first: the instant
    /// and the state entered.
    pub changes: Vec<(DateTime<Utc>, State)>,
}

/// Every result's [`Track`], by SLO and group labels.
#[derive(Debug, Clone, Default)]
pub struct History {
    tracks: HashMap<(String, Vec<(String, String)>), Track>,
}

fn key(slo: &str, group: &BTreeMap<String, String>) -> (String, Vec<(String, String)>) {
    let labels = group.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    (slo.to_string(), labels)
}

impl History {
    /// Records an evaluation as of `at`. Results no longer evaluated (an SLO
    /// removed by a reload) are forgotten.
    pub fn record(&mut self, at: DateTime<Utc>, results: &[SloResult]) {
        let mut seen = HashMap::with_capacity(results.len());
        for r in results {
            let k = key(&r.slo, &r.group);
            let track = match self.tracks.remove(&k) {
                Some(mut t) => {
                    if t.state != r.state {
                        t.state = r.state;
                        t.since = at;
                        t.changes.push((at, r.state));
                    }
                    t.changes.retain(|(when, _)| at - *when <= KEPT);
                    if t.changes.len() > MAX_CHANGES {
                        t.changes.drain(..t.changes.len() - MAX_CHANGES);
                    }
                    t
                }
                None => Track {
                    state: r.state,
                    since: at,
                    watched_from: at,
                    changes: Vec::new(),
                },
            };
            seen.insert(k, track);
        }
        self.tracks = seen;
    }

    /// The track of one result, once it has been evaluated.
    pub fn track(&self, slo: &str, group: &BTreeMap<String, String>) -> Option<&Track> {
        self.tracks.get(&key(slo, group))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::snapshot;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + minute * 60, 0).expect("time")
    }

    #[test]
    fn a_state_holds_since_its_first_evaluation_and_changes_are_counted() {
        let mut s = snapshot::example();
        let mut h = History::default();
        h.record(at(0), &s.results);
        let search = |h: &History, s: &snapshot::Snapshot| {
            h.track(&s.results[1].slo, &s.results[1].group).cloned()
        };
        let t = search(&h, &s).expect("tracked");
        assert_eq!((t.state, t.since, t.changes.len()), (State::Fail, at(0), 0));
        assert_eq!(t.watched_from, at(0));
        h.record(at(1), &s.results);
        assert_eq!(search(&h, &s).expect("tracked").since, at(0));
        s.results[1].state = State::Pass;
        h.record(at(2), &s.results);
        s.results[1].state = State::Fail;
        h.record(at(3), &s.results);
        let t = search(&h, &s).expect("tracked");
        assert_eq!(t.since, at(3));
        assert_eq!(t.changes, [(at(2), State::Pass), (at(3), State::Fail)]);
        // A day later the old changes are gone, the current state is not.
        h.record(at(3 + 24 * 60 + 1), &s.results);
        let t = search(&h, &s).expect("tracked");
        assert_eq!((t.state, t.since, t.changes.len()), (State::Fail, at(3), 0));
        // An SLO no longer evaluated is forgotten.
        h.record(at(3 + 24 * 60 + 2), &s.results[..1]);
        assert_eq!(search(&h, &s), None);
    }
}
