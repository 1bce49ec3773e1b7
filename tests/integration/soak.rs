//! The fault suite: `serve` under repeated Prometheus outages, a reload storm,
//! a slow and a hung Prometheus, and a scrape load, each measured. The tests run
//! a short version; `scripts/soak.sh` runs the full one (`SLOGATE_SOAK=full`)
//! and prints the figures. Everything listens on 127.0.0.1 and every loop is
//! bounded in count and time.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{get, http, post, wait_for, Prometheus, Simulator, Slogate};

fn full() -> bool {
    std::env::var("SLOGATE_SOAK").is_ok_and(|v| v == "full")
}

/// A figure for the report (`scripts/soak.sh` collects these lines).
fn figure(name: &str, value: impl std::fmt::Display) {
    println!("SOAK {name}: {value}");
}

/// A loopback TCP proxy in front of Prometheus that can be cut (connections
/// refused and open ones dropped), restored, and slowed (each answer held back).
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        let (cut, delay_ms, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicBool::new(false)),
        );
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (c, d, s, o) = (cut.clone(), delay_ms.clone(), stop.clone(), open.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                if c.load(Ordering::Relaxed) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                {
                    let mut open = o.lock().unwrap_or_else(|e| e.into_inner());
                    open.retain(|s| s.peer_addr().is_ok());
                    open.extend(
                        [client.try_clone(), server.try_clone()]
                            .into_iter()
                            .flatten(),
                    );
                }
                // Each request the client sends arms a delay; the first bytes of
                // the answer wait for it (HTTP/1.1 keep-alive: one answer per
                // request, so every answer is held back, not only the first).
                let asked = Arc::new(AtomicBool::new(false));
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                    continue;
                };
                let up = asked.clone();
                std::thread::spawn(move || {
                    relay(client, server, || up.store(true, Ordering::Relaxed))
                });
                let delay = d.clone();
                std::thread::spawn(move || {
                    relay(s2, c2, || {
                        if asked.swap(false, Ordering::Relaxed) {
                            let ms = delay.load(Ordering::Relaxed);
                            std::thread::sleep(Duration::from_millis(ms));
                        }
                    })
                });
            }
        });
        Self {
            port,
            cut,
            delay_ms,
            open,
            stop,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::Relaxed);
        if cut {
            for s in self
                .open
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .drain(..)
            {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.set_cut(true);
    }
}

/// Copies `from` to `to` until either side closes, calling `before` ahead of
/// each chunk.
fn relay(mut from: TcpStream, mut to: TcpStream, before: impl Fn()) {
    let mut buf = [0u8; 65536];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        before();
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

const SLOS: &str = "  - name: availability
    objective: 99.9
    group_by: [service]
    sli: {ratio: {errors: 'http_requests_total{code=~\"5..\"}', total: http_requests_total}}
  - name: latency
    objective: 95
    group_by: [service]
    sli: {latency: {histogram: http_request_duration_seconds, threshold: 200ms}}
";

struct Setup {
    _sim: Simulator,
    _prom: Prometheus,
    proxy: Proxy,
    config: PathBuf,
    slogate: Slogate,
    _dir: tempfile::TempDir,
}

fn config_text(url: &str, timeout: &str, slos: &str) -> String {
    format!(
        "apiVersion: slogate/v1\nprometheus: {{url: '{url}', timeout: {timeout}}}\n\
         evaluation: {{interval: 1s}}\ndefaults: {{window: 5m, min_events: 50}}\nslos:\n{slos}"
    )
}

fn setup(timeout: &str) -> Setup {
    let sim = Simulator::start();
    let prom = Prometheus::start(
        &format!(
            "global: {{scrape_interval: 1s}}\nscrape_configs:\n  - job_name: simulate\n    \
             static_configs: [{{targets: ['127.0.0.1:{}']}}]\n",
            sim.port
        ),
        None,
    );
    let proxy = Proxy::start(prom.port);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slogate.yaml");
    std::fs::write(&config, config_text(&proxy.url(), timeout, SLOS)).expect("write");
    let slogate = Slogate::serve(&config, &["--web.enable-lifecycle"]);
    wait_for("a judged evaluation", Duration::from_secs(90), || {
        let s = slogate.status();
        s["results"]
            .as_array()
            .filter(|r| !r.is_empty())
            .filter(|r| {
                r.iter()
                    .all(|x| x["state"] != "unknown" && x["state"] != "insufficient_data")
            })
            .map(|_| ())
    });
    Setup {
        _sim: sim,
        _prom: prom,
        proxy,
        config,
        slogate,
        _dir: dir,
    }
}

fn evaluated_at(s: &Value) -> i64 {
    s["evaluated_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(0, |t| t.timestamp())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Prometheus cut and restored again and again: no evaluation made while it was
/// unreachable says ready, `/metrics` always answers, and judging resumes soon
/// after each restore.
#[test]
fn outages_never_report_ready_and_metrics_stay_up() {
    let cycles = if full() { 100 } else { 4 };
    let s = setup("2s");
    let (mut false_ready, mut unknown_seen, mut scrapes, mut failed) = (0, 0, 0u64, 0u64);
    let mut recoveries = Vec::new();
    for _ in 0..cycles {
        let cut_at = now();
        s.proxy.set_cut(true);
        let until = Instant::now() + Duration::from_secs(4);
        while Instant::now() < until {
            let (code, body) = get(&s.slogate.url("/metrics"));
            scrapes += 1;
            if code != 200 || !body.contains("slogate_ready") {
                failed += 1;
            }
            let status = s.slogate.status();
            // Made wholly during the cut: every query went to a dead server.
            if evaluated_at(&status) > cut_at {
                if status["ready"] == true {
                    false_ready += 1;
                }
                if status["results"]
                    .as_array()
                    .is_some_and(|r| r.iter().all(|x| x["state"] == "unknown"))
                {
                    unknown_seen += 1;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let restored = Instant::now();
        let restored_at = now();
        s.proxy.set_cut(false);
        wait_for("judging resumes", Duration::from_secs(30), || {
            let status = s.slogate.status();
            (evaluated_at(&status) > restored_at
                && status["prometheus_up"] == true
                && status["results"]
                    .as_array()?
                    .iter()
                    .all(|x| x["state"] != "unknown"))
            .then_some(())
        });
        recoveries.push(restored.elapsed().as_secs_f64());
    }
    recoveries.sort_by(f64::total_cmp);
    figure("outage cycles", cycles);
    figure("evaluations reporting ready while unreachable", false_ready);
    figure("all-unknown evaluations seen during outages", unknown_seen);
    figure(
        "/metrics availability during outages",
        format!(
            "{:.3} % ({scrapes} scrapes, {failed} failed)",
            100.0 * (scrapes - failed) as f64 / scrapes as f64
        ),
    );
    figure(
        "recovery after restore (s): median, max",
        format!(
            "{:.2}, {:.2}",
            recoveries[recoveries.len() / 2],
            recoveries[recoveries.len() - 1]
        ),
    );
    assert_eq!(false_ready, 0);
    assert_eq!(failed, 0);
    assert!(unknown_seen > 0, "no evaluation was seen during a cut");
}

/// Reloads alternating valid and invalid configs while `/metrics` is scraped:
/// no SLO lost, no scrape failed, memory flat.
#[test]
fn a_reload_storm_loses_nothing_and_memory_stays_flat() {
    let reloads = if full() { 1000 } else { 60 };
    let s = setup("5s");
    let good = std::fs::read_to_string(&s.config).expect("read");
    let bad = good.replace("objective: 95", "objective: 950");
    let pid = s.slogate.proc.child.id();
    let (mut lost, mut failed_scrapes, mut wrong_answers) = (0, 0, 0);
    let mut rss = Vec::new();
    for i in 0..reloads {
        let valid = i % 2 == 0;
        std::fs::write(&s.config, if valid { &good } else { &bad }).expect("write");
        let (code, _) = post(&s.slogate.url("/-/reload"));
        if code != if valid { 200 } else { 400 } {
            wrong_answers += 1;
        }
        let (code, body) = get(&s.slogate.url("/metrics"));
        if code != 200 {
            failed_scrapes += 1;
        }
        let series = body
            .lines()
            .filter(|l| l.starts_with("slogate_slo_objective_ratio{"))
            .count();
        // Two SLOs for each simulated service, before and after every reload.
        if series == 0 || series % 2 != 0 {
            lost += 1;
        }
        rss.push(rss_kib(pid));
    }
    let window = (reloads / 10).max(5);
    let mean = |xs: &[u64]| xs.iter().sum::<u64>() as f64 / xs.len() as f64;
    let (first, last) = (mean(&rss[..window]), mean(&rss[rss.len() - window..]));
    figure("reloads (alternating valid, invalid)", reloads);
    figure("reload answers not 200 / 400 as expected", wrong_answers);
    figure("scrapes with an SLO missing", lost);
    figure("failed scrapes", failed_scrapes);
    figure(
        "resident memory, first vs last tenth (KiB)",
        format!(
            "{first:.0} vs {last:.0} ({:+.1} %)",
            100.0 * (last - first) / first
        ),
    );
    assert_eq!((wrong_answers, lost, failed_scrapes), (0, 0, 0));
    // The short run's first tenth is still warming up: judge flatness in full.
    if full() {
        assert!((last - first).abs() / first < 0.10, "{first} -> {last}");
    }
}

/// A slow Prometheus (answers after 90 % of the timeout) and a hung one:
/// evaluations never overlap or pile up, and memory stays flat.
#[test]
fn slow_and_hung_prometheus_never_pile_up_evaluations() {
    let seconds = if full() { 120 } else { 12 };
    let s = setup("1s");
    let pid = s.slogate.proc.child.id();
    let mut rss = vec![rss_kib(pid)];
    for (phase, delay_ms) in [("slow", 900u64), ("hung", 600_000)] {
        s.proxy.delay_ms.store(delay_ms, Ordering::Relaxed);
        let until = Instant::now() + Duration::from_secs(seconds / 2);
        let mut seen = Vec::new();
        while Instant::now() < until {
            let status = s.slogate.status();
            seen.push(evaluated_at(&status));
            let metrics = get(&s.slogate.url("/metrics")).1;
            assert!(metrics.contains("slogate_ready"), "{metrics}");
            std::thread::sleep(Duration::from_millis(250));
        }
        seen.dedup();
        // One evaluation at a time: published instants only move forward, and
        // no more often than the 1 s interval allows.
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "{phase}: {seen:?}");
        assert!(seen.len() as u64 <= seconds / 2 + 1, "{phase}: {seen:?}");
        if phase == "hung" {
            let status = s.slogate.status();
            assert_eq!(status["ready"], false, "{status:#}");
            assert_eq!(status["prometheus_up"], false, "{status:#}");
        }
        figure(
            &format!(
                "{phase} Prometheus: evaluations published in {}s",
                seconds / 2
            ),
            seen.len(),
        );
        rss.push(rss_kib(pid));
    }
    s.proxy.delay_ms.store(0, Ordering::Relaxed);
    s.proxy.set_cut(true);
    s.proxy.set_cut(false);
    let back = now();
    wait_for(
        "judging resumes after the hang",
        Duration::from_secs(30),
        || {
            let status = s.slogate.status();
            (evaluated_at(&status) > back && status["prometheus_up"] == true).then_some(())
        },
    );
    figure(
        "resident memory before, slow, hung (KiB)",
        format!("{rss:?}"),
    );
    let (first, last) = (rss[0] as f64, rss[rss.len() - 1] as f64);
    assert!(last < first * 1.5 + 8192.0, "memory grew: {rss:?}");
}

/// `/metrics` under a steady request rate from a few threads: latency
/// percentiles and errors.
#[test]
fn metrics_under_load() {
    let (rate, seconds) = if full() { (1000u64, 60u64) } else { (200, 5) };
    let prom = Prometheus::start("scrape_configs: []\n", None);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_probe_config(dir.path(), &prom.url());
    let slogate = Slogate::serve(&config, &[]);
    let url = slogate.url("/metrics");
    let threads = 8u64;
    let per_thread = rate / threads;
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (url, latencies, errors) = (url.clone(), latencies.clone(), errors.clone());
            std::thread::spawn(move || {
                let client = http();
                let interval = Duration::from_secs_f64(1.0 / per_thread as f64);
                let mut mine = Vec::with_capacity((per_thread * seconds) as usize);
                for i in 0..per_thread * seconds {
                    let due = started + interval * i as u32;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let t = Instant::now();
                    let ok = client
                        .get(&url)
                        .send()
                        .ok()
                        .filter(|r| r.status().is_success())
                        .and_then(|r| r.bytes().ok())
                        .is_some();
                    if ok {
                        mine.push(t.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(mine);
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let took = started.elapsed().as_secs_f64();
    let mut l = latencies.lock().unwrap_or_else(|e| e.into_inner()).clone();
    l.sort_by(f64::total_cmp);
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
    let errors = errors.load(Ordering::Relaxed);
    figure(
        "/metrics load",
        format!(
            "{} requests in {took:.1} s ({:.0}/s); p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {errors} errors",
            l.len(),
            l.len() as f64 / took,
            pct(0.5),
            pct(0.99),
            l[l.len() - 1]
        ),
    );
    assert_eq!(errors, 0);
}

fn write_probe_config(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("slogate.yaml");
    std::fs::write(
        &path,
        config_text(
            url,
            "5s",
            "  - name: probe\n    service: platform\n    sli: {threshold: {query: 'vector(1)', op: '<', value: 2}}\n",
        ),
    )
    .expect("write");
    path
}
