//! Exclusions against the designed history: search's incident (10 hours at 80 %
//! errors, 20 days before the end) excluded from availability turns search from
//! `fail` to `pass`, and what is left out is exactly the incident's events.

use serde_json::Value;

use crate::harness::{metric_value, run_slogate};
use crate::history::{end, end_rfc3339, minute, rfc3339, window_sum, DAY, MINUTE};
use crate::known_answer::{check_json, history_prometheus, result};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");
const WINDOW: i64 = 30 * DAY;

fn incident() -> (i64, i64) {
    let start = end() - 20 * DAY;
    (start, start + 10 * 3600)
}

/// (errors, requests) of search in `(from, to]`.
fn counted(from: i64, to: i64) -> (f64, f64) {
    counted_of("search", from, to)
}

/// (errors, requests) of `service` in `(from, to]`.
fn counted_of(service: &str, from: i64, to: i64) -> (f64, f64) {
    let (mut bad, mut total) = (0, 0);
    let mut t = from + MINUTE;
    while t <= to {
        let m = minute(service, t);
        bad += m.errors;
        total += m.requests;
        t += MINUTE;
    }
    (bad as f64, total as f64)
}

/// The example with `exclusions` added to its availability SLO.
fn config_with(exclusions: &str) -> (tempfile::TempDir, String) {
    let text = std::fs::read_to_string(EXAMPLE).expect("example");
    let marker = "  - name: availability\n";
    assert!(text.contains(marker));
    let text = text.replacen(marker, &format!("{marker}    exclusions:\n{exclusions}"), 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("slogate.yaml");
    std::fs::write(&path, text).expect("write");
    let path = path.display().to_string();
    (dir, path)
}

/// `check`'s table of `path` at the end of history.
fn table_at_end(prom: &crate::harness::Prometheus, path: &str) -> String {
    let out = run_slogate(&[
        "check",
        &format!("--config.file={path}"),
        &format!("--prometheus.url={}", prom.url()),
        &format!("--at={}", end_rfc3339()),
    ]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn close(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {got}"));
    assert!(
        (got - want).abs() < 1e-9 * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

#[test]
fn excluding_the_incident_turns_search_from_fail_to_pass_leaving_out_exactly_its_events() {
    let prom = history_prometheus();
    let (code, before) = check_json(&prom, EXAMPLE, end());
    assert_eq!(code, Some(1));
    assert_eq!(result(&before, "availability", "search")["state"], "fail");

    let (start, stop) = incident();
    let (_dir, path) = config_with(&format!(
        "      - {{start: {}, end: {}, reason: \"search incident INC-42, caused upstream\"}}\n",
        rfc3339(start),
        rfc3339(stop)
    ));
    let (_, doc) = check_json(&prom, &path, end());
    let r = result(&doc, "availability", "search");
    assert_eq!(r["state"], "pass", "{r}");
    let all = window_sum("search", WINDOW);
    let (inc_bad, inc_total) = counted(start, stop);
    // The incident is 600 minutes of 80 errors in 100 requests.
    assert_eq!((inc_bad, inc_total), (48_000.0, 60_000.0));
    close(&r["excluded_events"]["bad"], inc_bad, "excluded bad");
    close(&r["excluded_events"]["total"], inc_total, "excluded total");
    let total = all.requests as f64 - inc_total;
    let bad = all.errors as f64 - inc_bad;
    close(&r["events"], total, "events");
    close(&r["sli"], (total - bad) / total, "sli");
    close(
        &r["error_budget_remaining"],
        1.0 - (bad / total) / 0.001,
        "budget",
    );
    assert_eq!(
        r["exclusions"][0]["reason"],
        "search incident INC-42, caused upstream"
    );
    assert_eq!(r["exclusions"][0]["start"], rfc3339(start));
    // The 30d read leaves the cut out with `@`; burn windows do not touch it.
    let queries = r["queries"].to_string();
    assert!(queries.contains(&format!("[10h] @ {stop})")), "{queries}");
    close(
        &r["burn_rates"]["1h"],
        {
            let (b, t) = counted(end() - 3600, end());
            b / t / 0.001
        },
        "1h burn",
    );
    // The exclusion is the SLO's: checkout's events in it are left out too.
    let (cut_bad, cut_total) = counted_of("checkout", start, stop);
    let checkout = window_sum("checkout", WINDOW);
    close(
        &result(&doc, "availability", "checkout")["events"],
        checkout.requests as f64 - cut_total,
        "checkout events",
    );
    close(
        &result(&doc, "availability", "checkout")["excluded_events"]["bad"],
        cut_bad,
        "checkout excluded bad",
    );
    // Other SLOs are untouched.
    assert_eq!(
        result(&doc, "latency", "search")["sli"],
        result(&before, "latency", "search")["sli"]
    );
    assert!(result(&doc, "latency", "search")
        .get("exclusions")
        .is_none());
    // The table says what was left out, for a passing row too.
    let table = table_at_end(&prom, &path);
    assert!(
        table.contains("(search incident INC-42, caused upstream): 60000 events, 48000"),
        "{table}"
    );
    // So do the Markdown report, `/metrics` and the status page.
    let out = run_slogate(&[
        "check",
        &format!("--config.file={path}"),
        &format!("--prometheus.url={}", prom.url()),
        &format!("--at={}", end_rfc3339()),
        "--output=markdown",
    ]);
    let markdown = String::from_utf8_lossy(&out.stdout);
    assert!(
        markdown.contains("search incident INC-42, caused upstream"),
        "{markdown}"
    );
    let slogate = crate::harness::Slogate::serve(
        std::path::Path::new(&path),
        &[
            &format!("--prometheus.url={}", prom.url()),
            &format!("--at={}", end_rfc3339()),
        ],
    );
    let metrics = slogate.metrics();
    let search = [("slo", "availability"), ("service", "search")];
    assert_eq!(
        metric_value(&metrics, "slogate_slo_exclusions", &search),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        metric_value(&metrics, "slogate_slo_excluded_bad_events", &search),
        Some(inc_bad)
    );
    assert_eq!(
        metric_value(&metrics, "slogate_slo_excluded_events", &search),
        Some(inc_total)
    );
    assert_eq!(
        metric_value(
            &metrics,
            "slogate_slo_exclusions",
            &[("slo", "latency"), ("service", "search")]
        ),
        Some(0.0)
    );
    let (status, page) = crate::harness::get(&slogate.url("/"));
    assert_eq!(status, 200);
    assert!(
        page.contains("search incident INC-42, caused upstream"),
        "no reason on the page"
    );
}

/// An exclusion starting between two samples. The window is read as the spans
/// around it, each extrapolated by Prometheus at its own pace: the span before
/// ends 30 s after its last sample and is stretched by those 30 s at the
/// regular pace, and the excluded read (reported) by 30 s at the incident's.
/// Nothing of the incident's pace leaks into what is kept.
#[test]
fn an_exclusion_between_samples_extrapolates_each_span_at_its_own_pace() {
    let prom = history_prometheus();
    let (start, stop) = incident();
    let (_dir, path) = config_with(&format!(
        "      - {{start: {}, end: {}, reason: early}}\n",
        rfc3339(start - 30),
        rfc3339(stop)
    ));
    let (_, doc) = check_json(&prom, &path, end());
    let r = result(&doc, "availability", "search");
    let (inc_bad, inc_total) = counted(start, stop);
    let factor = 36_030.0 / 36_000.0;
    close(&r["excluded_events"]["bad"], inc_bad * factor, "bad");
    close(&r["excluded_events"]["total"], inc_total * factor, "total");
    // Before: samples from the window's start to a minute before the
    // incident, stretched to 30 s before it. After: exact.
    let first = end() - WINDOW;
    let sampled = (start - MINUTE - first) as f64;
    let stretch = (sampled + 30.0) / sampled;
    let (b1, t1) = counted(first, start - MINUTE);
    let (b2, t2) = counted(stop, end());
    let (bad, total) = (b1 * stretch + b2, t1 * stretch + t2);
    close(&r["events"], total, "events");
    close(&r["sli"], (total - bad) / total, "sli");
    assert_eq!(r["state"], "pass", "{r}");
}

/// A daily maintenance window (03:00 for an hour, UTC) leaves out exactly the
/// minutes inside each occurrence the window overlaps.
#[test]
fn a_recurring_exclusion_leaves_out_every_occurrence() {
    let prom = history_prometheus();
    let (_dir, path) =
        config_with("      - {every: day, at: \"03:00\", for: 1h, reason: nightly reindex}\n");
    let (_, doc) = check_json(&prom, &path, end());
    let r = result(&doc, "availability", "catalog");
    let excluded = |t: i64| {
        // The minute ending at t lies in (03:00, 04:00] of its day.
        let second_of_day = (t - MINUTE).rem_euclid(DAY);
        (3 * 3600..4 * 3600).contains(&second_of_day)
    };
    let (mut kept, mut left_out) = (0u64, 0u64);
    let mut t = end() - WINDOW + MINUTE;
    while t <= end() {
        let m = minute("catalog", t);
        if excluded(t) {
            left_out += m.requests;
        } else {
            kept += m.requests;
        }
        t += MINUTE;
    }
    assert!(left_out >= 29 * 6000, "{left_out}");
    close(&r["events"], kept as f64, "events");
    close(&r["excluded_events"]["total"], left_out as f64, "left out");
    assert_eq!(r["exclusions"][0]["reason"], "nightly reindex");
    // Every occurrence the window touches is listed, in order.
    let listed = r["exclusions"].as_array().expect("exclusions").len();
    assert!((30..=31).contains(&listed), "{listed}");
    // The table sums them up in one line.
    let table = table_at_end(&prom, &path);
    assert!(
        table.contains(&format!("↳ leaves out {listed} spans from ")),
        "{table}"
    );
}

/// A judged window wholly inside an exclusion has nothing left to judge, and
/// says so (not "matched nothing").
#[test]
fn a_window_wholly_excluded_says_so() {
    let prom = history_prometheus();
    let (_dir, path) = config_with(&format!(
        "      - {{start: {}, end: {}, reason: everything}}\n",
        rfc3339(end() - 31 * DAY),
        rfc3339(end() + DAY)
    ));
    let (_, doc) = check_json(&prom, &path, end());
    let all: Vec<&Value> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["slo"] == "availability")
        .collect();
    assert_eq!(all.len(), 1, "one result, no group: {all:?}");
    let r = all[0];
    assert_eq!(r["state"], "insufficient_data", "{r}");
    assert_eq!(
        r["reason"],
        "the whole 30d lies in exclusions: nothing is left to judge"
    );
}

#[test]
fn validate_rejects_inverted_overlapping_and_unexplained_exclusions() {
    let text = std::fs::read_to_string(EXAMPLE).expect("example");
    let text = format!(
        "{text}\nexclusions:\n  - {{start: 2026-11-01T10:00:00Z, end: 2026-11-01T12:00:00Z, reason: a}}\n  - {{start: 2026-11-02T10:00:00Z, end: 2026-11-02T09:00:00Z, reason: inverted}}\n"
    )
    .replacen(
        "  - name: availability\n",
        "  - name: availability\n    window: 1000d\n    exclusions:\n      - {start: 2026-11-01T11:00:00Z, end: 2026-11-01T13:00:00Z, reason: b}\n      - {start: 2026-11-03T00:00:00Z, end: 2026-11-03T01:00:00Z}\n      - {every: week, day: someday, at: \"25:00\", for: 8d, reason: r}\n      - {every: day, day: monday, start: 2026-11-03T00:00:00Z, at: \"02:00\", for: 1h, reason: r}\n      - {every: Day, at: \"02:00\", for: 1m, reason: r}\n",
        1,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, text).expect("write");
    let stderr = crate::harness::validate_offline_problems(&path);
    for want in [
        "exclusions[1]: end 2026-11-02T09:00:00+00:00 is not after start 2026-11-02T10:00:00+00:00",
        "slos[0].exclusions: slos[0].exclusions[0] (2026-11-01T11:00:00+00:00 to 2026-11-01T13:00:00+00:00) overlaps exclusions[0] (2026-11-01T10:00:00+00:00 to 2026-11-01T12:00:00+00:00)",
        "slos[0].exclusions[1].reason: is required: every output that leaves these events out says why",
        "slos[0].exclusions[2].day: \"someday\" is not a day of the week (monday ... sunday, or mon ... sun)",
        "slos[0].exclusions[2].at: \"25:00\" is not a local time HH:MM (e.g. 02:30)",
        "slos[0].exclusions[3].start: a recurring exclusion has `at` and `for`, not start and end",
        "slos[0].exclusions[3].day: only weekly exclusions have a day",
        "slos[0].exclusions: recurring exclusions come back about 1001 times in the 1000d window (at most 400)",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in {stderr}");
    }
}
