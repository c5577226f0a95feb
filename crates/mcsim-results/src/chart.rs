//! Charts: histogram, cumulative distribution and tornado, as SVG or PNG.
//!
//! The format comes from the file extension (`.svg` or `.png`). Text is drawn with DejaVu Sans,
//! which is compiled into the crate (`assets/DejaVuSans.ttf`, licence in
//! `assets/DejaVuSans-LICENSE.txt`), so charts look the same on machines without fonts. SVG files
//! name the font family `sans-serif` and let the viewer pick the face.

use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::error::{Result, ResultsError};
use crate::sensitivity::Sensitivity;
use crate::summary::{percentile_inc, sorted_finite};

const FONT: &str = "sans-serif";
const SIZE: (u32, u32) = (800, 500);
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn ensure_font() -> std::result::Result<(), &'static str> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    if *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()) {
        Ok(())
    } else {
        Err("the bundled font could not be loaded")
    }
}

#[derive(Clone, Copy)]
enum ChartFormat {
    Svg,
    Png,
}

fn chart_format(path: &Path) -> Result<ChartFormat> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => Ok(ChartFormat::Svg),
        Some("png") => Ok(ChartFormat::Png),
        _ => Err(chart_error(path, "the chart file must end in .svg or .png")),
    }
}

fn chart_error(
    path: &Path,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> ResultsError {
    ResultsError::Chart {
        path: path.to_path_buf(),
        source: e.into(),
    }
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Renders with the backend the extension picks; `$draw` is generic over the backend.
macro_rules! render {
    ($path:expr, $draw:ident ( $($arg:expr),* )) => {{
        let path: &Path = $path;
        let format = chart_format(path)?;
        ensure_font().map_err(|e| chart_error(path, e))?;
        match format {
            ChartFormat::Svg => {
                let root = SVGBackend::new(path, SIZE).into_drawing_area();
                $draw(&root, $($arg),*)
                    .and_then(|()| root.present())
                    .map_err(|e| chart_error(path, e))
            }
            ChartFormat::Png => {
                let root = BitMapBackend::new(path, SIZE).into_drawing_area();
                $draw(&root, $($arg),*)
                    .and_then(|()| root.present())
                    .map_err(|e| chart_error(path, e))
            }
        }
    }};
}

fn no_data(title: &str, what: &str) -> ResultsError {
    ResultsError::Undefined {
        statistic: what.to_string(),
        output: title.to_string(),
        reason: "no valid samples",
    }
}

/// A range around `[lo, hi]` that is never empty.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    if hi > lo {
        let pad = (hi - lo) * 0.02;
        (lo - pad, hi + pad)
    } else {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        (lo - pad, hi + pad)
    }
}

fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Draws a histogram of the finite `samples` (bar heights are the fraction of samples per bin;
/// `ceil(sqrt(n))` bins, between 10 and 60), with the mean marked, to an `.svg` or `.png` file.
pub fn plot_histogram(samples: &[f64], title: &str, path: impl AsRef<Path>) -> Result<()> {
    let sorted = sorted_finite(samples);
    if sorted.is_empty() {
        return Err(no_data(title, "histogram"));
    }
    let n = sorted.len();
    let bins = ((n as f64).sqrt().ceil() as usize).clamp(10, 60);
    let (lo, hi) = padded(sorted[0], sorted[n - 1]);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &x in &sorted {
        let b = (((x - lo) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let freqs: Vec<f64> = counts.iter().map(|&c| c as f64 / n as f64).collect();
    let mean = crate::sum::stable_sum(sorted.iter().copied()) / n as f64;
    render!(
        path.as_ref(),
        draw_histogram(title, lo, width, &freqs, mean)
    )
}

fn draw_histogram<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    lo: f64,
    width: f64,
    freqs: &[f64],
    mean: f64,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let top = freqs.iter().copied().fold(0.0, f64::max) * 1.1;
    let hi = lo + width * freqs.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("value")
        .y_desc("fraction of iterations")
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&|v| fmt_num(*v))
        .label_style((FONT, 13))
        .draw()?;
    chart.draw_series(freqs.iter().enumerate().map(|(i, &f)| {
        let x0 = lo + width * i as f64;
        Rectangle::new([(x0, 0.0), (x0 + width, f)], BLUE.mix(0.6).filled())
    }))?;
    chart
        .draw_series(LineSeries::new(
            [(mean, 0.0), (mean, top)],
            RED.stroke_width(2),
        ))?
        .label(format!("mean {}", fmt_num(mean)))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Draws the empirical cumulative distribution of the finite `samples` (at most 2,001 points,
/// taken at evenly spaced probabilities) to an `.svg` or `.png` file.
pub fn plot_cdf(samples: &[f64], title: &str, path: impl AsRef<Path>) -> Result<()> {
    let sorted = sorted_finite(samples);
    if sorted.is_empty() {
        return Err(no_data(title, "CDF"));
    }
    let n = sorted.len();
    let points: Vec<(f64, f64)> = if n <= 2001 {
        sorted
            .iter()
            .enumerate()
            .map(|(i, &x)| (x, (i + 1) as f64 / n as f64))
            .collect()
    } else {
        (0..=2000)
            .map(|k| {
                let p = k as f64 / 2000.0;
                (percentile_inc(&sorted, p), p)
            })
            .collect()
    };
    let (lo, hi) = padded(sorted[0], sorted[n - 1]);
    render!(path.as_ref(), draw_cdf(title, lo, hi, &points))
}

fn draw_cdf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    lo: f64,
    hi: f64,
    points: &[(f64, f64)],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, 0.0..1.0)?;
    chart
        .configure_mesh()
        .x_desc("value")
        .y_desc("cumulative probability")
        .x_label_formatter(&|v| fmt_num(*v))
        .label_style((FONT, 13))
        .draw()?;
    chart.draw_series(LineSeries::new(
        points.iter().copied(),
        BLUE.stroke_width(2),
    ))?;
    Ok(())
}

/// Draws a tornado chart of the Spearman rank correlations of `sensitivity` (the `max_bars`
/// largest by absolute value, largest on top) to an `.svg` or `.png` file.
pub fn plot_tornado(
    sensitivity: &Sensitivity,
    title: &str,
    max_bars: usize,
    path: impl AsRef<Path>,
) -> Result<()> {
    let bars: Vec<(String, f64)> = sensitivity
        .tornado()
        .into_iter()
        .filter_map(|e| e.spearman.map(|r| (e.input.clone(), r)))
        .take(max_bars.max(1))
        .collect();
    if bars.is_empty() {
        return Err(no_data(title, "tornado"));
    }
    render!(path.as_ref(), draw_tornado(title, &bars))
}

fn draw_tornado<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    bars: &[(String, f64)],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let k = bars.len();
    // Row 0 is at the bottom; the largest bar (bars[0]) goes on top.
    let name_of = |seg: &SegmentValue<usize>| -> String {
        match seg {
            SegmentValue::CenterOf(i) if *i < k => bars[k - 1 - *i].0.clone(),
            _ => String::new(),
        }
    };
    let label_width = bars
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(6, 30) as u32
        * 8;
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_width + 10)
        // `a..b` on a discrete axis has `b - a + 1` segments; one bar alone gets two rows.
        .build_cartesian_2d(-1.0..1.0, (0..k.max(2) - 1).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(k)
        .y_label_formatter(&name_of)
        .x_desc("Spearman rank correlation")
        .label_style((FONT, 13))
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(idx, (_, r))| {
        let row = k - 1 - idx;
        let color = if *r >= 0.0 { BLUE } else { RED };
        let mut rect = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(row)),
                (*r, SegmentValue::Exact(row + 1)),
            ],
            color.mix(0.6).filled(),
        );
        rect.set_margin(4, 4, 0, 0);
        rect
    }))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let x: Vec<f64> = (0..1000).map(|i| ((i * 37) % 1000) as f64 / 10.0).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v + 1.0).collect();
        let z: Vec<f64> = x.iter().map(|v| -v * v).collect();
        let s = Sensitivity::compute("y", &y, &[("x", &x), ("minus x squared", &z)]).unwrap();
        for ext in ["svg", "png"] {
            let h = dir.path().join(format!("h.{ext}"));
            plot_histogram(&x, "NPV", &h).unwrap();
            let c = dir.path().join(format!("c.{ext}"));
            plot_cdf(&x, "NPV", &c).unwrap();
            let t = dir.path().join(format!("t.{ext}"));
            plot_tornado(&s, "Tornado: y", 10, &t).unwrap();
            for p in [&h, &c, &t] {
                assert!(
                    std::fs::metadata(p).unwrap().len() > 1000,
                    "{}",
                    p.display()
                );
            }
        }
        let svg = std::fs::read_to_string(dir.path().join("t.svg")).unwrap();
        assert!(
            svg.contains("minus x squared") && svg.contains("Spearman"),
            "tornado labels"
        );
        let png = std::fs::read(dir.path().join("h.png")).unwrap();
        assert_eq!(&png[..4], b"\x89PNG");
        assert!(plot_histogram(&[f64::NAN], "E", dir.path().join("e.svg")).is_err());
        assert!(plot_histogram(&x, "E", dir.path().join("e.jpg")).is_err());
        // Constant data still draws.
        plot_histogram(&[3.0; 10], "C", dir.path().join("k.svg")).unwrap();
    }
}
