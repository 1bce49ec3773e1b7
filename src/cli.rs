//! Command-line surface (SPEC "CLI"); help text lives in the doc comments.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Service-level objectives in, readiness signals out, against a real Prometheus.
#[derive(Debug, Parser)]
#[command(name = "slogate", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log level: error, warn, info, debug or trace.
    #[arg(
        long = "log.level",
        env = "SLOGATE_LOG_LEVEL",
        default_value = "info",
        global = true
    )]
    pub log_level: String,
    /// Log format.
    #[arg(long = "log.format", env = "SLOGATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Logfmt, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate every evaluation.interval and serve /metrics, the status page and the API.
    Serve(ServeArgs),
    /// Evaluate once, print the verdict; exit 0 pass/warn, 1 fail, 2 unknown or insufficient data.
    Check(CheckArgs),
    /// Check the config and every query it implies, and against its Prometheus
    /// (the config's or --prometheus.url) that selectors match series.
    Validate(ValidateArgs),
    /// Write Prometheus rules (and dashboards) generated from the config.
    Generate(GenerateArgs),
    /// Serve realistic application metrics for demos, tests and game days.
    Simulate(SimulateArgs),
    /// Convert Sloth, Pyrra or OpenSLO specs into a slogate config (stdout or
    /// --output.file), naming on stderr every field not carried over; exit 0
    /// when all was carried over, 3 when something was dropped or approximated,
    /// 64 when an input cannot be read.
    Import(ImportArgs),
    /// Record what every SLO measures now (or at --at), for `check --baseline`.
    #[command(subcommand)]
    Baseline(BaselineCommand),
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Evaluate once and write each SLO and group's figures (SLI, error
    /// ratios, event rates, p95/p99 over 5m, 1h and the SLO window) as JSON.
    Save(BaselineSaveArgs),
}

#[derive(Debug, Args)]
pub struct BaselineSaveArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Measure as of this instant: RFC 3339 or Unix seconds (default: now).
    #[arg(long)]
    pub at: Option<String>,
    /// Write the baseline here.
    #[arg(long)]
    pub output: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The spec format [default: from each document's apiVersion/kind, or
    /// Sloth's `version: prometheus/v1`].
    #[arg(long, value_enum)]
    pub from: Option<crate::import::Format>,
    /// Spec files (multi-document YAML and Kubernetes objects are read).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Write the config here instead of stdout.
    #[arg(long = "output.file")]
    pub output_file: Option<PathBuf>,
    /// Import a Sloth raw SLI (a precomputed error ratio) as a threshold probe
    /// on that ratio instead of skipping its SLO.
    #[arg(long = "raw-as-probe")]
    pub raw_as_probe: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Check the config alone, without asking its Prometheus.
    #[arg(long)]
    pub offline: bool,
    /// Check this web config too (TLS, basic auth, headers), as `serve` would
    /// load it.
    #[arg(long = "web.config.file")]
    pub web_config_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The SLO config file (apiVersion: slogate/v1).
    #[arg(
        long = "config.file",
        env = "SLOGATE_CONFIG_FILE",
        default_value = "slogate.yaml"
    )]
    pub config_file: std::path::PathBuf,
    /// Directory to write rules/ (and dashboards/) into.
    #[arg(long = "output.dir", default_value = ".")]
    pub output_dir: std::path::PathBuf,
    /// Instead of files in --output.dir, write one Helm values file holding the
    /// config and the rules and dashboards generated from it, for
    /// `helm upgrade -f FILE` (the chart renders exactly these, and refuses rules
    /// generated for another config).
    #[arg(long = "output.helm-values")]
    pub output_helm_values: Option<std::path::PathBuf>,
    /// Grafana's base URL, for the dashboard_url annotation of alerts
    /// [default: the config's alerting.grafana_url, else http://localhost:3000].
    #[arg(long = "grafana.url", env = "SLOGATE_GRAFANA_URL")]
    pub grafana_url: Option<String>,
    /// Runbook page for SLOs without runbook_url; `#<alertname>` is appended
    /// [default: the config's alerting.runbook_url, else slogate's docs/alerts.md].
    #[arg(long = "runbook.url", env = "SLOGATE_RUNBOOK_URL")]
    pub runbook_url: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// The SLO config file (apiVersion: slogate/v1).
    #[arg(
        long = "config.file",
        env = "SLOGATE_CONFIG_FILE",
        default_value = "slogate.yaml"
    )]
    pub config_file: PathBuf,
    /// Prometheus base URL; overrides prometheus.url of the config (for validate:
    /// also check that every selector matches series there).
    #[arg(long = "prometheus.url", env = "SLOGATE_PROMETHEUS_URL")]
    pub prometheus_url: Option<String>,
    /// Query planning: fused reads each series once per window for every SLO;
    /// naive sends one query per SLO and window (same figures, more reads).
    #[arg(long, value_enum, default_value_t = Plan::Fused)]
    pub plan: Plan,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address to listen on for HTTP (":10510" means every interface).
    #[arg(
        long = "web.listen-address",
        env = "SLOGATE_WEB_LISTEN_ADDRESS",
        default_value = ":10510"
    )]
    pub listen_address: String,
    /// Replay: evaluate as of this fixed instant (RFC 3339 or Unix seconds) on every
    /// interval instead of now; for backtests, demos and tests.
    #[arg(long)]
    pub at: Option<String>,
    /// TLS, client certificates, basic auth and extra headers, in the Prometheus
    /// exporter-toolkit format (`promtool check web-config` checks it too).
    #[arg(long = "web.config.file", env = "SLOGATE_WEB_CONFIG_FILE")]
    pub web_config_file: Option<std::path::PathBuf>,
    /// Allow `POST /-/reload` (off by default, as in Prometheus; SIGHUP always reloads).
    #[arg(long = "web.enable-lifecycle")]
    pub enable_lifecycle: bool,
    /// Split the SLOs across this many replicas (by a stable hash of each SLO's
    /// name); each evaluates and exports only its own.
    #[arg(long = "shard.count", env = "SLOGATE_SHARD_COUNT", default_value_t = 1)]
    pub shard_count: u64,
    /// This replica's shard, 0 to count - 1 [default: the StatefulSet ordinal
    /// ending the host name, e.g. 2 for slogate-2].
    #[arg(long = "shard.index", env = "SLOGATE_SHARD_INDEX")]
    pub shard_index: Option<u64>,
}

/// How queries are planned: fused (SLOs over one metric and window share a
/// query) or naive (one query per SLO and window; for comparison and debugging).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Plan {
    Fused,
    Naive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
    Markdown,
    Junit,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Evaluate as of this instant: RFC 3339 or Unix seconds (default: now).
    #[arg(long)]
    pub at: Option<String>,
    /// Output format: table (terminal), json (SPEC's document), markdown (launch
    /// review report with burn sparklines), junit (one test case per SLO).
    #[arg(long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Judge this launch checkpoint (e.g. 1h, 24h): every SLO over
    /// [launch.at, launch.at + C] as of launch.at + C; pending (exit 2) before then.
    #[arg(long = "launch.checkpoint")]
    pub launch_checkpoint: Option<String>,
    /// Try this launch time (RFC 3339 or Unix seconds) instead of the config's
    /// `launch.at`; without a launch block, its checkpoints are 1h and 24h.
    #[arg(long = "launch.at")]
    pub launch_at: Option<String>,
    /// Compare with a baseline saved by `slogate baseline save`: each result
    /// gets a `baseline` block, and a regression beyond `baseline.tolerance`
    /// turns a pass into warn.
    #[arg(long, conflicts_with_all = ["baseline_at", "launch_checkpoint"])]
    pub baseline: Option<std::path::PathBuf>,
    /// Compare with the figures as of this instant (RFC 3339 or Unix seconds),
    /// read from Prometheus' history instead of a file.
    #[arg(long = "baseline.at", conflicts_with = "launch_checkpoint")]
    pub baseline_at: Option<String>,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Address to serve /metrics and /scenario on.
    #[arg(long = "web.listen-address", default_value = "127.0.0.1:10511")]
    pub listen_address: String,
    /// Starting scenario: healthy, error-burst, latency-regression or cache-cold.
    #[arg(long, default_value = "healthy")]
    pub scenario: String,
    /// The service a regression scenario hits.
    #[arg(long = "scenario.service", default_value = "checkout")]
    pub scenario_service: String,
}

/// Parses `:10510` (every interface) or `host:port`.
pub fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let full = if text.starts_with(':') {
        format!("0.0.0.0{text}")
    } else {
        text.to_string()
    };
    full.parse().map_err(|_| {
        format!("--web.listen-address {text:?} is not host:port (e.g. 127.0.0.1:10510 or :10510)")
    })
}
