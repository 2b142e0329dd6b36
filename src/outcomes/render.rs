//! The outcomes report as text, Markdown (a PR comment or job summary) and one self-contained
//! HTML page (inline SVG charts, no script, nothing fetched from the network).

use std::fmt::Write as _;

use super::{Figures, OutcomesReport};

fn pct(x: Option<f64>) -> String {
    match x {
        Some(v) => format!("{:.0}%", v * 100.0),
        None => "-".into(),
    }
}

fn hours(x: Option<f64>) -> String {
    match x {
        Some(h) if h >= 48.0 => format!("{:.1}d", h / 24.0),
        Some(h) => format!("{h:.1}h"),
        None => "-".into(),
    }
}

/// One line of figures: `12 alerts, 5 incidents, 4 closed (TP 1 / BP 1 / FP 2 / U 0), ...`.
pub fn line(f: &Figures) -> String {
    let c = &f.classification;
    format!(
        "{} alerts, {} incidents, {} closed (TP {} / BP {} / FP {} / U {}), precision {}, FP rate {}, median close {}, alerts/day max {} mean {}",
        f.alerts,
        f.incidents,
        f.closed,
        c.true_positive,
        c.benign_positive,
        c.false_positive,
        c.undetermined,
        pct(f.precision),
        pct(f.fp_rate),
        hours(f.median_hours_to_close),
        f.alerts_per_day_max,
        f.alerts_per_day_mean
    )
}

/// Plain text for a terminal.
pub fn human(r: &OutcomesReport) -> String {
    let mut s = format!(
        "outcomes in `{}` over the last {}: {} rule(s)\n",
        r.environment,
        r.since,
        r.rules.len()
    );
    for u in &r.unknown {
        let _ = writeln!(s, "unknown  {}: {}", u.workspace, u.reason);
    }
    for x in &r.rules {
        let mut flags = Vec::new();
        if x.silent {
            flags.push("silent".to_string());
        }
        if x.failed_runs > 0 {
            flags.push(format!("{} of {} runs failed", x.failed_runs, x.runs));
        }
        if x.auto_disabled {
            flags.push("AUTO DISABLED".into());
        }
        let _ = writeln!(
            s,
            "{} ({}) in {} [{}{}]: {}{}",
            x.display_name,
            x.rule,
            x.workspace,
            x.stage,
            x.model
                .as_ref()
                .map(|m| format!(", {} {m}", x.origin))
                .unwrap_or_else(|| format!(", {}", x.origin)),
            line(&x.figures),
            if flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", flags.join(", "))
            }
        );
        for (e, n) in &x.figures.top_fp_entities {
            let _ = writeln!(s, "    false-positive entity {e}: {n}");
        }
        if x.versions.len() > 1 {
            for v in &x.versions {
                let _ = writeln!(
                    s,
                    "    version {}{}: {}",
                    v.version,
                    if v.current { " (current)" } else { "" },
                    line(&v.figures)
                );
            }
        }
    }
    for (title, groups) in [
        ("by rollout stage", &r.by_stage),
        ("by origin and model", &r.by_model),
    ] {
        let _ = writeln!(s, "{title}:");
        for g in groups {
            let _ = writeln!(
                s,
                "  {} ({} rule{}): {}",
                g.key,
                g.rules,
                if g.rules == 1 { "" } else { "s" },
                line(&g.figures)
            );
        }
    }
    s
}

/// Text safe inside a Markdown table cell.
fn md(s: &str) -> String {
    crate::compile::templates::md_text(s)
}

/// Markdown for a PR comment or a job summary.
pub fn markdown(r: &OutcomesReport) -> String {
    let mut s = format!(
        "### vigil outcomes: `{}`, last {}\n\n",
        md(&r.environment),
        md(&r.since)
    );
    for u in &r.unknown {
        let _ = writeln!(
            s,
            "> **unknown**: {}: {}\n",
            md(&u.workspace),
            md(&u.reason)
        );
    }
    s.push_str("| rule | stage | origin / model | alerts | incidents | closed | TP | BP | FP | precision | FP rate | median close | alerts/day max | notes |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for x in &r.rules {
        let f = &x.figures;
        let mut notes = Vec::new();
        if x.silent {
            notes.push("silent".to_string());
        }
        if x.failed_runs > 0 {
            notes.push(format!("{}/{} runs failed", x.failed_runs, x.runs));
        }
        if x.auto_disabled {
            notes.push("auto-disabled".into());
        }
        if !f.top_fp_entities.is_empty() {
            notes.push(format!(
                "FP: {}",
                f.top_fp_entities
                    .iter()
                    .map(|(e, n)| format!("{} ×{n}", md(e)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            md(&x.display_name),
            md(&x.stage),
            md(&match &x.model {
                Some(m) => format!("{} / {m}", x.origin),
                None => x.origin.clone(),
            }),
            f.alerts,
            f.incidents,
            f.closed,
            f.classification.true_positive,
            f.classification.benign_positive,
            f.classification.false_positive,
            pct(f.precision),
            pct(f.fp_rate),
            hours(f.median_hours_to_close),
            f.alerts_per_day_max,
            notes.join("; ")
        );
    }
    for (title, groups) in [
        ("By rollout stage", &r.by_stage),
        ("By origin and model", &r.by_model),
    ] {
        let _ = write!(
            s,
            "\n**{title}**\n\n| group | rules | alerts | closed | precision | FP rate |\n|---|---:|---:|---:|---:|---:|\n"
        );
        for g in groups {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                md(&g.key),
                g.rules,
                g.figures.alerts,
                g.figures.closed,
                pct(g.figures.precision),
                pct(g.figures.fp_rate)
            );
        }
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A horizontal bar chart as inline SVG: one bar per (label, value in 0..=max).
fn bars(title: &str, items: &[(String, f64, String)], max: f64) -> String {
    let row = 22.0;
    let label_w = 320.0;
    let bar_w = 360.0;
    let h = 30.0 + row * items.len() as f64;
    let mut s = format!(
        "<figure><figcaption>{}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        label_w + bar_w + 260.0,
        esc(title)
    );
    for (i, (label, v, text)) in items.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let w = if max > 0.0 {
            bar_w * (v / max).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text><rect x=\"{}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"#3b6ea5\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            label_w - 6.0,
            y + 14.0,
            esc(label),
            label_w,
            y + 3.0,
            row - 6.0,
            label_w + w + 4.0,
            y + 14.0,
            esc(text)
        );
    }
    s.push_str("</svg></figure>\n");
    s
}

/// Alerts per day per rule: one row of day columns per rule over the days of the report.
fn daily(r: &OutcomesReport) -> String {
    use crate::datetime::{format_datetime, parse_datetime, DAY};
    let day_of = |d: &str| parse_datetime(&format!("{d}T00:00:00Z")).map(|t| t / DAY);
    let all: Vec<i64> = r
        .rules
        .iter()
        .flat_map(|x| x.figures.alerts_by_day.keys())
        .filter_map(|d| day_of(d))
        .collect();
    let (Some(first), Some(last)) = (all.iter().min(), all.iter().max()) else {
        return String::new();
    };
    let days = (last - first + 1).clamp(1, 400);
    let shown: Vec<_> = r.rules.iter().take(40).collect();
    let max = shown
        .iter()
        .map(|x| x.figures.alerts_per_day_max)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (label_w, col_w, row_h) = (320.0, (600.0 / days as f64).clamp(2.0, 24.0), 28.0);
    let h = 40.0 + row_h * shown.len() as f64;
    let w = label_w + col_w * days as f64 + 20.0;
    let mut s = format!(
        "<figure><figcaption>Alerts per day per rule, {} to {}</figcaption><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" role=\"img\" aria-label=\"alerts per day per rule\">",
        &format_datetime(first * DAY)[..10],
        &format_datetime(last * DAY)[..10]
    );
    for (i, x) in shown.iter().enumerate() {
        let y = 10.0 + row_h * i as f64;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"12\">{}</text><line x1=\"{label_w}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ccc\"/>",
            label_w - 6.0,
            y + 18.0,
            esc(&x.display_name),
            label_w + col_w * days as f64,
            y + row_h - 4.0,
            y + row_h - 4.0
        );
        for (d, n) in &x.figures.alerts_by_day {
            let Some(k) = day_of(d) else { continue };
            let bh = (row_h - 6.0) * (*n as f64 / max);
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#3b6ea5\"><title>{d}: {n}</title></rect>",
                label_w + col_w * (k - first) as f64,
                y + row_h - 4.0 - bh,
                (col_w - 1.0).max(1.0)
            );
        }
    }
    s.push_str("</svg></figure>\n");
    s
}

/// One self-contained HTML page: tables and inline SVG charts (alerts per day per rule,
/// precision per rule and per model); no script, no external resource.
pub fn html(r: &OutcomesReport) -> String {
    let mut s = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">");
    let _ = write!(
        s,
        "<title>vigil outcomes: {}</title><style>body{{font-family:system-ui,sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse;margin:12px 0}}td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px}}th{{background:#f0f3f7}}td.n{{text-align:right}}.unknown{{color:#a00;font-weight:bold}}figure{{margin:16px 0}}figcaption{{font-weight:bold;margin-bottom:4px}}</style></head><body>",
        esc(&r.environment)
    );
    let _ = write!(
        s,
        "<h1>Outcomes in <code>{}</code>, last {}</h1>",
        esc(&r.environment),
        esc(&r.since)
    );
    for u in &r.unknown {
        let _ = write!(
            s,
            "<p class=\"unknown\">unknown: {}: {}</p>",
            esc(&u.workspace),
            esc(&u.reason)
        );
    }
    s.push_str("<table><tr><th>rule</th><th>stage</th><th>origin / model</th><th>alerts</th><th>incidents</th><th>closed</th><th>TP</th><th>BP</th><th>FP</th><th>precision</th><th>FP rate</th><th>median close</th><th>alerts/day max</th><th>FP entities</th></tr>");
    for x in &r.rules {
        let f = &x.figures;
        let _ = write!(
            s,
            "<tr><td>{}<br><small>{}</small></td><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td></tr>",
            esc(&x.display_name),
            esc(&x.source),
            esc(&x.stage),
            esc(&match &x.model {
                Some(m) => format!("{} / {m}", x.origin),
                None => x.origin.clone(),
            }),
            f.alerts,
            f.incidents,
            f.closed,
            f.classification.true_positive,
            f.classification.benign_positive,
            f.classification.false_positive,
            pct(f.precision),
            pct(f.fp_rate),
            hours(f.median_hours_to_close),
            f.alerts_per_day_max,
            esc(&f
                .top_fp_entities
                .iter()
                .map(|(e, n)| format!("{e} ×{n}"))
                .collect::<Vec<_>>()
                .join(", "))
        );
    }
    s.push_str("</table>");
    s.push_str(&daily(r));
    let shown: Vec<_> = r.rules.iter().take(40).collect();
    let max_rate = shown
        .iter()
        .map(|x| x.figures.alerts_per_day_mean)
        .fold(0.0, f64::max);
    s.push_str(&bars(
        "Alerts per day (mean) per rule",
        &shown
            .iter()
            .map(|x| {
                (
                    x.display_name.clone(),
                    x.figures.alerts_per_day_mean,
                    format!(
                        "{} (max {})",
                        x.figures.alerts_per_day_mean, x.figures.alerts_per_day_max
                    ),
                )
            })
            .collect::<Vec<_>>(),
        max_rate,
    ));
    s.push_str(&bars(
        "Precision per rule (closed incidents)",
        &shown
            .iter()
            .filter(|x| x.figures.precision.is_some())
            .map(|x| {
                (
                    x.display_name.clone(),
                    x.figures.precision.unwrap_or(0.0),
                    pct(x.figures.precision),
                )
            })
            .collect::<Vec<_>>(),
        1.0,
    ));
    s.push_str(&bars(
        "Precision per origin and model",
        &r.by_model
            .iter()
            .filter(|g| g.figures.precision.is_some())
            .map(|g| {
                (
                    g.key.clone(),
                    g.figures.precision.unwrap_or(0.0),
                    format!(
                        "{} ({} rule{}, {} closed)",
                        pct(g.figures.precision),
                        g.rules,
                        if g.rules == 1 { "" } else { "s" },
                        g.figures.closed
                    ),
                )
            })
            .collect::<Vec<_>>(),
        1.0,
    ));
    s.push_str("</body></html>\n");
    s
}
