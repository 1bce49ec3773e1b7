//! Owns time and concurrency: runs every query of an evaluation with bounded
//! concurrency at one instant, hands the answers to `eval`, and publishes the
//! snapshot; evaluates on an interval, at once after a reload, and settles launch
//! checkpoints. Talks to Prometheus through [`Source`], so it is tested with a fake.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use tokio::sync::watch;

use self::compact::Compact;

use crate::eval::baseline::Baseline;
use crate::eval::history::History;
use crate::eval::snapshot::{
    self, Checkpoint, KnownGroups, LaunchStatus, Planned, Published, Run, Snapshot,
};
use crate::eval::{self, Answer, Answers};
use crate::prom::{Client, ClientError, Cost};
use crate::slo::fuse::{self, Fusion, Member, Need};
use crate::slo::promql::{PlanAt, QueryKind};
use crate::slo::{Launch, PromDuration, Sample, Series, Slo};

/// Why a query has no answer: the text for the reason, and whether the server
/// could not be reached at all (as opposed to answering with an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub unreachable: bool,
}

/// Where answers come from: the Prometheus HTTP client, or a fake in tests.
pub trait Source: Clone + Send + Sync + 'static {
    /// An instant query evaluated at `time` (Unix seconds), with what it cost
    /// when the server says.
    fn query(
        &self,
        promql: &str,
        time: f64,
    ) -> impl Future<Output = Result<(Vec<Sample>, Option<Cost>), Failure>> + Send;

    /// A range query over `[start, end]` every `step` seconds.
    fn query_range(
        &self,
        promql: &str,
        range: (f64, f64, f64),
    ) -> impl Future<Output = Result<Vec<Series>, Failure>> + Send;
}

fn failure(e: ClientError) -> Failure {
    Failure {
        unreachable: e.is_unreachable(),
        message: e.to_string(),
    }
}

impl Source for Client {
    async fn query(&self, promql: &str, time: f64) -> Result<(Vec<Sample>, Option<Cost>), Failure> {
        Client::query_costed(self, promql, Some(time))
            .await
            .map_err(failure)
    }

    async fn query_range(
        &self,
        promql: &str,
        (start, end, step): (f64, f64, f64),
    ) -> Result<Vec<Series>, Failure> {
        Client::query_range(self, promql, start, end, step)
            .await
            .map_err(failure)
    }
}

/// Every datasource's source: the default one, and the named ones by name.
/// SLOs are evaluated on their own datasource's, each datasource planned,
/// fused and batched apart (its ruler, its tenants, its limits).
#[derive(Debug, Clone)]
pub struct Routed<S> {
    pub default: S,
    pub named: BTreeMap<String, S>,
}

impl<S: Source> Routed<S> {
    /// One source for every SLO.
    pub fn single(source: S) -> Self {
        Self {
            default: source,
            named: BTreeMap::new(),
        }
    }

    /// The source `slo` is read from (the default for an unknown name, which a
    /// checked config never has).
    pub fn of(&self, slo: &Slo) -> &S {
        slo.datasource
            .as_ref()
            .and_then(|d| self.named.get(d))
            .unwrap_or(&self.default)
    }

    /// `slos` by datasource name (the default's first), each in config order.
    pub fn partition<'a>(&'a self, slos: &[Arc<Slo>]) -> Vec<(&'a str, Vec<Arc<Slo>>)> {
        let mut parts: Vec<(&'a str, Vec<Arc<Slo>>)> = Vec::new();
        for slo in slos {
            let name: &'a str = slo
                .datasource
                .as_deref()
                .and_then(|d| self.named.get_key_value(d))
                .map_or(crate::config::DEFAULT_DATASOURCE, |(k, _)| k.as_str());
            match parts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, list)) => list.push(slo.clone()),
                None => parts.push((name, vec![slo.clone()])),
            }
        }
        parts.sort_by_key(|(n, _)| *n != crate::config::DEFAULT_DATASOURCE);
        parts
    }

    /// The source of the datasource called `name` (the default's when unknown).
    pub fn by_name(&self, name: &str) -> &S {
        self.named.get(name).unwrap_or(&self.default)
    }
}

/// [`evaluate_reusing`] on every datasource at once (its own memory each), the
/// snapshots merged: results in `req.slos`' order, every datasource's
/// reachability, costs summed, readiness and score over all.
pub async fn evaluate_routed<S: Source>(
    sources: &Routed<S>,
    req: &Request<'_>,
    known: &KnownGroups,
    mut memories: Option<&mut HashMap<String, Memory>>,
) -> Snapshot {
    let started = Instant::now();
    let parts = sources.partition(req.slos);
    if let Some(m) = memories.as_deref_mut() {
        m.retain(|name, _| parts.iter().any(|(n, _)| n == name));
    }
    let mut taken: Vec<(String, Option<Memory>)> = parts
        .iter()
        .map(|(name, _)| {
            let kept = memories.as_deref_mut().map(|m| {
                m.remove(*name)
                    .unwrap_or_else(|| Memory::new(Duration::ZERO))
            });
            (name.to_string(), kept)
        })
        .collect();
    let runs = futures::future::join_all(parts.iter().zip(taken.iter_mut()).map(
        |((name, slos), (_, memory))| async move {
            let sub = Request {
                slos,
                at: req.at,
                window: req.window,
                concurrency: req.concurrency,
                planner: req.planner,
            };
            let mut s = evaluate_reusing(sources.by_name(name), &sub, known, memory.as_mut()).await;
            s.run.datasources = BTreeMap::from([(name.to_string(), s.run.prometheus_up)]);
            s
        },
    ))
    .await;
    if let Some(m) = memories {
        for (name, kept) in taken {
            if let Some(kept) = kept {
                m.insert(name, kept);
            }
        }
    }
    let mut merged = snapshot::merge(runs, req.slos, req.at);
    merged.run.duration = started.elapsed();
    merged
}

/// How an evaluation plans its queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planner {
    pub mode: fuse::Mode,
    /// A fused query returning more series than this is split into per-SLO queries.
    pub max_series_per_query: usize,
}

impl Planner {
    /// The mode in effect: a cap of 0 series means never fuse.
    pub fn mode(&self) -> fuse::Mode {
        if self.max_series_per_query == 0 {
            fuse::Mode::Naive
        } else {
            self.mode
        }
    }
}

impl Default for Planner {
    fn default() -> Self {
        Self {
            mode: fuse::Mode::Fused,
            max_series_per_query: fuse::DEFAULT_MAX_SERIES,
        }
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
    pub planner: Planner,
}

/// Windows of a day or more: in `serve` they are re-read on their own cadence.
const LONG_WINDOW: PromDuration = PromDuration::from_secs(86400);

/// What `serve` keeps between evaluations, re-read every `every`: answers of long
/// windows (the SLO-window figures are then at most that stale, and Prometheus
/// reads 30 days of samples every few minutes instead of every minute), and the
/// widths of fused queries.
#[derive(Debug)]
pub struct Memory {
    every: Duration,
    kept: HashMap<String, Kept>,
    widths: HashMap<String, (tokio::time::Instant, usize)>,
}

#[derive(Debug)]
struct Kept {
    read: tokio::time::Instant,
    as_of: DateTime<Utc>,
    samples: Compact,
}

impl Memory {
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            kept: HashMap::new(),
            widths: HashMap::new(),
        }
    }

    /// Long windows are kept. Not a calendar period's elapsed time (rarely whole
    /// minutes, which every configured window is): it changes at every
    /// evaluation, so keeping it would only hold memory.
    fn is_long(kind: QueryKind) -> bool {
        matches!(kind, QueryKind::Events(w) if w >= LONG_WINDOW && w.as_millis() % 60_000 == 0)
    }

    /// A kept answer to `promql` younger than the cadence, both on the monotonic
    /// clock and between the instants judged (a suspended host or a stepped wall
    /// clock must not make an old answer count as fresh).
    fn fresh(&self, kind: QueryKind, promql: &str, at: DateTime<Utc>) -> Option<&Kept> {
        let kept = self.kept.get(promql)?;
        let every = chrono::TimeDelta::from_std(self.every).ok()?;
        let judged_apart = at.signed_duration_since(kept.as_of);
        let fresh = kept.read.elapsed() < self.every
            && judged_apart >= chrono::TimeDelta::zero()
            && judged_apart < every;
        (Self::is_long(kind) && fresh).then_some(kept)
    }

    /// Keeps an answer read as of `as_of`.
    fn keep(&mut self, promql: String, as_of: DateTime<Utc>, samples: &[Sample]) {
        let read = tokio::time::Instant::now();
        self.kept.insert(
            promql,
            Kept {
                read,
                as_of,
                samples: Compact::new(samples),
            },
        );
    }

    /// Forgets answers no SLO plans any more (a reload changed the queries).
    fn forget_unplanned(&mut self, fusions: &[&Fusion]) {
        self.kept
            .retain(|promql, _| fusions.iter().any(|f| f.jobs.contains_key(promql)));
    }

    fn width(&self, promql: &str) -> Option<usize> {
        let (read, width) = self.widths.get(promql)?;
        (read.elapsed() < self.every).then_some(*width)
    }
}

/// Every SLO's plan for `req`, with no answers yet. With `reuse` (serve's
/// long-window cadence), long windows with exclusions are pinned to the start
/// of the current cadence, so that their answers can be reused.
fn plan_all<'a>(req: &Request<'a>, reuse: Option<Duration>) -> Vec<Planned<'a>> {
    let long_at = match reuse.and_then(|r| i64::try_from(r.as_millis()).ok()) {
        Some(every) if every > 0 => {
            let ms = req.at.timestamp_millis();
            DateTime::from_timestamp_millis(ms - ms.rem_euclid(every)).unwrap_or(req.at)
        }
        _ => req.at,
    };
    req.slos
        .iter()
        .map(|slo| {
            // A checkpoint's window wins over a calendar: it judges since launch.
            let mut period = match (req.window, slo.calendar) {
                (None, Some(c)) => Some((c, c.bounds(req.at))),
                _ => None,
            };
            // A day or more into a period, `serve` judges it as of the start
            // of the long-window cadence, and reuses the read meanwhile.
            let pin_period = period.is_some_and(|(_, b)| {
                long_at < req.at && long_at - b.start >= chrono::TimeDelta::days(1)
            });
            if pin_period {
                period = period.map(|(c, _)| (c, c.bounds(long_at)));
            }
            let at = PlanAt {
                at: req.at,
                long_at,
                pin_period,
            };
            let window = match (req.window, period) {
                (Some((_, w)), _) => w,
                (None, Some((_, bounds))) => bounds.elapsed(),
                (None, None) => slo.window,
            };
            let burn_below = if period.is_some() { slo.window } else { window };
            Planned {
                slo,
                window,
                period,
                plan: slo.plan_over(window, burn_below, Some(at)),
                sent: Vec::new(),
                answers: Answers::new(),
            }
        })
        .collect()
}

/// When each window's answers were evaluated (the oldest, when SLOs differ).
fn note_read(
    reads: &mut BTreeMap<PromDuration, DateTime<Utc>>,
    kind: QueryKind,
    at: DateTime<Utc>,
) {
    if let QueryKind::Events(w) = kind {
        let t = reads.entry(w).or_insert(at);
        *t = (*t).min(at);
    }
}

/// Runs one evaluation: every planned query at `req.at`, at most
/// `req.concurrency` in flight, then the judgement.
pub async fn evaluate<S: Source>(source: &S, req: &Request<'_>, known: &KnownGroups) -> Snapshot {
    evaluate_reusing(source, req, known, None).await
}

/// Sends `queries` at `time`, at most `concurrency` in flight.
async fn ask<S: Source>(
    source: &S,
    queries: Vec<String>,
    time: f64,
    concurrency: usize,
) -> Vec<(String, Result<(Vec<Sample>, Option<Cost>), Failure>)> {
    // Owned queries: borrowed ones trip a higher-ranked lifetime limit of rustc
    // when this future is spawned.
    stream::iter(queries)
        .map(|promql| {
            let source = source.clone();
            async move {
                let answer = source.query(&promql, time).await;
                (promql, answer)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// The widths of the fused queries a plan would send, from memory or asked.
async fn widths<S: Source>(
    source: &S,
    members: &[Member<'_>],
    req: &Request<'_>,
    mut memory: Option<&mut Memory>,
    outcome: &mut Outcome,
) -> HashMap<String, usize> {
    let time = req.at.timestamp_millis() as f64 / 1000.0;
    let mut known = HashMap::new();
    let mut asked = Vec::new();
    for q in fuse::width_queries(members, req.planner.mode()) {
        match memory.as_deref().and_then(|m| m.width(&q)) {
            Some(w) => {
                known.insert(q, w);
            }
            None => asked.push(q),
        }
    }
    for (promql, answer) in ask(source, asked, time, req.concurrency).await {
        // An empty answer: nothing matches now, so fusing costs nothing.
        let Ok(samples) = outcome.take(answer, "(planner)") else {
            continue;
        };
        let width = samples.first().map_or(0.0, |s| s.value);
        if !width.is_finite() || width < 0.0 {
            continue;
        }
        let width = width as usize;
        known.insert(promql.clone(), width);
        if let Some(m) = memory.as_mut() {
            m.widths
                .insert(promql, (tokio::time::Instant::now(), width));
        }
    }
    known
}

/// The plan of one evaluation: the widths of candidate fused queries (from memory
/// or asked), then fusion where they fit.
async fn fused_plan<S: Source>(
    source: &S,
    members: &[Member<'_>],
    req: &Request<'_>,
    memory: Option<&mut Memory>,
    outcome: &mut Outcome,
) -> Fusion {
    let widths = widths(source, members, req, memory, outcome).await;
    let fusion = fuse::plan(
        members,
        req.planner.mode(),
        req.planner.max_series_per_query,
        |q| widths.get(q).copied(),
    );
    for g in fusion.groups.iter().filter(|g| !g.fused) {
        tracing::debug!(
            metric = %g.metric, window = %g.window, slos = g.slos,
            series = ?g.width, max = req.planner.max_series_per_query,
            "Not fused: one query per SLO"
        );
    }
    fusion
}

/// The planner's view of each SLO's plan.
fn members<'a>(planned: &'a [Planned<'a>]) -> Vec<Member<'a>> {
    planned
        .iter()
        .map(|p| Member {
            slo: p.slo,
            plan: &p.plan,
        })
        .collect()
}

/// What one evaluation of `req` would send, planned now, and what planning cost
/// (width queries sent, samples they read): `validate` prints it.
pub async fn plan_now<S: Source>(source: &S, req: &Request<'_>) -> (Fusion, usize, u64) {
    let planned = plan_all(req, None);
    let members = members(&planned);
    let mut outcome = Outcome::default();
    let fusion = fused_plan(source, &members, req, None, &mut outcome).await;
    let samples = outcome.cost.map_or(0, |c| c.samples);
    (fusion, outcome.sent, samples)
}

/// [`evaluate`], reusing long-window answers younger than their cadence. SLOs that
/// read the same metric over the same window share one fused query (see
/// [`fuse`]); identical queries are sent once.
pub async fn evaluate_reusing<S: Source>(
    source: &S,
    req: &Request<'_>,
    known: &KnownGroups,
    mut memory: Option<&mut Memory>,
) -> Snapshot {
    let started = Instant::now();
    let mut planned = plan_all(req, memory.as_ref().map(|m| m.every));
    let mut outcome = Outcome::default();
    let mut reads = BTreeMap::new();
    let members = members(&planned);
    let fusion = fused_plan(source, &members, req, memory.as_deref_mut(), &mut outcome).await;
    let mut sent = sent_by_slo(&fusion);
    let (mut answers, refused) = run_jobs(
        source,
        req,
        &fusion,
        memory.as_deref_mut(),
        &mut outcome,
        &mut reads,
    )
    .await;
    // Needs whose fused answer cannot be matched safely client-side, or whose
    // fused query failed (too many samples, a timeout): asked alone.
    let mut alone = Fusion::default();
    if !refused.is_empty() {
        for need in &refused {
            if let Some(q) = planned[need.0].plan.iter().find(|q| q.kind == need.1) {
                fuse::add_whole(&mut alone, *need, &q.promql);
            }
        }
        let (more, _) = run_jobs(
            source,
            req,
            &alone,
            memory.as_deref_mut(),
            &mut outcome,
            &mut reads,
        )
        .await;
        answers.extend(more);
        for (i, queries) in sent_by_slo(&alone) {
            sent.entry(i).or_default().extend(queries);
        }
    }
    drop(members);
    if let Some(m) = memory {
        m.forget_unplanned(&[&fusion, &alone]);
    }
    for ((i, kind), answer) in answers {
        planned[i].answers.insert(kind, answer);
    }
    for (i, queries) in sent {
        planned[i].sent = queries;
    }
    outcome.log();
    let run = Run {
        at: req.at,
        prometheus_up: outcome.prometheus_up,
        duration: started.elapsed(),
        queries_sent: outcome.sent,
        samples_read: outcome.cost.map(|c| c.samples),
        prometheus_eval_seconds: outcome.cost.map(|c| c.eval_seconds),
        windows_read_at: reads,
        datasources: BTreeMap::new(),
    };
    snapshot::judge(&planned, req.window.map(|(name, _)| name), known, run)
}

/// The queries answering each SLO (by index), each once.
fn sent_by_slo(fusion: &Fusion) -> BTreeMap<usize, Vec<String>> {
    let mut sent: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for job in fusion.jobs.values() {
        for u in &job.uses {
            let queries = sent.entry(u.need().0).or_default();
            for promql in &job.sent {
                if !queries.contains(promql) {
                    queries.push(promql.clone());
                }
            }
        }
    }
    sent
}

/// Sends the jobs of `fusion` not answered from memory and hands each need its
/// answer; notes when each window was read.
async fn run_jobs<S: Source>(
    source: &S,
    req: &Request<'_>,
    fusion: &Fusion,
    mut memory: Option<&mut Memory>,
    outcome: &mut Outcome,
    reads: &mut BTreeMap<PromDuration, DateTime<Utc>>,
) -> (
    BTreeMap<Need, fuse::Answer>,
    std::collections::BTreeSet<Need>,
) {
    let time = req.at.timestamp_millis() as f64 / 1000.0;
    let mut answers: BTreeMap<String, fuse::Answer> = BTreeMap::new();
    // Each query sent, and the job it answers (with the other halves of a split).
    let mut asked: BTreeMap<String, &String> = BTreeMap::new();
    for (promql, job) in &fusion.jobs {
        match memory
            .as_deref()
            .and_then(|m| m.fresh(job.kind, promql, req.at))
        {
            Some(kept) => {
                note_read(reads, job.kind, kept.as_of);
                answers.insert(promql.clone(), Ok(kept.samples.samples()));
            }
            None => asked.extend(job.sent.iter().map(|q| (q.clone(), promql))),
        }
    }
    let mut retry = std::collections::BTreeSet::new();
    let mut halves: BTreeMap<&String, Vec<fuse::Answer>> = BTreeMap::new();
    let queries = asked.keys().cloned().collect();
    for (sent, answer) in ask(source, queries, time, req.concurrency).await {
        let promql = asked[&sent];
        let job = &fusion.jobs[promql];
        let fused = job.uses.iter().any(|u| matches!(u, fuse::Use::Part(_)));
        if matches!(&answer, Err(f) if fused && !f.unreachable) {
            retry.insert(promql.clone());
        }
        let first = job.uses.first().map(|u| u.need().0);
        let answer = outcome.take(
            answer,
            &first.map(|i| req.slos[i].name.clone()).unwrap_or_default(),
        );
        halves.entry(promql).or_default().push(answer);
    }
    for (promql, parts) in halves {
        let job = &fusion.jobs[promql];
        // The halves' series are disjoint: the job's answer is their union.
        let answer = parts.into_iter().try_fold(Vec::new(), |mut all, part| {
            all.extend(part?);
            Ok(all)
        });
        if let Ok(samples) = &answer {
            note_read(reads, job.kind, req.at);
            if let (Some(m), true) = (memory.as_deref_mut(), Memory::is_long(job.kind)) {
                m.keep(promql.clone(), req.at, samples);
            }
        }
        answers.insert(promql.clone(), answer);
    }
    fuse::assemble(fusion, answers, &retry)
}

/// What the answers of one evaluation add up to.
#[derive(Debug)]
struct Outcome {
    sent: usize,
    failed: usize,
    prometheus_up: bool,
    cost: Option<Cost>,
    first_error: Option<(String, String)>,
}

impl Default for Outcome {
    fn default() -> Self {
        Self {
            sent: 0,
            failed: 0,
            prometheus_up: true,
            cost: None,
            first_error: None,
        }
    }
}

impl Outcome {
    /// Counts one answer and turns it into what `eval` reads.
    fn take(&mut self, answer: Result<(Vec<Sample>, Option<Cost>), Failure>, slo: &str) -> Answer {
        self.sent += 1;
        match answer {
            Ok((samples, cost)) => {
                if let Some(c) = cost {
                    let total = self.cost.get_or_insert_with(Cost::default);
                    total.samples += c.samples;
                    total.eval_seconds += c.eval_seconds;
                }
                Ok(samples)
            }
            Err(f) => {
                self.prometheus_up &= !f.unreachable;
                self.failed += 1;
                self.first_error
                    .get_or_insert_with(|| (slo.to_string(), f.message.clone()));
                Err(f.message)
            }
        }
    }

    /// One line per evaluation, not one per query: an outage fails them all.
    fn log(&self) {
        if let Some((slo, error)) = &self.first_error {
            tracing::warn!(failed = self.failed, of = self.sent, slo = %slo, %error, "Queries failed");
        }
    }
}

/// Evaluates one checkpoint as of `now`: pending until due, then judged as of the
/// due time, so running it days later gives the same answer.
pub async fn evaluate_checkpoint<S: Source>(
    source: &Routed<S>,
    slos: &[Arc<Slo>],
    launch_at: DateTime<Utc>,
    checkpoint: (&str, PromDuration),
    now: DateTime<Utc>,
    concurrency: usize,
    planner: Planner,
) -> Checkpoint {
    let due = snapshot::checkpoint_due(launch_at, checkpoint.1);
    if now < due {
        return Checkpoint::pending(slos, checkpoint, due);
    }
    let req = Request {
        slos,
        at: due,
        window: Some(checkpoint),
        concurrency,
        planner,
    };
    let judged = evaluate_routed(source, &req, &KnownGroups::new(), None).await;
    Checkpoint::judged(checkpoint, due, judged)
}

/// Burn-rate trends for reports: per SLO, `steps` points across the window ending
/// at `at` (the SLO's own window, or `window`), from one range query per SLO.
/// SLOs whose query fails are left out: a trend is decoration, not a verdict.
pub async fn trends<S: Source>(
    sources: &Routed<S>,
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
        let Some(promql) = slo.events_query(PromDuration::from_secs(step_secs)) else {
            continue;
        };
        let start = end - (step_secs * (u64::from(steps) - 1)) as f64;
        let timestamps: Vec<f64> = (0..steps)
            .map(|i| start + f64::from(i) * step_secs as f64)
            .collect();
        match sources
            .of(slo)
            .query_range(&promql, (start, end, step_secs as f64))
            .await
        {
            Ok(series) => out.extend(slo.burn_trend(&series, &timestamps)),
            Err(e) => tracing::warn!(slo = %slo.name, error = %e.message, "Trend query failed"),
        }
    }
    out
}

/// What the daemon evaluates with; replaced as a whole on reload.
#[derive(Debug, Clone)]
pub struct Engine<S: Source = Client> {
    pub slos: Vec<Arc<Slo>>,
    /// Every datasource's source.
    pub source: Routed<S>,
    pub interval: Duration,
    /// How often windows of a day or more are re-read.
    pub long_window_interval: Duration,
    pub concurrency: usize,
    pub planner: Planner,
    pub launch: Option<Launch>,
}

/// Checkpoints already judged for good, reused until the config changes.
type Settled = std::collections::HashMap<PromDuration, Checkpoint>;

async fn launch_status<S: Source>(
    engine: &Engine<S>,
    now: DateTime<Utc>,
    settled: &mut Settled,
) -> Option<LaunchStatus> {
    let launch = engine.launch.as_ref()?;
    Some(launch_timeline(engine, launch, now, Some(settled)).await)
}

/// Every checkpoint of `launch` as of `now` (pending ones cost no query): what
/// `check` shows as the launch timeline. Checkpoints in `settled` are reused,
/// and those judged for good are added to it.
pub async fn launch_timeline<S: Source>(
    engine: &Engine<S>,
    launch: &Launch,
    now: DateTime<Utc>,
    mut settled: Option<&mut Settled>,
) -> LaunchStatus {
    let mut checkpoints = Vec::new();
    for (name, after) in &launch.checkpoints {
        if let Some(c) = settled.as_ref().and_then(|s| s.get(after)) {
            checkpoints.push(c.clone());
            continue;
        }
        let c = evaluate_checkpoint(
            &engine.source,
            &engine.slos,
            launch.at,
            (name, *after),
            now,
            engine.concurrency,
            engine.planner,
        )
        .await;
        if let Some(s) = settled.as_mut().filter(|_| c.is_settled()) {
            s.insert(*after, c.clone());
        }
        checkpoints.push(c);
    }
    LaunchStatus {
        at: launch.at,
        checkpoints,
    }
}

/// Logs a change of the overall verdict at info (routine evaluations at debug).
fn log_evaluation(snapshot: &Snapshot, last_ready: &mut Option<bool>) {
    tracing::debug!(
        results = snapshot.results.len(),
        queries = snapshot.run.queries_sent,
        prometheus_up = snapshot.run.prometheus_up,
        ready = snapshot.readiness.ready,
        took_ms = snapshot.run.duration.as_millis() as u64,
        "Evaluated"
    );
    if *last_ready != Some(snapshot.readiness.ready) {
        let not_ready: Vec<&str> = snapshot
            .readiness
            .services
            .iter()
            .filter(|(_, ok)| !**ok)
            .map(|(s, _)| s.as_str())
            .collect();
        tracing::info!(ready = snapshot.readiness.ready, not_ready = %not_ready.join(","), "Readiness changed");
        *last_ready = Some(snapshot.readiness.ready);
    }
}

/// Evaluates every `interval` (as of now, or of `fixed_at` when replaying), and at
/// once whenever the engine is replaced, until `shutdown` resolves. Evaluations
/// never overlap: the next waits for the previous one to finish.
pub async fn run<S: Source>(
    mut engine: watch::Receiver<Arc<Engine<S>>>,
    fixed_at: Option<DateTime<Utc>>,
    published: Arc<Published>,
    shutdown: impl Future<Output = ()>,
) {
    let mut known = KnownGroups::new();
    let mut settled = Settled::new();
    let mut last_ready = None;
    let mut judged_with: Option<Arc<Engine<S>>> = None;
    let mut memories: HashMap<String, Memory> = HashMap::new();
    let history = Arc::new(std::sync::RwLock::new(History::default()));
    let mut baseline: Option<Baseline> = None;
    // When the due baseline was last tried and could not be measured: tried
    // again after `long_window_interval`, not on every evaluation.
    let mut baseline_tried: Option<Instant> = None;
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
            // The baseline holds while the launch it belongs to is unchanged.
            // So do the exclusions (a baseline measured before an incident was
            // excluded still holds its errors) and each SLO's datasource.
            let launch_of = |e: &Engine<S>| {
                let exclusions: Vec<_> = e
                    .slos
                    .iter()
                    .map(|s| (s.exclusions.clone(), s.datasource.clone()))
                    .collect();
                e.launch.as_ref().map(|l| (l.at, l.baseline, exclusions))
            };
            if judged_with.as_ref().map(|old| launch_of(old)) != Some(launch_of(&current)) {
                baseline = None;
                baseline_tried = None;
            }
            memories = current
                .source
                .partition(&current.slos)
                .into_iter()
                .map(|(name, _)| (name.to_string(), Memory::new(current.long_window_interval)))
                .collect();
            judged_with = Some(current.clone());
        }
        let now = fixed_at.unwrap_or_else(Utc::now);
        // SLOs removed by a reload must not come back as "unknown" placeholders.
        known.retain(|name, _| current.slos.iter().any(|s| &s.name == name));
        let req = Request {
            slos: &current.slos,
            at: now,
            window: None,
            concurrency: current.concurrency,
            planner: current.planner,
        };
        let mut snapshot =
            evaluate_routed(&current.source, &req, &known, Some(&mut memories)).await;
        snapshot::remember_groups(&mut known, &snapshot);
        let retry = baseline_tried.is_none_or(|t| t.elapsed() >= current.long_window_interval);
        if baseline.is_none() && retry && baseline_due(&current, now) {
            baseline = launch_baseline(&current, now).await;
            baseline_tried = baseline.is_none().then(Instant::now);
        }
        if let Some(b) = &baseline {
            compare_with_baseline(&current.slos, b, &mut snapshot);
        }
        snapshot.launch = launch_status(&current, now, &mut settled).await;
        history
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .record(now, &snapshot.results);
        snapshot.history = Some(history.clone());
        log_evaluation(&snapshot, &mut last_ready);
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

/// When the launch's baseline is measured as of, if it has one.
fn baseline_at<S: Source>(engine: &Engine<S>) -> Option<DateTime<Utc>> {
    let launch = engine.launch.as_ref()?;
    Some(launch.at + chrono::TimeDelta::milliseconds(launch.baseline?.as_millis() as i64))
}

/// True once the launch's baseline can be measured.
fn baseline_due<S: Source>(engine: &Engine<S>, now: DateTime<Utc>) -> bool {
    baseline_at(engine).is_some_and(|due| now >= due)
}

/// The launch's baseline (`launch.baseline`): every SLO as of
/// `launch.at + baseline`. `None` when Prometheus could not be read or
/// nothing was measured (tried again later).
async fn launch_baseline<S: Source>(engine: &Engine<S>, now: DateTime<Utc>) -> Option<Baseline> {
    let due = baseline_at(engine)?;
    if now < due {
        return None;
    }
    let req = Request {
        slos: &engine.slos,
        at: due,
        window: None,
        concurrency: engine.concurrency,
        planner: engine.planner,
    };
    let s = evaluate_routed(&engine.source, &req, &KnownGroups::new(), None).await;
    let b = Baseline::of(&s.results, due);
    // Recorded whole or not at all: the figures as of `due` do not change, so
    // waiting for an unreachable datasource loses nothing but time.
    if !s.run.prometheus_up || b.results.is_empty() {
        tracing::warn!(at = %due.to_rfc3339(), unreachable = %s.run.unreachable().join(","), "The launch baseline could not be measured; trying again later");
        return None;
    }
    tracing::info!(at = %due.to_rfc3339(), results = b.results.len(), "Launch baseline recorded");
    Some(b)
}

/// Compares a snapshot's results with the baseline: a regressed pass becomes
/// warn, and the roll-ups follow. Returns the measured results the baseline
/// has no entry for.
pub fn compare_with_baseline(
    slos: &[Arc<Slo>],
    baseline: &Baseline,
    snapshot: &mut Snapshot,
) -> usize {
    let tolerance = |name: &str| {
        slos.iter()
            .find(|s| s.name == name)
            .map(|s| s.baseline)
            .unwrap_or_default()
    };
    let unmatched = crate::eval::baseline::apply(baseline, &mut snapshot.results, tolerance);
    snapshot.readiness = eval::roll_up(&snapshot.results);
    snapshot.score = eval::launch::score(&snapshot.results);
    unmatched
}

mod compact;
pub mod detail;
#[cfg(test)]
mod tests;
