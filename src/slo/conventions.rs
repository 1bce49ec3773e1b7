//! Every metric, label and query-part name slogate writes or reads, spelled once.

/// Exported gauges and counters (SPEC "Exported metrics").
pub mod metric {
    pub const SLO_OBJECTIVE: &str = "slogate_slo_objective_ratio";
    pub const SLO_SLI: &str = "slogate_slo_sli_ratio";
    pub const SLO_BUDGET_REMAINING: &str = "slogate_slo_error_budget_remaining_ratio";
    pub const SLO_BURN_RATE: &str = "slogate_slo_burn_rate";
    pub const SLO_EVENTS: &str = "slogate_slo_events";
    pub const SLO_LATENCY: &str = "slogate_slo_latency_seconds";
    pub const SLO_STATE: &str = "slogate_slo_state";
    pub const SLO_READY: &str = "slogate_slo_ready";
    pub const SLO_VALUE: &str = "slogate_slo_value";
    /// A latency SLO's threshold: dashboards draw each SLO's own line.
    pub const SLO_LATENCY_THRESHOLD: &str = "slogate_slo_latency_threshold_seconds";
    /// The burn rate over `window` at which an enabled alert tier fires.
    pub const SLO_BURN_RATE_THRESHOLD: &str = "slogate_slo_burn_rate_threshold";
    /// A figure now over the same figure in the baseline (1: unchanged).
    pub const SLO_BASELINE_RATIO: &str = "slogate_slo_baseline_ratio";
    /// 1 when the SLO regressed against its baseline.
    pub const SLO_BASELINE_REGRESSION: &str = "slogate_slo_baseline_regression";
    /// How much of a calendar SLO's period has gone by, 0-1.
    pub const SLO_PERIOD_ELAPSED: &str = "slogate_slo_period_elapsed_ratio";
    /// A calendar SLO's SLI at the end of its period at the last day's pace.
    pub const SLO_PROJECTED_SLI: &str = "slogate_slo_projected_sli_ratio";
    /// Exclusions (maintenance) the result's windows overlap; their reasons
    /// are in the JSON API and on the status page.
    pub const SLO_EXCLUSIONS: &str = "slogate_slo_exclusions";
    /// Events the exclusions left out of the SLO window, all and bad.
    pub const SLO_EXCLUDED_EVENTS: &str = "slogate_slo_excluded_events";
    pub const SLO_EXCLUDED_BAD_EVENTS: &str = "slogate_slo_excluded_bad_events";
    pub const SERVICE_READY: &str = "slogate_service_ready";
    pub const READY: &str = "slogate_ready";
    pub const LAUNCH_CHECKPOINT_STATE: &str = "slogate_launch_checkpoint_state";
    pub const LAUNCH_SCORE: &str = "slogate_launch_score_ratio";
    pub const PROMETHEUS_UP: &str = "slogate_prometheus_up";
    /// Registered without `_total`: the client library appends it to counters.
    pub const QUERIES: &str = "slogate_queries";
    pub const QUERY_DURATION: &str = "slogate_query_duration_seconds";
    /// Registered without `_total`: samples Prometheus read for slogate's queries.
    pub const QUERY_SAMPLES: &str = "slogate_query_samples";
    pub const EVALUATION_DURATION: &str = "slogate_evaluation_duration_seconds";
    pub const LAST_EVALUATION: &str = "slogate_last_evaluation_timestamp_seconds";
    pub const CONFIG_RELOAD_OK: &str = "slogate_config_last_reload_successful";
    /// Registered without `_info`: the client library appends it to info metrics.
    pub const BUILD: &str = "slogate_build";
}

/// Label names on exported series.
pub mod label {
    pub const SLO: &str = "slo";
    pub const SERVICE: &str = "service";
    pub const WINDOW: &str = "window";
    pub const QUANTILE: &str = "quantile";
    pub const STATE: &str = "state";
    pub const CHECKPOINT: &str = "checkpoint";
    pub const OUTCOME: &str = "outcome";
    /// A baseline figure (`error_ratio_1h`, `p95_5m`, ...).
    pub const FIGURE: &str = "figure";
    /// The shard of a sharded `serve`, on its roll-up gauges.
    pub const SHARD: &str = "shard";
    pub const VERSION: &str = "version";
    pub const REVISION: &str = "revision";
    /// Tags each half of a combined query (`bad`, `good`, `total`); never exported.
    pub const QUERY_PART: &str = "slogate_part";
    /// Tags each quantile of a combined latency query; never exported.
    pub const QUERY_QUANTILE: &str = "slogate_quantile";
    /// Tells apart the spans of a window split by exclusions inside one query.
    pub const QUERY_SPAN: &str = "slogate_span";
    /// The named datasource of an SLO's series (not on the default's), and of
    /// `slogate_prometheus_up`. Not reserved: only an SLO that names a
    /// datasource may not use it as a label of its own.
    pub const DATASOURCE: &str = "datasource";
    /// Labels slogate owns: a `group_by` or static label may not reuse them.
    pub const RESERVED: [&str; 8] = [
        SLO,
        QUERY_SPAN,
        WINDOW,
        QUANTILE,
        STATE,
        FIGURE,
        QUERY_PART,
        QUERY_QUANTILE,
    ];
}

/// Values of `slogate_queries_total{outcome}`.
pub mod outcome {
    pub const SUCCESS: &str = "success";
    pub const ERROR: &str = "error";
}

/// Generated recording rules (`level:metric:operations`).
pub mod record {
    /// Bad events over the last 5 minutes, per group: the base of long windows.
    pub const BAD_5M: &str = "slo:sli_bad:increase5m";
    /// All events over the last 5 minutes, per group.
    pub const TOTAL_5M: &str = "slo:sli_total:increase5m";
    /// Bad events over a page tier's long window (uptime SLOs: failed scrapes);
    /// the window is appended.
    pub const BAD_EVENTS_PREFIX: &str = "slo:sli_bad:events";
    /// Error ratio over a window: the window (`5m`, `30d`) is appended.
    pub const ERROR_RATIO_PREFIX: &str = "slo:sli_error:ratio_rate";
}

/// Generated alert names (part of the contract, SPEC "Generated alerts").
pub mod alert {
    pub const FAST_BURN: &str = "SLOFastBurn";
    pub const SLOW_BURN: &str = "SLOSlowBurn";
    pub const NOT_READY: &str = "SLONotReady";
    pub const MISSING_DATA: &str = "SLOMissingData";
    /// A checklist probe has been false for a while (not in SPEC's first table).
    pub const PROBE_FAILING: &str = "SLOProbeFailing";
    pub const SLOGATE_DOWN: &str = "SlogateDown";
    pub const PROMETHEUS_UNREACHABLE: &str = "SlogatePrometheusUnreachable";
    pub const EVALUATION_STALE: &str = "SlogateEvaluationStale";
    /// Label Alertmanager routes and inhibits on.
    pub const SEVERITY: &str = "severity";
}

/// Grafana dashboards (uids are stable: links in alerts point at them).
pub mod dashboard {
    pub const OVERVIEW_UID: &str = "slogate-overview";
    pub const DETAIL_UID: &str = "slogate-slo-detail";
}

/// The job name slogate is scraped under (self-health alerts select on it).
pub const SLOGATE_JOB: &str = "slogate";
