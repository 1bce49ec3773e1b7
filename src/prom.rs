//! The Prometheus HTTP API: envelope types, and the one HTTP client slogate uses.

mod api;
mod client;
pub mod settings;

pub use api::{parse_range_response, parse_response, Cost, Parsed, QueryError, Sample, Series};
pub use client::{is_partial_data_warning, Client, ClientError, QueryMetrics};
pub use settings::{BasicAuth, PartialResponse, Settings, MAX_RESPONSE_BYTES};
