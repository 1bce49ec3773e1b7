//! The one metrics registry: self-monitoring instruments plus a collector that
//! encodes the latest snapshot on each scrape (a scrape never queries Prometheus).

use crate::config::DEFAULT_DATASOURCE;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::escape::label_value as escape;
use crate::eval::snapshot::{Published, Snapshot};
use crate::eval::{SloResult, State};
use crate::prom::QueryMetrics;
use crate::slo::conventions::{label, metric};

/// The content type of `/metrics`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The `checkpoint` label value of the score of the current evaluation.
const CURRENT: &str = "now";

/// Flags the daemon sets outside evaluation.
#[derive(Debug)]
pub struct Flags {
    pub config_reload_ok: AtomicBool,
    /// This replica's shard, when `serve` is sharded: the roll-ups
    /// (`slogate_ready`, `slogate_service_ready`, the launch score) cover its
    /// own SLOs only and carry a `shard` label, so dashboards take the `min`
    /// across shards and the `max` across replicas of one shard.
    pub shard: Option<String>,
}

impl Default for Flags {
    fn default() -> Self {
        Self {
            config_reload_ok: AtomicBool::new(true),
            shard: None,
        }
    }
}

/// Owns the registry and encodes it.
#[derive(Debug)]
pub struct Exporter {
    registry: Registry,
    published: Arc<Published>,
    flags: Arc<Flags>,
    /// The last scrape's body, gzipped: a snapshot is encoded and compressed once
    /// however often it is scraped. Only the gzip is kept (Prometheus asks for
    /// it; the text of 10,000 SLO groups is 19 MB, its gzip 1 MB): a scraper
    /// that does not accept gzip gets it decompressed.
    cached: RwLock<Option<Arc<Cached>>>,
    /// Held by the one scrape that encodes a new body.
    encoding: Mutex<()>,
}

/// A body for one snapshot and reload flag.
#[derive(Debug)]
struct Cached {
    /// The generation of the snapshot encoded ([`Published::generation`]).
    generation: u64,
    reload_ok: bool,
    gzip: Bytes,
}

/// One `/metrics` body, compressed when the scraper accepts gzip.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub body: Bytes,
    pub gzip: bool,
}

impl Exporter {
    pub fn new(published: Arc<Published>, queries: &QueryMetrics, flags: Arc<Flags>) -> Self {
        let mut registry = Registry::default();
        registry.register(
            metric::QUERIES,
            "Queries sent to Prometheus, by outcome",
            queries.outcomes.clone(),
        );
        registry.register(
            metric::QUERY_DURATION,
            "Duration of queries to Prometheus, retries included",
            queries.duration.clone(),
        );
        registry.register(
            metric::QUERY_SAMPLES,
            "Samples Prometheus reported reading for slogate's queries (stats=all)",
            queries.samples.clone(),
        );
        registry.register(
            metric::BUILD,
            "slogate build information",
            Info::new(vec![
                (label::VERSION, env!("CARGO_PKG_VERSION")),
                (
                    label::REVISION,
                    option_env!("SLOGATE_REVISION").unwrap_or("unknown"),
                ),
            ]),
        );
        registry.register_collector(Box::new(SnapshotCollector {
            published: published.clone(),
            flags: flags.clone(),
        }));
        Self {
            registry,
            published,
            flags,
            cached: RwLock::new(None),
            encoding: Mutex::new(()),
        }
    }

    /// The body of a scrape. Encoded once per snapshot and reload outcome, so
    /// self-monitoring counters read as of the last evaluation's end (they only
    /// move while slogate evaluates) and a scrape costs a copy, not an encoding
    /// of every SLO series. While one scrape encodes a new snapshot, the others
    /// get the previous body rather than wait.
    pub fn scrape(&self, gzip: bool) -> Scrape {
        let pick = |c: &Cached| Scrape {
            body: if gzip {
                c.gzip.clone()
            } else {
                Bytes::from(decompress(&c.gzip))
            },
            gzip,
        };
        let current = self.current();
        if let Some(c) = current.as_ref().filter(|c| self.is_fresh(c)) {
            return pick(c);
        }
        let guard = match (self.encoding.try_lock(), &current) {
            (Ok(guard), _) => guard,
            (Err(_), Some(previous)) => return pick(previous),
            // Nothing encoded yet: wait for the one encoding.
            (Err(_), None) => self.encoding.lock().unwrap_or_else(|e| e.into_inner()),
        };
        if let Some(c) = self.current().filter(|c| self.is_fresh(c)) {
            return pick(&c);
        }
        // Read before encoding: a snapshot published meanwhile makes this body
        // stale at once rather than mislabelled.
        let generation = self.published.generation();
        let reload_ok = self.flags.config_reload_ok.load(Ordering::Relaxed);
        let plain = self.encode();
        let fresh = Arc::new(Cached {
            gzip: Bytes::from(compress(plain.as_bytes())),
            generation,
            reload_ok,
        });
        *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
        drop(guard);
        pick(&fresh)
    }

    fn current(&self) -> Option<Arc<Cached>> {
        self.cached
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether `c` was encoded from the latest snapshot and reload outcome.
    fn is_fresh(&self, c: &Cached) -> bool {
        c.reload_ok == self.flags.config_reload_ok.load(Ordering::Relaxed)
            && c.generation == self.published.generation()
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        prometheus_client::encoding::text::encode_registry(&mut out, &self.registry)
            .expect("encoding into a String");
        if let Some(s) = self.published.latest() {
            latency_summary(&mut out, &s);
        }
        prometheus_client::encoding::text::encode_eof(&mut out).expect("encoding into a String");
        out
    }
}

/// Gzip at the fastest level: a scrape body is text that compresses well anyway.
fn compress(text: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(text.len() / 8),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    encoder.write_all(text).expect("compressing into a Vec");
    encoder.finish().expect("compressing into a Vec")
}

/// The text of a body [`compress`] wrote.
fn decompress(gzip: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut text = Vec::with_capacity(gzip.len() * 8);
    // Our own gzip of a Vec, in memory: reading it cannot fail.
    flate2::read::GzDecoder::new(gzip)
        .read_to_end(&mut text)
        .expect("decompressing our own gzip");
    text
}

#[derive(Debug)]
struct SnapshotCollector {
    published: Arc<Published>,
    flags: Arc<Flags>,
}

type Labels = Vec<(String, String)>;

/// Collects the series of one gauge family before it is encoded.
struct Family {
    name: &'static str,
    help: &'static str,
    series: Vec<(Labels, f64)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            series: Vec::new(),
        }
    }

    fn push(&mut self, labels: Labels, value: Option<f64>) {
        if let Some(v) = value.filter(|v| v.is_finite()) {
            self.series.push((labels, v));
        }
    }

    fn encode(&self, encoder: &mut DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if self.series.is_empty() {
            return Ok(());
        }
        let mut family =
            encoder.encode_descriptor(self.name, self.help, None, MetricType::Gauge)?;
        if let [(labels, value)] = self.series.as_slice() {
            if labels.is_empty() {
                // An empty label set would be written as `name{}`.
                return ConstGauge::new(*value).encode(family);
            }
        }
        for (labels, value) in &self.series {
            ConstGauge::new(*value).encode(family.encode_family(labels)?)?;
        }
        Ok(())
    }
}

fn slo_labels(r: &SloResult) -> Labels {
    let mut map: BTreeMap<String, String> = r.labels();
    map.insert(label::SLO.into(), r.slo.clone());
    if let Some(d) = &r.datasource {
        map.insert(label::DATASOURCE.into(), d.clone());
    }
    map.entry(label::SERVICE.into())
        .or_insert_with(|| r.service.clone().unwrap_or_default());
    map.into_iter().collect()
}

/// Latency quantiles as an OpenMetrics summary (quantiles only): a `quantile` label
/// belongs on a summary, and the client library does not encode summaries.
fn latency_summary(out: &mut String, snapshot: &Snapshot) {
    use std::fmt::Write;
    let mut lines = String::new();
    for r in &snapshot.results {
        let labels = slo_labels(r);
        let windows = r.latency_seconds.as_deref().unwrap_or_default();
        for (i, (window, quantiles)) in windows.iter().enumerate() {
            for (q, v) in quantiles {
                let Some(v) = v.filter(|v| v.is_finite()) else {
                    continue;
                };
                let mut text: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                    .collect();
                text.push(format!("{}=\"{q}\"", label::QUANTILE));
                // The judged window comes last (see `quantile_windows`).
                let window = if i + 1 == windows.len() {
                    r.window_name.clone()
                } else {
                    window.to_string()
                };
                text.push(format!("{}=\"{}\"", label::WINDOW, escape(&window)));
                let _ = writeln!(lines, "{}{{{}}} {v}", metric::SLO_LATENCY, text.join(","));
            }
        }
    }
    if !lines.is_empty() {
        let _ = writeln!(
            out,
            "# HELP {} Latency quantile estimates over 5m, 1h and the SLO window.",
            metric::SLO_LATENCY
        );
        let _ = writeln!(out, "# TYPE {} summary", metric::SLO_LATENCY);
        let _ = writeln!(out, "# UNIT {} seconds", metric::SLO_LATENCY);
        out.push_str(&lines);
    }
}

fn with(labels: &Labels, name: &str, value: impl Into<String>) -> Labels {
    let mut l = labels.clone();
    l.push((name.to_string(), value.into()));
    l
}

fn bool_value(b: bool) -> Option<f64> {
    Some(if b { 1.0 } else { 0.0 })
}

fn slo_families(snapshot: &Snapshot) -> Vec<Family> {
    let mut objective = Family::new(metric::SLO_OBJECTIVE, "The SLO's objective, 0-1");
    let mut sli = Family::new(
        metric::SLO_SLI,
        "SLI over the SLO window, from event counts",
    );
    let mut budget = Family::new(
        metric::SLO_BUDGET_REMAINING,
        "Share of the error budget left; negative when overspent",
    );
    let mut burn = Family::new(
        metric::SLO_BURN_RATE,
        "Error-budget burn rate over a window (1 spends the budget in exactly one SLO window)",
    );
    let mut events = Family::new(metric::SLO_EVENTS, "Events counted over a window");
    let mut state = Family::new(
        metric::SLO_STATE,
        "1 for the SLO's current state, 0 for the others",
    );
    let mut ready = Family::new(metric::SLO_READY, "1 when the SLO is pass or warn");
    let mut value = Family::new(metric::SLO_VALUE, "Measured value of a threshold probe");
    let mut latency_threshold =
        Family::new(metric::SLO_LATENCY_THRESHOLD, "A latency SLO's threshold");
    let mut burn_threshold = Family::new(
        metric::SLO_BURN_RATE_THRESHOLD,
        "Burn rate over the window at which an enabled alert tier fires",
    );
    let mut baseline = Family::new(
        metric::SLO_BASELINE_RATIO,
        "A figure now over the same figure in the baseline (1: unchanged)",
    );
    let mut regression = Family::new(
        metric::SLO_BASELINE_REGRESSION,
        "1 when the SLO regressed against its baseline",
    );
    let mut elapsed = Family::new(
        metric::SLO_PERIOD_ELAPSED,
        "Share of a calendar SLO's period gone by, 0-1",
    );
    let mut projected = Family::new(
        metric::SLO_PROJECTED_SLI,
        "A calendar SLO's SLI at the end of its period if the rest goes like the last day",
    );
    let mut exclusions = Family::new(
        metric::SLO_EXCLUSIONS,
        "Exclusions the SLO's windows overlap (reasons in /api/v1/status)",
    );
    let mut excluded = Family::new(
        metric::SLO_EXCLUDED_EVENTS,
        "Events the exclusions left out of the SLO window",
    );
    let mut excluded_bad = Family::new(
        metric::SLO_EXCLUDED_BAD_EVENTS,
        "Bad events the exclusions left out of the SLO window",
    );
    for r in &snapshot.results {
        if !r.kind.is_probe() {
            exclusions.push(slo_labels(r), Some(r.exclusions.len() as f64));
        }
        if let Some((bad, total)) = r.excluded {
            excluded.push(slo_labels(r), Some(total));
            excluded_bad.push(slo_labels(r), Some(bad));
        }
        if let Some(p) = &r.period {
            elapsed.push(slo_labels(r), Some(p.bounds.elapsed_ratio()));
            projected.push(slo_labels(r), p.projected_sli);
        }
        if let Some(c) = &r.baseline {
            regression.push(slo_labels(r), bool_value(!c.regressions.is_empty()));
            for (figure, change) in &c.change {
                baseline.push(
                    with(&slo_labels(r), label::FIGURE, figure.clone()),
                    Some(change + 1.0),
                );
            }
        }
        let l = slo_labels(r);
        objective.push(l.clone(), r.objective);
        sli.push(l.clone(), r.sli);
        budget.push(l.clone(), r.error_budget_remaining);
        for (w, b) in &r.burn_rates {
            burn.push(with(&l, label::WINDOW, w.to_string()), *b);
        }
        events.push(with(&l, label::WINDOW, r.window_name.clone()), r.events);
        // A calendar result's period is named apart, even when its elapsed
        // time equals a burn window.
        let named_apart = r.period.is_some();
        for (w, e) in r
            .window_events
            .iter()
            .filter(|(w, _)| named_apart || *w != r.window)
        {
            events.push(with(&l, label::WINDOW, w.to_string()), *e);
        }
        for s in State::SLO_STATES {
            state.push(with(&l, label::STATE, s.as_str()), bool_value(s == r.state));
        }
        ready.push(l.clone(), bool_value(r.ready));
        latency_threshold.push(l.clone(), r.latency_threshold.map(|t| t.as_secs_f64()));
        for (w, factor) in &r.burn_thresholds {
            burn_threshold.push(with(&l, label::WINDOW, w.to_string()), Some(*factor));
        }
        value.push(l, r.value);
    }
    vec![
        objective,
        sli,
        budget,
        burn,
        events,
        state,
        ready,
        value,
        latency_threshold,
        burn_threshold,
        baseline,
        regression,
        elapsed,
        projected,
        exclusions,
        excluded,
        excluded_bad,
    ]
}

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snapshot = self.published.latest();
        let mut families = snapshot.as_deref().map(slo_families).unwrap_or_default();
        let mut service_ready = Family::new(
            metric::SERVICE_READY,
            "1 when every key SLO of the service is ready",
        );
        let mut ready = Family::new(metric::READY, "1 when every service is ready");
        let mut up = Family::new(
            metric::PROMETHEUS_UP,
            "1 when the last evaluation reached the datasource's Prometheus",
        );
        let mut took = Family::new(
            metric::EVALUATION_DURATION,
            "Duration of the last evaluation",
        );
        let mut last = Family::new(metric::LAST_EVALUATION, "Unix time of the last evaluation");
        let mut reload = Family::new(
            metric::CONFIG_RELOAD_OK,
            "1 when the last config (re)load succeeded",
        );
        let mut checkpoint_state = Family::new(
            metric::LAUNCH_CHECKPOINT_STATE,
            "1 for the launch checkpoint's current state, 0 for the others",
        );
        let mut score = Family::new(
            metric::LAUNCH_SCORE,
            "Weighted launch score, 0-1: checkpoint=\"now\" for the current evaluation",
        );
        let shard: Labels = self
            .flags
            .shard
            .iter()
            .map(|i| (label::SHARD.to_string(), i.clone()))
            .collect();
        let sharded = |l: Labels| -> Labels { shard.iter().cloned().chain(l).collect() };
        // A shard that owns no SLO has no verdict: it exports no roll-up, so
        // the dashboards' `min without (shard)` reads the other shards' alone
        // (a 0 there would hold the whole fleet not ready).
        let idle_shard =
            !shard.is_empty() && snapshot.as_ref().is_some_and(|s| s.results.is_empty());
        if let Some(s) = snapshot.as_ref().filter(|_| !idle_shard) {
            score.push(
                sharded(vec![(label::CHECKPOINT.into(), CURRENT.into())]),
                s.score,
            );
            for c in s.launch.iter().flat_map(|l| &l.checkpoints) {
                let name = sharded(vec![(label::CHECKPOINT.to_string(), c.name.clone())]);
                for state in State::CHECKPOINT_STATES {
                    checkpoint_state.push(
                        with(&name, label::STATE, state.as_str()),
                        bool_value(state == c.state),
                    );
                }
                score.push(name, c.score);
            }
        }
        if let Some(s) = &snapshot {
            for (service, ok) in &s.readiness.services {
                service_ready.push(
                    sharded(vec![(label::SERVICE.into(), service.clone())]),
                    bool_value(*ok),
                );
            }
            // One series per datasource evaluated (`default` is `prometheus:`);
            // none from a shard that evaluated nothing.
            if s.run.datasources.is_empty() && !idle_shard {
                up.push(
                    vec![(label::DATASOURCE.into(), DEFAULT_DATASOURCE.into())],
                    bool_value(s.run.prometheus_up),
                );
            }
            for (name, ok) in s.run.datasources.iter().filter(|_| !idle_shard) {
                up.push(
                    vec![(label::DATASOURCE.into(), name.clone())],
                    bool_value(*ok),
                );
            }
            took.push(Vec::new(), Some(s.run.duration.as_secs_f64()));
            last.push(
                Vec::new(),
                Some(s.run.at.timestamp_millis() as f64 / 1000.0),
            );
        }
        // Before the first evaluation nothing is ready.
        if !idle_shard {
            ready.push(
                shard.clone(),
                bool_value(snapshot.as_ref().is_some_and(|s| s.readiness.ready)),
            );
        }
        reload.push(
            Vec::new(),
            bool_value(self.flags.config_reload_ok.load(Ordering::Relaxed)),
        );
        families.extend([
            service_ready,
            ready,
            checkpoint_state,
            score,
            up,
            took,
            last,
            reload,
        ]);
        for f in &families {
            f.encode(&mut encoder)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::snapshot;

    fn encoded(snapshot: Option<Snapshot>) -> String {
        let published = Arc::new(Published::default());
        if let Some(s) = snapshot {
            published.publish(s);
        }
        let flags = Arc::new(Flags::default());
        Exporter::new(published, &QueryMetrics::default(), flags).encode()
    }

    #[test]
    fn a_snapshot_becomes_gauges_without_nan() {
        let text = encoded(Some(snapshot::example()));
        for line in [
            "slogate_slo_sli_ratio{service=\"search\",slo=\"availability\",team=\"<b>payments</b>\"} 0.99",
            "slogate_slo_error_budget_remaining_ratio{service=\"search\",slo=\"availability\",team=\"<b>payments</b>\"} -9.0",
            "slogate_slo_value{service=\"platform\",slo=\"backups\"} 90000.0",
            "slogate_slo_ready{service=\"checkout\",slo=\"availability\",team=\"<b>payments</b>\"} 1.0",
            "slogate_service_ready{service=\"platform\"} 0.0",
            "slogate_ready 0.0",
            "slogate_prometheus_up{datasource=\"default\"} 1.0",
            "slogate_evaluation_duration_seconds 0.012",
            "slogate_launch_score_ratio{checkpoint=\"now\"} 0.0",
            // Each alert tier's factor over its long window (99.9 % over 30 days:
            // the workbook's 14.4, 6, 3 and 1).
            "slogate_slo_burn_rate_threshold{service=\"search\",slo=\"availability\",team=\"<b>payments</b>\",window=\"1h\"} 14.4",
            "slogate_slo_burn_rate_threshold{service=\"search\",slo=\"availability\",team=\"<b>payments</b>\",window=\"6h\"} 6.0",
            "slogate_slo_burn_rate_threshold{service=\"search\",slo=\"availability\",team=\"<b>payments</b>\",window=\"1d\"} 3.0",
            "slogate_slo_burn_rate_threshold{service=\"search\",slo=\"availability\",team=\"<b>payments</b>\",window=\"3d\"} 1.0",
        ] {
            assert!(text.contains(&format!("{line}\n")), "{line} missing in\n{text}");
        }
        assert!(!text.contains("NaN") && text.ends_with("# EOF\n"), "{text}");
        // A probe has no budget: no budget series at all rather than a placeholder.
        assert!(!text.contains("slogate_slo_error_budget_remaining_ratio{service=\"platform\""));
        assert!(!text.contains("slogate_slo_burn_rate_threshold{service=\"platform\""));
        // No latency SLO, no threshold series (the family is still described).
        assert!(
            !text.contains("slogate_slo_latency_threshold_seconds{"),
            "{text}"
        );
    }

    #[test]
    fn a_scrape_is_encoded_once_per_snapshot_and_gzips_to_the_same_text() {
        use std::io::Read;
        let published = Arc::new(Published::default());
        let flags = Arc::new(Flags::default());
        let exporter = Exporter::new(published.clone(), &QueryMetrics::default(), flags.clone());
        let before = exporter.scrape(false).body;
        published.publish(snapshot::example());
        let plain = exporter.scrape(false);
        assert_ne!(plain.body, before, "a new snapshot is a new body");
        assert_eq!(plain.body, exporter.encode().as_bytes());
        let gzip = exporter.scrape(true);
        assert_eq!(
            exporter.scrape(true).body.as_ptr(),
            gzip.body.as_ptr(),
            "the same bytes, not re-encoded"
        );
        assert!(gzip.gzip);
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gzip.body[..])
            .read_to_string(&mut text)
            .expect("gzip");
        assert_eq!(text.as_bytes(), plain.body);
        // A failed reload shows at once, snapshot unchanged.
        flags.config_reload_ok.store(false, Ordering::Relaxed);
        let failed = String::from_utf8(exporter.scrape(false).body.to_vec()).expect("utf-8");
        assert!(
            failed.contains("slogate_config_last_reload_successful 0.0"),
            "{failed}"
        );
    }

    /// An empty shard must not hold the fleet's `min without (shard)` at 0;
    /// before its first evaluation it is not ready, as any replica.
    #[test]
    fn a_shard_that_owns_no_slo_exports_no_readiness() {
        let encode = |snapshot: Option<Snapshot>| {
            let published = Arc::new(Published::default());
            if let Some(s) = snapshot {
                published.publish(s);
            }
            let flags = Arc::new(Flags {
                shard: Some("1".into()),
                ..Flags::default()
            });
            Exporter::new(published, &QueryMetrics::default(), flags).encode()
        };
        let mut empty = snapshot::example();
        empty.results.clear();
        empty.readiness = crate::eval::roll_up(&[]);
        let text = encode(Some(empty));
        assert!(!text.contains("slogate_ready{"), "{text}");
        assert!(!text.contains("slogate_launch_score_ratio{"), "{text}");
        assert!(!text.contains("slogate_prometheus_up{"), "{text}");
        let text = encode(Some(snapshot::example()));
        assert!(text.contains("slogate_ready{shard=\"1\"} 0.0"), "{text}");
        let text = encode(None);
        assert!(text.contains("slogate_ready{shard=\"1\"} 0.0"), "{text}");
    }

    #[test]
    fn before_any_evaluation_nothing_is_ready_and_no_slo_series_exist() {
        let text = encoded(None);
        assert!(text.contains("\nslogate_ready 0.0\n"), "{text}");
        assert!(!text.contains("slogate_slo_"), "{text}");
        assert!(text.contains("slogate_config_last_reload_successful 1.0"));
    }
}
