//! How to reach a Prometheus-compatible server: plain data that `config` fills
//! and the client reads. No HTTP here, so `config` depends on this alone.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// How to reach and authenticate to a Prometheus-compatible server.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub url: String,
    pub timeout: Duration,
    pub bearer_token_file: Option<PathBuf>,
    pub basic_auth: Option<BasicAuth>,
    pub ca_file: Option<PathBuf>,
    pub insecure_skip_verify: bool,
    /// A client certificate and its key (mTLS).
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// The name the server's certificate must carry, when not the URL's host.
    pub server_name: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub partial_response: PartialResponse,
    /// Answers larger than this are refused (the SLOs they feed are unknown).
    pub max_response_bytes: u64,
}

/// The default cap on an answer's size: 64 MiB.
pub const MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// What to do with an answer that says some of its data is missing (a Thanos or
/// Mimir store down): judge it `unknown` (reject, the default) or take it as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartialResponse {
    #[default]
    Reject,
    Accept,
}

impl PartialResponse {
    /// Parses the config value (`reject`, `accept`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "reject" => Some(Self::Reject),
            "accept" => Some(Self::Accept),
            _ => None,
        }
    }
}

/// HTTP basic auth; the password is read from a file, never from the config.
#[derive(Debug, Clone, PartialEq)]
pub struct BasicAuth {
    pub username: String,
    pub password_file: PathBuf,
}
