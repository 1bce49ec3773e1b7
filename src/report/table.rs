//! The terminal table of `check`: one row per SLO result fitted to the width
//! (120 columns unless told), the reason of every non-pass under its row,
//! probes as a checklist, the launch timeline and the verdict. States are
//! coloured when stdout is a terminal and `NO_COLOR` is unset.

use super::{burn_shown, group_name, mark, milestones, p95, pct, plain, time, Milestone, Report};
use crate::eval::{SloResult, State};
use crate::slo::number::count;
use crate::slo::shown_window;

/// How the table is laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    /// Columns available.
    pub width: usize,
    /// ANSI colours for states and the verdict.
    pub colour: bool,
}

impl Default for Style {
    fn default() -> Self {
        Self {
            width: 120,
            colour: false,
        }
    }
}

impl Style {
    /// For stdout: colour on a terminal unless `NO_COLOR` is set (no-color.org),
    /// `COLUMNS` when set, else 120.
    pub fn for_stdout() -> Self {
        use std::io::IsTerminal;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|w| *w >= 40)
            .unwrap_or(120);
        Self {
            width,
            colour: std::io::stdout().is_terminal() && !no_color,
        }
    }

    fn paint(&self, state: Option<State>, text: &str) -> String {
        let code = match state {
            _ if !self.colour => return text.to_string(),
            Some(State::Pass) => "32",
            Some(State::Warn) => "33",
            Some(State::Fail) => "1;31",
            Some(State::InsufficientData) => "90",
            Some(State::Unknown) => "35",
            Some(State::Pending) => "34",
            None => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// A column: its header, and its rank when the table must lose columns to fit
/// (lower goes first; `None` never goes).
struct Column {
    header: String,
    drop_rank: Option<u8>,
    right: bool,
}

fn column(header: &str, drop_rank: Option<u8>, right: bool) -> Column {
    Column {
        header: header.to_string(),
        drop_rank,
        right,
    }
}

fn columns() -> Vec<Column> {
    vec![
        column("SERVICE", None, false),
        column("SLO", None, false),
        column("KEY", Some(3), false),
        column("WINDOW", Some(2), false),
        column("OBJECTIVE", None, true),
        column("SLI", None, true),
        column("BUDGET", None, true),
        column(&format!("BURN {}", shown_window()), Some(4), true),
        column("P95 / LIMIT", Some(5), true),
        column("EVENTS", Some(1), true),
        column("STATE", None, false),
    ]
}

const GAP: usize = 2;

/// The WINDOW column (SLI follows it).
const WINDOW: usize = 3;

/// Terminal columns `text` takes (an emoji takes two).
fn width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// Cuts `text` to `max` characters, marking the cut with `…`.
fn cut(text: &str, max: usize) -> String {
    if width(text) <= max {
        text.to_string()
    } else {
        let mut out = String::new();
        for c in text.chars() {
            if width(&out) + unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) + 1 > max {
                break;
            }
            out.push(c);
        }
        out.push('…');
        out
    }
}

/// Words of `text` in lines of at most `max` characters (a longer word is cut).
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && width(&line) + 1 + width(word) > max {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&cut(word, max));
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The rows laid out in `style.width`: columns dropped by rank until they fit,
/// then the two name columns cut.
fn grid(rows: &[(Vec<String>, State)], style: &Style) -> String {
    let mut cols = columns();
    let mut cells: Vec<Vec<String>> =
        std::iter::once(cols.iter().map(|c| c.header.clone()).collect())
            .chain(rows.iter().map(|(r, _)| r.clone()))
            .collect();
    // One window for every row (the usual case): named once, in the SLI header.
    let window = rows.first().map(|(r, _)| r[WINDOW].clone());
    if let Some(w) = window.filter(|w| rows.iter().all(|(r, _)| r[WINDOW] == *w)) {
        cols.remove(WINDOW);
        cells.iter_mut().for_each(|r| {
            r.remove(WINDOW);
        });
        cells[0][WINDOW + 1] = format!("SLI {w}");
    }
    let widths = |cells: &[Vec<String>], n: usize| -> Vec<usize> {
        (0..n)
            .map(|c| cells.iter().map(|r| width(&r[c])).max().unwrap_or(0))
            .collect()
    };
    let total = |w: &[usize]| w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1);
    loop {
        let w = widths(&cells, cols.len());
        if total(&w) <= style.width {
            break;
        }
        let Some(drop) = cols
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.drop_rank.map(|r| (r, i)))
            .min()
            .map(|(_, i)| i)
        else {
            break;
        };
        cols.remove(drop);
        cells.iter_mut().for_each(|r| {
            r.remove(drop);
        });
    }
    let mut w = widths(&cells, cols.len());
    let mut over = total(&w).saturating_sub(style.width);
    // Names last: SERVICE gives what it can (keeping 8), then SLO.
    for c in [0, 1] {
        let cut_by = over.min(w[c].saturating_sub(8));
        w[c] -= cut_by;
        over -= cut_by;
    }
    let mut out = String::new();
    for (i, row) in cells.iter().enumerate() {
        let state = i.checked_sub(1).map(|r| rows[r].1);
        let last = cols.len() - 1;
        let mut line = String::new();
        for (c, text) in row.iter().enumerate() {
            let text = cut(text, w[c]);
            let pad = w[c] - width(&text);
            let padded = if c == last {
                text.clone()
            } else if cols[c].right {
                format!("{}{text}", " ".repeat(pad))
            } else {
                format!("{text}{}", " ".repeat(pad))
            };
            if c == last {
                line.push_str(&style.paint(state, &padded));
            } else {
                line.push_str(&padded);
                line.push_str(&" ".repeat(GAP));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The aligned terminal table of `check`, without colour, in 120 columns.
pub fn table(r: &Report<'_>) -> String {
    styled(r, &Style::default())
}

/// The table of `check` laid out in `style`.
pub fn styled(r: &Report<'_>, style: &Style) -> String {
    let mut results: Vec<&SloResult> = r.results.iter().collect();
    results.sort_by_key(|x| (x.service.clone(), x.slo.clone(), group_name(x)));
    let mut out = String::new();
    if let Some(l) = r.pending() {
        out.push_str(&format!(
            "Checkpoint {} of the launch at {}: each SLO is judged over [launch, launch + {}] once due.\n",
            l.checkpoint,
            time(l.at),
            l.checkpoint
        ));
        for x in &results {
            out.push_str(&format!(
                "  {} {}  {}{}\n",
                mark(x.state),
                x.slo,
                x.kind,
                if x.key { ", key" } else { "" }
            ));
        }
    } else {
        let slos: Vec<&&SloResult> = results.iter().filter(|x| !x.kind.is_probe()).collect();
        if !slos.is_empty() {
            let rows: Vec<(Vec<String>, State)> = slos.iter().map(|x| (row(x), x.state)).collect();
            let grid = grid(&rows, style);
            let mut lines = grid.lines();
            out.push_str(lines.next().unwrap_or_default());
            out.push('\n');
            for (line, x) in lines.zip(&slos) {
                out.push_str(line);
                out.push('\n');
                if x.state != State::Pass {
                    for l in wrap(r.reason_of(x), style.width.saturating_sub(6)) {
                        out.push_str(&format!("    ↳ {l}\n"));
                    }
                }
                for words in [super::period_words(x), super::exclusion_words(x)]
                    .into_iter()
                    .flatten()
                {
                    for l in wrap(&words, style.width.saturating_sub(6)) {
                        out.push_str(&format!("    ↳ {l}\n"));
                    }
                }
            }
        }
        out.push_str(&checklist(r, &results, style));
    }
    if let Some(t) = r.timeline {
        out.push_str("\nLAUNCH TIMELINE\n");
        out.push_str(&timeline(&milestones(t, r.now), style));
    }
    out.push_str(&footer(r, style));
    out
}

fn row(x: &SloResult) -> Vec<String> {
    let p95 = match (p95(x), x.latency_threshold) {
        (Some((w, v)), limit) => {
            let limit = limit.map_or(String::new(), |l| {
                format!(" / {}", super::millis(Some(l.as_secs_f64())))
            });
            let window = if w == crate::slo::promql::SHOWN_QUANTILE_WINDOW {
                String::new()
            } else {
                format!(" ({w})")
            };
            format!("{}{limit}{window}", super::millis(v))
        }
        (None, _) => "-".into(),
    };
    vec![
        group_name(x),
        super::slo_name(x),
        if x.key { "yes" } else { "no" }.into(),
        x.window_name.clone(),
        pct(x.objective),
        pct(x.sli),
        pct(x.error_budget_remaining),
        plain(burn_shown(x)),
        p95,
        x.events.filter(|e| e.is_finite()).map_or("-".into(), count),
        format!("{} {}", mark(x.state), x.state.as_str()),
    ]
}

/// Probes, as a checklist.
fn checklist(r: &Report<'_>, results: &[&SloResult], style: &Style) -> String {
    let mut out = String::new();
    let probes: Vec<&&SloResult> = results.iter().filter(|x| x.kind.is_probe()).collect();
    if !probes.is_empty() {
        out.push_str("\nCHECKLIST\n");
        for p in probes {
            let tick = if p.ready { "[x]" } else { "[ ]" };
            let key = if p.key { "" } else { " (non-key)" };
            out.push_str(&format!(
                "  {tick} {} {}{key}  {} ({})\n",
                mark(p.state),
                p.slo,
                style.paint(Some(p.state), p.state.as_str()),
                r.reason_of(p)
            ));
        }
    }
    out
}

/// The launch timeline, one line per milestone.
fn timeline(steps: &[Milestone], style: &Style) -> String {
    let label = steps.iter().map(|m| width(&m.label)).max().unwrap_or(0);
    let mut out = String::new();
    for m in steps {
        let state = m.state.map_or(" ".repeat(9), |s| {
            style.paint(Some(s), &format!("{} {:<7}", mark(s), s.as_str()))
        });
        let line = format!(
            "  {:<label$}  {}  {state}  {}",
            m.label,
            super::minute(m.at),
            m.text
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// When, against what, which services are ready, and the verdict.
fn footer(r: &Report<'_>, style: &Style) -> String {
    let mut out = String::new();
    let services: Vec<String> = r
        .readiness
        .services
        .keys()
        .map(|name| {
            let verdict = match r.service_verdict(name) {
                "not ready" => "NOT ready",
                v => v,
            };
            format!("{}={verdict}", if name.is_empty() { "-" } else { name })
        })
        .collect();
    let reach = match r.datasource_words() {
        Some(words) => format!("datasources {words}"),
        None => format!(
            "prometheus {}",
            if r.prometheus_up { "up" } else { "UNREACHABLE" }
        ),
    };
    out.push_str(&format!(
        "\nevaluated at {}; {reach}\n",
        time(r.evaluated_at)
    ));
    if r.pending().is_none() && !services.is_empty() {
        let services = format!("services: {}", services.join(" "));
        for line in wrap(&services, style.width) {
            out.push_str(&format!("{line}\n"));
        }
    }
    if let Some(failure) = r.common_failure() {
        out.push_str(&format!("{failure}\n"));
    }
    if let Some(l) = r.launch.as_ref().filter(|l| l.state != State::Pending) {
        out.push_str(&format!(
            "launch {} checkpoint {}: {}\n",
            time(l.at),
            l.checkpoint,
            l.state.as_str()
        ));
    }
    let state = match r.verdict() {
        "READY" => Some(State::Pass),
        "PENDING" => Some(State::Pending),
        "UNKNOWN" => Some(State::Unknown),
        _ => Some(State::Fail),
    };
    out.push_str(&style.paint(state, &r.headline()));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::snapshot;

    /// The table fits 120 columns, drops low-priority columns to fit narrower
    /// ones, and colours only when asked.
    #[test]
    fn the_table_fits_its_width_and_colours_only_on_request() {
        let mut s = snapshot::example();
        s.results[0].service = Some("a-service-with-a-rather-long-name-indeed".into());
        s.results[0].events = Some(5_760_000.0);
        let report = Report::of_snapshot(&s);
        let plain = table(&report);
        for line in plain.lines() {
            assert!(width(line) <= 120, "{} columns: {line}", width(line));
        }
        assert!(
            !plain.contains("EVENTS"),
            "a 40-character name costs a column: {plain}"
        );
        assert!(!plain.contains('\x1b'), "{plain}");
        let narrow = styled(
            &report,
            &Style {
                width: 80,
                colour: true,
            },
        );
        let header = narrow.lines().next().expect("header");
        assert!(
            !header.contains("EVENTS") && header.contains("STATE"),
            "{narrow}"
        );
        assert!(narrow.contains("\x1b[1;31m❌ fail\x1b[0m"), "{narrow}");
        for line in narrow.lines().filter(|l| !l.contains('\x1b')) {
            assert!(width(line) <= 80, "{} columns: {line}", width(line));
        }
        s.results[0].service = Some("checkout".into());
        let normal = table(&Report::of_snapshot(&s));
        assert!(normal.contains("  5.76M  ✅ pass\n"), "{normal}");
    }

    /// What the names cannot give up, the other name gives (a long SLO name
    /// with a short service still fits), counting an emoji as two columns.
    #[test]
    fn a_long_slo_name_is_cut_to_fit() {
        let mut s = snapshot::example();
        s.results[0].slo = "a-remarkably-long-service-level-objective-name".into();
        let narrow = styled(
            &Report::of_snapshot(&s),
            &Style {
                width: 80,
                colour: false,
            },
        );
        for line in narrow.lines().take_while(|l| !l.is_empty()) {
            assert!(width(line) <= 80, "{} columns: {line}", width(line));
        }
        assert!(
            narrow.contains("a-remarkably-long-service-level-…"),
            "{narrow}"
        );
    }

    #[test]
    fn long_reasons_wrap_under_their_row() {
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
