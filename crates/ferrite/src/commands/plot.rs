//! `ferrite plot TRACE -o OUT.svg|OUT.png`: draw a scheduler trace that
//! `ferrite run --trace` wrote (what `perf sched timehist` or
//! `trace-cmd report` summarise from Linux's trace buffers, as charts).
//!
//! Three panels, top to bottom:
//! 1. each CPU's total SCHED_WRR weight over time (the `total_weight`
//!    counter tracks);
//! 2. each task's share of the CPU time the trace shows running, beside
//!    its weight share w/Σw (the `weight` argument of its running slices;
//!    the last one seen counts), as paired bars;
//! 3. each CPU's `nr_running` over time (the `nr_running` counter tracks).
//!
//! The same shares are printed as a table on stdout. A panel whose series
//! the trace lacks says so in its caption. A trace that cannot be read, is
//! not a JSON trace, or has no scheduler events is an error (exit 1).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::Failure;

/// The options of `ferrite plot`.
pub struct PlotArgs {
    /// The trace file.
    pub trace: PathBuf,
    /// The image to write (`.svg` or `.png`).
    pub out: PathBuf,
}

/// A counter track's samples: (seconds, value).
type Series = Vec<(f64, f64)>;

/// One task's running time and weight.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskUse {
    /// Its `comm` (the last seen).
    pub comm: String,
    /// Running time in µs.
    pub run_us: f64,
    /// Its weight (the last seen).
    pub weight: f64,
}

/// What the plot needs from a trace.
#[derive(Debug, Default)]
pub struct Summary {
    /// `total_weight` per CPU.
    pub total_weight: BTreeMap<usize, Series>,
    /// `nr_running` per CPU.
    pub nr_running: BTreeMap<usize, Series>,
    /// Per task (pid).
    pub tasks: BTreeMap<i64, TaskUse>,
    /// The first and last timestamps (s).
    pub span: (f64, f64),
}

impl Summary {
    /// Each task's (pid, comm, CPU share, weight share), in pid order.
    pub fn shares(&self) -> Vec<(i64, String, f64, f64)> {
        let run: f64 = self.tasks.values().map(|t| t.run_us).sum();
        let weight: f64 = self.tasks.values().map(|t| t.weight).sum();
        self.tasks
            .iter()
            .map(|(&pid, t)| {
                let share = |x: f64, all: f64| if all > 0.0 { x / all } else { 0.0 };
                (
                    pid,
                    t.comm.clone(),
                    share(t.run_us, run),
                    share(t.weight, weight),
                )
            })
            .collect()
    }
}

/// The CPU of a `cpuN` counter argument.
fn cpu_key(k: &str) -> Option<usize> {
    k.strip_prefix("cpu")?.parse().ok()
}

/// The running state of a summary, one event at a time.
#[derive(Default)]
struct Acc {
    s: Summary,
    /// The slice open on each CPU track (tid): (pid, start µs).
    open: BTreeMap<i64, (i64, f64)>,
    first: Option<f64>,
    last: f64,
}

impl Acc {
    fn event(&mut self, e: &serde_json::Value) {
        use kernel::trace::PID_CPUS;
        let ph = e["ph"].as_str().unwrap_or("");
        let Some(ts) = e["ts"].as_f64() else {
            return;
        };
        if e["pid"].as_i64() != Some(PID_CPUS as i64) {
            return;
        }
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        self.last = self.last.max(ts);
        let s = &mut self.s;
        match ph {
            "B" => {
                let (Some(tid), Some(pid)) = (e["tid"].as_i64(), e["args"]["pid"].as_i64()) else {
                    return;
                };
                let t = s.tasks.entry(pid).or_default();
                if let Some(c) = e["args"]["comm"].as_str() {
                    t.comm = c.to_string();
                }
                if let Some(w) = e["args"]["weight"].as_f64() {
                    t.weight = w;
                }
                self.open.insert(tid, (pid, ts));
            }
            "E" => {
                let Some(tid) = e["tid"].as_i64() else {
                    return;
                };
                if let Some((pid, start)) = self.open.remove(&tid) {
                    if let Some(t) = s.tasks.get_mut(&pid) {
                        t.run_us += (ts - start).max(0.0);
                    }
                }
            }
            "C" => {
                let map = match e["name"].as_str() {
                    Some("total_weight") => &mut s.total_weight,
                    Some("nr_running") => &mut s.nr_running,
                    _ => return,
                };
                if let Some(args) = e["args"].as_object() {
                    for (k, v) in args {
                        if let (Some(cpu), Some(v)) = (cpu_key(k), v.as_f64()) {
                            map.entry(cpu).or_default().push((ts / 1e6, v));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Summary {
        // Slices still open at the end ran until the last event.
        for (_, (pid, start)) in std::mem::take(&mut self.open) {
            if let Some(t) = self.s.tasks.get_mut(&pid) {
                t.run_us += (self.last - start).max(0.0);
            }
        }
        let mut s = self.s;
        for series in s.total_weight.values_mut().chain(s.nr_running.values_mut()) {
            series.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        if let Some(first) = self.first {
            s.span = (first / 1e6, self.last / 1e6);
        }
        s
    }
}

/// Walks the trace as serde reads it, one event at a time into [`Acc`]
/// (the file is never held whole: a long run's trace is large).
struct Fold<'a> {
    acc: &'a mut Acc,
    /// The top level (where an array may be cut short).
    top: bool,
    /// Set when the top level is an array.
    top_array: &'a mut bool,
}

impl<'de> serde::de::DeserializeSeed<'de> for Fold<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Fold<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of trace events or an object with traceEvents")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.top {
            *self.top_array = true;
        }
        while let Some(e) = seq.next_element::<serde_json::Value>()? {
            self.acc.event(&e);
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if !self.top {
            return Err(serde::de::Error::custom("traceEvents is not an array"));
        }
        let mut found = false;
        let mut nested = false;
        while let Some(k) = map.next_key::<String>()? {
            if k == "traceEvents" {
                map.next_value_seed(Fold {
                    acc: &mut *self.acc,
                    top: false,
                    top_array: &mut nested,
                })?;
                found = true;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        if found {
            Ok(())
        } else {
            Err(serde::de::Error::custom("an object without traceEvents"))
        }
    }
}

/// Summarise a trace read from `r`: the JSON array format (possibly cut
/// short by a killed run: the events read up to the cut count) or the
/// object format with `traceEvents`.
pub fn summarize_reader(r: impl io::Read) -> Result<Summary, serde_json::Error> {
    use serde::de::DeserializeSeed;
    let mut acc = Acc::default();
    let mut top_array = false;
    let mut de = serde_json::Deserializer::from_reader(r);
    let r = Fold {
        acc: &mut acc,
        top: true,
        top_array: &mut top_array,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match r {
        Ok(()) => {}
        Err(e) if e.is_eof() && top_array => {}
        Err(e) => return Err(e),
    }
    Ok(acc.finish())
}

/// Read and summarise the trace file.
pub fn load(path: &Path) -> Result<Summary, Failure> {
    let name = kernel::quote::escape(path.as_os_str().as_encoded_bytes());
    let cannot = |e: io::Error| Failure::Input(format!("cannot read the trace {name}: {e}"));
    let mut f = io::BufReader::new(std::fs::File::open(path).map_err(cannot)?);
    if io::BufRead::fill_buf(&mut f)
        .map_err(cannot)?
        .iter()
        .all(u8::is_ascii_whitespace)
    {
        // Whitespace in the first buffer may go on: look at it all.
        let mut rest = Vec::new();
        io::Read::read_to_end(&mut io::Read::take(&mut f, 1 << 20), &mut rest).map_err(cannot)?;
        if rest.iter().all(u8::is_ascii_whitespace) {
            return Err(Failure::Input(format!("{name}: empty file, not a trace")));
        }
        return Err(Failure::Input(format!("{name}: not a JSON trace")));
    }
    let s = summarize_reader(f).map_err(|e| {
        if e.is_io() {
            Failure::Input(format!("cannot read the trace {name}: {e}"))
        } else {
            Failure::Input(format!("{name}: not a JSON trace: {e}"))
        }
    })?;
    if s.tasks.is_empty() && s.total_weight.is_empty() && s.nr_running.is_empty() {
        return Err(Failure::Input(format!(
            "{name}: no scheduler events (no running slices or counters): was it written by `ferrite run --trace`?"
        )));
    }
    Ok(s)
}

/// Where to look for a TrueType font for the plot's text (the variable
/// `FERRITE_PLOT_FONT` first).
const FONTS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
];

/// Register a font as "sans-serif" (once per process).
fn load_font() -> Result<(), Failure> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let env = std::env::var_os("FERRITE_PLOT_FONT").map(PathBuf::from);
        let candidates = env.iter().cloned().chain(FONTS.iter().map(PathBuf::from));
        for p in candidates {
            if let Ok(bytes) = std::fs::read(&p) {
                // The font's bytes live as long as the process (plotters
                // keeps a reference in its registry).
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(format!(
            "no TrueType font for the plot's text: install fonts-dejavu-core, or set FERRITE_PLOT_FONT to a .ttf file (tried {})",
            FONTS.join(", ")
        ))
    })
    .clone()
    .map_err(Failure::Input)
}

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

fn step_points(series: &Series, end: f64) -> Vec<(f64, f64)> {
    let mut pts = Vec::with_capacity(series.len() * 2 + 1);
    for (i, &(t, v)) in series.iter().enumerate() {
        if i > 0 {
            pts.push((t, series[i - 1].1));
        }
        pts.push((t, v));
    }
    if let Some(&(t, v)) = series.last() {
        if end > t {
            pts.push((end, v));
        }
    }
    pts
}

fn draw_steps<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    what: &str,
    y_desc: &str,
    data: &BTreeMap<usize, Series>,
    span: (f64, f64),
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let caption = if data.is_empty() {
        format!("{title} (no {what} counters in the trace)")
    } else {
        title.to_string()
    };
    let (t0, mut t1) = span;
    if t1 <= t0 {
        t1 = t0 + 1e-3;
    }
    let ymax = data
        .values()
        .flatten()
        .map(|&(_, v)| v)
        .fold(1.0f64, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(t0..t1, 0.0..ymax)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc(y_desc)
        .label_style(("sans-serif", 14))
        .draw()?;
    for (&cpu, series) in data {
        let color = Palette99::pick(cpu).to_rgba();
        chart
            .draw_series(LineSeries::new(
                step_points(series, t1),
                color.stroke_width(2),
            ))?
            .label(format!("CPU {cpu} {what}"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    if !data.is_empty() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()?;
    }
    Ok(())
}

fn draw_shares<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    shares: &[(i64, String, f64, f64)],
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let n = shares.len().max(1);
    let ymax = shares.iter().map(|s| s.2.max(s.3)).fold(0.05f64, f64::max) * 1.2 * 100.0;
    let caption = if shares.is_empty() {
        "CPU share against weight share (no running slices in the trace)"
    } else {
        "each task's CPU share (dark) against its weight share w/Σw (light)"
    };
    // Many tasks: their pids alone fit under the bars.
    let long = shares.len() <= 12;
    let labels: Vec<String> = shares
        .iter()
        .map(|(pid, comm, ..)| {
            if long {
                format!("{comm} {pid}")
            } else {
                pid.to_string()
            }
        })
        .collect();
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..ymax)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n + 1)
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc(if long {
            "task (comm pid)"
        } else {
            "task (pid)"
        })
        .y_desc("% of the CPU time run / of the weight")
        .label_style(("sans-serif", 14))
        .draw()?;
    let cpu_color = RGBColor(31, 119, 180);
    let weight_color = RGBColor(214, 39, 40);
    chart
        .draw_series(shares.iter().enumerate().map(|(i, s)| {
            let mut r = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::CenterOf(i), s.2 * 100.0),
                ],
                cpu_color.filled(),
            );
            r.set_margin(0, 0, 3, 1);
            r
        }))?
        .label("CPU share")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], cpu_color.filled()));
    chart
        .draw_series(shares.iter().enumerate().map(|(i, s)| {
            let mut r = Rectangle::new(
                [
                    (SegmentValue::CenterOf(i), 0.0),
                    (SegmentValue::Exact(i + 1), s.3 * 100.0),
                ],
                weight_color.mix(0.45).filled(),
            );
            r.set_margin(0, 0, 1, 3);
            r
        }))?
        .label("weight share w/Σw")
        .legend(move |(x, y)| {
            Rectangle::new(
                [(x, y - 5), (x + 14, y + 5)],
                weight_color.mix(0.45).filled(),
            )
        });
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, s: &Summary) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let panels = root.split_evenly((3, 1));
    draw_steps(
        &panels[0],
        "total SCHED_WRR weight per CPU",
        "total_weight",
        "total weight",
        &s.total_weight,
        s.span,
    )?;
    draw_shares(&panels[1], &s.shares())?;
    draw_steps(
        &panels[2],
        "runnable tasks per CPU",
        "nr_running",
        "nr_running",
        &s.nr_running,
        s.span,
    )?;
    root.present()?;
    Ok(())
}

/// The image size in pixels.
const SIZE: (u32, u32) = (1200, 1350);

/// Whether `out` names an SVG (true) or a PNG (false) image.
fn image_kind(out: &Path) -> Result<bool, Failure> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("svg") => Ok(true),
        Some("png") => Ok(false),
        _ => Err(Failure::Usage(format!(
            "-o {}: the image must end in .svg or .png",
            kernel::quote::escape(out.as_os_str().as_encoded_bytes())
        ))),
    }
}

/// Draw `s` into `out` (its extension picks SVG or PNG).
pub fn render(s: &Summary, out: &Path) -> Result<(), Failure> {
    let name = kernel::quote::escape(out.as_os_str().as_encoded_bytes());
    let svg = image_kind(out)?;
    load_font()?;
    let r = if svg {
        draw(SVGBackend::new(out, SIZE).into_drawing_area(), s)
    } else {
        draw(BitMapBackend::new(out, SIZE).into_drawing_area(), s)
    };
    r.map_err(|e| Failure::Input(format!("cannot draw {name}: {e}")))
}

/// `ferrite plot`: the share table on stdout, the image in `out`.
pub fn run(a: PlotArgs) -> Result<(), Failure> {
    image_kind(&a.out)?;
    let s = load(&a.trace)?;
    render(&s, &a.out)?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{:>7} {:<16} {:>6} {:>9} {:>12}",
        "PID", "COMM", "WEIGHT", "CPU%", "WEIGHT%"
    )?;
    for (pid, comm, cpu, w) in s.shares() {
        let weight = s.tasks[&pid].weight;
        writeln!(
            out,
            "{pid:>7} {comm:<16} {weight:>6} {:>8.2}% {:>11.2}%",
            cpu * 100.0,
            w * 100.0
        )?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summarize(events: &[serde_json::Value]) -> Summary {
        let mut acc = Acc::default();
        for e in events {
            acc.event(e);
        }
        acc.finish()
    }

    const C: &str = r#"{"ph":"C","pid":1,"name":"nr_running","ts":1,"args":{"cpu0":1}}"#;

    fn samples(text: &str) -> Result<usize, String> {
        summarize_reader(text.as_bytes())
            .map(|s| s.nr_running.values().map(Vec::len).sum())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_cut_short_array_parses() {
        assert_eq!(samples(&format!("[\n{C},\n{C},\n")), Ok(2));
        assert_eq!(samples(&format!("[{C},{C},{{\"ph")), Ok(2), "cut mid-event");
        assert_eq!(samples(&format!("[{C}]")), Ok(1));
        assert_eq!(
            samples(&format!("{{\"x\":[1],\"traceEvents\":[{C}]}}")),
            Ok(1)
        );
        assert!(samples("{\"ph\":").is_err());
        assert!(
            samples(&format!("{{\"traceEvents\":[{C}")).is_err(),
            "only arrays may be cut"
        );
        assert!(samples(&format!("[{C}] x")).is_err(), "trailing garbage");
        assert!(samples("{\"a\":1}").is_err());
        assert!(samples("{\"traceEvents\":{}}").is_err());
        assert!(samples("17").is_err());
    }

    #[test]
    fn shares_from_slices() {
        let ev: Vec<serde_json::Value> = serde_json::from_str(
            r#"[
{"ph":"B","pid":1,"tid":1,"ts":0,"name":"a 2","args":{"pid":2,"comm":"a","weight":10}},
{"ph":"E","pid":1,"tid":1,"ts":30},
{"ph":"B","pid":1,"tid":2,"ts":0,"name":"b 3","args":{"pid":3,"comm":"b","weight":30}},
{"ph":"E","pid":1,"tid":2,"ts":90},
{"ph":"C","pid":1,"name":"total_weight","ts":0,"args":{"cpu0":10}},
{"ph":"C","pid":1,"name":"nr_running","ts":5,"args":{"cpu1":1}}
]"#,
        )
        .unwrap();
        let s = summarize(&ev);
        let sh = s.shares();
        assert_eq!(sh.len(), 2);
        assert!((sh[0].2 - 0.25).abs() < 1e-9 && (sh[0].3 - 0.25).abs() < 1e-9);
        assert!((sh[1].2 - 0.75).abs() < 1e-9 && (sh[1].3 - 0.75).abs() < 1e-9);
        assert_eq!(s.total_weight[&0], vec![(0.0, 10.0)]);
        assert_eq!(s.nr_running[&1], vec![(5e-6, 1.0)]);
        assert_eq!(
            step_points(&vec![(0.0, 1.0), (2.0, 3.0)], 5.0),
            vec![(0.0, 1.0), (2.0, 1.0), (2.0, 3.0), (5.0, 3.0)]
        );
    }
}
