//! A bounded, paced load on `/metrics`: `RATE` requests a second for `LOAD_SECONDS`
//! seconds against `SCRAPE_URL` (loopback only), each sent at its scheduled
//! instant whatever the previous ones are doing (no coordinated omission), and
//! latency reported from that instant. Run by `scripts/bench-serve.sh`:
//!
//!   SCRAPE_URL=http://127.0.0.1:10510/metrics RATE=500 LOAD_SECONDS=20 \
//!     cargo bench --bench scrape_load

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, Semaphore};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[tokio::main]
async fn main() {
    let url = std::env::var("SCRAPE_URL").unwrap_or_default();
    if url.is_empty() {
        // `cargo bench` runs every bench target; this one needs a server.
        println!("scrape_load: set SCRAPE_URL (see scripts/bench-serve.sh); nothing to do");
        return;
    }
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "SCRAPE_URL must be on 127.0.0.1, got {url}"
    );
    let rate: u32 = env("RATE", 500);
    let seconds: u32 = env("LOAD_SECONDS", 20).min(300);
    let gzip = env("GZIP", true);
    let total = rate * seconds;
    // reqwest is built without a default TLS provider (plain HTTP here anyway).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    // At most this many in flight: a stalled server cannot make the load unbounded.
    let in_flight = Arc::new(Semaphore::new(256));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let failures = Arc::new(Mutex::new(0u32));
    let bytes = Arc::new(Mutex::new(0u64));
    let start = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let due = start + Duration::from_secs_f64(f64::from(i) / f64::from(rate));
        tokio::time::sleep_until(due.into()).await;
        let permit = in_flight.clone().acquire_owned().await.expect("semaphore");
        let (client, url) = (client.clone(), url.clone());
        let (latencies, failures, bytes) = (latencies.clone(), failures.clone(), bytes.clone());
        tasks.push(tokio::spawn(async move {
            let mut req = client.get(&url);
            if gzip {
                req = req.header("Accept-Encoding", "gzip");
            }
            let outcome = match req.send().await {
                Ok(r) if r.status().is_success() => r.bytes().await.ok(),
                _ => None,
            };
            let took = due.elapsed();
            match outcome {
                Some(body) => {
                    latencies.lock().await.push(took);
                    *bytes.lock().await += body.len() as u64;
                }
                None => *failures.lock().await += 1,
            }
            drop(permit);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let wall = start.elapsed();
    let mut l = latencies.lock().await.clone();
    l.sort();
    let failures = *failures.lock().await;
    if l.is_empty() {
        println!("scrape_load: every one of {total} requests failed");
        std::process::exit(1);
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "scrape_load: {} ok, {failures} failed in {:.1} s ({:.0}/s asked, {:.0}/s done); \
         latency p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} bytes a response{}",
        l.len(),
        wall.as_secs_f64(),
        f64::from(rate),
        l.len() as f64 / wall.as_secs_f64(),
        ms(percentile(&l, 0.50)),
        ms(percentile(&l, 0.90)),
        ms(percentile(&l, 0.99)),
        ms(l[l.len() - 1]),
        *bytes.lock().await / l.len() as u64,
        if gzip { " (gzip asked)" } else { "" },
    );
}
