//! The /audit page's chart of what erasures removed per day: three rows of bars (records, calls, messages), one
//! bar a day over `ERASURE_CHART_DAYS` days, drawn as SVG by the server (no chart code reaches the browser),
//! and the same figures as a table for screen readers and anyone who wants the numbers.

use leptos::prelude::*;

use crate::components::data_table::DataTable;
use crate::format::counted;
use crate::model::ErasedDay;

/// The drawing's width and the height of one row of bars, in SVG units.
const WIDTH: f64 = 900.0;
const ROW_HEIGHT: f64 = 60.0;
/// Room left of the bars for the row's label.
const LABEL_WIDTH: f64 = 90.0;

/// One row of the chart: its name, colour class and the day's figure it draws.
struct Series {
    name: &'static str,
    class: &'static str,
    value: fn(&ErasedDay) -> i64,
}

const SERIES: [Series; 3] = [
    Series {
        name: "Records",
        class: "bar-records",
        value: |day| day.records,
    },
    Series {
        name: "Calls",
        class: "bar-calls",
        value: |day| day.calls,
    },
    Series {
        name: "Messages",
        class: "bar-messages",
        value: |day| day.messages,
    },
];

/// The chart and its table.
#[component]
pub fn ErasureChart(
    /// One entry per day, oldest first.
    days: Vec<ErasedDay>,
) -> impl IntoView {
    let summary = chart_summary(&days);
    let height = ROW_HEIGHT * SERIES.len() as f64 + 20.0;
    let first = days
        .first()
        .map(|day| day.day.to_string())
        .unwrap_or_default();
    let last = days
        .last()
        .map(|day| day.day.to_string())
        .unwrap_or_default();
    let rows = SERIES
        .iter()
        .enumerate()
        .map(|(index, series)| series_row(series, index, &days))
        .collect_view();
    let erasure_days: Vec<ErasedDay> = days.iter().copied().filter(|day| day.records > 0).collect();
    view! {
        <figure class="erasure-chart">
            <svg viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-labelledby="erasure-chart-title erasure-chart-desc" preserveAspectRatio="xMinYMin meet">
                <title id="erasure-chart-title">"Records, calls and messages erased per day"</title>
                <desc id="erasure-chart-desc">{summary.clone()}</desc>
                {rows}
                <text x=LABEL_WIDTH y=height - 4.0 class="chart-axis">{first}</text>
                <text x=WIDTH y=height - 4.0 class="chart-axis" text-anchor="end">{last}</text>
            </svg>
            <figcaption>{summary}</figcaption>
        </figure>
        <details class="chart-table">
            <summary>"The chart as a table"</summary>
            {if erasure_days.is_empty() {
                view! { <p>"No record was erased in the last 90 days."</p> }.into_any()
            } else {
                view! {
                    <DataTable caption="Erased per day, days with erasures only" headings=&["Day", "Records", "Calls", "Messages"] numeric=&["Records", "Calls", "Messages"]>
                        <tbody>
                            {erasure_days.into_iter().map(|day| view! {
                                <tr>
                                    <td>{day.day.to_string()}</td>
                                    <td class="num">{day.records}</td>
                                    <td class="num">{day.calls}</td>
                                    <td class="num">{day.messages}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </DataTable>
                    <p class="muted">"Days not listed had no erasures."</p>
                }
                .into_any()
            }}
        </details>
    }
}

/// One row of bars: its label, the largest day's figure, and a bar per day scaled to that figure.
fn series_row(series: &Series, index: usize, days: &[ErasedDay]) -> impl IntoView + use<> {
    let top = ROW_HEIGHT * index as f64;
    let max = days.iter().map(series.value).max().unwrap_or(0);
    let bar_width = (WIDTH - LABEL_WIDTH) / days.len().max(1) as f64;
    let bars = days
        .iter()
        .enumerate()
        .filter(|(_, day)| (series.value)(day) > 0)
        .map(|(offset, day)| {
            let value = (series.value)(day);
            let height = bar_height(value, max, ROW_HEIGHT - 20.0);
            view! {
                <rect class=series.class x=LABEL_WIDTH + bar_width * offset as f64 y=top + ROW_HEIGHT - 4.0 - height width=(bar_width - 1.0).max(1.0) height=height/>
            }
        })
        .collect_view();
    view! {
        <text x="0" y=top + ROW_HEIGHT / 2.0 class="chart-label">{series.name}</text>
        <text x="0" y=top + ROW_HEIGHT / 2.0 + 16.0 class="chart-axis">{format!("max {max}")}</text>
        <line x1=LABEL_WIDTH x2=WIDTH y1=top + ROW_HEIGHT - 4.0 y2=top + ROW_HEIGHT - 4.0 class="chart-baseline"/>
        {bars}
    }
}

/// The height of a bar for `value` when the row's largest is `max` and its tallest bar `full`: at least 2 units,
/// so a day with one erasure shows.
fn bar_height(value: i64, max: i64, full: f64) -> f64 {
    if value <= 0 || max <= 0 {
        0.0
    } else {
        (full * value as f64 / max as f64).max(2.0)
    }
}

/// The chart in one sentence: the totals over its days.
fn chart_summary(days: &[ErasedDay]) -> String {
    let total = |value: fn(&ErasedDay) -> i64| days.iter().map(value).sum::<i64>();
    let active = days.iter().filter(|day| day.records > 0).count();
    format!(
        "In the last {} days: {} erased, with {} and {}, on {}.",
        days.len(),
        counted(total(|day| day.records), "record", "records"),
        counted(total(|day| day.calls), "call", "calls"),
        counted(total(|day| day.messages), "message", "messages"),
        counted(active as i64, "day", "days")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn bars_scale_to_the_largest_day_and_a_small_day_still_shows() {
        assert_eq!(bar_height(10, 10, 40.0), 40.0);
        assert_eq!(bar_height(5, 10, 40.0), 20.0);
        assert_eq!(bar_height(1, 1000, 40.0), 2.0);
        assert_eq!(bar_height(0, 10, 40.0), 0.0);
    }

    #[test]
    fn the_summary_adds_up_the_days() {
        let day = |records, calls, messages| ErasedDay {
            day: date!(2026 - 12 - 01),
            records,
            calls,
            messages,
        };
        assert_eq!(
            chart_summary(&[day(2, 5, 1), day(0, 0, 0), day(1, 0, 4)]),
            "In the last 3 days: 3 records erased, with 5 calls and 5 messages, on 2 days."
        );
    }
}
