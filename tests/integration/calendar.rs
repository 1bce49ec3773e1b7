//! Calendar windows against a history at fixed dates (27 February to 2 April
//! 2026, one sample a minute), so month boundaries and Europe/Berlin's change to
//! summer time (29 March, 01:00 UTC) fall where the test says whatever day it
//! runs. The hour from 23:00 UTC on 28 February is March in Berlin and February
//! in UTC, and has its own error rate: a start off by an hour shows.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::harness::{metric_value, validate_offline_problems, Prometheus, Slogate};
use crate::known_answer::check_json;

const MINUTE: i64 = 60;

fn unix(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .expect("RFC 3339")
        .timestamp()
}

fn first() -> i64 {
    unix("2026-02-27T00:00:00Z")
}

fn last() -> i64 {
    unix("2026-04-02T00:00:00Z")
}

/// Requests and errors of `api` in the minute ending at `t`.
fn minute(t: i64) -> (u64, u64) {
    let index = (t - first()) / MINUTE;
    let requests = 100 + (index % 13) as u64;
    let mut errors = u64::from(index % 7 == 0);
    if t > unix("2026-02-28T23:00:00Z") && t <= unix("2026-03-01T00:00:00Z") {
        errors = 40;
    }
    if t == unix("2026-04-01T00:01:00Z") {
        errors = 3;
    }
    (requests, errors)
}

/// (errors, requests) in `(from, to]`.
fn counted(from: i64, to: i64) -> (f64, f64) {
    let (mut bad, mut total) = (0, 0);
    let mut t = from + MINUTE;
    while t <= to {
        let (r, e) = minute(t);
        total += r;
        bad += e;
        t += MINUTE;
    }
    (bad as f64, total as f64)
}

fn openmetrics() -> String {
    let mut out = String::from("# TYPE http_requests counter\n");
    let (mut ok, mut err) = (0, 0);
    let mut ok_lines = String::new();
    let mut err_lines = String::new();
    let mut t = first();
    while t <= last() {
        if t > first() {
            let (r, e) = minute(t);
            ok += r - e;
            err += e;
        }
        let _ = writeln!(
            ok_lines,
            "http_requests_total{{service=\"api\",code=\"200\"}} {ok} {t}"
        );
        let _ = writeln!(
            err_lines,
            "http_requests_total{{service=\"api\",code=\"500\"}} {err} {t}"
        );
        t += MINUTE;
    }
    out.push_str(&ok_lines);
    out.push_str(&err_lines);
    out.push_str("# EOF\n");
    out
}

fn tsdb() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("slogate-calendar-{}", std::process::id()));
        crate::history::backfill(&root, &openmetrics())
    })
    .clone()
}

fn prometheus() -> Prometheus {
    Prometheus::start(
        "global: {scrape_interval: 1m}\nscrape_configs: []\n",
        Some(&tsdb()),
    )
}

const CONFIG: &str = r#"apiVersion: slogate/v1
defaults:
  min_events: 1
slos:
  - name: month-utc
    objective: 99
    window: calendar-month
    service: api
    sli:
      ratio:
        errors: http_requests_total{service="api",code="500"}
        total: http_requests_total{service="api"}
  - name: month-berlin
    objective: 99
    window: {calendar: month, timezone: Europe/Berlin}
    service: api
    sli:
      ratio:
        errors: http_requests_total{service="api",code="500"}
        total: http_requests_total{service="api"}
  - name: rolling
    objective: 99
    window: 30d
    service: api
    sli:
      ratio:
        errors: http_requests_total{service="api",code="500"}
        total: http_requests_total{service="api"}
"#;

fn config() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("slogate.yaml");
    std::fs::write(&path, CONFIG).expect("write config");
    (dir, path)
}

fn result<'a>(doc: &'a Value, slo: &str) -> &'a Value {
    doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["slo"] == slo)
        .unwrap_or_else(|| panic!("no {slo} in {doc}"))
}

fn close(got: &Value, want: f64, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number: {got}"));
    assert!((got - want).abs() < 1e-9, "{what}: got {got}, want {want}");
}

/// The SLI and events of a calendar SLO equal the design's since the period's
/// start, and the period block says where the instant is.
fn assert_period(doc: &Value, slo: &str, start: &str, end: &str, at: i64) {
    let r = result(doc, slo);
    let (bad, total) = counted(unix(start), at);
    close(&r["events"], total, &format!("{slo} events"));
    close(&r["sli"], (total - bad) / total, &format!("{slo} sli"));
    close(
        &r["error_budget_remaining"],
        1.0 - (bad / total) / 0.01,
        &format!("{slo} budget"),
    );
    let p = &r["period"];
    assert_eq!(
        p["start"],
        crate::history::rfc3339(unix(start)),
        "{slo}: {p}"
    );
    assert_eq!(p["end"], crate::history::rfc3339(unix(end)), "{slo}: {p}");
    let length = (unix(end) - unix(start)) as f64;
    close(
        &p["elapsed_ratio"],
        (at - unix(start)) as f64 / length,
        &format!("{slo} elapsed"),
    );
    // At the last day's pace: its error ratio and traffic for the rest.
    let (day_bad, day_total) = counted(at - 86400, at);
    let left = (unix(end) - at) as f64;
    let end_bad = bad + day_bad / 86400.0 * left;
    let end_total = total + day_total / 86400.0 * left;
    close(
        &p["projected_sli"],
        1.0 - end_bad / end_total,
        &format!("{slo} projected"),
    );
}

#[test]
fn a_calendar_month_counts_events_since_its_start_in_utc_and_across_a_dst_change() {
    let prom = prometheus();
    let (_dir, path) = config();
    let at = unix("2026-03-31T12:00:00Z");
    let (_, doc) = check_json(&prom, path.to_str().expect("utf-8"), at);
    assert_period(
        &doc,
        "month-utc",
        "2026-03-01T00:00:00Z",
        "2026-04-01T00:00:00Z",
        at,
    );
    // Berlin's March began at 23:00 UTC on 28 February and lasts 743 hours.
    assert_period(
        &doc,
        "month-berlin",
        "2026-02-28T23:00:00Z",
        "2026-03-31T22:00:00Z",
        at,
    );
    let berlin = result(&doc, "month-berlin");
    assert_eq!(berlin["window"], "month (Europe/Berlin)");
    assert_eq!(berlin["period"]["timezone"], "Europe/Berlin");
    assert_eq!(berlin["period"]["day"], 31);
    assert_eq!(berlin["period"]["days"], 31);
    // The hour only Berlin counts holds 40 errors a minute: the SLIs differ.
    assert_ne!(berlin["sli"], result(&doc, "month-utc")["sli"]);
    // Burn rates stay rolling.
    let (bad, total) = counted(at - 3600, at);
    close(
        &berlin["burn_rates"]["1h"],
        bad / total / 0.01,
        "berlin 1h burn",
    );
    // A rolling SLO has no period.
    assert!(result(&doc, "rolling").get("period").is_none());
    close(
        &result(&doc, "rolling")["events"],
        counted(at - 30 * 86400, at).1,
        "rolling events",
    );
}

/// A calendar window in `defaults` applies to every SLO that sets none (a probe
/// keeps its instant query), and the table and the Markdown report say where
/// in the period the instant is.
#[test]
fn a_calendar_default_applies_to_every_slo_and_every_output_names_the_period() {
    let prom = prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("slogate.yaml");
    std::fs::write(
        &path,
        r#"apiVersion: slogate/v1
defaults:
  min_events: 1
  window: {calendar: month, timezone: Europe/Berlin}
slos:
  - name: availability
    objective: 99
    service: api
    sli:
      ratio:
        errors: http_requests_total{service="api",code="500"}
        total: http_requests_total{service="api"}
  - name: probe
    service: api
    sli:
      threshold: {query: vector(1), op: "<", value: 2}
"#,
    )
    .expect("write config");
    let path = path.to_str().expect("utf-8");
    let at = unix("2026-03-31T12:00:00Z");
    let (code, doc) = check_json(&prom, path, at);
    assert_period(
        &doc,
        "availability",
        "2026-02-28T23:00:00Z",
        "2026-03-31T22:00:00Z",
        at,
    );
    assert_eq!(
        result(&doc, "availability")["window"],
        "month (Europe/Berlin)"
    );
    let probe = result(&doc, "probe");
    assert_eq!(probe["state"], "pass", "{probe}");
    assert!(probe.get("period").is_none(), "{probe}");
    let (bad, total) = counted(unix("2026-02-28T23:00:00Z"), at);
    let sli = (total - bad) / total;
    let code = code.expect("exit code");
    for output in ["table", "markdown"] {
        let out = crate::harness::run_slogate(&[
            "check",
            &format!("--config.file={path}"),
            &format!("--prometheus.url={}", prom.url()),
            &format!("--at={at}"),
            &format!("--output={output}"),
        ]);
        assert_eq!(out.status.code(), Some(code));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(" month-to-date ") && text.contains("(day 31 of 31, Europe/Berlin)"),
            "{output}: {text}"
        );
        // The shown SLI is the design's, rounded down to 3 decimals.
        let shown = format!("{:.3}%", (sli * 100_000.0).floor() / 1000.0);
        assert!(text.contains(&shown), "{output}: {shown} not in {text}");
    }
}

#[test]
fn the_first_minute_of_a_month_counts_only_that_minute() {
    let prom = prometheus();
    let (_dir, path) = config();
    let at = unix("2026-04-01T00:01:00Z");
    let (_, doc) = check_json(&prom, path.to_str().expect("utf-8"), at);
    let r = result(&doc, "month-utc");
    let (requests, errors) = minute(at);
    assert_eq!(errors, 3);
    close(&r["events"], requests as f64, "first minute events");
    close(
        &r["sli"],
        (requests - errors) as f64 / requests as f64,
        "first minute sli",
    );
    assert_eq!(r["period"]["start"], "2026-04-01T00:00:00Z");
    assert_eq!(r["period"]["day"], 1);
    assert_eq!(r["period"]["days"], 30);
    // 3 errors in 104 requests spend the 1 % budget of the month so far.
    assert_eq!(r["state"], "fail", "{r}");
    // The 3d burn rate still reads the end of March.
    let (bad, total) = counted(at - 3 * 86400, at);
    close(&r["burn_rates"]["3d"], bad / total / 0.01, "3d burn");
    // At the boundary itself nothing is counted yet, and the reason says so.
    let (_, start) = check_json(
        &prom,
        path.to_str().expect("utf-8"),
        unix("2026-04-01T00:00:00Z"),
    );
    let r0 = result(&start, "month-utc");
    assert_eq!(r0["state"], "insufficient_data", "{r0}");
    assert_eq!(
        r0["reason"],
        "the month began 1ms ago: no events counted yet"
    );
    // In Berlin it is 02:01 on 1 April: two hours and a minute of April.
    let b = result(&doc, "month-berlin");
    assert_eq!(b["period"]["start"], "2026-03-31T22:00:00Z");
    close(
        &b["events"],
        counted(unix("2026-03-31T22:00:00Z"), at).1,
        "berlin april events",
    );
}

#[test]
fn serve_exports_the_period_gauges_and_the_page_shows_month_to_date() {
    let prom = prometheus();
    let (_dir, path) = config();
    let at = "2026-03-31T12:00:00Z";
    let slogate = Slogate::serve(
        &path,
        &[
            &format!("--prometheus.url={}", prom.url()),
            &format!("--at={at}"),
        ],
    );
    let metrics = slogate.metrics();
    let labels = [("slo", "month-berlin"), ("service", "api")];
    let elapsed =
        metric_value(&metrics, "slogate_slo_period_elapsed_ratio", &labels).expect("elapsed gauge");
    assert!(
        (elapsed - (30.0 * 24.0 + 13.0) / 743.0).abs() < 1e-9,
        "{elapsed}"
    );
    let (bad, total) = counted(unix("2026-02-28T23:00:00Z"), unix(at));
    let sli = metric_value(&metrics, "slogate_slo_sli_ratio", &labels).expect("sli");
    assert!((sli - (total - bad) / total).abs() < 1e-9, "{sli}");
    assert!(
        metric_value(&metrics, "slogate_slo_projected_sli_ratio", &labels).is_some(),
        "{metrics}"
    );
    // The month's events carry a stable window label, not the elapsed duration.
    let events = metric_value(
        &metrics,
        "slogate_slo_events",
        &[
            ("slo", "month-berlin"),
            ("service", "api"),
            ("window", "month (Europe/Berlin)"),
        ],
    )
    .expect("events of the month");
    assert_eq!(events, total);
    assert!(
        metric_value(
            &metrics,
            "slogate_slo_period_elapsed_ratio",
            &[("slo", "rolling"), ("service", "api")]
        )
        .is_none(),
        "a rolling SLO has no period"
    );
    let (code, page) = crate::harness::get(&slogate.url("/"));
    assert_eq!(code, 200);
    assert!(
        page.contains("SLI month-to-date") && page.contains("(day 31 of 31, Europe/Berlin)"),
        "{page}"
    );
}

#[test]
fn validate_names_a_bad_calendar_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        CONFIG
            .replace("calendar-month", "calendar-fortnight")
            .replace(
                "timezone: Europe/Berlin",
                "timezone: Europe/Atlantis, start: monday",
            )
            .replace("window: 30d", "window: month"),
    )
    .expect("write");
    let stderr = validate_offline_problems(&path);
    for want in [
        "slos[0].window: \"fortnight\" is not a calendar period (week, month or quarter)",
        "slos[1].window.timezone: \"Europe/Atlantis\" is not an IANA time zone (e.g. UTC, Europe/Berlin)",
        "slos[1].window.start: unknown field (a calendar window has `calendar` and `timezone`)",
        "slos[2].window: \"month\" is not a duration; a calendar window is written calendar-month",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in {stderr}");
    }
}
