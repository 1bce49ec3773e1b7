//! Composition root: loads the config, builds the client, registry, scheduler and
//! router, handles reload and shutdown, and runs each subcommand.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::{mpsc, watch};

use crate::cli::{CheckArgs, ConfigArgs, GenerateArgs, Output, Plan, ServeArgs, SimulateArgs};
use crate::config::{self, Config, ConfigError};
use crate::eval::snapshot::{Checkpoint, KnownGroups, Published, Snapshot};
use crate::eval::State;
use crate::export::{Exporter, Flags};
use crate::prom::{Client, QueryMetrics};
use crate::report::Report;
use crate::scheduler::{self, Engine, Planner, Request};
use crate::server::{self, AppState, ReloadRequest};
use crate::slo::fuse;
use crate::slo::{PromDuration, MAX_WINDOW};

mod validate;

pub use validate::validate;

/// Bad usage found before any work: exits 64.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Loads the config and applies command-line overrides.
fn load(args: &ConfigArgs) -> Result<Config, ConfigError> {
    let mut config = config::load(&args.config_file)?;
    if let Some(url) = &args.prometheus_url {
        let problems = config::check_url_flag(url);
        if !problems.is_empty() {
            return Err(ConfigError {
                source_name: "--prometheus.url".into(),
                problems,
            });
        }
        config.prometheus.url = url.clone();
    }
    Ok(config)
}

fn engine(config: &Config, plan: Plan, metrics: &QueryMetrics) -> Result<Engine> {
    let client = Client::new(&config.prometheus, metrics.clone())
        .with_context(|| format!("{}: prometheus", config.source))?;
    Ok(Engine {
        slos: config.slos.clone(),
        source: client,
        interval: config.evaluation.interval,
        long_window_interval: config.evaluation.long_window_interval,
        concurrency: config.evaluation.concurrency,
        planner: planner(config, plan),
        launch: config.launch.clone(),
    })
}

/// How evaluations plan their queries, from the config and `--plan`.
fn planner(config: &Config, plan: Plan) -> Planner {
    Planner {
        mode: match plan {
            Plan::Fused => fuse::Mode::Fused,
            Plan::Naive => fuse::Mode::Naive,
        },
        max_series_per_query: config.evaluation.max_series_per_query,
    }
}

/// Installs the TLS crypto provider once per process.
fn init_tls() {
    // Fails only when a provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
    tracing::info!("Shutting down");
}

/// Reloads the config; on any problem keeps the old one and says why.
fn reload(
    args: &ConfigArgs,
    metrics: &QueryMetrics,
    flags: &Flags,
    engines: &watch::Sender<Arc<Engine>>,
) -> Result<(), String> {
    let outcome = load(args)
        .map_err(|e| e.to_string())
        .and_then(|c| engine(&c, args.plan, metrics).map_err(|e| format!("{e:#}")));
    match outcome {
        Ok(new) => {
            tracing::info!(file = %args.config_file.display(), slos = new.slos.len(), "Config reloaded");
            flags.config_reload_ok.store(true, Ordering::Relaxed);
            engines.send_replace(Arc::new(new));
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, "Config reload failed; keeping the previous config");
            flags.config_reload_ok.store(false, Ordering::Relaxed);
            Err(e)
        }
    }
}

/// `slogate serve`.
pub async fn serve(args: ServeArgs) -> Result<()> {
    init_tls();
    let addr = crate::cli::listen_address(&args.listen_address).map_err(UsageError)?;
    let fixed_at = args.at.as_deref().map(parse_at).transpose()?;
    let config = load(&args.config)?;
    let metrics = QueryMetrics::default();
    let (engines, engine_rx) =
        watch::channel(Arc::new(engine(&config, args.config.plan, &metrics)?));
    let published = Arc::new(Published::default());
    let flags = Arc::new(Flags::default());
    let exporter = Arc::new(Exporter::new(published.clone(), &metrics, flags.clone()));
    let (reload_tx, mut reload_rx) = mpsc::channel::<ReloadRequest>(4);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, config = %config.source, slos = config.slos.len(), "Serving");

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let evaluating = tokio::spawn(scheduler::run(
        engine_rx,
        fixed_at,
        published.clone(),
        stopped(stop_rx.clone()),
    ));
    let reloading = {
        let config_args = args.config.clone();
        let flags = flags.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut hup =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            loop {
                let reply = tokio::select! {
                    _ = stop.wait_for(|s| *s) => return,
                    req = reload_rx.recv() => match req { Some(r) => Some(r), None => return },
                    _ = async { match hup.as_mut() { Some(h) => { h.recv().await; } None => std::future::pending().await } } => None,
                };
                let outcome = reload(&config_args, &metrics, &flags, &engines);
                if let Some(reply) = reply {
                    let _ = reply.send(outcome);
                }
            }
        })
    };
    let router = server::router(AppState {
        published,
        exporter,
        reload: reload_tx,
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stop_tx.send(true);
        })
        .await
        .context("HTTP server failed")?;
    let _ = evaluating.await;
    let _ = reloading.await;
    Ok(())
}

/// Parses `--at`: RFC 3339 or Unix seconds.
pub fn parse_at(text: &str) -> Result<DateTime<Utc>, UsageError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| {
            Utc.timestamp_millis_opt((s * 1000.0).round() as i64)
                .single()
        })
        .ok_or_else(|| {
            UsageError(format!(
                "--at {text:?} is neither RFC 3339 (2026-11-22T10:00:00Z) nor Unix seconds"
            ))
        })
}

/// Parses `--launch.checkpoint`.
fn checkpoint_flag(text: Option<&str>) -> Result<Option<(String, PromDuration)>, UsageError> {
    let Some(c) = text else { return Ok(None) };
    c.parse::<PromDuration>()
        .ok()
        .filter(|d| d.as_millis() > 0 && *d <= MAX_WINDOW)
        .map(|d| Some((c.trim().to_string(), d)))
        .ok_or_else(|| {
            UsageError(format!(
                "--launch.checkpoint {c:?} is not a Prometheus duration between 1ms and {MAX_WINDOW} (e.g. 1h, 24h)"
            ))
        })
}

/// What `check` judged: the current state, or one launch checkpoint.
enum Judged {
    Now(Snapshot),
    Checkpoint(Checkpoint, DateTime<Utc>),
}

/// `slogate check`: returns the exit code.
pub async fn check(args: CheckArgs) -> Result<u8> {
    init_tls();
    let now = match &args.at {
        Some(t) => parse_at(t)?,
        None => Utc::now(),
    };
    let checkpoint = checkpoint_flag(args.launch_checkpoint.as_deref())?;
    let config = load(&args.config)?;
    let engine = engine(&config, args.config.plan, &QueryMetrics::default())?;
    let judged = match checkpoint {
        Some((name, after)) => {
            let launch = config.launch.as_ref().ok_or_else(|| {
                UsageError(format!(
                    "--launch.checkpoint needs a launch block (launch.at) in {}",
                    config.source
                ))
            })?;
            let c = scheduler::evaluate_checkpoint(
                &engine.source,
                &engine.slos,
                launch.at,
                (&name, after),
                now,
                engine.concurrency,
                engine.planner,
            )
            .await;
            Judged::Checkpoint(c, launch.at)
        }
        None => {
            let req = Request {
                slos: &engine.slos,
                at: now,
                window: None,
                concurrency: engine.concurrency,
                planner: engine.planner,
            };
            Judged::Now(scheduler::evaluate(&engine.source, &req, &KnownGroups::new()).await)
        }
    };
    let (queries, took) = match &judged {
        Judged::Now(s) => (s.run.queries_sent, s.run.duration),
        Judged::Checkpoint(c, _) => (c.queries_sent, std::time::Duration::ZERO),
    };
    tracing::debug!(queries, took_ms = took.as_millis() as u64, "Evaluated");
    let (report, trend_window, trend_at) = match &judged {
        Judged::Now(s) => (Report::of_snapshot(s), None, now),
        Judged::Checkpoint(c, at) => (Report::of_checkpoint(c, *at), Some(c.after), c.due),
    };
    let pending = report.results.iter().any(|r| r.state == State::Pending);
    let trends = if args.output == Output::Markdown && !pending {
        let (source, slos) = (&engine.source, &engine.slos);
        scheduler::trends(source, slos, trend_window, trend_at, TREND_STEPS).await
    } else {
        Default::default()
    };
    print!("{}", render(args.output, &report, &trends));
    Ok(crate::report::exit_code(report.results))
}

/// Points in a report's burn sparkline.
const TREND_STEPS: u32 = 24;

fn render(output: Output, report: &Report<'_>, trends: &crate::eval::Trends) -> String {
    match output {
        Output::Table => crate::report::table(report),
        Output::Json => format!("{:#}\n", crate::report::status_json(report)),
        Output::Markdown => crate::report::markdown(report, trends),
        Output::Junit => crate::report::junit(report),
    }
}

/// `slogate simulate`.
pub async fn simulate(args: SimulateArgs) -> Result<()> {
    let scenario = args.scenario.parse().map_err(UsageError)?;
    let addr = crate::cli::listen_address(&args.listen_address).map_err(UsageError)?;
    if !crate::simulate::SERVICES.contains(&args.scenario_service.as_str()) {
        return Err(UsageError(format!(
            "--scenario.service {:?} is not one of {}",
            args.scenario_service,
            crate::simulate::SERVICES.join(", ")
        ))
        .into());
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(address = %listener.local_addr()?, %scenario, "Simulating");
    crate::simulate::run(listener, scenario, args.scenario_service, shutdown_signal())
        .await
        .context("simulator failed")
}

/// `slogate generate`: writes every generated file under `--output.dir`, and
/// removes generated files (of SLOs that are gone) it did not write this time.
pub fn generate(args: GenerateArgs) -> Result<()> {
    let config = config::load(&args.config_file)?;
    let links = crate::generate::Links {
        grafana_url: args.grafana_url,
        runbook_url: args.runbook_url,
    };
    let source = args.config_file.display().to_string();
    let spec = crate::generate::Spec {
        slos: &config.slos,
        interval: config.evaluation.interval,
        has_launch: config.launch.is_some(),
    };
    let files = crate::generate::all(&spec, &links, &source);
    let paths: Vec<std::path::PathBuf> = files
        .iter()
        .map(|f| args.output_dir.join(&f.path))
        .collect();
    let mut dirs: Vec<&Path> = paths.iter().filter_map(|p| p.parent()).collect();
    dirs.dedup();
    for dir in dirs {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for entry in
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?
        {
            let path = entry?.path();
            let stale = !paths.contains(&path)
                && std::fs::read_to_string(&path).is_ok_and(|t| crate::generate::is_generated(&t));
            if stale {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            }
        }
    }
    for (file, path) in files.iter().zip(&paths) {
        std::fs::write(path, &file.text)
            .with_context(|| format!("cannot write {}", path.display()))?;
        tracing::debug!(file = %path.display(), "Wrote");
    }
    tracing::info!(files = files.len(), dir = %args.output_dir.display(), "Generated");
    Ok(())
}
