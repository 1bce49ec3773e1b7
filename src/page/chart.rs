//! Line charts as inline SVG, with axes and time labels: no JavaScript, no
//! external file, readable at any width (the SVG scales with its `viewBox`).

use std::fmt::Write;

use chrono::{DateTime, Utc};

use crate::escape::markup as esc;
use crate::scheduler::detail::Line;

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    pub points: Line,
}

/// A chart: its lines, dashed limits (objective, thresholds) and how values read.
pub struct Chart<'a> {
    /// The `id` of the `<figure>`, for links and tests.
    pub id: &'a str,
    pub title: &'a str,
    pub lines: Vec<Series>,
    pub limits: Vec<(String, f64)>,
    pub format: fn(f64) -> String,
}

const W: f64 = 720.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

fn time_label(t: f64, span: f64) -> String {
    let Some(at) = DateTime::<Utc>::from_timestamp(t as i64, 0) else {
        return String::new();
    };
    if span <= 2.0 * 86_400.0 {
        at.format("%H:%M").to_string()
    } else {
        at.format("%b %d").to_string()
    }
}

/// The chart as a `<figure>`: SVG, then a legend.
pub fn render(c: &Chart<'_>) -> String {
    let values = c
        .lines
        .iter()
        .flat_map(|l| l.points.iter().filter_map(|(_, v)| *v))
        .chain(c.limits.iter().map(|(_, v)| *v))
        .filter(|v| v.is_finite());
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let times = c
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|(t, _)| *t));
    let (t0, t1) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| {
        (a.min(t), b.max(t))
    });
    let mut out = format!(
        "<figure class=\"chart\" id=\"{}\"><figcaption>{}</figcaption>",
        esc(c.id),
        esc(c.title)
    );
    let drawn: usize = c
        .lines
        .iter()
        .map(|l| l.points.iter().filter(|(_, v)| v.is_some()).count())
        .sum();
    if drawn == 0 || !lo.is_finite() || !t0.is_finite() {
        out.push_str("<p class=\"small empty\">No data in this range.</p></figure>");
        return out;
    }
    let never_negative = lo >= 0.0;
    if hi - lo < 1e-12 {
        (lo, hi) = (
            lo - 0.5_f64.max(lo.abs() * 0.1),
            hi + 0.5_f64.max(hi.abs() * 0.1),
        );
    } else {
        let pad = (hi - lo) * 0.08;
        (lo, hi) = (lo - pad, hi + pad);
    }
    if never_negative {
        // Rates and counts: the axis starts at 0, not below.
        lo = lo.max(0.0);
    }
    let span = (t1 - t0).max(1.0);
    let x = |t: f64| LEFT + (t - t0) / span * (W - LEFT - RIGHT);
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM);
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">\
         <rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{}\" height=\"{}\" fill=\"#fff\" stroke=\"#d0d7de\"/>",
        esc(c.title),
        W - LEFT - RIGHT,
        H - TOP - BOTTOM
    );
    for i in 0..=4 {
        let v = lo + (hi - lo) * f64::from(i) / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eaeef2\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" class=\"tick\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            esc(&(c.format)(v)),
            y = y(v)
        );
    }
    for i in 0..=4 {
        let t = t0 + span * f64::from(i) / 4.0;
        let anchor = match i {
            0 => "start",
            4 => "end",
            _ => "middle",
        };
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\" class=\"tick\">{}</text>",
            x(t),
            H - 8.0,
            time_label(t, span)
        );
    }
    for (name, v) in &c.limits {
        let _ = write!(
            out,
            "<line class=\"limit\" data-limit=\"{}\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#cf222e\" stroke-dasharray=\"6 4\"/>",
            esc(name),
            W - RIGHT,
            y = y(*v)
        );
    }
    for l in &c.lines {
        let known: Vec<&(f64, Option<f64>)> =
            l.points.iter().filter(|(_, v)| v.is_some()).collect();
        let last = known.last().and_then(|(_, v)| *v).unwrap_or(f64::NAN);
        let _ = write!(
            out,
            "<g class=\"line\" data-name=\"{}\" data-points=\"{}\" data-last=\"{}\">",
            esc(&l.name),
            known.len(),
            if last.is_finite() {
                last.to_string()
            } else {
                String::new()
            }
        );
        // A gap (no data) breaks the line.
        for run in l
            .points
            .split(|(_, v)| v.is_none())
            .filter(|r| !r.is_empty())
        {
            let coords: Vec<String> = run
                .iter()
                .filter_map(|(t, v)| v.map(|v| format!("{:.1},{:.1}", x(*t), y(v))))
                .collect();
            if let [(t, Some(v))] = run {
                // One point alone is no line: a dot.
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
                    x(*t),
                    y(*v),
                    l.colour
                );
                continue;
            }
            let _ = write!(
                out,
                "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>",
                l.colour,
                coords.join(" ")
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg><div class=\"legend small\">");
    for l in &c.lines {
        let _ = write!(
            out,
            "<span><i style=\"background:{}\"></i>{}</span>",
            l.colour,
            esc(&l.name)
        );
    }
    for (name, v) in &c.limits {
        let _ = write!(
            out,
            "<span><i class=\"dashed\"></i>{} {}</span>",
            esc(name),
            esc(&(c.format)(*v))
        );
    }
    out.push_str("</div></figure>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_draws_its_points_breaks_at_gaps_and_labels_its_axes() {
        let t = 1_795_000_000.0;
        let chart = Chart {
            id: "burn",
            title: "burn <rate>",
            lines: vec![Series {
                name: "1h".into(),
                colour: "#0969da",
                points: vec![
                    (t, Some(1.0)),
                    (t + 300.0, None),
                    (t + 600.0, Some(20.0)),
                    (t + 900.0, Some(20.0)),
                ],
            }],
            limits: vec![("page".into(), 14.4)],
            format: |v| format!("{v:.1}"),
        };
        let svg = render(&chart);
        assert!(svg.contains("data-points=\"3\" data-last=\"20\""), "{svg}");
        // A gap splits the line; a point alone on its side of one is a dot.
        assert_eq!(svg.matches("<polyline").count(), 1, "{svg}");
        assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
        assert!(svg.contains("data-limit=\"page\""), "{svg}");
        assert!(svg.contains("burn &lt;rate&gt;"), "escaped: {svg}");
        assert!(
            svg.contains(">11:06</text>") && svg.contains(">11:21</text>"),
            "{svg}"
        );
        let empty = render(&Chart {
            lines: vec![],
            ..chart
        });
        assert!(empty.contains("No data in this range."), "{empty}");
    }
}
