//! The shell: parse, start logging, run, print the error chain once, pick the exit code.

use std::process::ExitCode;

use clap::Parser;
use slogate::app::{self, UsageError};
use slogate::cli::{Cli, Command};
use slogate::config::ConfigError;

/// jemalloc, with its background thread, returns freed memory to the system
/// within seconds: with glibc's malloc, `serve` kept about three times its live
/// heap resident after a large evaluation (10,000 SLO groups: 290 MB resident
/// for 80 MB in use).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Exit code for bad usage or bad config (sysexits EX_USAGE).
const EXIT_USAGE: u8 = 64;
/// Exit code for any other failure.
const EXIT_FAILURE: u8 = 1;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Err(e) = slogate::telemetry::init(&cli.log_level, cli.log_format) {
        eprintln!("slogate: {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("slogate: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => app::serve(args).await.map(|()| 0),
            Command::Check(args) => app::check(args).await,
            Command::Validate(args) => app::validate(args).await,
            Command::Generate(args) => app::generate(args).map(|()| 0),
            Command::Simulate(args) => app::simulate(args).await.map(|()| 0),
            Command::Import(args) => app::import(args),
            Command::Baseline(slogate::cli::BaselineCommand::Save(args)) => {
                app::baseline_save(args).await.map(|()| 0)
            }
        }
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("slogate: {e:#}");
            let usage = e.downcast_ref::<ConfigError>().is_some()
                || e.downcast_ref::<UsageError>().is_some();
            ExitCode::from(if usage { EXIT_USAGE } else { EXIT_FAILURE })
        }
    }
}
