//! The one place that configures tracing: structured logs to stderr (logfmt or
//! JSON), so stdout stays clean for `check` and `validate` output.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Starts logging at `level` in `format`.
pub fn init(level: &str, format: LogFormat) -> Result<(), String> {
    let filter = EnvFilter::try_new(level).map_err(|e| {
        format!("--log.level {level:?} is not a level (error, warn, info, debug, trace): {e}")
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
        LogFormat::Logfmt => builder.event_format(Logfmt).try_init(),
    };
    result.map_err(|e| format!("cannot start logging: {e}"))
}

/// `ts=... level=info msg="Evaluated" results=17 ...`, as Prometheus logs.
struct Logfmt;

/// Quotes a value when logfmt needs it.
fn value(text: &str) -> String {
    if !text.is_empty() && !text.contains([' ', '"', '=', '\\', '\n']) {
        text.to_string()
    } else {
        format!("{text:?}")
    }
}

struct Fields {
    message: String,
    pairs: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, v: &str) {
        if field.name() == "message" {
            self.message = v.to_string();
        } else {
            self.pairs.push((field.name().to_string(), value(v)));
        }
    }

    fn record_debug(&mut self, field: &Field, v: &dyn fmt::Debug) {
        let text = format!("{v:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.pairs.push((field.name().to_string(), value(&text)));
        }
    }
}

impl<S, N> FormatEvent<S, N> for Logfmt
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Fields {
            message: String::new(),
            pairs: Vec::new(),
        };
        event.record(&mut fields);
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let level = event.metadata().level().as_str().to_lowercase();
        write!(w, "ts={ts} level={level}")?;
        for (k, v) in &fields.pairs {
            write!(w, " {k}={v}")?;
        }
        writeln!(w, " msg={}", value(&fields.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_quotes_only_what_needs_it() {
        assert_eq!(value("Evaluated"), "Evaluated");
        assert_eq!(value("Config reloaded"), "\"Config reloaded\"");
        assert_eq!(value("a=b"), "\"a=b\"");
        assert_eq!(value(""), "\"\"");
        assert_eq!(value("say \"hi\""), "\"say \\\"hi\\\"\"");
    }
}
