//! Real processes for integration tests: Prometheus from Debian's package and the
//! slogate binary, each on a free loopback port, killed when dropped.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const INSTALL: &str =
    "apt-get update && apt-get install -y --no-install-recommends prometheus prometheus-alertmanager victoria-metrics (or: bash scripts/install-deps.sh)";

/// A binary the tests need, or a panic naming the install command.
pub fn tool(name: &str) -> PathBuf {
    let install = if name == "chromium" {
        "apt-get install -y --no-install-recommends chromium (or: bash scripts/install-deps.sh)"
    } else {
        INSTALL
    };
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} is not installed; install it with: {install}");
}

/// Headless Chromium with a profile at `profile`, plus `args`: its stdout.
pub fn chromium(profile: &Path, args: &[&str]) -> String {
    let out = Command::new(tool("chromium"))
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", profile.display()),
        ])
        .args(args)
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn slogate_bin() -> &'static str {
    env!("CARGO_BIN_EXE_slogate")
}

/// A free port on 127.0.0.1 (bound, then released for the child to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// A child process killed (and reaped) on drop.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, cmd: &mut Command, log: PathBuf) -> Self {
        let file = std::fs::File::create(&log).expect("create log file");
        let child = cmd
            .stdout(Stdio::from(file.try_clone().expect("dup log")))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self { child, log }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends a signal by name (e.g. "HUP") with kill(1).
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{sig} failed");
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn http() -> reqwest::blocking::Client {
    // reqwest is built without a default crypto provider; a second install is a no-op error.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("http client")
}

pub fn get(url: &str) -> (u16, String) {
    match http().get(url).send() {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

pub fn post(url: &str) -> (u16, String) {
    match http().post(url).send() {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().unwrap_or_default())
        }
        Err(e) => (0, e.to_string()),
    }
}

/// Polls `check` every 200 ms until it returns `Some`, or panics after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            started.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A running Prometheus on 127.0.0.1.
pub struct Prometheus {
    pub proc: Proc,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

fn spawn_prometheus(dir: &Path, port: u16) -> Proc {
    let mut cmd = Command::new(tool("prometheus"));
    let web = dir.join("web.yml");
    if web.exists() {
        cmd.arg(format!("--web.config.file={}", web.display()));
    }
    Proc::spawn(
        "prometheus",
        cmd.arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg("--storage.tsdb.retention.time=3650d")
        .arg("--log.level=warn"),
        dir.join(format!("prometheus-{port}.log")),
    )
}

fn wait_ready(proc: &mut Proc, port: u16, web: Option<&str>) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let up = match web {
            // Behind TLS: the port accepting and a moment to settle.
            Some(w) if w.contains("tls_server_config") => {
                let open = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
                if open {
                    std::thread::sleep(Duration::from_millis(500));
                }
                open
            }
            // Behind basic auth: any answer means it is serving.
            Some(_) => matches!(
                get(&format!("http://127.0.0.1:{port}/-/ready")).0,
                200 | 401
            ),
            None => get(&format!("http://127.0.0.1:{port}/-/ready")).0 == 200,
        };
        if up {
            return true;
        }
        if let Ok(Some(_)) = proc.child.try_wait() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A Prometheus web config and the files it names (name, contents).
pub type WebFiles<'a> = (&'a str, &'a [(&'a str, &'a [u8])]);

impl Prometheus {
    /// Starts Prometheus with `scrape_config` (YAML) over `data` (a TSDB directory
    /// to copy in, or none).
    pub fn start(scrape_config: &str, data: Option<&Path>) -> Self {
        Self::start_with_web(scrape_config, data, None)
    }

    /// Like `start`, with a web config (`web.yml` in its directory: files it
    /// names are looked up there).
    pub fn start_with_web(
        scrape_config: &str,
        data: Option<&Path>,
        web: Option<WebFiles<'_>>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        if let Some((text, files)) = web {
            std::fs::write(dir.path().join("web.yml"), text).expect("write web.yml");
            for (name, bytes) in files {
                std::fs::write(dir.path().join(name), bytes).expect("write web file");
            }
        }
        let web_text = web.map(|(t, _)| t.to_string());
        let tsdb = dir.path().join("data");
        std::fs::create_dir_all(&tsdb).expect("mkdir data");
        if let Some(src) = data {
            copy_dir(src, &tsdb);
        }
        std::fs::write(dir.path().join("prometheus.yml"), scrape_config)
            .expect("write prometheus.yml");
        let mut last_log = String::new();
        // Another process may grab the port between probe and bind: retry.
        for _ in 0..3 {
            let port = free_port();
            let mut proc = spawn_prometheus(dir.path(), port);
            if wait_ready(&mut proc, port, web_text.as_deref()) {
                return Self { proc, port, dir };
            }
            last_log = proc.log_text();
            proc.kill();
        }
        panic!("Prometheus did not become ready:\n{last_log}");
    }

    /// Stops the server (its data stays).
    pub fn stop(&mut self) {
        self.proc.kill();
    }

    /// Starts it again on the same port over the same data.
    pub fn restart(&mut self) {
        self.proc.kill();
        self.proc = spawn_prometheus(self.dir.path(), self.port);
        let web = std::fs::read_to_string(self.dir.path().join("web.yml")).ok();
        assert!(
            wait_ready(&mut self.proc, self.port, web.as_deref()),
            "Prometheus did not restart:\n{}",
            self.proc.log_text()
        );
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = dst.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Runs a command from the project root: `(success, stdout + stderr)`.
pub fn run(cmd: &mut Command, what: &str) -> (bool, String) {
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs slogate to completion with a deadline. Output is read while it runs: a
/// child blocks once it writes more than a pipe holds (64 KiB).
pub fn run_slogate(args: &[&str]) -> Output {
    let mut child = Command::new(slogate_bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start slogate");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut out);
            }
            out
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let started = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("slogate {args:?} did not finish within 120s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Output {
        status: child.wait().expect("wait"),
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

/// `slogate validate --offline` of a config that must be refused: it exits 64,
/// and its stderr (the problems) is returned.
pub fn validate_offline_problems(config: &Path) -> String {
    let out = run_slogate(&[
        "validate",
        "--offline",
        &format!("--config.file={}", config.display()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(64), "{stderr}");
    stderr
}

/// A running `slogate serve` on 127.0.0.1.
pub struct Slogate {
    pub proc: Proc,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Slogate {
    /// Starts `serve` with the config at `config_path` and waits for `/-/ready`.
    pub fn serve(config_path: &Path, extra: &[&str]) -> Self {
        Self::serve_on(free_port(), config_path, extra)
    }

    /// Like `serve`, on a port chosen beforehand (so Prometheus can scrape it).
    pub fn serve_on(port: u16, config_path: &Path, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cmd = Command::new(slogate_bin());
        cmd.arg("serve")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .args(extra);
        let proc = Proc::spawn("slogate", &mut cmd, dir.path().join("slogate.log"));
        let s = Self {
            proc,
            port,
            _dir: dir,
        };
        wait_for("slogate /-/ready", Duration::from_secs(60), || {
            (get(&s.url("/-/ready")).0 == 200).then_some(())
        });
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn status(&self) -> serde_json::Value {
        let (code, body) = get(&self.url("/api/v1/status"));
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).expect("status JSON")
    }

    pub fn metrics(&self) -> String {
        let (code, body) = get(&self.url("/metrics"));
        assert_eq!(code, 200, "{body}");
        body
    }
}

/// A running `slogate simulate` on 127.0.0.1.
pub struct Simulator {
    _proc: Proc,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Simulator {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let proc = Proc::spawn(
            "simulate",
            Command::new(slogate_bin())
                .arg("simulate")
                .arg(format!("--web.listen-address=127.0.0.1:{port}")),
            dir.path().join("simulate.log"),
        );
        let s = Self {
            _proc: proc,
            port,
            _dir: dir,
        };
        wait_for("simulate /metrics", Duration::from_secs(30), || {
            (get(&format!("http://127.0.0.1:{port}/metrics")).0 == 200).then_some(())
        });
        s
    }

    pub fn set_scenario(&self, name: &str) {
        let (code, body) = post(&format!(
            "http://127.0.0.1:{}/scenario?name={name}",
            self.port
        ));
        assert_eq!((code, body.trim()), (200, name));
    }
}

/// Value of the series of `name` whose label set contains every `labels` pair.
pub fn metric_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Reads one HTTP/1.1 request from `stream`: its head (request line and headers)
/// as text and its Content-Length body; `None` when the peer closes first. At most
/// 1 MiB.
pub fn read_http_request(stream: &mut std::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use std::io::Read;
    let mut data = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = stream.read(&mut buf).ok().filter(|n| *n > 0)?;
        data.extend_from_slice(&buf[..n]);
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            if data.len() > 1 << 20 {
                return None;
            }
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).into_owned();
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            })
            .unwrap_or(0)
            .min(1 << 20);
        if data.len() >= end + 4 + length {
            return Some((head, data[end + 4..end + 4 + length].to_vec()));
        }
    }
}

/// A single-node VictoriaMetrics on 127.0.0.1 holding the designed history (its
/// HTTP query API is the cluster's vmselect's).
pub struct VictoriaMetrics {
    proc: Proc,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl VictoriaMetrics {
    /// Stops the server (its data stays until the value is dropped).
    pub fn stop(&mut self) {
        self.proc.kill();
    }

    /// Starts it and imports the designed history (`history::openmetrics`).
    pub fn with_history() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut proc = Proc::spawn(
                "victoria-metrics",
                Command::new(tool("victoria-metrics"))
                    .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
                    .arg(format!(
                        "-storageDataPath={}",
                        dir.path().join("data").display()
                    ))
                    .arg("-retentionPeriod=100y")
                    // Answers from what is stored, never from a cache of an
                    // earlier answer.
                    .arg("-search.disableCache")
                    .arg("-loggerLevel=ERROR"),
                dir.path().join(format!("victoria-metrics-{port}.log")),
            );
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(30)
                && get(&format!("http://127.0.0.1:{port}/health")).0 != 200
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            if get(&format!("http://127.0.0.1:{port}/health")).0 == 200 {
                let vm = Self {
                    proc,
                    port,
                    _dir: dir,
                };
                vm.import_history();
                return vm;
            }
            last_log = proc.log_text();
            proc.kill();
        }
        panic!("VictoriaMetrics did not become ready:\n{last_log}");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Posts the history in the Prometheus text format with millisecond
    /// timestamps, in pieces under the server's request size limit, then
    /// waits until every series answers at the end of history.
    fn import_history(&self) {
        let text = crate::history::openmetrics();
        let mut chunk = String::with_capacity(8 << 20);
        let client = http();
        let send = |chunk: &str| {
            let r = client
                .post(format!("{}/api/v1/import/prometheus", self.url()))
                .body(chunk.to_string())
                .send()
                .expect("import history");
            assert!(r.status().is_success(), "import: {}", r.status());
        };
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (sample, seconds) = line.rsplit_once(' ').expect("sample line");
            chunk.push_str(sample);
            chunk.push(' ');
            chunk.push_str(seconds);
            chunk.push_str("000\n");
            if chunk.len() > 8 << 20 {
                send(&chunk);
                chunk.clear();
            }
        }
        send(&chunk);
        let _ = get(&format!("{}/internal/force_flush", self.url()));
        let query = format!(
            "{}/api/v1/query?query=count(up)&time={}",
            self.url(),
            crate::history::end()
        );
        wait_for(
            "the history to be searchable",
            Duration::from_secs(60),
            || {
                let (_, body) = get(&query);
                body.contains("\"4\"").then_some(())
            },
        );
    }
}
