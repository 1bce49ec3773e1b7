//! The pure importer on inline specs: exact objectives, names, and the rule
//! that every field is accounted for.

use super::*;

fn run(from: Option<Format>, text: &str) -> Imported {
    let input = Input {
        name: "spec.yaml".into(),
        text: text.into(),
    };
    import(from, &[input], Options::default()).expect("imports")
}

#[test]
fn ratio_targets_become_exact_percentages() {
    for (target, want) in [
        ("0.9995", "99.95"),
        ("0.999", "99.9"),
        ("0.99", "99"),
        ("0.95", "95"),
        ("0.99999", "99.999"),
        ("0.5", "50"),
    ] {
        assert_eq!(percent_of_ratio(target), Ok(want.to_string()), "{target}");
    }
    assert!(percent_of_ratio("1").is_err());
    assert!(
        percent_of_ratio("99.9").is_err(),
        "a percentage is not a ratio"
    );
    assert!(percent_of_ratio("-0.9").is_err());
}

#[test]
fn every_unknown_field_is_named_once_at_its_highest_level() {
    let got = run(
        None,
        "version: prometheus/v1\nservice: a\nsurprise:\n  deep:\n    deeper: 1\nslos:\n  - name: x\n    objective: 99\n    odd: [1, 2]\n    sli:\n      events:\n        error_query: sum(rate(e_total[{{.window}}]))\n        total_query: sum(rate(t_total[{{.window}}]))\n",
    );
    let lines: Vec<String> = got.notes.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "spec.yaml: surprise: dropped: not a field slogate import knows; not carried over",
            "spec.yaml: slos[0].odd: dropped: not a field slogate import knows; not carried over",
        ]
    );
    assert!(got.lossy());
    assert_eq!(got.slos.len(), 1);
}

#[test]
fn a_clean_spec_has_no_notes_and_is_not_lossy() {
    let got = run(
        Some(Format::Pyrra),
        "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata:\n  name: errors\nspec:\n  target: '99.5'\n  window: 2w\n  indicator:\n    ratio:\n      errors:\n        metric: a_total{code=\"500\"}\n      total:\n        metric: a_total\n",
    );
    assert!(got.notes.is_empty(), "{:?}", got.notes);
    assert!(!got.lossy());
    assert_eq!(got.slos[0].objective.as_deref(), Some("99.5"));
    assert_eq!(got.slos[0].window, "2w");
}

#[test]
fn clashing_names_are_renamed_after_the_service_then_numbered() {
    let spec = |service: &str| {
        format!("version: prometheus/v1\nservice: {service}\nslos:\n  - name: x\n    objective: 99\n    sli:\n      events:\n        error_query: sum(rate(e_total[{{{{.window}}}}]))\n        total_query: sum(rate(t_total[{{{{.window}}}}]))\n")
    };
    let inputs: Vec<Input> = ["a", "b", "b"]
        .iter()
        .enumerate()
        .map(|(i, s)| Input {
            name: format!("{i}.yaml"),
            text: spec(s),
        })
        .collect();
    let got = import(Some(Format::Sloth), &inputs, Options::default()).expect("imports");
    let names: Vec<&str> = got.slos.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["x", "b-x", "b-x-2"]);
    assert!(!got.lossy(), "a rename is not a loss");
}
