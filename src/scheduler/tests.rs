//! The scheduler against a fake source, in paused tokio time: evaluation timing,
//! the concurrency bound, no overlapping evaluations, checkpoint settling, reload.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::*;
use crate::slo::conventions::label;
use crate::slo::{Indicator, RatioNumerator, Selector};

/// Answers every query with a healthy group `a` after `delay`, counting calls and
/// the most queries ever in flight at once.
#[derive(Clone)]
struct Fake {
    delay: Duration,
    stats: Arc<Mutex<Stats>>,
}

#[derive(Debug, Default)]
struct Stats {
    calls: usize,
    in_flight: usize,
    max_in_flight: usize,
}

impl Fake {
    fn new(delay: Duration) -> Self {
        Self {
            delay,
            stats: Arc::default(),
        }
    }

    fn stats(&self) -> (usize, usize) {
        let s = self.stats.lock().expect("stats");
        (s.calls, s.max_in_flight)
    }
}

fn sample(part: &str, value: f64) -> Sample {
    Sample {
        labels: BTreeMap::from([
            ("service".to_string(), "a".to_string()),
            (label::QUERY_PART.to_string(), part.to_string()),
        ]),
        value,
    }
}

impl Source for Fake {
    async fn query(
        &self,
        _promql: &str,
        _time: f64,
    ) -> Result<(Vec<Sample>, Option<Cost>), Failure> {
        {
            let mut s = self.stats.lock().expect("stats");
            s.calls += 1;
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        }
        tokio::time::sleep(self.delay).await;
        self.stats.lock().expect("stats").in_flight -= 1;
        let samples = vec![
            sample("total", 1000.0),
            sample("bad", 0.0),
            sample("present", 1.0),
        ];
        let cost = Cost {
            samples: 100,
            eval_seconds: 0.001,
        };
        Ok((samples, Some(cost)))
    }

    async fn query_range(&self, _: &str, _: (f64, f64, f64)) -> Result<Vec<Series>, Failure> {
        Ok(Vec::new())
    }
}

fn slo() -> Arc<Slo> {
    let sel = |n: &str| Selector {
        text: n.into(),
        name: n.into(),
        matchers: Vec::new(),
    };
    Arc::new(Slo::for_test(Indicator::Ratio {
        numerator: RatioNumerator::Errors(sel("errors_total")),
        total: sel("requests_total"),
    }))
}

/// Queries one evaluation of [`slo`] sends: the window and 7 burn windows.
const QUERIES: usize = 8;

fn engine(
    fake: &Fake,
    interval: Duration,
    concurrency: usize,
    launch: Option<Launch>,
) -> Engine<Fake> {
    Engine {
        slos: vec![slo()],
        source: Routed::single(fake.clone()),
        interval,
        // Every window re-read every time, unless a test says otherwise.
        long_window_interval: Duration::ZERO,
        concurrency,
        planner: Planner::default(),
        launch,
    }
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

/// Runs the scheduler until `stop` (tokio time), driving `during` alongside.
async fn run_until(
    first: Engine<Fake>,
    fixed_at: Option<DateTime<Utc>>,
    stop: Duration,
    during: impl FnOnce(watch::Sender<Arc<Engine<Fake>>>) -> std::pin::Pin<Box<dyn Future<Output = ()>>>,
) -> Arc<Published> {
    let (tx, rx) = watch::channel(Arc::new(first));
    let published = Arc::new(Published::default());
    let scheduler = run(rx, fixed_at, published.clone(), tokio::time::sleep(stop));
    tokio::join!(scheduler, during(tx));
    published
}

#[tokio::test(start_paused = true)]
async fn evaluates_on_the_interval_and_never_overlaps() {
    // Each query takes 90s, longer than the 60s interval: evaluations start at
    // 0s, 150s and 300s (90s of queries, then the interval), never two at once.
    let fake = Fake::new(Duration::from_secs(90));
    let e = engine(&fake, Duration::from_secs(60), 8, None);
    let published = run_until(e, None, Duration::from_secs(400), |tx| {
        Box::pin(async move {
            // A dropped sender stops the scheduler: hold it past the end.
            tokio::time::sleep(Duration::from_secs(500)).await;
            drop(tx);
        })
    })
    .await;
    assert_eq!(fake.stats(), (3 * QUERIES, QUERIES));
    let latest = published.latest().expect("published");
    assert_eq!(latest.run.queries_sent, QUERIES);
    assert!(latest.readiness.ready);
}

/// `serve` of `e` for ten minutes of tokio time, as of the wall clock.
async fn ten_minutes(e: Engine<Fake>) -> Arc<Published> {
    run_until(e, None, Duration::from_secs(630), |tx| {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_secs(700)).await;
            drop(tx);
        })
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn long_windows_are_reread_on_their_own_cadence() {
    // Every minute for ten minutes; windows of a day or more every five.
    let fake = Fake::new(Duration::from_millis(10));
    let e = Engine {
        long_window_interval: Duration::from_secs(300),
        ..engine(&fake, Duration::from_secs(60), 8, None)
    };
    let published = ten_minutes(e).await;
    // 11 evaluations (0s .. 600s) of the 5 windows under a day (5m .. 6h); the
    // 30d, 1d and 3d windows at 0s, 300s and 600s.
    let short = 5;
    let long = QUERIES - short;
    assert_eq!(fake.stats().0, 11 * short + 3 * long);
    let latest = published.latest().expect("published");
    assert!(latest.readiness.ready);
    let reads: Vec<String> = latest
        .run
        .windows_read_at
        .keys()
        .map(ToString::to_string)
        .collect();
    assert_eq!(reads, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]);
}

/// A window with an exclusion in it names instants with `@`: `serve` pins it
/// to the start of the long-window cadence, so it is reused like any other
/// long window instead of being read at every evaluation.
#[tokio::test(start_paused = true)]
async fn long_windows_with_exclusions_are_reused_on_their_cadence_too() {
    let fake = Fake::new(Duration::from_millis(10));
    let now = Utc::now();
    let mut excluded = Slo::clone(&slo());
    excluded.exclusions.once = vec![crate::slo::exclusion::Exclusion {
        start: now - chrono::TimeDelta::days(10),
        end: now - chrono::TimeDelta::days(9),
        reason: "maintenance".into(),
    }];
    let e = Engine {
        slos: vec![Arc::new(excluded)],
        long_window_interval: Duration::from_secs(300),
        ..engine(&fake, Duration::from_secs(60), 8, None)
    };
    let published = ten_minutes(e).await;
    // As without exclusions: 11 evaluations of the 5 short windows, the 3
    // long ones (the 30d with its exclusion) at 0s, 300s and 600s; one more
    // 30d read if the wall clock crossed a 5-minute boundary meanwhile.
    let short = 5;
    let long = QUERIES - short;
    let calls = fake.stats().0;
    assert!(
        calls == 11 * short + 3 * long || calls == 11 * short + 3 * long + 1,
        "{calls} queries (72 when the 30d window is read at every evaluation)"
    );
    let latest = published.latest().expect("published");
    assert_eq!(latest.results[0].exclusions.len(), 1);
}

/// A calendar period so far changes length at every evaluation: a day or more
/// into it, `serve` judges it as of the start of the long-window cadence, so
/// it is read on that cadence like a rolling 30d window.
#[tokio::test(start_paused = true)]
async fn a_calendar_period_is_reread_on_the_long_window_cadence() {
    use crate::slo::calendar::{Calendar, Period};
    let fake = Fake::new(Duration::from_millis(10));
    let mut monthly = Slo::clone(&slo());
    let calendar = Calendar {
        period: Period::Month,
        tz: chrono_tz::Tz::UTC,
    };
    monthly.calendar = Some(calendar);
    let e = Engine {
        slos: vec![Arc::new(monthly)],
        long_window_interval: Duration::from_secs(300),
        ..engine(&fake, Duration::from_secs(60), 8, None)
    };
    let now = Utc::now();
    let published = ten_minutes(e).await;
    // Pinned unless the cadence's start is less than a day into the month
    // (then the period is read at every evaluation, 11 times).
    let ms = now.timestamp_millis();
    let long_at = DateTime::from_timestamp_millis(ms - ms.rem_euclid(300_000)).expect("time");
    let pinned =
        long_at < now && long_at - calendar.bounds(now).start >= chrono::TimeDelta::days(1);
    let (short, long) = (5, 2);
    let period_reads = if pinned { 3 } else { 11 };
    let calls = fake.stats().0;
    let want = 11 * short + 3 * long + period_reads;
    assert!(
        calls == want || calls == want + 1,
        "{calls} queries, want {want} (pinned: {pinned})"
    );
    let latest = published.latest().expect("published");
    assert_eq!(latest.results[0].window_name, "month");
    assert!(latest.results[0].period.is_some());
}

#[tokio::test(start_paused = true)]
async fn queries_in_flight_stay_within_the_concurrency_bound_and_are_sent_once() {
    let fake = Fake::new(Duration::from_secs(1));
    let slos = vec![slo(), slo()];
    let req = Request {
        slos: &slos,
        at: at("2026-11-24T12:00:00Z"),
        window: None,
        concurrency: 3,
        planner: Planner::default(),
    };
    let s = evaluate(&fake, &req, &KnownGroups::new()).await;
    // The two SLOs plan identical queries: each is sent once and answers both.
    assert_eq!(fake.stats(), (QUERIES, 3));
    assert_eq!(s.results.len(), 2);
    assert!(s.results.iter().all(|r| r.state == eval::State::Pass));
    assert_eq!(s.run.queries_sent, QUERIES);
    // Each fake answer reports 100 samples read.
    assert_eq!(s.run.samples_read, Some(QUERIES as u64 * 100));
    assert_eq!(s.run.at, req.at);
}

#[tokio::test(start_paused = true)]
async fn a_reload_evaluates_at_once_with_the_new_engine() {
    let fake = Fake::new(Duration::from_millis(10));
    let hour = Duration::from_secs(3600);
    let replacement = engine(&fake, hour, 8, None);
    run_until(
        engine(&fake, hour, 8, None),
        None,
        Duration::from_secs(60),
        |tx| {
            Box::pin(async move {
                tokio::time::sleep(Duration::from_secs(10)).await;
                tx.send_replace(Arc::new(replacement));
                // Keep the channel open until the scheduler stops.
                tokio::time::sleep(Duration::from_secs(120)).await;
            })
        },
    )
    .await;
    // Once at start, once at the reload; the hourly interval never came.
    assert_eq!(fake.stats().0, 2 * QUERIES);
}

#[tokio::test(start_paused = true)]
async fn settled_checkpoints_are_judged_once_until_a_reload() {
    let fake = Fake::new(Duration::from_millis(10));
    let now = at("2026-11-24T12:00:00Z");
    let launch = Launch {
        at: at("2026-11-24T09:00:00Z"),
        checkpoints: vec![("1h".into(), PromDuration::from_secs(3600))],
        baseline: None,
    };
    // A 1h checkpoint plans the 1h window and the 5m and 30m burn windows.
    let checkpoint_queries = 3;
    let minute = Duration::from_secs(60);
    let replacement = engine(&fake, minute, 8, Some(launch.clone()));
    let published = run_until(
        engine(&fake, minute, 8, Some(launch)),
        Some(now),
        Duration::from_secs(150),
        |tx| {
            Box::pin(async move {
                // Evaluations at 0s and 60s; the reload at 90s; then 150s stops.
                tokio::time::sleep(Duration::from_secs(90)).await;
                tx.send_replace(Arc::new(replacement));
                tokio::time::sleep(Duration::from_secs(120)).await;
            })
        },
    )
    .await;
    // 0s: evaluation + checkpoint; 60s: evaluation only (settled);
    // 90s (reload): evaluation + checkpoint again.
    assert_eq!(fake.stats().0, 3 * QUERIES + 2 * checkpoint_queries);
    let latest = published.latest().expect("published");
    let c = &latest.launch.as_ref().expect("launch").checkpoints[0];
    assert_eq!((c.name.as_str(), c.state), ("1h", eval::State::Pass));
}

/// Refuses fused queries as too costly (as Prometheus does past
/// `query.max-samples`), reports a width of 2 series, and answers every SLO's own
/// query like [`Fake`].
#[derive(Clone)]
struct RefusesFused {
    sent: Arc<Mutex<Vec<String>>>,
}

impl Source for RefusesFused {
    async fn query(
        &self,
        promql: &str,
        _time: f64,
    ) -> Result<(Vec<Sample>, Option<Cost>), Failure> {
        self.sent.lock().expect("sent").push(promql.to_string());
        if promql.starts_with("count(") {
            let width = Sample {
                labels: BTreeMap::new(),
                value: 2.0,
            };
            return Ok((vec![width], None));
        }
        if promql.contains("\"increase\"") {
            return Err(Failure {
                message: "query processing would load too many samples into memory".into(),
                unreachable: false,
            });
        }
        let samples = vec![
            sample("total", 1000.0),
            sample("bad", 0.0),
            sample("present", 1.0),
        ];
        Ok((samples, None))
    }

    async fn query_range(&self, _: &str, _: (f64, f64, f64)) -> Result<Vec<Series>, Failure> {
        Ok(Vec::new())
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_fused_query_is_asked_again_one_query_per_slo() {
    let source = RefusesFused {
        sent: Arc::default(),
    };
    let other = Arc::new(Slo {
        name: "other".into(),
        ..Slo::for_test(Indicator::Ratio {
            numerator: RatioNumerator::Errors(
                Selector::parse(r#"errors_total{code="500"}"#).expect("selector"),
            ),
            total: Selector::parse("requests_total").expect("selector"),
        })
    });
    let slos = vec![slo(), other];
    let req = Request {
        slos: &slos,
        at: at("2026-11-24T12:00:00Z"),
        window: None,
        concurrency: 4,
        planner: Planner::default(),
    };
    let s = evaluate(&source, &req, &KnownGroups::new()).await;
    assert_eq!(s.results.len(), 2);
    assert!(
        s.results.iter().all(|r| r.state == eval::State::Pass),
        "{:?}",
        s.results
    );
    let sent = source.sent.lock().expect("sent").clone();
    let fused = sent.iter().filter(|q| q.contains("\"increase\"")).count();
    let widths = sent.iter().filter(|q| q.starts_with("count(")).count();
    // Two metrics (errors, requests) over 8 windows fused, then each SLO's own.
    assert_eq!((widths, fused), (2, 16), "{sent:#?}");
    assert_eq!(sent.len(), widths + fused + 2 * QUERIES);
    assert_eq!(s.run.queries_sent, sent.len());
}
