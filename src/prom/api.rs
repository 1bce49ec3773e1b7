//! Typed parsing of the `/api/v1/query` envelope. Never panics on any body.

use std::collections::BTreeMap;

use serde::Deserialize;

pub use crate::slo::{Sample, Series};

/// Why a query produced no usable result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("Prometheus rejected the query ({kind}): {message}")]
    Rejected { kind: String, message: String },
    #[error("unexpected response (HTTP {status}): {detail}")]
    Malformed { status: u16, detail: String },
    #[error("unsupported result type {0:?} (want vector or scalar)")]
    ResultType(String),
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    warnings: Vec<String>,
    /// VictoriaMetrics' flag for an answer some storage nodes did not contribute to.
    #[serde(default, rename = "isPartial")]
    is_partial: bool,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
    /// Present when the query asked for `stats=all` and the server supports it.
    #[serde(default)]
    stats: Option<Stats>,
}

#[derive(Deserialize)]
struct Stats {
    #[serde(default)]
    timings: Option<Timings>,
    #[serde(default)]
    samples: Option<SampleStats>,
}

#[derive(Deserialize)]
struct Timings {
    #[serde(default, rename = "evalTotalTime")]
    eval_total_time: Option<f64>,
}

#[derive(Deserialize)]
struct SampleStats {
    #[serde(default, rename = "totalQueryableSamples")]
    total_queryable_samples: Option<f64>,
}

/// What one query cost the server, as it reported (Prometheus' `stats=all`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cost {
    /// Samples the query read (`totalQueryableSamples`).
    pub samples: u64,
    /// The server's evaluation time in seconds (`evalTotalTime`).
    pub eval_seconds: f64,
}

impl Stats {
    fn cost(&self) -> Option<Cost> {
        let samples = self.samples.as_ref()?.total_queryable_samples?;
        let eval = self.timings.as_ref().and_then(|t| t.eval_total_time);
        (samples.is_finite() && samples >= 0.0).then(|| Cost {
            samples: samples as u64,
            eval_seconds: eval.filter(|e| e.is_finite() && *e >= 0.0).unwrap_or(0.0),
        })
    }
}

#[derive(Deserialize)]
struct MatrixItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct VectorItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

fn parse_value(text: &str) -> Option<f64> {
    // Rust parses "NaN", "+Inf" and "-Inf" itself (case-insensitively).
    text.parse().ok()
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]);
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    if body.len() > 120 {
        format!("{text}...")
    } else {
        text
    }
}

/// A successful answer and the warnings Prometheus sent with it (e.g. a range
/// selector over data it no longer has).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    pub value: T,
    pub warnings: Vec<String>,
    /// What the query cost, when the server said.
    pub cost: Option<Cost>,
}

/// The `data` of a successful envelope and its warnings, or why there is none.
/// The warning slogate reads into an answer flagged `isPartial: true`.
pub const PARTIAL_FLAG_WARNING: &str =
    "the answer is flagged isPartial: some storage nodes did not answer";

fn data(status: u16, body: &[u8]) -> Result<(Data, Vec<String>), QueryError> {
    let malformed = |detail: String| QueryError::Malformed { status, detail };
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| malformed(format!("{e}; body starts {:?}", snippet(body))))?;
    if envelope.status != "success" {
        return Err(QueryError::Rejected {
            kind: envelope.error_type.unwrap_or_else(|| "unknown".into()),
            message: envelope
                .error
                .unwrap_or_else(|| format!("status {:?}", envelope.status)),
        });
    }
    let data = envelope
        .data
        .ok_or_else(|| malformed("success without data".into()))?;
    let mut warnings = envelope.warnings;
    if envelope.is_partial {
        warnings.push(PARTIAL_FLAG_WARNING.into());
    }
    Ok((data, warnings))
}

/// Parses a range-query response body into series.
pub fn parse_range_response(status: u16, body: &[u8]) -> Result<Parsed<Vec<Series>>, QueryError> {
    let malformed = |detail: String| QueryError::Malformed { status, detail };
    let (data, warnings) = data(status, body)?;
    if data.result_type != "matrix" {
        return Err(QueryError::ResultType(data.result_type));
    }
    let items: Vec<MatrixItem> =
        serde_json::from_value(data.result).map_err(|e| malformed(format!("bad matrix: {e}")))?;
    items
        .into_iter()
        .map(|item| {
            let points = item
                .values
                .iter()
                .map(|(t, v)| {
                    parse_value(v)
                        .map(|v| (*t, v))
                        .ok_or_else(|| malformed(format!("bad sample value {v:?}")))
                })
                .collect::<Result<_, _>>()?;
            Ok(Series {
                labels: item.metric,
                points,
            })
        })
        .collect::<Result<_, _>>()
        .map(|value| Parsed {
            value,
            warnings,
            cost: None,
        })
}

/// Parses a query response body (with its HTTP status) into samples.
pub fn parse_response(status: u16, body: &[u8]) -> Result<Parsed<Vec<Sample>>, QueryError> {
    let malformed = |detail: String| QueryError::Malformed { status, detail };
    let (data, warnings) = data(status, body)?;
    let cost = data.stats.as_ref().and_then(Stats::cost);
    let value = match data.result_type.as_str() {
        "vector" => {
            let items: Vec<VectorItem> = serde_json::from_value(data.result)
                .map_err(|e| malformed(format!("bad vector: {e}")))?;
            items
                .into_iter()
                .map(|item| {
                    let value = parse_value(&item.value.1)
                        .ok_or_else(|| malformed(format!("bad sample value {:?}", item.value.1)))?;
                    Ok(Sample {
                        labels: item.metric,
                        value,
                    })
                })
                .collect()
        }
        "scalar" => {
            let (_, text): (f64, String) = serde_json::from_value(data.result)
                .map_err(|e| malformed(format!("bad scalar: {e}")))?;
            let value = parse_value(&text)
                .ok_or_else(|| malformed(format!("bad scalar value {text:?}")))?;
            Ok(vec![Sample {
                labels: BTreeMap::new(),
                value,
            }])
        }
        other => Err(QueryError::ResultType(other.to_string())),
    };
    value.map(|value| Parsed {
        value,
        warnings,
        cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn no_body_makes_the_parser_panic(body in proptest::collection::vec(any::<u8>(), 0..512), status in 100u16..600) {
            let _ = parse_response(status, &body);
            let _ = parse_range_response(status, &body);
        }

        #[test]
        fn no_json_shaped_body_makes_the_parser_panic(value in "[0-9a-zA-Z+\\-. ]{0,12}", kind in "(vector|scalar|matrix|string)") {
            let body = format!(
                r#"{{"status":"success","data":{{"resultType":"{kind}","result":[{{"metric":{{}},"value":[1,"{value}"]}}]}}}}"#
            );
            let _ = parse_response(200, body.as_bytes());
        }
    }

    #[test]
    fn vector_with_special_values_parses() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"service":"a"},"value":[1700000000.5,"0.25"]},
            {"metric":{"service":"b"},"value":[1700000000.5,"NaN"]},
            {"metric":{},"value":[1700000000.5,"+Inf"]}]}}"#;
        let samples = parse_response(200, body).unwrap().value;
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].value, 0.25);
        assert_eq!(samples[0].labels["service"], "a");
        assert!(samples[1].value.is_nan());
        assert_eq!(samples[2].value, f64::INFINITY);
    }

    #[test]
    fn scalar_parses_to_one_unlabelled_sample() {
        let body = br#"{"status":"success","data":{"resultType":"scalar","result":[1,"42"]}}"#;
        assert_eq!(parse_response(200, body).unwrap().value[0].value, 42.0);
    }

    #[test]
    fn warnings_come_back_with_the_answer() {
        let body =
            br#"{"status":"success","warnings":["PromQL info: metric might not be a counter"],
            "data":{"resultType":"vector","result":[]}}"#;
        let parsed = parse_response(200, body).unwrap();
        assert_eq!(
            parsed.warnings,
            ["PromQL info: metric might not be a counter"]
        );
        assert!(parsed.value.is_empty());
    }

    #[test]
    fn stats_all_gives_the_samples_read_and_the_eval_time() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[],
            "stats":{"timings":{"evalTotalTime":0.0125,"execTotalTime":0.013},
            "samples":{"totalQueryableSamples":518420,"peakSamples":12}}}}"#;
        let parsed = parse_response(200, body).unwrap();
        assert_eq!(
            parsed.cost,
            Some(Cost {
                samples: 518_420,
                eval_seconds: 0.0125
            })
        );
        let plain = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(parse_response(200, plain).unwrap().cost, None);
    }

    #[test]
    fn a_victoriametrics_partial_flag_reads_as_a_warning() {
        let body = br#"{"status":"success","isPartial":true,
            "data":{"resultType":"vector","result":[]}}"#;
        let parsed = parse_response(200, body).unwrap();
        assert_eq!(parsed.warnings, [PARTIAL_FLAG_WARNING]);
    }

    #[test]
    fn error_envelope_keeps_type_and_message() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        assert_eq!(
            parse_response(400, body).unwrap_err().to_string(),
            "Prometheus rejected the query (bad_data): parse error at char 5"
        );
    }

    #[test]
    fn matrix_parses_into_series() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"service":"a"},"values":[[60,"1"],[120,"NaN"]]}]}}"#;
        let series = parse_range_response(200, body).unwrap().value;
        assert_eq!(series[0].labels["service"], "a");
        assert_eq!(series[0].points[0], (60.0, 1.0));
        assert!(series[0].points[1].1.is_nan());
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(
            parse_range_response(200, vector).unwrap_err(),
            QueryError::ResultType("vector".into())
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for body in [
            &b"<html>oops</html>"[..],
            b"",
            b"{}",
            b"\xff\xfe",
            b"{\"status\":\"success\"}",
        ] {
            assert!(parse_response(200, body).is_err(), "{body:?}");
        }
        let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert_eq!(
            parse_response(200, matrix).unwrap_err(),
            QueryError::ResultType("matrix".into())
        );
    }
}
