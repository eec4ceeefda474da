//! SVG pictures of a fairness report (plotters).

use plotters::prelude::*;

use crate::fairness::FairnessReport;
use crate::messages::{Lang, Msg, fill, text};

/// Renders a fairness report as one SVG with three panels: the histogram of
/// inclusion z-scores against the standard normal; the inclusion rate of
/// every department, class and stratum against its target; and each
/// department's inspector workload. Its words are English; see
/// [`fairness_svg_in`].
pub fn fairness_svg(report: &FairnessReport) -> String {
    fairness_svg_in(report, Lang::En)
}

/// [`fairness_svg`] with its captions, axes and legends in `lang`.
pub fn fairness_svg_in(report: &FairnessReport, lang: Lang) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 1200)).into_drawing_area();
        // Drawing into a String cannot fail; errors are ignored rather than unwrapped.
        let _ = root.fill(&WHITE);
        let panels = root.split_evenly((3, 1));
        let _ = z_histogram(&panels[0], report, lang);
        let _ = inclusion_rates(&panels[1], report, lang);
        let _ = workload(&panels[2], report, lang);
        let _ = root.present();
    }
    svg
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type Draw = std::result::Result<(), Box<dyn std::error::Error>>;

/// A panel's chart builder: a caption, margins and room for the axis labels.
fn panel<'a, 'b>(area: &'a Area<'b>, caption: impl AsRef<str>) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption.as_ref(), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60);
    builder
}

/// The name of the column `x` falls in, at the column's centre only (a
/// label at each of the `2n + 1` ticks would repeat it).
fn centre_label(names: &[String], x: f64) -> String {
    let k = x.floor() as usize;
    if (x - x.floor() - 0.5).abs() < 0.26 {
        names.get(k).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// The colour of a credit-risk class in every picture.
fn class_colour(class: &str) -> RGBColor {
    match class {
        "A" => GREEN,
        "B" => BLUE,
        "C" => MAGENTA,
        _ => RED,
    }
}

fn z_histogram(area: &Area<'_>, report: &FairnessReport, lang: Lang) -> Draw {
    let width = 0.25;
    let (lo, hi) = (-5.0f64, 5.0f64);
    let bins = ((hi - lo) / width) as usize;
    let mut counts = vec![0u32; bins];
    for &z in &report.z_scores {
        let k = ((z.clamp(lo, hi - 1e-9) - lo) / width) as usize;
        counts[k.min(bins - 1)] += 1;
    }
    let n = report.z_scores.len() as f64;
    let density = |x: f64| n * width * (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let top = counts.iter().map(|&c| f64::from(c)).fold(density(0.0), f64::max) * 1.1 + 1.0;
    let caption = fill(
        Msg::PlotZTitle,
        lang,
        &[
            ("entities", &report.entities_tested.to_string()),
            ("runs", &report.runs.to_string()),
            ("max", &format!("{:.2}", report.max_abs_z)),
            ("bound", &format!("{:.2}", report.bonferroni_bound)),
        ],
    );
    let mut chart = panel(area, caption).build_cartesian_2d(lo..hi, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc(text(Msg::PlotZAxis, lang))
        .y_desc(text(Msg::PlotEntities, lang))
        .draw()?;
    chart
        .draw_series(counts.iter().enumerate().map(|(k, &c)| {
            let x0 = lo + k as f64 * width;
            Rectangle::new([(x0, 0.0), (x0 + width, f64::from(c))], BLUE.mix(0.5).filled())
        }))?
        .label(text(Msg::PlotObserved, lang))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], BLUE.mix(0.5).filled()));
    chart
        .draw_series(LineSeries::new(
            (0..=400).map(|i| {
                let x = lo + (hi - lo) * f64::from(i) / 400.0;
                (x, density(x))
            }),
            RED.stroke_width(2),
        ))?
        .label(text(Msg::PlotNormal, lang))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], RED.stroke_width(2)));
    for b in [-report.bonferroni_bound, report.bonferroni_bound] {
        chart.draw_series(LineSeries::new([(b, 0.0), (b, top)], BLACK.mix(0.4)))?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    Ok(())
}

fn inclusion_rates(area: &Area<'_>, report: &FairnessReport, lang: Lang) -> Draw {
    let strata: Vec<_> = report.strata.iter().filter(|s| s.eligible > 0).collect();
    let top = strata
        .iter()
        .map(|s| s.rate.max(s.target))
        .fold(0.0f64, f64::max)
        .max(0.01)
        * 1.15;
    let mut chart =
        panel(area, text(Msg::PlotRatesTitle, lang)).build_cartesian_2d(0.0..strata.len().max(1) as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc(text(Msg::PlotStratumAxis, lang))
        .y_desc(text(Msg::PlotShareAxis, lang))
        .x_labels(0)
        .draw()?;
    let colour = class_colour;
    chart.draw_series(strata.iter().enumerate().map(|(i, s)| {
        PathElement::new(
            [(i as f64 + 0.1, s.target), (i as f64 + 0.9, s.target)],
            colour(&s.class).stroke_width(2),
        )
    }))?;
    for class in ["A", "B", "C", "D"] {
        chart
            .draw_series(
                strata
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.class == class)
                    .map(|(i, s)| Circle::new((i as f64 + 0.5, s.rate), 3, colour(class).filled())),
            )?
            .label(fill(Msg::PlotClass, lang, &[("class", class)]))
            .legend(move |(x, y)| Circle::new((x + 6, y), 4, colour(class).filled()));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    Ok(())
}

fn workload(area: &Area<'_>, report: &FairnessReport, lang: Lang) -> Draw {
    let runs = report.runs.max(1) as f64;
    let top = report
        .workload
        .iter()
        .flat_map(|w| w.totals.iter().map(|t| t.1 as f64 / runs))
        .fold(0.0f64, f64::max)
        .max(0.1)
        * 1.15;
    let mut chart = panel(area, text(Msg::PlotWorkloadTitle, lang))
        .build_cartesian_2d(0.0..report.workload.len().max(1) as f64, 0.0..top)?;
    let names: Vec<String> = report.workload.iter().map(|w| w.department.clone()).collect();
    chart
        .configure_mesh()
        .x_desc(text(Msg::PlotDepartment, lang))
        .y_desc(text(Msg::PlotVisitsPerRun, lang))
        .x_labels(names.len().max(1) * 2 + 1)
        .x_label_formatter(&|x| centre_label(&names, *x))
        .draw()?;
    for (d, w) in report.workload.iter().enumerate() {
        let n = w.totals.len().max(1) as f64;
        chart.draw_series(w.totals.iter().enumerate().map(|(k, t)| {
            let x = d as f64 + 0.15 + 0.7 * (k as f64 + 0.5) / n;
            Circle::new((x, t.1 as f64 / runs), 2, BLUE.filled())
        }))?;
        chart.draw_series(LineSeries::new(
            [(d as f64 + 0.1, w.mean_load), (d as f64 + 0.9, w.mean_load)],
            RED.stroke_width(2),
        ))?;
    }
    Ok(())
}

/// Renders a risk calibration as one SVG with two panels: the problem rate
/// of each class with its exact 95 % interval against the rate of all
/// checks; and the same by department and class (groups of at least five
/// checks).
pub fn calibration_svg(report: &crate::results::calibrate::Calibration) -> String {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 800)).into_drawing_area();
        // Drawing into a String cannot fail; errors are ignored rather than unwrapped.
        let _ = root.fill(&WHITE);
        let panels = root.split_evenly((2, 1));
        let caption = format!(
            "Problem rate by class, exact 95 % interval (trend A→D: z = {:.2}, one-sided p = {:.1e})",
            report.trend_z, report.trend_p
        );
        let _ = rates(&panels[0], &caption, &report.classes, report.all.rate);
        let by_department: Vec<_> = report.departments.iter().filter(|r| r.checked >= 5).cloned().collect();
        let _ = rates(
            &panels[1],
            "Problem rate by department and class (groups of at least 5 checks)",
            &by_department,
            report.all.rate,
        );
        let _ = root.present();
    }
    svg
}

fn rates(area: &Area<'_>, caption: &str, groups: &[crate::results::calibrate::Rate], overall: f64) -> Draw {
    let n = groups.len().max(1);
    let mut chart = panel(area, caption).build_cartesian_2d(0.0..n as f64, 0.0..1.0)?;
    let names: Vec<String> = groups.iter().map(|g| g.group.clone()).collect();
    chart
        .configure_mesh()
        .y_desc("share of checks with a problem")
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| centre_label(&names, *x))
        .draw()?;
    // A group is a class, or a department and a class.
    let colour = |group: &str| class_colour(group.rsplit(' ').next().unwrap_or(group));
    chart.draw_series(groups.iter().enumerate().map(|(k, g)| {
        let x = k as f64;
        Rectangle::new(
            [(x + 0.25, 0.0), (x + 0.75, g.rate)],
            colour(&g.group).mix(0.5).filled(),
        )
    }))?;
    chart.draw_series(groups.iter().enumerate().map(|(k, g)| {
        let x = k as f64 + 0.5;
        PathElement::new([(x, g.low), (x, g.high)], BLACK.stroke_width(2))
    }))?;
    chart
        .draw_series(LineSeries::new([(0.0, overall), (n as f64, overall)], BLACK.mix(0.5)))?
        .label("all checks")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], BLACK.mix(0.5)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    Ok(())
}
