//! `--web.config.file`: TLS, client certificates, basic auth and extra headers in
//! the format of the Prometheus exporter toolkit, checked by the rules
//! `promtool check web-config` applies (so one file serves both). Relative paths
//! are relative to the file. The file is read again when it changes (users and
//! headers apply to the next request) and certificates are read again when
//! theirs change (the next handshake uses them): no restart to rotate either.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Deserialize;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    #[serde(default)]
    tls_server_config: WireTls,
    #[serde(default)]
    http_server_config: WireHttp,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTls {
    #[serde(default)]
    cert_file: String,
    #[serde(default)]
    key_file: String,
    #[serde(default)]
    client_auth_type: String,
    #[serde(default)]
    client_ca_file: String,
    #[serde(default)]
    cipher_suites: Vec<String>,
    #[serde(default)]
    curve_preferences: Vec<String>,
    #[serde(default)]
    min_version: Option<String>,
    #[serde(default)]
    max_version: Option<String>,
    #[serde(default)]
    prefer_server_cipher_suites: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireHttp {
    #[serde(default)]
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// Headers an operator may add, and the values allowed (none listed: any),
/// as the exporter toolkit allows them.
const HEADERS: [(&str, &[&str]); 5] = [
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

/// Who must show a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    NoClientCert,
    /// Asked for, not required, not verified.
    RequestClientCert,
    /// Required, not verified against a CA.
    RequireAnyClientCert,
    /// Verified against the client CA when given.
    VerifyClientCertIfGiven,
    RequireAndVerifyClientCert,
}

/// TLS settings of the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Tls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_auth: ClientAuth,
    pub client_ca_file: Option<PathBuf>,
    pub versions: Vec<&'static rustls::SupportedProtocolVersion>,
    pub cipher_suites: Vec<String>,
    pub curves: Vec<String>,
}

/// The web configuration in force.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebConfig {
    pub tls: Option<Tls>,
    /// User name -> bcrypt hash.
    pub users: BTreeMap<String, String>,
    pub headers: Vec<(String, String)>,
}

fn version(name: &str, field: &str) -> Result<u8, String> {
    match name {
        "TLS10" => Ok(10),
        "TLS11" => Ok(11),
        "TLS12" => Ok(12),
        "TLS13" => Ok(13),
        other => Err(format!("{field}: unknown TLS version: {other}")),
    }
}

/// Reads and checks a web config file; every error names the file and field.
pub fn load(path: &Path) -> Result<WebConfig, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse(&text, path.parent().unwrap_or(Path::new(".")))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Checks a web config's text; relative paths are taken from `dir`.
pub fn parse(text: &str, dir: &Path) -> Result<WebConfig, String> {
    let wire: Wire = if text.trim().is_empty() {
        Wire::default()
    } else {
        serde_norway::from_str(text).map_err(|e| e.to_string())?
    };
    let mut config = WebConfig::default();
    for (user, hash) in &wire.basic_auth_users {
        bcrypt_cost(hash).ok_or_else(|| {
            format!("basic_auth_users.{user}: not a bcrypt hash (make one with: htpasswd -nBC 10 \"\" | tr -d ':\\n')")
        })?;
    }
    config.users = wire.basic_auth_users;
    for (name, value) in &wire.http_server_config.headers {
        let Some((_, allowed)) = HEADERS.iter().find(|(h, _)| h == name) else {
            return Err(format!(
                "http_server_config.headers: HTTP header {name:?} can not be configured"
            ));
        };
        if !allowed.is_empty() && !allowed.contains(&value.as_str()) {
            return Err(format!(
                "http_server_config.headers.{name}: invalid value {value:?}; expected one of {allowed:?}"
            ));
        }
        config.headers.push((name.clone(), value.clone()));
    }
    let _ = wire.http_server_config.http2;
    let t = &wire.tls_server_config;
    let _ = t.prefer_server_cipher_suites;
    // Versions and names are checked whether or not TLS is on, as promtool does.
    let min = version(
        t.min_version.as_deref().unwrap_or("TLS12"),
        "tls_server_config.min_version",
    )?;
    let max = version(
        t.max_version.as_deref().unwrap_or("TLS13"),
        "tls_server_config.max_version",
    )?;
    for c in &t.curve_preferences {
        if !["CurveP256", "CurveP384", "CurveP521", "X25519"].contains(&c.as_str()) {
            return Err(format!(
                "tls_server_config.curve_preferences: unknown curve: {c}"
            ));
        }
    }
    for s in &t.cipher_suites {
        if !GO_CIPHER_SUITES.contains(&s.as_str()) {
            return Err(format!(
                "tls_server_config.cipher_suites: unknown cipher: {s}"
            ));
        }
    }
    if t.cert_file.is_empty()
        && t.key_file.is_empty()
        && t.client_auth_type.is_empty()
        && t.client_ca_file.is_empty()
    {
        return Ok(config);
    }
    if t.cert_file.is_empty() {
        return Err("tls_server_config: missing cert_file".into());
    }
    if t.key_file.is_empty() {
        return Err("tls_server_config: missing key_file".into());
    }
    let client_auth = match t.client_auth_type.as_str() {
        "" | "NoClientCert" => ClientAuth::NoClientCert,
        "RequestClientCert" => ClientAuth::RequestClientCert,
        "RequireAnyClientCert" | "RequireClientCert" => ClientAuth::RequireAnyClientCert,
        "VerifyClientCertIfGiven" => ClientAuth::VerifyClientCertIfGiven,
        "RequireAndVerifyClientCert" => ClientAuth::RequireAndVerifyClientCert,
        other => {
            return Err(format!(
                "tls_server_config.client_auth_type: Invalid ClientAuth: {other}"
            ))
        }
    };
    if !t.client_ca_file.is_empty() && client_auth == ClientAuth::NoClientCert {
        return Err("tls_server_config.client_ca_file: Client CA's have been configured without a Client Auth Policy".into());
    }
    // What rustls speaks: TLS 1.2 and 1.3; an older floor is raised to 1.2.
    if max < 12 {
        return Err(format!(
            "tls_server_config.max_version: TLS{max} is below TLS12; slogate speaks TLS 1.2 and 1.3 only"
        ));
    }
    let mut versions = Vec::new();
    if min <= 12 && max >= 12 {
        versions.push(&rustls::version::TLS12);
    }
    if max >= 13 {
        versions.push(&rustls::version::TLS13);
    }
    let tls = Tls {
        cert_file: dir.join(&t.cert_file),
        key_file: dir.join(&t.key_file),
        client_auth,
        client_ca_file: (!t.client_ca_file.is_empty()).then(|| dir.join(&t.client_ca_file)),
        versions,
        cipher_suites: t.cipher_suites.clone(),
        curves: t.curve_preferences.clone(),
    };
    // As promtool does: the key pair and the client CA must load now.
    load_certified_key(&tls)?;
    if let Some(ca) = &tls.client_ca_file {
        std::fs::read(ca)
            .map_err(|e| format!("tls_server_config.client_ca_file: {}: {e}", ca.display()))?;
    }
    config.tls = Some(tls);
    Ok(config)
}

/// The cost of a bcrypt hash (`$2a$10$...`), if it is one.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let parts: Vec<&str> = hash.split('$').collect();
    match parts.as_slice() {
        ["", "2a" | "2b" | "2x" | "2y", cost, rest] if rest.len() == 53 => {
            cost.parse::<u32>().ok().filter(|c| (4..=31).contains(c))
        }
        _ => None,
    }
}

/// Go's TLS cipher suite names, as the toolkit accepts them.
const GO_CIPHER_SUITES: [&str; 17] = [
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// The server's certificate chain and key, from their files.
fn load_certified_key(tls: &Tls) -> Result<Arc<rustls::sign::CertifiedKey>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&tls.cert_file)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| {
            format!(
                "tls_server_config.cert_file: {}: {e}",
                tls.cert_file.display()
            )
        })?;
    if certs.is_empty() {
        return Err(format!(
            "tls_server_config.cert_file: {}: no certificate in it",
            tls.cert_file.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key_file).map_err(|e| {
        format!(
            "tls_server_config.key_file: {}: {e}",
            tls.key_file.display()
        )
    })?;
    let provider = rustls::crypto::ring::default_provider();
    let signer = provider.key_provider.load_private_key(key).map_err(|e| {
        format!(
            "tls_server_config.key_file: {}: {e}",
            tls.key_file.display()
        )
    })?;
    let certified = rustls::sign::CertifiedKey::new(certs, signer);
    certified
        .keys_match()
        .map_err(|e| format!("tls_server_config: cert_file and key_file do not match: {e}"))?;
    Ok(Arc::new(certified))
}

/// A file's identity for "has it changed": modification time and length.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// The certificate of each handshake: read again when its files change; a
/// broken new pair keeps the last good one (and says so in the log).
#[derive(Debug)]
pub struct Certificates {
    tls: Tls,
    cached: Mutex<(Stamp, Stamp, Arc<rustls::sign::CertifiedKey>)>,
}

impl Certificates {
    fn new(tls: Tls) -> Result<Self, String> {
        let key = load_certified_key(&tls)?;
        let stamps = (stamp(&tls.cert_file), stamp(&tls.key_file));
        Ok(Self {
            tls,
            cached: Mutex::new((stamps.0, stamps.1, key)),
        })
    }

    fn current(&self) -> Arc<rustls::sign::CertifiedKey> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        let now = (stamp(&self.tls.cert_file), stamp(&self.tls.key_file));
        if (cached.0, cached.1) != now {
            match load_certified_key(&self.tls) {
                Ok(key) => {
                    tracing::info!(cert = %self.tls.cert_file.display(), "TLS certificate reloaded");
                    *cached = (now.0, now.1, key);
                }
                Err(e) => {
                    tracing::error!(error = %e, "TLS certificate reload failed; keeping the previous one");
                    (cached.0, cached.1) = now;
                }
            }
        }
        cached.2.clone()
    }
}

impl rustls::server::ResolvesServerCert for Certificates {
    fn resolve(
        &self,
        _: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.current())
    }
}

/// Accepts any client certificate without checking who issued it
/// (`RequestClientCert`, `RequireAnyClientCert`); signatures are still checked.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::server::danger::ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        Ok(rustls::server::danger::ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The rustls server configuration of `tls`.
pub fn server_config(tls: &Tls) -> Result<Arc<rustls::ServerConfig>, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    if !tls.cipher_suites.is_empty() {
        provider.cipher_suites.retain(|s| {
            s.suite()
                .as_str()
                .is_some_and(|n| tls.cipher_suites.iter().any(|c| c == n))
        });
        if provider.cipher_suites.is_empty() {
            return Err(format!(
                "tls_server_config.cipher_suites: none of {:?} is one slogate speaks (AES-GCM and ChaCha20-Poly1305 suites)",
                tls.cipher_suites
            ));
        }
    }
    if !tls.curves.is_empty() {
        let wanted: Vec<rustls::NamedGroup> = tls
            .curves
            .iter()
            .filter_map(|c| match c.as_str() {
                "CurveP256" => Some(rustls::NamedGroup::secp256r1),
                "CurveP384" => Some(rustls::NamedGroup::secp384r1),
                "X25519" => Some(rustls::NamedGroup::X25519),
                _ => None,
            })
            .collect();
        provider.kx_groups.retain(|g| wanted.contains(&g.name()));
        if provider.kx_groups.is_empty() {
            return Err("tls_server_config.curve_preferences: none is one slogate speaks (CurveP256, CurveP384, X25519)".into());
        }
    }
    let algorithms = provider.signature_verification_algorithms;
    let provider = Arc::new(provider);
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&tls.versions)
        .map_err(|e| format!("tls_server_config: {e}"))?;
    let roots = || -> Result<Arc<rustls::RootCertStore>, String> {
        let path = tls
            .client_ca_file
            .clone()
            .unwrap_or_else(|| PathBuf::from("/etc/ssl/certs/ca-certificates.crt"));
        let mut roots = rustls::RootCertStore::empty();
        let certs = CertificateDer::pem_file_iter(&path)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("tls_server_config.client_ca_file: {}: {e}", path.display()))?;
        roots.add_parsable_certificates(certs);
        if roots.is_empty() {
            return Err(format!(
                "tls_server_config.client_ca_file: {}: no CA certificate in it",
                path.display()
            ));
        }
        Ok(Arc::new(roots))
    };
    let verifier: Arc<dyn rustls::server::danger::ClientCertVerifier> = match tls.client_auth {
        ClientAuth::NoClientCert => rustls::server::WebPkiClientVerifier::no_client_auth(),
        ClientAuth::RequestClientCert | ClientAuth::RequireAnyClientCert => {
            Arc::new(AnyClientCert {
                mandatory: tls.client_auth == ClientAuth::RequireAnyClientCert,
                algorithms,
            })
        }
        ClientAuth::VerifyClientCertIfGiven => {
            rustls::server::WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone())
                .allow_unauthenticated()
                .build()
                .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?
        }
        ClientAuth::RequireAndVerifyClientCert => {
            rustls::server::WebPkiClientVerifier::builder_with_provider(roots()?, provider.clone())
                .build()
                .map_err(|e| format!("tls_server_config.client_ca_file: {e}"))?
        }
    };
    let mut config = builder
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(Certificates::new(tls.clone())?));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The web config file and what it said last, read again when it changes.
#[derive(Debug)]
pub struct Watched {
    path: PathBuf,
    state: Mutex<(Stamp, Arc<WebConfig>)>,
}

impl Watched {
    /// Loads the file; an error stops start-up (exit 64).
    pub fn load(path: &Path) -> Result<Self, String> {
        let config = load(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            state: Mutex::new((stamp(path), Arc::new(config))),
        })
    }

    /// The config in force: the file again when it changed, unless it no
    /// longer loads (then the last good one, and an error in the log).
    pub fn current(&self) -> Arc<WebConfig> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = stamp(&self.path);
        if now != state.0 {
            state.0 = now;
            match load(&self.path) {
                Ok(c) => {
                    tracing::info!(file = %self.path.display(), "Web config reloaded");
                    state.1 = Arc::new(c);
                }
                Err(e) => {
                    tracing::error!(error = %e, "Web config reload failed; keeping the previous one")
                }
            }
        }
        state.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

    #[test]
    fn the_toolkit_rules_hold() {
        let dir = Path::new("/nonexistent");
        assert_eq!(parse("", dir), Ok(WebConfig::default()));
        let users = parse(&format!("basic_auth_users:\n  alice: '{HASH}'\n"), dir).expect("valid");
        assert_eq!(users.users["alice"], HASH);
        for (text, error) in [
            (
                "basic_auth_users:\n  alice: secret\n",
                "basic_auth_users.alice: not a bcrypt hash",
            ),
            (
                "tls_server_config:\n  cert_file: a.pem\n",
                "tls_server_config: missing key_file",
            ),
            (
                "tls_server_config:\n  key_file: a.pem\n",
                "tls_server_config: missing cert_file",
            ),
            (
                "tls_server_config:\n  client_auth_type: Sometimes\n",
                "tls_server_config: missing cert_file",
            ),
            (
                "http_server_config:\n  headers:\n    Server: x\n",
                "HTTP header \"Server\" can not be configured",
            ),
            (
                "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
                "invalid value \"allow\"",
            ),
            (
                "tls_server_config:\n  min_version: TLS14\n",
                "unknown TLS version: TLS14",
            ),
            (
                "tls_server_config:\n  curve_preferences: [P999]\n",
                "unknown curve: P999",
            ),
            (
                "tls_server_config:\n  cipher_suites: [TLS_FAKE]\n",
                "unknown cipher: TLS_FAKE",
            ),
            (
                "tls_server_config:\n  certfile: a.pem\n",
                "unknown field `certfile`",
            ),
        ] {
            let got = parse(text, dir).expect_err(text);
            assert!(got.contains(error), "{text}: {got}");
        }
        assert_eq!(bcrypt_cost(HASH), Some(10));
        assert_eq!(bcrypt_cost("$2y$99$x"), None);
    }
}
