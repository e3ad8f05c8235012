//! The table the benchmark prints: the machine it ran on, then one row a figure, with the latency statistics
//! the rows are made of.

use std::time::Instant;

/// The median and the 99th percentile of a set of latencies, in milliseconds.
pub struct Stats {
    pub p50: f64,
    pub p99: f64,
}

impl Stats {
    /// "p50 / p99 ms" with `decimals` digits after the point.
    pub fn p50_p99(&self, decimals: usize) -> String {
        format!("{:.*} / {:.*} ms", decimals, self.p50, decimals, self.p99)
    }
}

pub fn stats(mut millis: Vec<f64>) -> Stats {
    millis.sort_by(f64::total_cmp);
    let at =
        |p: f64| millis[((p * millis.len() as f64).ceil() as usize).clamp(1, millis.len()) - 1];
    Stats {
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// Milliseconds since `since`.
pub fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// One figure beside its baseline: what was measured, the baseline, their ratio ("-" where none), the limit,
/// and whether the figure met it.
pub struct Row<'a> {
    pub figure: &'a str,
    pub console: String,
    pub baseline: String,
    pub ratio: Option<f64>,
    pub limit: &'a str,
    pub met: bool,
}

impl Row<'_> {
    pub fn print(self) {
        let ratio = self.ratio.map_or("-".into(), |r| format!("{r:.2}x"));
        let verdict = if self.met { "met" } else { "MISSED" };
        println!(
            "| {} | {} | {} | {ratio} | {} | {verdict} |",
            self.figure, self.console, self.baseline, self.limit
        );
    }
}

/// A row for reference only: a figure with no limit, shown in the baseline column.
pub fn reference(figure: &str, measured: String) {
    println!("| for reference: {figure} | - | {measured} | - | - | - |");
}

/// The machine's cores and memory.
pub fn print_machine() {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let memory_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let total = m.lines().next()?.split_whitespace().nth(1)?;
            total.parse::<u64>().ok()
        })
        .unwrap_or(0);
    println!(
        "Machine: {cores} cores, {:.1} GiB memory.",
        memory_kib as f64 / 1_048_576.0
    );
}

pub fn print_head() {
    println!("| figure | console | baseline | ratio | limit | |");
    println!("|---|---|---|---|---|---|");
}
