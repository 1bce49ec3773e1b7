//! Anchored regexes, compiled once per pattern. Compiling one (a DFA for `.` over
//! UTF-8) costs a thousand times more than matching with it, and the planner and
//! the bucket check ask for the same few patterns on every evaluation: compiled
//! each time, they were half of a `check`'s CPU.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;

/// Patterns kept before the cache starts over: configs hold a few dozen, so this
/// only bounds memory against a config that generates patterns without end.
const KEPT: usize = 1024;

/// `^(?:pattern)$` compiled, as Prometheus anchors a matcher's regex; `None` when
/// the `regex` crate rejects it. Shared rather than cloned: a cloned `Regex`
/// starts with empty search caches.
pub fn anchored(pattern: &str) -> Option<Arc<Regex>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Regex>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    // A panic while holding the lock cannot leave the map inconsistent (inserts
    // are whole), so a poisoned lock is still good.
    let lock = || {
        cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some(hit) = lock().get(pattern) {
        return hit.clone();
    }
    let compiled = Regex::new(&format!("^(?:{pattern})$")).ok().map(Arc::new);
    let mut kept = lock();
    if kept.len() >= KEPT {
        kept.clear();
    }
    kept.insert(pattern.to_string(), compiled.clone());
    compiled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_regex_matches_whole_values_only() {
        let r = anchored("5..").expect("valid");
        assert!(r.is_match("503"));
        assert!(!r.is_match("5030"));
        assert!(!r.is_match("x503"));
        assert!(anchored("a|b").expect("valid").is_match("b"));
        assert!(!anchored("a|b").expect("valid").is_match("ab"));
    }

    #[test]
    fn rejected_pattern_is_none_every_time() {
        assert!(anchored("(").is_none());
        assert!(anchored("(").is_none());
    }
}
