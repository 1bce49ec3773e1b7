//! The one reqwest client: instant queries with a deadline, bounded retries with
//! backoff on transport errors and 5xx, and self-monitoring counters.

use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};

use super::api::{parse_range_response, parse_response, Cost, QueryError, Sample, Series};
use super::{PartialResponse, Settings};
use crate::slo::conventions::{label, outcome};

/// Attempts per query: one try and two retries.
const ATTEMPTS: u32 = 3;
/// First retry waits this long; each later one twice as long.
const BACKOFF: Duration = Duration::from_millis(100);

/// Why the client could not be built or a query failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read {what} {path}: {source}")]
    ReadFile {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid {what}: {detail}")]
    Invalid { what: String, detail: String },
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("cannot reach Prometheus at {url}: {detail}")]
    Transport { url: String, detail: String },
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error("partial response: {0}")]
    Partial(String),
    #[error("answer larger than {0} bytes (prometheus.max_response_bytes); the query reads too many series")]
    TooLarge(u64),
}

impl ClientError {
    /// True when the server could not be reached at all (as opposed to a query
    /// it answered with an error).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Timeout(_) | Self::Transport { .. })
    }
}

/// Self-monitoring of queries: `slogate_queries_total{outcome}` and latency.
#[derive(Debug, Clone)]
pub struct QueryMetrics {
    pub outcomes: Family<Vec<(String, String)>, Counter>,
    pub duration: Histogram,
    /// Samples Prometheus reported reading for slogate's queries (`stats=all`).
    pub samples: Counter,
}

impl Default for QueryMetrics {
    fn default() -> Self {
        let outcomes = Family::<Vec<(String, String)>, Counter>::default();
        // Both series from the start, so rate() of errors is 0 rather than absent.
        for o in [outcome::SUCCESS, outcome::ERROR] {
            outcomes
                .get_or_create(&vec![(label::OUTCOME.to_string(), o.to_string())])
                .inc_by(0);
        }
        Self {
            outcomes,
            // 5 ms to about 20 s
            duration: Histogram::new(exponential_buckets(0.005, 2.0, 13)),
            samples: Counter::default(),
        }
    }
}

impl QueryMetrics {
    fn record(&self, ok: bool, took: Duration) {
        let outcome = if ok { outcome::SUCCESS } else { outcome::ERROR };
        self.outcomes
            .get_or_create(&vec![(label::OUTCOME.to_string(), outcome.to_string())])
            .inc();
        self.duration.observe(took.as_secs_f64());
    }
}

/// The Authorization header from a token or password file, read again when
/// the file changes (tokens rotate); a file that cannot be read keeps the last
/// value it gave, and says so in the log.
#[derive(Debug, Clone)]
struct Credentials {
    path: std::path::PathBuf,
    what: &'static str,
    /// `Bearer ` or `Basic `, and for basic auth the user name.
    scheme: Scheme,
    cached: std::sync::Arc<std::sync::Mutex<(Stamp, HeaderValue)>>,
}

#[derive(Debug, Clone)]
enum Scheme {
    Bearer,
    Basic(String),
}

type Stamp = Option<(std::time::SystemTime, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

impl Credentials {
    fn new(
        what: &'static str,
        path: &std::path::Path,
        scheme: Scheme,
    ) -> Result<Self, ClientError> {
        let value = Self::read(what, path, &scheme)?;
        Ok(Self {
            path: path.to_path_buf(),
            what,
            scheme,
            cached: std::sync::Arc::new(std::sync::Mutex::new((stamp(path), value))),
        })
    }

    fn read(
        what: &'static str,
        path: &std::path::Path,
        scheme: &Scheme,
    ) -> Result<HeaderValue, ClientError> {
        let secret = read_secret(what, path)?;
        match scheme {
            Scheme::Bearer => header_value("bearer token", &format!("Bearer {secret}")),
            Scheme::Basic(user) => {
                let token = base64_encode(format!("{user}:{secret}").as_bytes());
                header_value("basic auth", &format!("Basic {token}"))
            }
        }
    }

    fn current(&self) -> HeaderValue {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        let now = stamp(&self.path);
        if now != cached.0 {
            cached.0 = now;
            match Self::read(self.what, &self.path, &self.scheme) {
                Ok(v) => {
                    tracing::info!(file = %self.path.display(), "Re-read the {}", self.what);
                    cached.1 = v;
                }
                Err(e) => tracing::warn!(error = %e, "Keeping the previous credentials"),
            }
        }
        cached.1.clone()
    }
}

/// A Prometheus API client bound to one server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    credentials: Option<Credentials>,
    max_response_bytes: u64,
    query_url: String,
    base_url: String,
    timeout: Duration,
    partial_response: PartialResponse,
    metrics: QueryMetrics,
}

fn read_secret(what: &'static str, path: &std::path::Path) -> Result<String, ClientError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
        .map_err(|source| ClientError::ReadFile {
            what,
            path: path.display().to_string(),
            source,
        })
}

fn header_value(what: &str, value: &str) -> Result<HeaderValue, ClientError> {
    let mut v = HeaderValue::from_str(value).map_err(|e| ClientError::Invalid {
        what: what.to_string(),
        detail: e.to_string(),
    })?;
    v.set_sensitive(true);
    Ok(v)
}

fn default_headers(settings: &Settings) -> Result<HeaderMap, ClientError> {
    let mut headers = HeaderMap::new();
    for (name, value) in &settings.headers {
        let key = HeaderName::from_bytes(name.as_bytes()).map_err(|e| ClientError::Invalid {
            what: format!("header name {name:?}"),
            detail: e.to_string(),
        })?;
        headers.insert(key, header_value(&format!("header {name}"), value)?);
    }
    Ok(headers)
}

fn credentials(settings: &Settings) -> Result<Option<Credentials>, ClientError> {
    if let Some(path) = &settings.bearer_token_file {
        return Credentials::new("bearer token file", path, Scheme::Bearer).map(Some);
    }
    if let Some(auth) = &settings.basic_auth {
        let scheme = Scheme::Basic(auth.username.clone());
        return Credentials::new("basic auth password file", &auth.password_file, scheme).map(Some);
    }
    Ok(None)
}

/// Roots to trust: the CA file, else the system's bundle.
fn roots(settings: &Settings) -> Result<rustls::RootCertStore, ClientError> {
    use rustls::pki_types::pem::PemObject;
    let path = settings
        .ca_file
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(&path)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| ClientError::Invalid {
            what: format!("CA file {}", path.display()),
            detail: e.to_string(),
        })?;
    let mut store = rustls::RootCertStore::empty();
    store.add_parsable_certificates(certs);
    Ok(store)
}

/// Verifies the server's certificate for `name` rather than the URL's host
/// (`prometheus.tls.server_name`, as Prometheus' own `server_name`).
#[derive(Debug)]
struct NamedServer {
    inner: std::sync::Arc<rustls::client::WebPkiServerVerifier>,
    name: rustls::pki_types::ServerName<'static>,
}

impl rustls::client::danger::ServerCertVerifier for NamedServer {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        ocsp: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A rustls client config for mTLS and `server_name` (reqwest's own settings
/// cover neither).
fn tls_config(settings: &Settings) -> Result<rustls::ClientConfig, ClientError> {
    use rustls::pki_types::pem::PemObject;
    let invalid = |what: String, e: &dyn std::fmt::Display| ClientError::Invalid {
        what,
        detail: e.to_string(),
    };
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let roots = std::sync::Arc::new(roots(settings)?);
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| invalid("prometheus.tls".into(), &e))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("prometheus.tls".into(), &e))?;
    let builder = match &settings.server_name {
        Some(name) => {
            let name = rustls::pki_types::ServerName::try_from(name.clone())
                .map_err(|e| invalid(format!("prometheus.tls.server_name {name:?}"), &e))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(std::sync::Arc::new(NamedServer {
                    inner: verifier,
                    name,
                }))
        }
        None => builder.with_webpki_verifier(verifier),
    };
    match &settings.client_cert {
        Some((cert, key)) => {
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(cert)
                .and_then(|i| i.collect::<Result<Vec<_>, _>>())
                .map_err(|e| invalid(format!("client certificate {}", cert.display()), &e))?;
            let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key)
                .map_err(|e| invalid(format!("client key {}", key.display()), &e))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| invalid("prometheus.tls.cert_file and key_file".into(), &e))
        }
        None => Ok(builder.with_no_client_auth()),
    }
}

impl Client {
    /// Builds a client; reads token, password and CA files now.
    pub fn new(settings: &Settings, metrics: QueryMetrics) -> Result<Self, ClientError> {
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .default_headers(default_headers(settings)?)
            .user_agent(concat!("slogate/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(settings.insecure_skip_verify);
        let own_tls = (settings.client_cert.is_some() || settings.server_name.is_some())
            && !settings.insecure_skip_verify;
        if own_tls {
            builder = builder.tls_backend_preconfigured(tls_config(settings)?);
        } else if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path).map_err(|source| ClientError::ReadFile {
                what: "CA file",
                path: path.display().to_string(),
                source,
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ClientError::Invalid {
                    what: format!("CA file {}", path.display()),
                    detail: e.to_string(),
                })?;
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Build(format!("{e:#}")))?;
        let base_url = settings.url.trim_end_matches('/').to_string();
        Ok(Self {
            http,
            credentials: credentials(settings)?,
            max_response_bytes: settings.max_response_bytes,
            query_url: format!("{base_url}/api/v1/query"),
            base_url,
            timeout: settings.timeout,
            partial_response: settings.partial_response,
            metrics,
        })
    }

    /// The server's base URL, for messages.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Runs a range query over `[start, end]` (Unix seconds) every `step` seconds.
    pub async fn query_range(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<Series>, ClientError> {
        let started = Instant::now();
        let mut form = vec![
            ("query", promql.to_string()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{step:.3}")),
        ];
        self.ask_complete(&mut form);
        let attempt = async {
            let response = self
                .post(&format!("{}/api/v1/query_range", self.base_url))
                .form(&form)
                .send()
                .await
                .map_err(|e| self.transport(e))?;
            let status = response.status().as_u16();
            let body = self.body(response).await?;
            let parsed = parse_range_response(status, &body)?;
            self.judge_warnings(promql, &parsed.warnings)?;
            Ok(parsed.value)
        };
        let outcome = tokio::time::timeout(self.timeout, attempt)
            .await
            .unwrap_or(Err(ClientError::Timeout(self.timeout)));
        self.metrics.record(outcome.is_ok(), started.elapsed());
        outcome
    }

    /// A POST with the current credentials.
    fn post(&self, url: &str) -> reqwest::RequestBuilder {
        let request = self.http.post(url);
        match &self.credentials {
            Some(c) => request.header(AUTHORIZATION, c.current()),
            None => request,
        }
    }

    /// The body, refused past `max_response_bytes` without reading the rest.
    async fn body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, ClientError> {
        let limit = self.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(ClientError::TooLarge(limit));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport(e))? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(ClientError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport(&self, e: reqwest::Error) -> ClientError {
        if e.is_timeout() {
            ClientError::Timeout(self.timeout)
        } else {
            ClientError::Transport {
                url: self.base_url.clone(),
                detail: error_chain(&e),
            }
        }
    }

    /// Runs an instant query evaluated at `time` (Unix seconds), or now.
    /// The whole call, retries included, ends within the configured timeout.
    pub async fn query(&self, promql: &str, time: Option<f64>) -> Result<Vec<Sample>, ClientError> {
        self.query_costed(promql, time)
            .await
            .map(|(samples, _)| samples)
    }

    /// [`Client::query`], with what the query cost when the server reports it
    /// (asked for with `stats=all`; counted in `slogate_query_samples_total`).
    pub async fn query_costed(
        &self,
        promql: &str,
        time: Option<f64>,
    ) -> Result<(Vec<Sample>, Option<Cost>), ClientError> {
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.timeout, self.query_with_retries(promql, time))
            .await
            .unwrap_or(Err(ClientError::Timeout(self.timeout)));
        self.metrics.record(outcome.is_ok(), started.elapsed());
        if let Ok((_, Some(cost))) = &outcome {
            self.metrics.samples.inc_by(cost.samples);
        }
        outcome
    }

    async fn query_with_retries(
        &self,
        promql: &str,
        time: Option<f64>,
    ) -> Result<(Vec<Sample>, Option<Cost>), ClientError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.query_once(promql, time).await;
            let retryable = match &result {
                Err(ClientError::Transport { .. }) => true,
                Err(ClientError::Query(QueryError::Malformed { status, .. })) => *status >= 500,
                _ => false,
            };
            if !retryable || attempt >= ATTEMPTS {
                return result;
            }
            tokio::time::sleep(BACKOFF * 2u32.pow(attempt - 1)).await;
        }
    }

    async fn query_once(
        &self,
        promql: &str,
        time: Option<f64>,
    ) -> Result<(Vec<Sample>, Option<Cost>), ClientError> {
        let mut form = vec![("query", promql.to_string()), ("stats", "all".to_string())];
        if let Some(t) = time {
            form.push(("time", format!("{t:.3}")));
        }
        self.ask_complete(&mut form);
        let transport = |e| self.transport(e);
        let response = self
            .post(&self.query_url)
            .form(&form)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let body = self.body(response).await?;
        let parsed = parse_response(status, &body)?;
        self.judge_warnings(promql, &parsed.warnings)?;
        Ok((parsed.value, parsed.cost))
    }

    /// Asks for complete answers: Thanos reads `partial_response=false`,
    /// VictoriaMetrics `deny_partial_response=1`; Prometheus ignores both.
    fn ask_complete(&self, form: &mut Vec<(&'static str, String)>) {
        if self.partial_response == PartialResponse::Reject {
            form.push(("partial_response", "false".into()));
            form.push(("deny_partial_response", "1".into()));
        }
    }

    /// Logs every warning; in `reject` mode an answer with a warning about missing
    /// data is an error, so the SLOs it feeds are `unknown` rather than judged on
    /// part of their events.
    fn judge_warnings(&self, promql: &str, warnings: &[String]) -> Result<(), ClientError> {
        for w in warnings {
            tracing::warn!(query = promql, warning = %w, "Prometheus warned about a query");
        }
        match warnings.iter().find(|w| is_partial_data_warning(w)) {
            Some(w) if self.partial_response == PartialResponse::Reject => {
                Err(ClientError::Partial(w.clone()))
            }
            _ => Ok(()),
        }
    }
}

/// True for a warning that says the answer may lack data (a store or ingester
/// unreachable, a partial response). Prometheus' own notes about a query's
/// semantics (`PromQL info: ...`, `PromQL warning: ...`) leave the data whole.
pub fn is_partial_data_warning(warning: &str) -> bool {
    let w = warning.trim();
    !w.is_empty() && !w.starts_with("PromQL ")
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// Standard base64 with padding, for the basic-auth header.
fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn promql_notes_are_not_partial_data_but_store_errors_are() {
        assert!(!is_partial_data_warning(
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"up\""
        ));
        assert!(!is_partial_data_warning(
            "PromQL warning: encountered a mix of histograms and floats"
        ));
        assert!(is_partial_data_warning(
            "No StoreAPIs matched for this query"
        ));
        assert!(is_partial_data_warning(
            super::super::api::PARTIAL_FLAG_WARNING
        ));
        assert!(!is_partial_data_warning("  "));
        assert!(is_partial_data_warning(
            "receive 10.0.0.1:10901: rpc error: code = Unavailable desc = connection refused"
        ));
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("slogate:s3cret", "c2xvZ2F0ZTpzM2NyZXQ="),
        ] {
            assert_eq!(base64_encode(input.as_bytes()), want);
        }
    }
}
