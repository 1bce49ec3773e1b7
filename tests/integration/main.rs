//! Integration tests: the real slogate binary against a real Prometheus.

mod baseline;
mod calendar;
mod cli;
mod dashboards;
mod datasources;
mod exclusions;
mod faults;
mod harness;
mod helm;
mod history;
mod import;
mod known_answer;
mod launch;
mod live;
mod page;
mod plan;
mod rules;
mod security;
mod shard;
mod sloth_parity;
mod soak;
mod tenant;
mod victoria;
