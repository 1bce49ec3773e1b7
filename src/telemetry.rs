//! The one place that configures tracing: structured logs to stderr, so stdout
//! stays clean for `check` output.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Starts logging at `level` in `format`.
pub fn init(level: &str, format: LogFormat) -> Result<(), String> {
    let filter = EnvFilter::try_new(level).map_err(|e| {
        format!("--log.level {level:?} is not a level (error, warn, info, debug, trace): {e}")
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let result = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Logfmt => builder.with_ansi(false).try_init(),
    };
    result.map_err(|e| format!("cannot start logging: {e}"))
}
