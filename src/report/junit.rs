//! JUnit XML: one test case per SLO result, so CI systems show failures natively.
//! A key SLO's fail is a failure, its unknown and insufficient_data are errors; a
//! non-key SLO never fails the suite (a warning in its system-out). A pending
//! checkpoint skips every SLO and adds one error case saying when it is due, so
//! the suite is not green while `check` exits 2. The suite's properties carry
//! the verdict, the score's explanation and the launch timeline.

use super::{milestones, score_text, time, Report};
use crate::escape::markup as xml;
use crate::eval::{SloResult, State};

/// What a result contributes to the suite.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Failure,
    Error,
    Skipped,
    Passed,
}

fn outcome(x: &SloResult) -> Outcome {
    match x.state {
        State::Pending => Outcome::Skipped,
        _ if !x.key => Outcome::Passed,
        State::Fail => Outcome::Failure,
        State::Unknown | State::InsufficientData => Outcome::Error,
        State::Warn | State::Pass => Outcome::Passed,
    }
}

fn property(name: &str, value: &str) -> String {
    format!(
        "      <property name=\"{}\" value=\"{}\"/>\n",
        xml(name),
        xml(value)
    )
}

/// The report as a JUnit XML document.
pub fn junit(r: &Report<'_>) -> String {
    let pending = r.pending();
    let count = |o: Outcome| r.results.iter().filter(|x| outcome(x) == o).count();
    let extra = usize::from(pending.is_some());
    let (tests, failures, errors, skipped) = (
        r.results.len() + extra,
        count(Outcome::Failure),
        count(Outcome::Error) + extra,
        count(Outcome::Skipped),
    );
    let suite = match &r.launch {
        Some(l) => format!("slogate launch checkpoint {}", l.checkpoint),
        None => "slogate".to_string(),
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let totals = format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\""
    );
    out.push_str(&format!("<testsuites name=\"slogate\" {totals}>\n"));
    out.push_str(&format!(
        "  <testsuite name=\"{}\" {totals} timestamp=\"{}\">\n    <properties>\n",
        xml(&suite),
        time(r.evaluated_at)
    ));
    out.push_str(&property("verdict", r.verdict()));
    out.push_str(&property("summary", &r.headline()));
    out.push_str(&property("score", &score_text(r.score)));
    if let Some(t) = r.timeline {
        out.push_str(&property("launch.at", &time(t.at)));
        for c in &t.checkpoints {
            let prefix = format!("launch.checkpoint.{}", c.name);
            out.push_str(&property(&format!("{prefix}.due"), &time(c.due)));
            out.push_str(&property(&format!("{prefix}.state"), c.state.as_str()));
            out.push_str(&property(&format!("{prefix}.score"), &score_text(c.score)));
        }
    }
    out.push_str("    </properties>\n");
    if let Some(l) = pending {
        out.push_str(&format!(
            "    <testcase classname=\"slogate.launch\" name=\"checkpoint {}\"><error type=\"pending\" message=\"{m}\">{m}</error></testcase>\n",
            xml(&l.checkpoint),
            m = xml(&r.headline()),
        ));
    }
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
        let reason = xml(r.reason_of(x));
        let state = x.state.as_str();
        match outcome(x) {
            Outcome::Failure => out.push_str(&format!(
                "<failure type=\"{state}\" message=\"{reason}\">{reason}</failure>"
            )),
            Outcome::Error => out.push_str(&format!(
                "<error type=\"{state}\" message=\"{reason}\">{reason}</error>"
            )),
            Outcome::Skipped => out.push_str(&format!("<skipped message=\"{reason}\"/>")),
            Outcome::Passed if !x.key && !x.ready => out.push_str(&format!(
                "<system-out>warning: {state} in a non-key SLO (it does not hold readiness back): {reason}</system-out>"
            )),
            Outcome::Passed => out.push_str(&format!("<system-out>{state}: {reason}</system-out>")),
        }
        out.push_str("</testcase>\n");
    }
    let mut notes = vec![r.headline()];
    if let Some(failure) = r.common_failure() {
        notes.push(failure.to_string());
    }
    if let Some(t) = r.timeline {
        notes.push("launch timeline:".into());
        for m in milestones(t, r.now) {
            let state = m
                .state
                .map_or(String::new(), |s| format!(" {}", s.as_str()));
            notes.push(format!("  {} {}{state} {}", m.label, time(m.at), m.text));
        }
    }
    out.push_str(&format!(
        "    <system-out>{}</system-out>\n",
        xml(&notes.join("\n"))
    ));
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::snapshot::{self, Checkpoint};

    /// A failing non-key SLO is a warning, not a failure; a pending checkpoint
    /// is an error case saying when it is due, not an all-skipped green suite.
    #[test]
    fn non_key_failures_warn_and_pending_is_not_green() {
        let mut s = snapshot::example();
        s.results[1].key = false;
        let xml = junit(&Report::of_snapshot(&s));
        assert!(xml.contains("tests=\"3\" failures=\"1\""), "{xml}");
        assert!(
            xml.contains("<system-out>warning: fail in a non-key SLO (it does not hold readiness back): SLI "),
            "{xml}"
        );

        let (ratio, probe) = snapshot::example_slos();
        let slos = [std::sync::Arc::new(ratio), std::sync::Arc::new(probe)];
        let launch = chrono::DateTime::from_timestamp(1_795_000_000, 0).expect("time");
        let after: crate::slo::PromDuration = "24h".parse().expect("duration");
        let due = snapshot::checkpoint_due(launch, after);
        let c = Checkpoint::pending(&slos, ("24h", after), due);
        let now = launch + chrono::TimeDelta::hours(5);
        let xml = junit(&Report::of_checkpoint(&c, launch, now));
        assert!(
            xml.contains("tests=\"3\" failures=\"0\" errors=\"1\" skipped=\"2\""),
            "{xml}"
        );
        assert!(
            xml.contains("name=\"checkpoint 24h\"><error type=\"pending\" message=\"PENDING — due in 19h (2026-11-19T11:06Z)\""),
            "{xml}"
        );
        assert!(
            xml.contains("<property name=\"verdict\" value=\"PENDING\"/>"),
            "{xml}"
        );
    }
}
