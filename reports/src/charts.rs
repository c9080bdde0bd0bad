//! Charts as SVG (plotters), embedded by the templates. Text is set in the document's font
//! (Libertinus Serif, embedded from typst-assets), numbers the French way, axes labelled.

use crate::format;
use plotters::prelude::*;
use std::sync::Once;

/// The font family of chart text; registered for plotters' measurements, known to Typst.
pub const FONT: &str = "Libertinus Serif";

/// Chart size in SVG pixels (scaled to the text width by the templates).
const SIZE: (u32, u32) = (900, 420);

/// The Okabe–Ito palette (colour-blind safe): blue, orange, bluish green, reddish purple,
/// vermilion.
const PALETTE: [RGBColor; 5] = [
    RGBColor(0x00, 0x72, 0xb2),
    RGBColor(0xe6, 0x9f, 0x00),
    RGBColor(0x00, 0x9e, 0x73),
    RGBColor(0xcc, 0x79, 0xa7),
    RGBColor(0xd5, 0x5e, 0x00),
];

#[derive(Debug, thiserror::Error)]
#[error("drawing the chart {chart}: {detail}")]
pub struct ChartError {
    pub chart: &'static str,
    pub detail: String,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let regular = typst_assets::fonts()
            .find(|f| contains(f, b"LibertinusSerif-Regular"))
            .expect("typst-assets carries Libertinus Serif Regular");
        // A font typst-assets ships parses; a failure here is a build defect.
        plotters::style::register_font(FONT, FontStyle::Normal, regular)
            .map_err(|_| "Libertinus Serif does not parse")
            .expect("the embedded font parses");
    });
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn err(chart: &'static str) -> impl Fn(String) -> ChartError {
    move |detail| ChartError { chart, detail }
}

fn style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().into()
}

/// Engagements per month, one line per work unit.
pub fn engagements_by_uo(
    months: &[cep_domain::YearMonth],
    series: &[(String, Vec<u64>)],
) -> Result<String, ChartError> {
    register_font();
    let e = err("engagements by work unit");
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let n = months.len().max(1) as i32;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0..n - 1, 0u64..(max + max / 8 + 1))
            .map_err(|x| e(x.to_string()))?;
        let labels: Vec<String> = months.iter().map(|m| format::month_short(*m)).collect();
        chart
            .configure_mesh()
            .x_labels(months.len())
            .x_label_formatter(&|i| labels.get(*i as usize).cloned().unwrap_or_default())
            .y_label_formatter(&|v| format::integer(*v as i64))
            .x_desc("Mois d'engagement")
            .y_desc("Dossiers engagés")
            .label_style(style(16))
            .axis_desc_style(style(18))
            .draw()
            .map_err(|x| e(x.to_string()))?;
        for (i, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    values.iter().enumerate().map(|(x, y)| (x as i32, *y)),
                    color.stroke_width(3),
                ))
                .map_err(|x| e(x.to_string()))?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(3))
                });
        }
        chart
            .configure_series_labels()
            .label_font(style(16))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|x| e(x.to_string()))?;
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}

/// An order's cumulative consumption against its quantity up to the cut-off date `today`, with
/// the projected exhaustion (dashed) when the pace since the start reaches the quantity before
/// the order's end.
pub fn consumption(
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
    today: chrono::NaiveDate,
    quantity: u32,
    cumulative: &[(chrono::NaiveDate, u32)],
    projected: Option<chrono::NaiveDate>,
) -> Result<String, ChartError> {
    register_font();
    let e = err("order consumption");
    let day = |d: chrono::NaiveDate| (d - start).num_days() as i32;
    let projected = projected.filter(|p| *p <= end && *p > today);
    let last = cumulative
        .last()
        .map(|(d, _)| day(*d))
        .unwrap_or(0)
        .max(day(end));
    let top = quantity.max(cumulative.last().map(|(_, n)| *n).unwrap_or(0)) as i64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0..last.max(1), 0i64..(top + top / 8 + 1))
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_labels(8)
            .x_label_formatter(&|d| {
                let date = start + chrono::Duration::days(i64::from(*d));
                date.format("%d/%m/%Y").to_string()
            })
            .y_label_formatter(&|v| format::integer(*v))
            .x_desc("Date de clôture")
            .y_desc("Unités facturables cumulées")
            .label_style(style(16))
            .axis_desc_style(style(18))
            .draw()
            .map_err(|x| e(x.to_string()))?;
        let q = i64::from(quantity);
        chart
            .draw_series(LineSeries::new(
                [(0, q), (last, q)],
                PALETTE[1].stroke_width(2),
            ))
            .map_err(|x| e(x.to_string()))?
            .label(format!("Quantité commandée ({})", format::integer(q)))
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], PALETTE[1].stroke_width(2))
            });
        let mut points = vec![(0, 0i64)];
        points.extend(cumulative.iter().map(|(d, n)| (day(*d), i64::from(*n))));
        // Flat from the last closure to the cut-off (or the order's end).
        let now = day(today.min(end));
        if let Some(&(x, n)) = points.last()
            && now > x
        {
            points.push((now, n));
        }
        chart
            .draw_series(LineSeries::new(points.clone(), PALETTE[0].stroke_width(3)))
            .map_err(|x| e(x.to_string()))?
            .label("Consommation")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], PALETTE[0].stroke_width(3))
            });
        if let (Some(p), Some(&from)) = (projected, points.last()) {
            let to = (day(p), q);
            // Dashes: short segments along the projection.
            let steps = 24;
            let seg = |k: i32| {
                let t = f64::from(k) / f64::from(steps);
                (
                    from.0 + ((to.0 - from.0) as f64 * t) as i32,
                    from.1 + ((to.1 - from.1) as f64 * t) as i64,
                )
            };
            chart
                .draw_series((0..steps).step_by(2).map(|k| {
                    PathElement::new(vec![seg(k), seg(k + 1)], PALETTE[4].stroke_width(2))
                }))
                .map_err(|x| e(x.to_string()))?
                .label(format!("Épuisement projeté ({})", format::date(p)))
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 10, y)], PALETTE[4].stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font(style(16))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|x| e(x.to_string()))?;
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}

/// Distribution of working-day delays (8.4) with the 30-working-day line.
pub fn delays(days: &[u32], limit: u32) -> Result<String, ChartError> {
    register_font();
    let e = err("delays");
    let width = 5u32;
    let max = days.iter().copied().max().unwrap_or(0).max(limit + width);
    let buckets = max / width + 1;
    let mut counts = vec![0u32; buckets as usize];
    for d in days {
        counts[(d / width) as usize] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0u32..buckets * width, 0u32..(top + top / 8 + 1))
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .y_label_formatter(&|v| format::integer(i64::from(*v)))
            .x_desc("Délai en jours ouvrés (demande de rendez-vous → première interaction)")
            .y_desc("Dossiers")
            .label_style(style(16))
            .axis_desc_style(style(18))
            .draw()
            .map_err(|x| e(x.to_string()))?;
        chart
            .draw_series(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(|(i, c)| {
                        let x0 = i as u32 * width;
                        let color = if x0 < limit { PALETTE[0] } else { PALETTE[1] };
                        Rectangle::new([(x0, 0), (x0 + width, *c)], color.mix(0.8).filled())
                    }),
            )
            .map_err(|x| e(x.to_string()))?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(limit, 0), (limit, top + top / 8)],
                BLACK.stroke_width(2),
            )))
            .map_err(|x| e(x.to_string()))?
            .label(format!("{limit} jours ouvrés"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(2)));
        chart
            .configure_series_labels()
            .label_font(style(16))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()
            .map_err(|x| e(x.to_string()))?;
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}

/// A lot's bar: its number, a rate in [0, 1], and its confidence interval when known.
pub type LotBar = (String, f64, Option<(f64, f64)>);

/// One value per lot as horizontal bars (a rate in [0, 1]), with an optional confidence
/// interval per lot drawn as a whisker.
pub fn lots_compared(x_desc: &str, values: &[LotBar]) -> Result<String, ChartError> {
    register_font();
    let e = err("lots compared");
    let n = values.len().max(1) as i32;
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (SIZE.0, 60 + 28 * n as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        // One segment per lot: its label, bar and whisker all sit at the segment's centre. The
        // integer range is inclusive (0..=n−1: n segments, none left empty at the top). A value
        // over 100 % (an order consumed beyond its quantity) widens the axis, never clipped.
        let x_max = values
            .iter()
            .flat_map(|(_, v, ci)| [Some(*v), ci.map(|c| c.1)])
            .flatten()
            .fold(1.0f64, f64::max);
        let x_max = if x_max > 1.0 { x_max * 1.05 } else { 1.0 };
        let mut chart = ChartBuilder::on(&root)
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..x_max, (0..n - 1).into_segmented())
            .map_err(|x| e(x.to_string()))?;
        let lots: Vec<String> = values.iter().map(|(l, _, _)| format!("lot {l}")).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(values.len().max(1))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => lots.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_formatter(&|v| format::percent(*v))
            .x_desc(x_desc)
            .label_style(style(16))
            .axis_desc_style(style(18))
            .draw()
            .map_err(|x| e(x.to_string()))?;
        chart
            .draw_series(
                values
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, v, _))| *v > 0.0)
                    .map(|(i, (_, v, _))| {
                        let i = i as i32;
                        let mut bar = Rectangle::new(
                            [
                                (0.0, SegmentValue::Exact(i)),
                                (v.clamp(0.0, x_max), SegmentValue::Exact(i + 1)),
                            ],
                            PALETTE[0].mix(0.75).filled(),
                        );
                        bar.set_margin(4, 4, 0, 0);
                        bar
                    }),
            )
            .map_err(|x| e(x.to_string()))?;
        // The 95 % interval as a whisker across the bar's middle, with end ticks.
        chart
            .draw_series(values.iter().enumerate().filter_map(|(i, (_, _, ci))| {
                let (lo, hi) = (*ci)?;
                Some(PathElement::new(
                    vec![
                        (lo, SegmentValue::CenterOf(i as i32)),
                        (hi, SegmentValue::CenterOf(i as i32)),
                    ],
                    BLACK.stroke_width(2),
                ))
            }))
            .map_err(|x| e(x.to_string()))?;
        chart
            .draw_series(values.iter().enumerate().flat_map(|(i, (_, _, ci))| {
                ci.iter().flat_map(move |&(lo, hi)| {
                    [lo, hi].map(|x| {
                        Text::new(
                            "|",
                            (x, SegmentValue::CenterOf(i as i32)),
                            style(18).pos(plotters::style::text_anchor::Pos::new(
                                plotters::style::text_anchor::HPos::Center,
                                plotters::style::text_anchor::VPos::Center,
                            )),
                        )
                    })
                })
            }))
            .map_err(|x| e(x.to_string()))?;
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 22: each lot's label and whisker sit on the middle of its bar, not between two.
    #[test]
    fn lots_compared_draws_a_value_over_100_percent_whole() {
        let values: Vec<LotBar> = vec![("03".into(), 1.3, None), ("04".into(), 0.65, None)];
        let svg = lots_compared("x", &values).unwrap();
        let widths: Vec<f64> = svg
            .split("<rect ")
            .skip(1)
            .filter(|e| e.contains("#0072B2") || e.contains("#0072b2"))
            .filter_map(|e| e.split(" width=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect();
        assert_eq!(widths.len(), 2, "{svg}");
        let ratio = widths[0].max(widths[1]) / widths[0].min(widths[1]);
        assert!(
            (ratio - 2.0).abs() < 0.1,
            "131 % clipped: widths {widths:?}"
        );
    }

    #[test]
    fn lots_compared_labels_and_whiskers_are_centred_on_their_bars() {
        let values: Vec<LotBar> = vec![
            ("01".into(), 0.8, Some((0.7, 0.9))),
            ("02".into(), 0.5, Some((0.4, 0.6))),
            ("03".into(), 0.3, Some((0.2, 0.4))),
        ];
        let svg = lots_compared("x", &values).unwrap();
        // Bars: the rectangles of the palette's first colour.
        let bars: Vec<(f64, f64)> = svg
            .split("<rect ")
            .skip(1)
            .filter(|e| e.contains("#0072B2") || e.contains("#0072b2"))
            .filter_map(|e| {
                let get = |n: &str| -> Option<f64> {
                    e.split(&format!(" {n}=\""))
                        .nth(1)?
                        .split('"')
                        .next()?
                        .parse()
                        .ok()
                };
                let (y, h) = (get("y")?, get("height")?);
                Some((y, y + h))
            })
            .collect();
        assert_eq!(bars.len(), 3, "{svg}");
        // No empty segment: the bars fill the plot's height, one segment each.
        let (top, bottom) = (
            bars.iter().map(|b| b.0).fold(f64::MAX, f64::min),
            bars.iter().map(|b| b.1).fold(f64::MIN, f64::max),
        );
        let segment = (bars[0].1 - bars[0].0) + 8.0;
        let plot_height = 60.0 + 28.0 * 3.0 - 2.0 * 16.0 - 50.0;
        assert!(
            bottom - top + 8.0 >= plot_height - segment / 2.0,
            "bars span {top}–{bottom} of a {plot_height} plot"
        );
        // Labels: the y of each "lot NN" text.
        let labels: Vec<f64> = svg
            .split("<text ")
            .skip(1)
            .filter(|e| {
                e.split("</text>")
                    .next()
                    .is_some_and(|t| t.contains("lot 0"))
            })
            .filter_map(|e| e.split(" y=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect();
        assert_eq!(labels.len(), 3, "{svg}");
        let mut bars_sorted = bars.clone();
        bars_sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut labels_sorted = labels.clone();
        labels_sorted.sort_by(f64::total_cmp);
        for ((top, bottom), y) in bars_sorted.iter().zip(&labels_sorted) {
            let middle = (top + bottom) / 2.0;
            assert!(
                (y - middle).abs() <= 3.0,
                "label at {y}, bar {top}–{bottom}"
            );
        }
        // Whiskers: horizontal polylines at the bars' middles.
        let whiskers: Vec<f64> = svg
            .split("<polyline ")
            .skip(1)
            .filter_map(|e| {
                let pts = e.split("points=\"").nth(1)?.split('"').next()?;
                let ys: Vec<f64> = pts
                    .split_whitespace()
                    .filter_map(|p| p.split(',').nth(1)?.parse().ok())
                    .collect();
                (ys.len() == 2 && ys[0] == ys[1]).then_some(ys[0])
            })
            .collect();
        for (top, bottom) in &bars {
            let middle = (top + bottom) / 2.0;
            assert!(
                whiskers.iter().any(|w| (w - middle).abs() <= 1.5),
                "no whisker at {middle}: {whiskers:?}"
            );
        }
    }

    #[test]
    fn charts_are_svg_with_french_labels() {
        let months: Vec<cep_domain::YearMonth> = ["2025-08", "2025-09", "2025-10"]
            .iter()
            .map(|m| m.parse().unwrap())
            .collect();
        let svg = engagements_by_uo(
            &months,
            &[
                ("UO1".into(), vec![1200, 1350, 1100]),
                ("UO2.1".into(), vec![10, 20, 30]),
            ],
        )
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("Dossiers engagés") && svg.contains("10/2025"));
        assert!(
            svg.contains("1\u{202F}"),
            "thousands separated the French way"
        );
        let d = |s: &str| s.parse::<chrono::NaiveDate>().unwrap();
        let svg = consumption(
            d("2025-01-01"),
            d("2025-12-31"),
            d("2025-06-30"),
            500,
            &[(d("2025-03-01"), 100), (d("2025-06-01"), 300)],
            Some(d("2025-09-15")),
        )
        .unwrap();
        assert!(svg.contains("Épuisement projeté (15 septembre 2025)"));
        let svg = delays(&[1, 2, 12, 31, 45], 30).unwrap();
        assert!(svg.contains("30 jours ouvrés"));
        let svg = lots_compared(
            "Satisfaction (8.1)",
            &[
                ("01".into(), 0.8, Some((0.7, 0.88))),
                ("02".into(), 0.5, None),
            ],
        )
        .unwrap();
        assert!(svg.contains("lot 01") && svg.contains("80,0"));
        // No lot with a value yet: an empty chart, not a failure.
        assert!(
            lots_compared("Satisfaction (8.1)", &[])
                .unwrap()
                .starts_with("<svg")
        );
    }
}
