//! Designed history with known ground truth, backfilled into a real Prometheus with
//! `promtool tsdb create-blocks-from openmetrics`. One sample a minute, so windows
//! of whole minutes give exact `increase()` at a fixed query time.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::harness::tool;

pub const MINUTE: i64 = 60;
pub const DAY: i64 = 86_400;

/// The end of history: the top of the hour before the test run started, so that
/// "now" stays within every SLO window (for `validate` against live data).
pub fn end() -> i64 {
    static END: OnceLock<i64> = OnceLock::new();
    *END.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64;
        now - now % 3600 - 3600
    })
}

/// `end()` in RFC 3339, as slogate prints it.
pub fn end_rfc3339() -> String {
    rfc3339(end())
}

/// Unix seconds in RFC 3339, as slogate prints them.
pub fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// History covers the 30-day window exactly: first sample at end - 30d.
pub fn start() -> i64 {
    end() - 30 * DAY
}
pub const SERVICES: [&str; 4] = ["catalog", "checkout", "inventory", "search"];
/// Requests per minute of an active service.
const RPM: u64 = 100;
/// Upper bounds of the backfilled histogram's buckets (besides +Inf).
pub const BUCKETS: [f64; 3] = [0.1, 0.2, 0.5];

/// How a service's client library writes the `le` label of each bucket bound:
/// Prometheus 2.x keeps the text as scraped.
pub fn le_text(service: &str, bucket: usize) -> String {
    match service {
        "search" => ["1e-01", "0.20", "5.0e-01"][bucket].to_string(),
        _ => BUCKETS[bucket].to_string(),
    }
}
/// Backups finish daily, 3 hours into each day of history (relative to its start, so
/// every answer is the same whatever hour the tests run).
const BACKUP_OFFSET: i64 = 3 * 3600;

/// What one service did in the minute ending at `t`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Minute {
    pub requests: u64,
    pub errors: u64,
    /// Requests per latency bucket: <=0.1, (0.1,0.2], (0.2,0.5], >0.5.
    pub latency: [u64; 4],
    pub hits: u64,
    pub misses: u64,
    pub up: u64,
}

/// The design:
/// - checkout burns budget now: 0.01 % errors, then 2 % for the last 2 hours (a 20x burn),
///   and has been slow for the last 30 minutes (25 % of requests over 200 ms), so its
///   5m and 1h p95 differ from the 30-day one;
/// - search had an old incident (80 % errors for 10 hours, 20 days ago) and a cold cache,
///   and its target was down for an hour 10 days ago; its client library spells bucket
///   bounds its own way (`1e-01`, `0.20`, `5.0e-01`);
/// - catalog is slow (10 % of requests over 200 ms) and its cache is at 92 % hits;
/// - inventory exists but served nothing (0/0).
pub fn minute(service: &str, t: i64) -> Minute {
    if service == "inventory" {
        return Minute {
            up: 1,
            ..Minute::default()
        };
    }
    let index = (t - start()) / MINUTE;
    let mut errors = u64::from(index % 100 == 0);
    let mut latency = [90, 8, 2, 0];
    let (mut hits, mut misses) = (95, 5);
    let mut up = 1;
    match service {
        "checkout" if t > end() - 2 * 3600 => {
            errors = 2;
            if t > end() - 30 * MINUTE {
                latency = [60, 15, 22, 3];
            }
        }
        "search" => {
            let incident = end() - 20 * DAY;
            if t > incident && t <= incident + 10 * 3600 {
                errors = 80;
            }
            (hits, misses) = (80, 20);
            let outage = end() - 10 * DAY;
            if t > outage && t <= outage + 3600 {
                up = 0;
            }
        }
        "catalog" => {
            latency = [85, 5, 10, 0];
            (hits, misses) = (92, 8);
        }
        _ => {}
    }
    Minute {
        requests: RPM,
        errors,
        latency,
        hits,
        misses,
        up,
    }
}

/// Sums of a service's minutes in the window `(end - window, end]`.
pub fn window_sum(service: &str, window: i64) -> Minute {
    let mut sum = Minute::default();
    let mut t = end() - window + MINUTE;
    while t <= end() {
        let m = minute(service, t);
        sum.requests += m.requests;
        sum.errors += m.errors;
        for i in 0..4 {
            sum.latency[i] += m.latency[i];
        }
        sum.hits += m.hits;
        sum.misses += m.misses;
        t += MINUTE;
    }
    sum
}

/// A query backend, for the few answers where their semantics differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Prometheus 2.x: range selectors include both ends, `[t - w, t]`.
    Prometheus,
    /// VictoriaMetrics: ranges are `(t - w, t]`, one sample fewer at a minute
    /// step (counters are unaffected: its `increase` starts from the sample
    /// before the window).
    VictoriaMetrics,
}

/// Samples of `up` in a window as `backend` selects it: (sum, count).
pub fn up_samples_on(backend: Backend, service: &str, window: i64) -> (u64, u64) {
    let first = match backend {
        Backend::Prometheus => end() - window,
        Backend::VictoriaMetrics => end() - window + MINUTE,
    };
    let mut t = first;
    let (mut sum, mut count) = (0, 0);
    while t <= end() {
        sum += minute(service, t).up;
        count += 1;
        t += MINUTE;
    }
    (sum, count)
}

/// The last backup time at or before `t`.
pub fn last_backup(t: i64) -> i64 {
    let since = t - start() - BACKUP_OFFSET;
    t - since.rem_euclid(DAY)
}

pub fn openmetrics() -> String {
    let times: Vec<i64> = (0..=(30 * DAY / MINUTE))
        .map(|i| start() + i * MINUTE)
        .collect();
    let mut out = String::with_capacity(160 << 20);
    // Cumulative counters per service, advanced minute by minute.
    let cumulate = |service: &str, f: &dyn Fn(&Minute) -> u64| -> Vec<u64> {
        let mut total = 0;
        times
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if i > 0 {
                    total += f(&minute(service, *t));
                }
                total
            })
            .collect()
    };
    let series = |out: &mut String, name: &str, labels: &str, values: &[u64]| {
        for (t, v) in times.iter().zip(values) {
            let _ = writeln!(out, "{name}{{{labels}}} {v} {t}");
        }
    };
    out.push_str("# TYPE http_requests counter\n");
    for s in SERVICES {
        let ok = cumulate(s, &|m| m.requests - m.errors);
        let err = cumulate(s, &|m| m.errors);
        series(
            &mut out,
            "http_requests_total",
            &format!("service=\"{s}\",code=\"200\""),
            &ok,
        );
        series(
            &mut out,
            "http_requests_total",
            &format!("service=\"{s}\",code=\"500\""),
            &err,
        );
    }
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    for s in SERVICES {
        for (b, le) in (0..BUCKETS.len())
            .map(|b| le_text(s, b))
            .chain(["+Inf".to_string()])
            .enumerate()
        {
            let values = cumulate(s, &|m| m.latency[..=b].iter().sum());
            series(
                &mut out,
                "http_request_duration_seconds_bucket",
                &format!("service=\"{s}\",le=\"{le}\""),
                &values,
            );
        }
        let count = cumulate(s, &|m| m.requests);
        series(
            &mut out,
            "http_request_duration_seconds_count",
            &format!("service=\"{s}\""),
            &count,
        );
        let zero = vec![0; times.len()];
        series(
            &mut out,
            "http_request_duration_seconds_sum",
            &format!("service=\"{s}\""),
            &zero,
        );
    }
    for (family, pick) in [("cache_hits", 0), ("cache_misses", 1)] {
        let _ = writeln!(out, "# TYPE {family} counter");
        for s in SERVICES {
            let values = cumulate(s, &|m| if pick == 0 { m.hits } else { m.misses });
            series(
                &mut out,
                &format!("{family}_total"),
                &format!("service=\"{s}\""),
                &values,
            );
        }
    }
    out.push_str("# TYPE up gauge\n");
    for s in SERVICES {
        let values: Vec<u64> = times.iter().map(|t| minute(s, *t).up).collect();
        series(
            &mut out,
            "up",
            &format!("job=\"{s}\",instance=\"{s}:8080\""),
            &values,
        );
    }
    out.push_str("# TYPE backup_last_success_timestamp_seconds gauge\n");
    let backups: Vec<u64> = times.iter().map(|t| last_backup(*t) as u64).collect();
    series(
        &mut out,
        "backup_last_success_timestamp_seconds",
        "service=\"platform\"",
        &backups,
    );
    out.push_str("# EOF\n");
    out
}

/// A TSDB directory holding the designed history, built once per test run.
pub fn tsdb() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // scripts/bench-check.sh keeps the blocks in a directory of its choosing.
        let root = std::env::var_os("SLOGATE_HISTORY_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::temp_dir().join(format!("slogate-history-{}", std::process::id()))
            });
        backfill(&root, &openmetrics())
    })
    .clone()
}

/// Writes `text` (OpenMetrics) as TSDB blocks under `root` (emptied first) with
/// `promtool tsdb create-blocks-from openmetrics`; returns the blocks' directory.
pub fn backfill(root: &std::path::Path, text: &str) -> PathBuf {
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root).expect("mkdir history");
    let input = root.join("history.om");
    std::fs::write(&input, text).expect("write history");
    let blocks = root.join("blocks");
    let out = Command::new(tool("promtool"))
        .args([
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=744h",
        ])
        .arg(&input)
        .arg(&blocks)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool create-blocks-from failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&input);
    blocks
}
