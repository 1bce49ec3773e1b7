//! A Helm values file holding a user's SLO config and the rules and dashboards
//! generated from it, so the chart renders exactly those (`slogate generate
//! --output.helm-values=F`, then `helm upgrade -f F`). The chart refuses to
//! render rules generated for another config: both sides digest the config the
//! same way, as Helm's `.Values.config | toJson | sha256sum` does.

use serde_json::Value;

use super::File;

/// The values file for `config` (the config without `apiVersion` and
/// `prometheus`, which the chart writes) and the generated `files`, made by
/// slogate `version`. The config is written as JSON (valid YAML): every string
/// quoted, so Helm's YAML 1.1 reader cannot turn `no` or `on` into booleans.
pub fn values(
    config: &Value,
    files: &[File],
    header: &str,
    version: &str,
) -> Result<String, String> {
    let config = without_nulls(config);
    let config_json = serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?;
    let mut out = String::from(header);
    out.push_str("config:\n");
    out.push_str(&indent(&config_json, 2));
    out.push_str("generated:\n");
    out.push_str(&format!("  configDigest: \"{}\"\n", digest(&config)));
    out.push_str(&format!("  slogateVersion: \"{version}\"\n"));
    for (key, dir) in [("rules", "rules/"), ("dashboards", "dashboards/")] {
        if !files.iter().any(|f| f.path.starts_with(dir)) {
            out.push_str(&format!("  {key}: {{}}\n"));
            continue;
        }
        out.push_str(&format!("  {key}:\n"));
        for f in files.iter().filter(|f| f.path.starts_with(dir)) {
            let name = &f.path[dir.len()..];
            out.push_str(&format!("    {name}: |\n"));
            out.push_str(&indent(&f.text, 6));
        }
    }
    Ok(out)
}

/// `value` without map entries that are null: Helm drops a user's nulls when
/// merging values, so the digest must not count them.
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        v => v.clone(),
    }
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("{pad}{l}\n")
            }
        })
        .collect()
}

/// SHA-256 (hex) of `value` encoded as Go's `encoding/json` encodes what Helm
/// parsed from YAML: keys sorted, numbers as float64, `<`, `>`, `&` escaped.
pub fn digest(value: &Value) -> String {
    let mut json = String::new();
    go_json(value, &mut json);
    ring::digest::digest(&ring::digest::SHA256, json.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn go_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_float(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => go_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_string(k, out);
                out.push(':');
                go_json(&map[k], out);
            }
            out.push('}');
        }
    }
}

/// A float64 as Go's `encoding/json` writes it: the shortest decimal that reads
/// back, in exponent form below 1e-6 and from 1e21 (`1e-07` as `1e-7`, `1e+21`).
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let text = format!("{f:e}");
        match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
            _ => text,
        }
    } else {
        format!("{f}")
    }
}

fn go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_what_go_encoding_json_writes() {
        let v: Value = serde_norway::from_str(
            "b: [1, 2.5, 0.0000001, 1e21, -0.25]\na: {op: '<', q: \"x\\\"y&\"}\n",
        )
        .expect("yaml");
        let mut json = String::new();
        go_json(&v, &mut json);
        assert_eq!(
            json,
            r#"{"a":{"op":"\u003c","q":"x\"y\u0026"},"b":[1,2.5,1e-7,1e+21,-0.25]}"#
        );
        assert_eq!(digest(&Value::Null).len(), 64);
        let mut json = String::new();
        go_string("a\u{8}b\u{c}c\u{1}", &mut json);
        assert_eq!(json, r#""a\bb\fc\u0001""#);
    }
}
