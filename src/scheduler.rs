//! Owns time and concurrency: runs every query of an evaluation with bounded
//! concurrency at one instant, judges the answers, and publishes an immutable
//! snapshot that scrapes and API calls read.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use tokio::sync::watch;

use crate::config::Launch;
use crate::eval::{self, launch, Answers, Readiness, SloResult, State};
use crate::prom::{Client, ClientError};
use crate::slo::promql::QueryKind;
use crate::slo::{PromDuration, Slo};

/// The outcome of one evaluation of every SLO.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub evaluated_at: DateTime<Utc>,
    pub results: Vec<SloResult>,
    pub readiness: Readiness,
    /// Every query reached Prometheus (answered, even with an error).
    pub prometheus_up: bool,
    pub duration: Duration,
    pub queries_sent: usize,
    /// The weighted launch score of these results, 0 to 1.
    pub score: Option<f64>,
    /// Launch checkpoints, when the config has a launch block (serve only).
    pub launch: Option<LaunchStatus>,
}

/// One launch checkpoint: every SLO judged over `[at, at + after]` as of `at + after`.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The checkpoint as the user wrote it (`24h`).
    pub name: String,
    pub after: PromDuration,
    pub due: DateTime<Utc>,
    pub state: State,
    pub score: Option<f64>,
    pub results: Vec<SloResult>,
    pub queries_sent: usize,
    pub prometheus_up: bool,
}

/// The launch and its checkpoints.
#[derive(Debug, Clone)]
pub struct LaunchStatus {
    pub at: DateTime<Utc>,
    pub checkpoints: Vec<Checkpoint>,
}

/// Evaluates one checkpoint as of `now`: pending until due, then judged as of the
/// due time, so running it days later gives the same answer.
pub async fn evaluate_checkpoint(
    client: &Client,
    slos: &[Arc<Slo>],
    launch_at: DateTime<Utc>,
    (name, after): (&str, PromDuration),
    now: DateTime<Utc>,
    concurrency: usize,
) -> Checkpoint {
    // Config checks keep checkpoints within MAX_WINDOW, far inside chrono's range;
    // saturate rather than panic should one ever get past them.
    let due = i64::try_from(after.as_millis())
        .ok()
        .and_then(chrono::TimeDelta::try_milliseconds)
        .and_then(|d| launch_at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    if now < due {
        let due_text = due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        return Checkpoint {
            name: name.to_string(),
            after,
            due,
            state: State::Pending,
            score: None,
            results: slos
                .iter()
                .map(|s| s.pending((name, after), &due_text))
                .collect(),
            queries_sent: 0,
            prometheus_up: true,
        };
    }
    let snapshot = evaluate(
        client,
        &Request {
            slos,
            at: due,
            window: Some((name, after)),
            concurrency,
        },
        &KnownGroups::new(),
    )
    .await;
    Checkpoint {
        name: name.to_string(),
        after,
        due,
        state: launch::checkpoint_state(&snapshot.results),
        score: snapshot.score,
        results: snapshot.results,
        queries_sent: snapshot.queries_sent,
        prometheus_up: snapshot.prometheus_up,
    }
}

/// What one evaluation covers.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub slos: &'a [Arc<Slo>],
    /// Evaluate as of this instant.
    pub at: DateTime<Utc>,
    /// Judge over this window (as written, and its duration) instead of each SLO's
    /// own (launch checkpoints).
    pub window: Option<(&'a str, PromDuration)>,
    pub concurrency: usize,
}

/// Group label sets seen per SLO, remembered so an outage is reported per group.
pub type KnownGroups = HashMap<String, Vec<BTreeMap<String, String>>>;

/// Runs one evaluation.
pub async fn evaluate(client: &Client, req: &Request<'_>, known: &KnownGroups) -> Snapshot {
    let started = Instant::now();
    let time = req.at.timestamp_millis() as f64 / 1000.0;
    let plans: Vec<(usize, PromDuration, Vec<_>)> = req
        .slos
        .iter()
        .enumerate()
        .map(|(i, slo)| {
            let window = req.window.map_or(slo.window, |(_, w)| w);
            (i, window, slo.plan(window))
        })
        .collect();
    // Owned jobs: borrowed ones trip a higher-ranked lifetime limit of rustc
    // when this future is spawned.
    let jobs: Vec<(usize, QueryKind, String)> = plans
        .iter()
        .flat_map(|(i, _, plan)| plan.iter().map(move |q| (*i, q.kind, q.promql.clone())))
        .collect();
    let answers: Vec<(usize, QueryKind, Result<_, ClientError>)> = stream::iter(jobs)
        .map(|(i, kind, promql)| {
            let client = client.clone();
            async move { (i, kind, client.query(&promql, Some(time)).await) }
        })
        .buffer_unordered(req.concurrency.max(1))
        .collect()
        .await;
    let queries_sent = answers.len();
    let mut prometheus_up = true;
    let mut by_slo: Vec<Answers> = vec![Answers::new(); req.slos.len()];
    let mut failed = 0;
    let mut first_error = None;
    for (i, kind, answer) in answers {
        let answer = answer.map_err(|e| {
            if e.is_unreachable() {
                prometheus_up = false;
            }
            failed += 1;
            first_error.get_or_insert_with(|| (req.slos[i].name.clone(), e.to_string()));
            e.to_string()
        });
        by_slo[i].insert(kind, answer);
    }
    // One line per evaluation, not one per query: an outage fails them all.
    if let Some((slo, error)) = first_error {
        tracing::warn!(failed, of = queries_sent, slo = %slo, %error, "Queries failed");
    }
    let no_groups = Vec::new();
    let results: Vec<SloResult> = plans
        .iter()
        .flat_map(|(i, window, plan)| {
            let slo = &req.slos[*i];
            slo.evaluate(&eval::Input {
                window: *window,
                window_name: req.window.map(|(name, _)| name),
                answers: &by_slo[*i],
                queries: plan.iter().map(|q| q.promql.clone()).collect(),
                known_groups: known.get(&slo.name).unwrap_or(&no_groups),
            })
        })
        .collect();
    Snapshot {
        evaluated_at: req.at,
        readiness: eval::roll_up(&results),
        score: launch::score(&results),
        results,
        prometheus_up,
        duration: started.elapsed(),
        queries_sent,
        launch: None,
    }
}

/// Burn-rate trends for reports: per SLO, `steps` points across the window ending
/// at `at` (the SLO's own window, or `window`), from one range query per SLO.
/// SLOs whose query fails are left out: a trend is decoration, not a verdict.
pub async fn trends(
    client: &Client,
    slos: &[Arc<Slo>],
    window: Option<PromDuration>,
    at: DateTime<Utc>,
    steps: u32,
) -> eval::Trends {
    let mut out = eval::Trends::new();
    let end = at.timestamp_millis() as f64 / 1000.0;
    for slo in slos {
        let window = window.unwrap_or(slo.window);
        // Whole seconds, at least a minute: Prometheus' step and a PromQL range.
        let step_secs = (window.as_millis() / 1000 / u64::from(steps.max(1))).max(60);
        let step = PromDuration::from_secs(step_secs);
        let Some(promql) = slo.events_query(step) else {
            continue;
        };
        let start = end - (step_secs * (u64::from(steps) - 1)) as f64;
        let timestamps: Vec<f64> = (0..steps)
            .map(|i| start + f64::from(i) * step_secs as f64)
            .collect();
        match client
            .query_range(&promql, start, end, step_secs as f64)
            .await
        {
            Ok(series) => out.extend(slo.burn_trend(&series, &timestamps)),
            Err(e) => tracing::warn!(slo = %slo.name, error = %e, "Trend query failed"),
        }
    }
    out
}

/// Remembers the groups of every SLO that was judged from data.
pub fn remember_groups(known: &mut KnownGroups, snapshot: &Snapshot) {
    let mut seen: KnownGroups = HashMap::new();
    for r in &snapshot.results {
        if r.state != eval::State::Unknown {
            let groups = seen.entry(r.slo.clone()).or_default();
            groups.push(r.group.clone());
        }
    }
    for (slo, groups) in seen {
        known.insert(slo, groups);
    }
}

/// The latest snapshot, shared with the HTTP server and the metrics collector.
#[derive(Debug, Default)]
pub struct Published {
    latest: RwLock<Option<Arc<Snapshot>>>,
}

impl Published {
    pub fn publish(&self, snapshot: Snapshot) {
        let mut guard = self.latest.write().unwrap_or_else(|e| e.into_inner());
        *guard = Some(Arc::new(snapshot));
    }

    pub fn latest(&self) -> Option<Arc<Snapshot>> {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// What the daemon evaluates with; replaced as a whole on reload.
#[derive(Debug, Clone)]
pub struct Engine {
    pub slos: Vec<Arc<Slo>>,
    pub client: Client,
    pub interval: Duration,
    pub concurrency: usize,
    pub launch: Option<Launch>,
}

/// Checkpoints already judged for good (neither pending nor unknown), reused until
/// the config changes: their answer no longer depends on the clock.
type Settled = HashMap<PromDuration, Checkpoint>;

async fn launch_status(
    engine: &Engine,
    now: DateTime<Utc>,
    settled: &mut Settled,
) -> Option<LaunchStatus> {
    let launch = engine.launch.as_ref()?;
    let mut checkpoints = Vec::new();
    for (name, after) in &launch.checkpoints {
        let checkpoint = match settled.get(after) {
            Some(c) => c.clone(),
            None => {
                let c = evaluate_checkpoint(
                    &engine.client,
                    &engine.slos,
                    launch.at,
                    (name, *after),
                    now,
                    engine.concurrency,
                )
                .await;
                if !matches!(c.state, State::Pending | State::Unknown) {
                    settled.insert(*after, c.clone());
                }
                c
            }
        };
        checkpoints.push(checkpoint);
    }
    Some(LaunchStatus {
        at: launch.at,
        checkpoints,
    })
}

/// Evaluates every `interval` (as of now, or of `fixed_at` when replaying), and at
/// once whenever the engine is replaced, until `shutdown` resolves.
pub async fn run(
    mut engine: watch::Receiver<Arc<Engine>>,
    fixed_at: Option<DateTime<Utc>>,
    published: Arc<Published>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut known = KnownGroups::new();
    let mut settled = Settled::new();
    let mut last_ready = None;
    let mut judged_with: Option<Arc<Engine>> = None;
    tokio::pin!(shutdown);
    loop {
        let current = engine.borrow_and_update().clone();
        // A reload replaces the engine: checkpoints settled under the old launch
        // block or SLOs no longer hold. (`changed()` below marks the new engine
        // seen, so compare engines rather than ask the channel.)
        if !judged_with
            .as_ref()
            .is_some_and(|old| Arc::ptr_eq(old, &current))
        {
            settled.clear();
            judged_with = Some(current.clone());
        }
        let now = fixed_at.unwrap_or_else(Utc::now);
        // SLOs removed by a reload must not come back as "unknown" placeholders.
        known.retain(|name, _| current.slos.iter().any(|s| &s.name == name));
        let mut snapshot = evaluate(
            &current.client,
            &Request {
                slos: &current.slos,
                at: now,
                window: None,
                concurrency: current.concurrency,
            },
            &known,
        )
        .await;
        remember_groups(&mut known, &snapshot);
        snapshot.launch = launch_status(&current, now, &mut settled).await;
        tracing::debug!(
            results = snapshot.results.len(),
            queries = snapshot.queries_sent,
            prometheus_up = snapshot.prometheus_up,
            ready = snapshot.readiness.ready,
            took_ms = snapshot.duration.as_millis() as u64,
            "Evaluated"
        );
        // Routine evaluations log at debug; a change of the overall verdict at info.
        if last_ready != Some(snapshot.readiness.ready) {
            let not_ready: Vec<&str> = snapshot
                .readiness
                .services
                .iter()
                .filter(|(_, ok)| !**ok)
                .map(|(s, _)| s.as_str())
                .collect();
            tracing::info!(ready = snapshot.readiness.ready, not_ready = %not_ready.join(","), "Readiness changed");
            last_ready = Some(snapshot.readiness.ready);
        }
        published.publish(snapshot);
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(current.interval) => {}
            changed = engine.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}
