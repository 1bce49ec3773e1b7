//! slogate turns service-level objectives into live readiness signals: it reads SLO
//! definitions, asks a Prometheus-compatible server for event counts, judges them
//! and re-exports the verdicts on its own `/metrics`.
#![forbid(unsafe_code)]

pub mod app;
pub mod cli;
pub mod config;
pub mod escape;
pub mod eval;
pub mod export;
pub mod generate;
pub mod import;
pub mod page;
pub mod prom;
pub mod report;
pub mod scheduler;
pub mod server;
pub mod simulate;
pub mod slo;
pub mod telemetry;

#[cfg(test)]
mod fuzz;
