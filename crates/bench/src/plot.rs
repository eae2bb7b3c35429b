//! PNG charts: a measure over time ([`series`]) and latency distributions ([`cdf`]).
//!
//! Text is drawn with a TrueType font found on the machine (DejaVu Sans or Liberation Sans, as
//! Debian installs them); without one, charts cannot be drawn and [`PlotError::NoFont`] says so.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;

/// Why a chart was not drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// No TrueType font at any of the places looked at.
    #[error("no TrueType font for chart text (looked for {0}); install fonts-dejavu-core")]
    NoFont(String),
    /// Drawing or writing the PNG failed.
    #[error("drawing {path}: {reason}")]
    Draw {
        /// The chart's file.
        path: String,
        /// What failed.
        reason: String,
    },
}

const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

/// Registers the first font found as "sans-serif", once per process.
fn font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = REGISTERED.get_or_init(|| {
        FONTS.iter().any(|path| {
            std::fs::read(path).is_ok_and(|bytes| {
                // The registry keeps the bytes for the process' lifetime.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            })
        })
    });
    if *ok {
        Ok(())
    } else {
        Err(PlotError::NoFont(FONTS.join(", ")))
    }
}

/// One named line of a chart.
#[derive(Clone, Debug)]
pub struct Line {
    /// The legend's text.
    pub name: String,
    /// Points `(x, y)` in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// Axis titles and chart title.
#[derive(Clone, Copy, Debug)]
pub struct Labels<'a> {
    /// Above the chart.
    pub title: &'a str,
    /// Under the x axis.
    pub x: &'a str,
    /// Beside the y axis.
    pub y: &'a str,
}

const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws `lines` on one chart (y from 0) into the PNG at `path`.
pub fn series(path: &Path, labels: Labels<'_>, lines: &[Line]) -> Result<(), PlotError> {
    font()?;
    let draw_err = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let points = || lines.iter().flat_map(|l| l.points.iter());
    let x_max = points().map(|p| p.0).fold(f64::MIN, f64::max);
    let x_min = points().map(|p| p.0).fold(f64::MAX, f64::min);
    let y_max = points().map(|p| p.1).fold(0.0, f64::max);
    let (x_min, x_max) = if x_min < x_max {
        (x_min, x_max)
    } else {
        (0.0, 1.0)
    };
    let y_max = if y_max > 0.0 { y_max * 1.1 } else { 1.0 };

    let root = BitMapBackend::new(path, (1100, 620)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| draw_err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(labels.title, ("sans-serif", 22))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(76)
        .build_cartesian_2d(x_min..x_max, 0.0..y_max)
        .map_err(|e| draw_err(&e))?;
    chart
        .configure_mesh()
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| draw_err(&e))?;
    for (i, line) in lines.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                line.points.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(|e| draw_err(&e))?
            .label(line.name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| draw_err(&e))?;
    root.present().map_err(|e| draw_err(&e))?;
    Ok(())
}

/// Draws the cumulative distribution of each named sample (x: the value, y: the share of values
/// at or below it, in percent) into the PNG at `path`.
pub fn cdf(
    path: &Path,
    labels: Labels<'_>,
    samples: &[(String, Vec<f64>)],
) -> Result<(), PlotError> {
    let lines: Vec<Line> = samples
        .iter()
        .map(|(name, values)| {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len() as f64;
            let points = sorted
                .iter()
                .enumerate()
                .map(|(i, v)| (*v, 100.0 * (i as f64 + 1.0) / n))
                .collect();
            Line {
                name: name.clone(),
                points,
            }
        })
        .collect();
    series(path, labels, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_a_png_file() {
        if font().is_err() {
            // Nothing to draw text with on this machine: the error names the fonts looked for.
            assert!(font().unwrap_err().to_string().contains("DejaVuSans"));
            return;
        }
        let dir = std::env::temp_dir().join(format!("usage-bench-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let over_time = dir.join("series.png");
        let line = Line {
            name: "records/s".into(),
            points: (0..10).map(|i| (f64::from(i), f64::from(i * i))).collect(),
        };
        let labels = Labels {
            title: "t",
            x: "x",
            y: "y",
        };
        series(&over_time, labels, &[line]).unwrap();
        let distribution = dir.join("cdf.png");
        cdf(
            &distribution,
            labels,
            &[("latency".into(), vec![3.0, 1.0, 2.0])],
        )
        .unwrap();
        for file in [over_time, distribution] {
            let bytes = std::fs::read(&file).unwrap();
            assert_eq!(
                bytes.get(..8),
                Some(&b"\x89PNG\r\n\x1a\n"[..]),
                "{}",
                file.display()
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
