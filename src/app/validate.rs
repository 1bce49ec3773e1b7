//! `slogate validate`: the config and every query it implies; with a URL, also that
//! every selector matches series in its SLO window and latency thresholds are bucket
//! boundaries.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

use super::init_tls;
use crate::cli::ValidateArgs;
use crate::config::{Config, ConfigError, Problem};
use crate::prom::{Client, QueryMetrics};
use crate::scheduler::{self, Planner, Request, Routed};
use crate::slo::fuse::GroupNote;
use crate::slo::promql::QueryKind;
use crate::slo::Indicator;

/// What `validate` found against a live server.
struct LiveFindings {
    errors: Vec<Problem>,
    warnings: Vec<Problem>,
}

async fn check_live(
    config: &Config,
    clients: &Routed<Client>,
    skip: &std::collections::BTreeSet<String>,
) -> LiveFindings {
    let mut found = LiveFindings {
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    for (i, slo) in config.slos.iter().enumerate() {
        let datasource = slo
            .datasource
            .as_deref()
            .unwrap_or(crate::config::DEFAULT_DATASOURCE);
        if skip.contains(datasource) {
            continue;
        }
        let client = clients.of(slo);
        let path = format!("slos[{i}].sli");
        for crate::slo::Source {
            field,
            promql: selector,
            may_be_empty,
        } in slo.indicator.sources()
        {
            let problem = |message: String| Problem {
                path: format!("{path}.{field}"),
                message,
            };
            // Series seen anywhere in the SLO's window count: a quiet error counter
            // or a service restarted an hour ago still matches.
            let probe = if field == "threshold.query" {
                format!("count({selector})")
            } else {
                format!("count(last_over_time({selector}[{}]))", slo.window)
            };
            match client.query(&probe, None).await {
                Ok(s) if s.is_empty() && may_be_empty => found.warnings.push(problem(format!(
                    "{selector:?} matches no series in the last {}: fine for a counter of errors \
                     or misses before the first one (it counts as zero); check the name otherwise",
                    slo.window
                ))),
                Ok(s) if s.is_empty() => found.errors.push(problem(format!(
                    "{selector:?} matches no series in the last {} on {}",
                    slo.window,
                    client.base_url()
                ))),
                Ok(_) => {}
                Err(e) => found
                    .errors
                    .push(problem(format!("cannot check {selector:?}: {e}"))),
            }
        }
        check_buckets(slo, &path, client, &mut found).await;
        check_labels(slo, &path, client, &mut found).await;
    }
    found
}

/// Labels an SLO reads that no series of its metric carries in the SLO window:
/// a `group_by` label (every group would collapse into one blank group that
/// passes) or a matcher that needs a value (it can never match, and the SLI reads
/// 100 %). Both make `check` wrong, so both are errors. A metric with no series
/// at all is left to the selector check above.
async fn check_labels(
    slo: &crate::slo::Slo,
    path: &str,
    client: &Client,
    found: &mut LiveFindings,
) {
    use crate::slo::{MatchOp, Selector};
    let window = slo.window;
    let mut asked = std::collections::BTreeSet::new();
    for source in slo.indicator.sources() {
        if source.field == "threshold.query" {
            continue;
        }
        let Ok(selector) = Selector::parse(&source.promql) else {
            continue;
        };
        let metric = selector.name.clone();
        let needs_value = selector.matchers.iter().filter(|m| match m.op {
            MatchOp::Equal => !m.value.is_empty(),
            MatchOp::Regex => {
                crate::slo::anchored::anchored(&m.value).is_some_and(|r| !r.is_match(""))
            }
            MatchOp::NotEqual | MatchOp::NotRegex => false,
        });
        let mut labels: Vec<(String, Option<String>, String)> = slo
            .group_by
            .iter()
            .map(|g| {
                (
                    g.clone(),
                    None,
                    format!("{}.group_by", path.trim_end_matches(".sli")),
                )
            })
            .collect();
        labels.extend(needs_value.map(|m| {
            (
                m.name.clone(),
                Some(m.text.clone()),
                format!("{path}.{}", source.field),
            )
        }));
        for (label, matcher, at) in labels {
            if !asked.insert((metric.clone(), label.clone())) {
                continue;
            }
            let carried = format!("count(last_over_time({metric}{{{label}!=\"\"}}[{window}]))");
            if !client
                .query(&carried, None)
                .await
                .is_ok_and(|s| s.is_empty())
            {
                continue;
            }
            // Only for a label found missing: one series of the metric, to say
            // which labels it does have (none at all is the selector check's).
            let any = format!("topk(1, last_over_time({metric}[{window}]))");
            let Some(example) = client
                .query(&any, None)
                .await
                .ok()
                .and_then(|s| s.into_iter().next())
            else {
                continue;
            };
            let has: Vec<&str> = example
                .labels
                .keys()
                .map(String::as_str)
                .filter(|l| *l != "__name__")
                .collect();
            let message = match matcher {
                None => format!(
                    "group_by label {label:?} is on no series of {metric} in the last {window}: every \
                     group would collapse into one blank group (a series has: {})",
                    has.join(", ")
                ),
                Some(m) => format!(
                    "{m} can never match: no series of {metric} in the last {window} has the label \
                     {label:?} (a series has: {})",
                    has.join(", ")
                ),
            };
            found.errors.push(Problem { path: at, message });
        }
    }
}

/// A latency SLO's threshold must be a bucket boundary the generated rules can
/// read: every request would count as slow otherwise.
async fn check_buckets(
    slo: &crate::slo::Slo,
    path: &str,
    client: &Client,
    found: &mut LiveFindings,
) {
    if let Indicator::Latency {
        histogram,
        threshold,
    } = &slo.indicator
    {
        let q = format!(
            "count by (le) (last_over_time({}[{}]))",
            histogram.render("_bucket", &[]),
            slo.window
        );
        if let Ok(samples) = client.query(&q, None).await {
            let bounds: Vec<f64> = samples
                .iter()
                .filter_map(|s| s.labels.get("le").and_then(|v| v.parse().ok()))
                .collect();
            let t = threshold.as_secs_f64();
            if !bounds.is_empty() && !bounds.iter().any(|b| (b - t).abs() < 1e-9) {
                let mut sorted = bounds.clone();
                sorted.sort_by(f64::total_cmp);
                sorted.dedup();
                let list: Vec<String> = sorted.iter().map(|b| b.to_string()).collect();
                // Every request would count as slow: an error, not a warning.
                found.errors.push(Problem {
                    path: format!("{path}.latency.threshold"),
                    message: format!(
                        "{threshold} ({t}s) is not a bucket boundary of {}; its buckets: {}",
                        histogram.name,
                        list.join(", ")
                    ),
                });
            }
            // The bucket exists by value but the rules' le matcher cannot read it.
            let unreadable = samples
                .iter()
                .filter_map(|s| s.labels.get("le"))
                .filter(|le| le.parse::<f64>().is_ok_and(|b| (b - t).abs() < 1e-9))
                .find(|le| !crate::slo::promql::le_matches(threshold.as_millis(), le));
            if let Some(le) = unreadable {
                found.errors.push(Problem {
                    path: format!("{path}.latency.threshold"),
                    message: format!(
                        "the bucket at {threshold} is written le={le:?}, which the generated \
                         rules cannot match; choose a threshold whose bucket is written exactly"
                    ),
                });
            }
        }
    }
}

/// Notes on how each SLO's burn alerts were fitted: a factor capped so that a
/// total outage still pages, a window with fewer tiers than the workbook's.
fn tier_notes(config: &Config) -> Vec<Problem> {
    let mut notes = Vec::new();
    for (i, slo) in config.slos.iter().enumerate() {
        let Some(objective) = &slo.objective else {
            continue;
        };
        let tiers = slo.tiers();
        if !tiers
            .iter()
            .any(|t| t.severity == crate::slo::Severity::Page)
        {
            notes.push(Problem {
                path: format!("slos[{i}]"),
                message: format!(
                    "no page tier fits a {} window at objective {}%: SLOFastBurn is not generated",
                    slo.window,
                    objective.percent_text()
                ),
            });
        }
        for t in tiers {
            if let Some(from) = t.capped_from {
                notes.push(Problem {
                    path: format!("slos[{i}].objective"),
                    message: format!(
                        "{} tier {}/{}: burn factor capped from {from}x to {}x so that a total \
                         outage crosses it (at most {}% errors against a budget of {})",
                        t.severity.as_str(),
                        t.long,
                        t.short,
                        crate::eval::short_number(t.factor),
                        crate::slo::MAX_THRESHOLD_ERROR_RATIO * 100.0,
                        objective.budget_text()
                    ),
                });
            }
        }
    }
    notes
}

/// What one evaluation of `config` reads, measured by running its plan once now
/// (Prometheus' `stats=all`): queries and samples of windows under a day (read
/// every interval by `serve`) and of a day or more (every long-window interval);
/// then one line per metric whose reads are fused, or left per SLO, and why.
async fn plan_cost(
    config: &Config,
    slos: &[std::sync::Arc<crate::slo::Slo>],
    client: &Client,
    planner: Planner,
) -> Vec<String> {
    let day = crate::slo::PromDuration::from_secs(86400);
    let req = Request {
        slos,
        at: chrono::Utc::now(),
        window: None,
        concurrency: config.evaluation.concurrency,
        planner,
    };
    let (fusion, width_queries, width_samples) = scheduler::plan_now(client, &req).await;
    let (mut short, mut long) = ((width_queries, width_samples), (0usize, 0u64));
    let mut unknown = 0;
    for job in fusion.jobs.values() {
        let is_long = matches!(job.kind, QueryKind::Events(w) if w >= day);
        let slot = if is_long { &mut long } else { &mut short };
        for promql in &job.sent {
            slot.0 += 1;
            match client.query_costed(promql, None).await {
                Ok((_, Some(cost))) => slot.1 += cost.samples,
                _ => unknown += 1,
            }
        }
    }
    let e = &config.evaluation;
    let per_minute = |every: std::time::Duration, samples: u64| {
        samples as f64 * 60.0 / every.as_secs_f64().max(1.0)
    };
    let steady = per_minute(e.interval, short.1)
        + per_minute(e.long_window_interval.max(e.interval), long.1);
    let mut text = format!(
        "plan: {} queries per evaluation reading {} samples now ({} queries, {} samples under a day; \
         {} queries, {} samples of a day or more); serve reads about {:.0} samples a minute",
        short.0 + long.0,
        short.1 + long.1,
        short.0,
        short.1,
        long.0,
        long.1,
        steady
    );
    if unknown > 0 {
        text.push_str(&format!(" ({unknown} queries reported no statistics)"));
    }
    let mut lines = vec![text];
    lines.extend(group_lines(&fusion.groups, planner.max_series_per_query));
    lines
}

/// One line per metric the planner looked at: fused (how many SLOs share each
/// window's query, the labels kept, the series returned) or left per SLO.
fn group_lines(groups: &[GroupNote], max: usize) -> Vec<String> {
    let mut by_metric: BTreeMap<(&str, bool), Vec<&GroupNote>> = BTreeMap::new();
    for g in groups {
        by_metric.entry((&g.metric, g.fused)).or_default().push(g);
    }
    by_metric
        .into_iter()
        .map(|((metric, fused), notes)| {
            let windows: Vec<String> = notes.iter().map(|g| g.window.to_string()).collect();
            let slos = notes.iter().map(|g| g.slos).max().unwrap_or(0);
            let width = notes.iter().filter_map(|g| g.width).max();
            let by = notes.first().map(|g| g.by.join(", ")).unwrap_or_default();
            if fused {
                format!(
                    "plan: fused {metric}: up to {slos} SLOs share one query per window ({}) by ({by}), {} series",
                    windows.join(", "),
                    width.unwrap_or(0)
                )
            } else {
                let why = match width {
                    Some(w) => format!("{w} series > evaluation.max_series_per_query {max}"),
                    None => "its width is unknown".to_string(),
                };
                format!(
                    "plan: not fused {metric} over {}: {why}; one query per SLO",
                    windows.join(", ")
                )
            }
        })
        .collect()
}

/// `slogate validate`: returns the exit code (0 or 64).
pub async fn validate(args: ValidateArgs) -> Result<u8> {
    init_tls();
    let ValidateArgs {
        config: args,
        offline,
        web_config_file,
    } = args;
    if let Some(path) = &web_config_file {
        let web = crate::server::web::load(path).map_err(super::UsageError)?;
        if let Some(tls) = &web.tls {
            crate::server::web::server_config(tls).map_err(super::UsageError)?;
        }
        println!("{}: OK (web config)", path.display());
    }
    let config = super::load(&args)?;
    let source = args.config_file.display().to_string();
    for note in tier_notes(&config) {
        println!("{source}: {}: note: {}", note.path, note.message);
    }
    if offline {
        println!(
            "{source}: OK ({} SLOs; not checked against Prometheus: --offline)",
            config.slos.len()
        );
        return Ok(0);
    }
    let client = Client::new(&config.prometheus, QueryMetrics::default())
        .with_context(|| format!("{source}: prometheus"))?;
    let mut clients = Routed::single(client);
    for (name, settings) in &config.datasources {
        let client = Client::new(settings, QueryMetrics::default())
            .with_context(|| format!("{source}: datasources.{name}"))?;
        clients.named.insert(name.clone(), client);
    }
    // Only the datasources some SLO reads.
    let used = clients.partition(&config.slos);
    // The config's own servers may be out of reach from where validate runs (a
    // laptop, CI): say so rather than fail, check the SLOs of the others, and
    // never say the unreachable ones' selectors were checked. A server named by
    // the flag (the default datasource's) must answer.
    let mut unreachable = std::collections::BTreeSet::new();
    for (name, _) in &used {
        let is_default = *name == crate::config::DEFAULT_DATASOURCE;
        if is_default && args.prometheus_url.is_some() {
            continue;
        }
        if let Err(e) = clients.by_name(name).query("vector(1)", None).await {
            if e.is_unreachable() {
                let (field, hint) = if is_default {
                    (
                        "prometheus.url".to_string(),
                        "--prometheus.url to check against another server, ",
                    )
                } else {
                    (format!("datasources.{name}.url"), "")
                };
                println!(
                    "{source}: {field}: warning: not checked against Prometheus: {e} \
                     ({hint}--offline to skip)"
                );
                unreachable.insert(name.to_string());
            }
        }
    }
    let used: Vec<_> = used
        .into_iter()
        .filter(|(name, _)| !unreachable.contains(*name))
        .collect();
    if used.is_empty() {
        println!(
            "{source}: OK ({} SLOs; not checked against Prometheus)",
            config.slos.len()
        );
        return Ok(0);
    }
    let skipped = config.slos.len() - used.iter().map(|(_, s)| s.len()).sum::<usize>();
    let found = check_live(&config, &clients, &unreachable).await;
    for w in &found.warnings {
        println!("{source}: {}: warning: {}", w.path, w.message);
    }
    if found.errors.is_empty() {
        let planner = super::planner(&config, args.plan);
        for (name, slos) in &used {
            let client = clients.by_name(name);
            for line in plan_cost(&config, slos, client, planner).await {
                match used.len() {
                    1 => println!("{source}: {line}"),
                    _ => println!("{source}: datasource {name}: {line}"),
                }
            }
        }
        let against: Vec<String> = used
            .iter()
            .map(|(name, _)| clients.by_name(name).base_url().to_string())
            .collect();
        let unchecked = match skipped {
            0 => String::new(),
            n => format!("; {n} not checked: their datasource is unreachable"),
        };
        println!(
            "{source}: OK ({} SLOs{unchecked}) against {}",
            config.slos.len(),
            against.join(", ")
        );
        Ok(0)
    } else {
        Err(ConfigError {
            source_name: source,
            problems: found.errors,
        }
        .into())
    }
}
