//! Answers kept between evaluations, stored compactly: a sample's labels as one
//! boxed slice of shared strings rather than a B-tree of owned ones. `serve`
//! keeps every long-window answer for minutes; for 10,000 SLO groups that is
//! 60,000 samples, 45 MB as [`Sample`]s and a fifth of that here.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::slo::Sample;

/// Samples with their label names and values shared.
#[derive(Debug, Default)]
pub struct Compact {
    samples: Vec<(Labels, f64)>,
}

/// A sample's labels, sorted by name as the B-tree kept them.
type Labels = Box<[(Arc<str>, Arc<str>)]>;

impl Compact {
    /// The samples, each distinct label name or value stored once.
    pub fn new(samples: &[Sample]) -> Self {
        let mut strings: HashSet<Arc<str>> = HashSet::new();
        let mut intern = |s: &str| -> Arc<str> {
            if let Some(have) = strings.get(s) {
                return have.clone();
            }
            let new: Arc<str> = Arc::from(s);
            strings.insert(new.clone());
            new
        };
        Self {
            samples: samples
                .iter()
                .map(|s| {
                    let labels = s
                        .labels
                        .iter()
                        .map(|(k, v)| (intern(k), intern(v)))
                        .collect();
                    (labels, s.value)
                })
                .collect(),
        }
    }

    /// The samples as they were kept.
    pub fn samples(&self) -> Vec<Sample> {
        self.samples
            .iter()
            .map(|(labels, value)| Sample {
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect::<BTreeMap<_, _>>(),
                value: *value,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_samples_come_back_as_they_were() {
        let sample = |service: &str, code: &str, value: f64| Sample {
            labels: [("service", service), ("code", code)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        };
        let samples = vec![
            sample("a", "200", 1.5),
            sample("a", "500", f64::NAN),
            sample("b", "", 0.0),
        ];
        let back = Compact::new(&samples).samples();
        assert_eq!(back.len(), 3);
        assert_eq!(back[0], samples[0]);
        assert_eq!(back[1].labels, samples[1].labels);
        assert!(back[1].value.is_nan());
        assert_eq!(back[2], samples[2]);
        assert!(Compact::new(&[]).samples().is_empty());
    }

    #[test]
    fn each_distinct_string_is_stored_once() {
        let sample = |service: &str| Sample {
            labels: [("service".to_string(), service.to_string())].into(),
            value: 1.0,
        };
        let kept = Compact::new(&[sample("a"), sample("a"), sample("b")]);
        let (first, second) = (&kept.samples[0].0[0], &kept.samples[1].0[0]);
        assert!(Arc::ptr_eq(&first.0, &second.0), "one label name");
        assert!(Arc::ptr_eq(&first.1, &second.1), "one value for both a's");
    }
}
