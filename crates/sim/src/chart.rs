//! The SVG chart: citizens waiting and windows staffed over the day, one line
//! per policy, drawn with `plotters` (SVG backend only).

use plotters::prelude::*;

use crate::error::SimError;
use crate::report::Report;

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(140, 86, 75),
];

fn hours(label: &str) -> f64 {
    let (h, m) = label.split_once(':').unwrap_or(("0", "0"));
    h.parse::<f64>().unwrap_or(0.0) + m.parse::<f64>().unwrap_or(0.0) / 60.0
}

fn clock(x: &f64) -> String {
    let m = (x * 60.0).round() as i64;
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn err<E: std::fmt::Debug>(e: E) -> SimError {
    SimError::Chart(format!("{e:?}"))
}

/// Renders the report's series as an SVG document.
pub fn svg(report: &Report) -> Result<String, SimError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1000, 720)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let (top, bottom) = root.split_vertically(380);
        let slot_h = report
            .policies
            .first()
            .and_then(|p| p.series.at.get(1).zip(p.series.at.first()))
            .map_or(5.0 / 60.0, |(b, a)| hours(b) - hours(a));
        let x0 = report
            .policies
            .iter()
            .filter_map(|p| p.series.at.first())
            .map(|s| hours(s))
            .fold(f64::INFINITY, f64::min);
        let x0 = if x0.is_finite() { x0 } else { 8.5 };
        let x1 = report
            .policies
            .iter()
            .filter_map(|p| p.series.at.last())
            .map(|s| hours(s) + slot_h)
            .fold(x0 + 1.0, f64::max);
        let max_of = |f: &dyn Fn(&crate::report::PolicyReport) -> &Vec<f64>| {
            report
                .policies
                .iter()
                .flat_map(|p| f(p).iter().copied())
                .fold(1.0f64, f64::max)
        };
        let y_wait = max_of(&|p| &p.series.waiting) * 1.1;
        let y_win = max_of(&|p| &p.series.windows).ceil() + 1.0;
        let title = format!(
            "{} - {} ({} day{}, seed {}): mean over days per {:.0}-minute slot",
            report.hall,
            report.profile,
            report.days,
            if report.days == 1 { "" } else { "s" },
            report.seed,
            slot_h * 60.0
        );
        for (area, y_max, what, pick) in [
            (&top, y_wait, "citizens waiting", 0usize),
            (&bottom, y_win, "windows staffed", 1usize),
        ] {
            let mut chart = ChartBuilder::on(area)
                .caption(
                    if pick == 0 { title.as_str() } else { "" },
                    ("sans-serif", 18),
                )
                .margin(12)
                .x_label_area_size(32)
                .y_label_area_size(48)
                .build_cartesian_2d(x0..x1, 0f64..y_max)
                .map_err(err)?;
            chart
                .configure_mesh()
                .x_desc("time of day")
                .y_desc(what)
                .x_label_formatter(&clock)
                .x_labels(12)
                .draw()
                .map_err(err)?;
            for (i, p) in report.policies.iter().enumerate() {
                let colour = COLOURS[i % COLOURS.len()];
                let ys = if pick == 0 {
                    &p.series.waiting
                } else {
                    &p.series.windows
                };
                let pts: Vec<(f64, f64)> = p
                    .series
                    .at
                    .iter()
                    .zip(ys)
                    .map(|(t, y)| (hours(t) + slot_h / 2.0, *y))
                    .collect();
                chart
                    .draw_series(LineSeries::new(pts, colour.stroke_width(2)))
                    .map_err(err)?
                    .label(p.policy.name())
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                    });
                if pick == 1 && !p.series.planned.is_empty() {
                    // Planned windows: a thin line of the same colour.
                    let planned: Vec<(f64, f64)> = p
                        .series
                        .at
                        .iter()
                        .zip(&p.series.planned)
                        .map(|(t, y)| (hours(t) + slot_h / 2.0, *y))
                        .collect();
                    chart
                        .draw_series(LineSeries::new(planned, colour.mix(0.6).stroke_width(1)))
                        .map_err(err)?
                        .label(format!("{} (planned)", p.policy.name()))
                        .legend(move |(x, y)| {
                            PathElement::new(
                                vec![(x, y), (x + 18, y)],
                                colour.mix(0.6).stroke_width(1),
                            )
                        });
                }
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(out)
}
