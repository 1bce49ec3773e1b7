//! Sharded `serve`: replicas with `--shard.count=2` split the SLOs of one
//! unsharded `serve` between them, with none on both, and adding an SLO moves
//! no other.

use crate::harness::{metric_value, Slogate};
use crate::history::end_rfc3339;
use crate::known_answer::history_prometheus;
use std::collections::{BTreeMap, BTreeSet};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");

/// The SLO series of a `/metrics` page: series (name and labels) to value.
fn slo_series(metrics: &str) -> BTreeMap<String, String> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains("slo=\""))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(series, value)| (series.to_string(), value.to_string()))
        .collect()
}

/// The SLO names a replica reports.
fn slos(s: &Slogate) -> BTreeSet<String> {
    s.status()["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["slo"].as_str().expect("slo").to_string())
        .collect()
}

#[test]
fn two_shards_split_the_slos_of_one_unsharded_serve() {
    let prom = history_prometheus();
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slogate.yaml");
    std::fs::copy(EXAMPLE, &config).expect("copy example");
    let url = format!("--prometheus.url={}", prom.url());
    let at = format!("--at={}", end_rfc3339());
    let whole = Slogate::serve(&config, &[&url, &at]);
    let shards: Vec<Slogate> = (0..2)
        .map(|i| {
            let index = format!("--shard.index={i}");
            Slogate::serve(&config, &[&url, &at, "--shard.count=2", &index])
        })
        .collect();

    let all = slos(&whole);
    assert_eq!(all.len(), 5, "{all:?}");
    let mine: Vec<BTreeSet<String>> = shards.iter().map(slos).collect();
    assert!(mine.iter().all(|m| !m.is_empty()), "{mine:?}");
    assert!(mine[0].is_disjoint(&mine[1]), "{mine:?}");
    assert_eq!(&mine[0] | &mine[1], all);

    // The shards split the load: the samples Prometheus read for their first
    // evaluations add up to the unsharded one's (the example's SLOs read
    // different metrics, so no fused read is split in two).
    let samples = |s: &Slogate| s.status()["cost"]["samples"].as_u64().expect("samples");
    let (total, parts) = (samples(&whole), [samples(&shards[0]), samples(&shards[1])]);
    assert_eq!(parts[0] + parts[1], total, "{parts:?} of {total}");
    assert!(
        parts.iter().all(|p| *p > 0 && *p < total),
        "{parts:?} of {total}"
    );
    println!("SHARD samples per evaluation: unsharded {total}, shards {parts:?}");
    // Roll-ups carry the shard (dashboards: min across shards, max across
    // replicas); unsharded, they carry none.
    for (i, s) in shards.iter().enumerate() {
        let metrics = s.metrics();
        let index = i.to_string();
        assert!(
            metric_value(&metrics, "slogate_ready", &[("shard", &index)]).is_some(),
            "{metrics}"
        );
    }
    assert!(whole
        .metrics()
        .lines()
        .any(|l| l.starts_with("slogate_ready ")));
    let whole_series = slo_series(&whole.metrics());
    let parts: Vec<BTreeMap<String, String>> =
        shards.iter().map(|s| slo_series(&s.metrics())).collect();
    let mut union = parts[0].clone();
    for (series, value) in &parts[1] {
        assert!(
            union.insert(series.clone(), value.clone()).is_none(),
            "{series} exported by both shards"
        );
    }
    assert_eq!(
        union, whole_series,
        "the shards' SLO series are the whole's"
    );

    // A new SLO, first in the list, goes to one shard; every other SLO stays
    // where it was (assignment is by name, not by position).
    let text = std::fs::read_to_string(&config).expect("read").replacen(
        "slos:\n",
        "slos:\n  - name: checkout-errors\n    objective: 99\n    service: checkout\n    sli:\n      ratio:\n        errors: http_requests_total{service=\"checkout\",code=~\"5..\"}\n        total: http_requests_total{service=\"checkout\"}\n",
        1,
    );
    let bigger = dir.path().join("bigger.yaml");
    std::fs::write(&bigger, text).expect("write");
    let after: Vec<BTreeSet<String>> = (0..2)
        .map(|i| {
            let index = format!("--shard.index={i}");
            slos(&Slogate::serve(
                &bigger,
                &[&url, &at, "--shard.count=2", &index],
            ))
        })
        .collect();
    let added: Vec<BTreeSet<String>> = after.iter().zip(&mine).map(|(a, b)| a - b).collect();
    assert_eq!(
        added.iter().map(BTreeSet::len).sum::<usize>(),
        1,
        "the new SLO is on exactly one shard: {added:?}"
    );
    for (a, b) in after.iter().zip(&mine) {
        assert!(a.is_superset(b), "an SLO moved: {b:?} became {a:?}");
    }
}
