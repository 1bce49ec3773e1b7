//! The status page and a detail page as headless Chromium renders them, against
//! the backfilled history: DOM assertions on known answers, no horizontal scroll
//! at phone width, and the screenshots the README shows
//! (`SLOGATE_UPDATE_DOCS=1` writes them to `docs/`).

use std::path::{Path, PathBuf};

use crate::harness::{get, Prometheus, Slogate};
use crate::history::{self, end, end_rfc3339, DAY};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slogate.yaml");
const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs");

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("valid time")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Chromium, headless, with a profile in `dir` (one per argument count, so
/// runs with different flags do not share one).
fn chromium(dir: &Path, args: &[&str]) -> String {
    crate::harness::chromium(&dir.join(format!("chromium-{}", args.len())), args)
}

fn dom(dir: &Path, url: &str) -> String {
    chromium(dir, &["--virtual-time-budget=3000", "--dump-dom", url])
}

/// Serves `html` on a loopback port to at most `requests` requests (each within
/// a few seconds), in a thread.
fn serve_once(html: String, requests: usize) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut served = 0;
        while served < requests && std::time::Instant::now() < deadline {
            let Ok((mut stream, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            };
            served += 1;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let _ = crate::harness::read_http_request(&mut stream);
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                html.len()
            );
            let _ = std::io::Write::write_all(&mut stream, response.as_bytes());
        }
    });
    port
}

/// The page's scroll width and viewport width inside a frame `width` pixels
/// wide. A probe page on another loopback port frames it and reads the frame's
/// layout (Chromium runs with same-origin checks off for this).
fn scroll_width(dir: &Path, url: &str, width: u32) -> (u32, u32) {
    let probe = format!(
        "<!doctype html><html><body style=\"margin:0\">\
         <iframe src=\"{url}\" style=\"width:{width}px;height:900px;border:0\" \
         onload=\"var d=this.contentDocument.documentElement;document.body.setAttribute('data-scroll',d.scrollWidth+'x'+d.clientWidth)\"></iframe>\
         </body></html>"
    );
    // Chromium may ask for a favicon as well.
    let port = serve_once(probe, 2);
    let out = chromium(
        dir,
        &[
            "--disable-web-security",
            "--disable-site-isolation-trials",
            "--disable-features=IsolateOrigins,site-per-process",
            "--virtual-time-budget=5000",
            "--dump-dom",
            &format!("http://127.0.0.1:{port}/probe.html"),
        ],
    );
    let attr = out
        .split("data-scroll=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("the probe page read no layout:\n{out}"));
    let (scroll, client) = attr.split_once('x').expect("scroll x client");
    (
        scroll.parse().expect("scroll width"),
        client.parse().expect("client width"),
    )
}

fn screenshot(dir: &Path, url: &str, name: &str, (w, h): (u32, u32)) -> PathBuf {
    let path = dir.join(name);
    chromium(
        dir,
        &[
            &format!("--window-size={w},{h}"),
            "--virtual-time-budget=3000",
            &format!("--screenshot={}", path.display()),
            url,
        ],
    );
    let size = std::fs::metadata(&path)
        .unwrap_or_else(|e| panic!("no screenshot {name}: {e}"))
        .len();
    assert!(size > 10_000, "{name} is {size} bytes: blank?");
    if std::env::var_os("SLOGATE_UPDATE_DOCS").is_some() {
        std::fs::copy(&path, Path::new(DOCS).join(name)).expect("copy screenshot");
    }
    path
}

/// The attribute `name` of the first element carrying `marker`.
fn attribute(html: &str, marker: &str, name: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in:\n{html}"));
    let tag_start = html[..at].rfind('<').expect("tag start");
    let tag = &html[tag_start..at + html[at..].find('>').expect("tag end")];
    tag.split(&format!("{name}=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        .to_string()
}

#[test]
fn status_and_detail_pages_render_known_answers_on_desktop_and_phone() {
    let prom = Prometheus::start(
        "global: {scrape_interval: 1m}\nscrape_configs: []\n",
        Some(&history::tsdb()),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slogate.yaml");
    let launch = end() - 20 * DAY - 6 * 3600;
    let text = std::fs::read_to_string(EXAMPLE).expect("example config");
    std::fs::write(
        &config,
        format!(
            "{text}launch: {{at: '{}', checkpoints: [1h, 24h, 60d]}}\n",
            rfc3339(launch)
        ),
    )
    .expect("write config");
    let slogate = Slogate::serve(
        &config,
        &[
            &format!("--prometheus.url={}", prom.url()),
            &format!("--at={}", end_rfc3339()),
        ],
    );
    let status = slogate.status();

    // The status page: probes in a checklist, not grid columns; key SLOs marked;
    // the score explained; the replayed instant announced; the timeline with now.
    let page = dom(dir.path(), &slogate.url("/"));
    assert!(
        page.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"),
        "{page}"
    );
    let grid = &page[page.find("id=\"slos\"").expect("grid")..];
    let grid = &grid[..grid.find("</table>").expect("grid end")];
    let header = &grid[..grid.find("</thead>").expect("grid header")];
    assert_eq!(
        header.matches("<th>").count(),
        5,
        "service + 4 SLOs: {header}"
    );
    assert!(!grid.contains("backups-fresh"), "{grid}");
    assert!(
        page.contains("<li data-slo=\"backups-fresh\" data-state=\"pass\">"),
        "{page}"
    );
    assert!(
        page.contains("id=\"score-why\">vetoed by availability/search, latency/catalog, uptime/search, key SLOs<"),
        "{page}"
    );
    assert!(page.contains("id=\"replay\""), "{page}");
    assert!(page.contains("<g id=\"now\">"), "{page}");
    assert!(
        page.contains("<p id=\"next\">Next: <b>T+60d</b> due in 39d 18h"),
        "{page}"
    );
    assert!(
        page.contains("data-checkpoint=\"24h\" data-state=\"fail\""),
        "{page}"
    );
    // Checkout's availability: its budget left in events (allowed minus bad).
    let checkout = status["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["slo"] == "availability" && r["service"] == "checkout")
        .expect("checkout availability");
    let left = checkout["error_budget_remaining_events"]
        .as_f64()
        .expect("budget in events");
    let (bad, total) = crate::known_answer::bad_total("availability", "checkout", 30 * DAY);
    assert!((left - (total * 0.001 - bad)).abs() < 1e-6, "{left}");
    assert!((1000.0..10_000.0).contains(&left), "{left}");
    let shown = format!("{:.2}", left.round() / 1000.0);
    let shown = shown.trim_end_matches('0').trim_end_matches('.');
    assert!(
        page.contains(&format!("budget 84.49% left · {shown}k bad events left")),
        "{page}"
    );

    // serve knows since when each state holds (here: since its first evaluation).
    assert_eq!(checkout["state_since"], end_rfc3339(), "{checkout:#}");
    // Search's target was down for an hour of 30 days: about 3600 s against 2592 s
    // allowed, exactly (allowed - down share) of the window by its scrapes.
    let uptime = status["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["slo"] == "uptime" && r["service"] == "search")
        .expect("search uptime");
    let seconds = uptime["error_budget_remaining_seconds"]
        .as_f64()
        .expect("uptime budget in seconds");
    let (down, scrapes) = crate::known_answer::bad_total("uptime", "search", 30 * DAY);
    let want = (0.001 - down / scrapes) * 30.0 * DAY as f64;
    assert!((seconds - want).abs() < 1e-6, "{seconds} vs {want}");
    assert!(page.contains("downtime over budget by 16m 48s"), "{page}");

    // The detail page of checkout's availability, burning at 20x for 2 hours.
    let detail_url = slogate.url("/slo/availability?service=checkout");
    let (code, _) = get(&detail_url);
    assert_eq!(code, 200);
    let detail = dom(dir.path(), &detail_url);
    let burn_1h = attribute(&detail, "data-name=\"1h\"", "data-last");
    assert!(
        (burn_1h.parse::<f64>().expect("last 1h burn") - 20.0).abs() < 1e-6,
        "{burn_1h}"
    );
    assert_eq!(attribute(&detail, "data-name=\"1h\"", "data-points"), "288");
    assert_eq!(attribute(&detail, "data-name=\"SLI\"", "data-points"), "60");
    let budget: f64 = attribute(&detail, "data-name=\"budget left\"", "data-last")
        .parse()
        .expect("budget");
    let want = checkout["error_budget_remaining"].as_f64().expect("budget");
    assert!(
        (budget - want).abs() < 0.01,
        "burn-down ends at {budget}, API says {want}"
    );
    assert!(
        detail.contains("<tr data-alert=\"SLOFastBurn\" data-now=\"inactive\">"),
        "{detail}"
    );
    assert!(detail.contains("id=\"history\""), "{detail}");
    let (code, body) = get(&slogate.url("/slo/availability?service=nowhere"));
    assert_eq!(code, 404, "{body}");

    // Phone width: no horizontal scroll on either page.
    for url in [slogate.url("/"), detail_url.clone()] {
        let (scroll, client) = scroll_width(dir.path(), &url, 400);
        assert!(
            scroll <= client,
            "{url} scrolls sideways at 400 px: {scroll} > {client}"
        );
    }
    // At 1400 px the grid fits too: no probe columns to push it wider.
    let (scroll, client) = scroll_width(dir.path(), &slogate.url("/"), 1400);
    assert!(scroll <= client, "{scroll} > {client}");

    screenshot(
        dir.path(),
        &slogate.url("/"),
        "status-page.png",
        (1400, 1500),
    );
    screenshot(
        dir.path(),
        &slogate.url("/"),
        "status-page-phone.png",
        (400, 1800),
    );
    screenshot(dir.path(), &detail_url, "detail-page.png", (1400, 1700));
}
