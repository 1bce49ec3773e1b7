//! Integration tests: the real slogate binary against a real Prometheus.

mod harness;
mod history;
mod known_answer;
