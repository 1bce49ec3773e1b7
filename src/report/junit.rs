//! JUnit XML: one test case per SLO result, so CI systems show failures natively.
//! fail is a failure; unknown and insufficient_data are errors; pending is skipped.

use super::{time, Report};
use crate::escape::markup as xml;
use crate::eval::State;

/// The report as a JUnit XML document.
pub fn junit(r: &Report<'_>) -> String {
    let count = |s: &[State]| r.results.iter().filter(|x| s.contains(&x.state)).count();
    let (failures, errors, skipped) = (
        count(&[State::Fail]),
        count(&[State::Unknown, State::InsufficientData]),
        count(&[State::Pending]),
    );
    let suite = match &r.launch {
        Some(l) => format!("slogate launch checkpoint {}", l.checkpoint),
        None => "slogate".to_string(),
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let totals = format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\"",
        r.results.len()
    );
    out.push_str(&format!("<testsuites name=\"slogate\" {totals}>\n"));
    out.push_str(&format!(
        "  <testsuite name=\"{}\" {totals} timestamp=\"{}\">\n",
        xml(&suite),
        time(r.evaluated_at)
    ));
    for x in r.results {
        let group: Vec<String> = x.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let name = if group.is_empty() {
            x.slo.clone()
        } else {
            format!("{} {{{}}}", x.slo, group.join(","))
        };
        let class = format!("slogate.{}", x.service.as_deref().unwrap_or("global"));
        out.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\">",
            xml(&class),
            xml(&name)
        ));
        let reason = xml(&x.reason);
        let state = x.state.as_str();
        match x.state {
            State::Fail => out.push_str(&format!(
                "<failure type=\"{state}\" message=\"{reason}\">{reason}</failure>"
            )),
            State::Unknown | State::InsufficientData => out.push_str(&format!(
                "<error type=\"{state}\" message=\"{reason}\">{reason}</error>"
            )),
            State::Pending => out.push_str(&format!("<skipped message=\"{reason}\"/>")),
            State::Warn | State::Pass => {
                out.push_str(&format!("<system-out>{state}: {reason}</system-out>"))
            }
        }
        out.push_str("</testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
