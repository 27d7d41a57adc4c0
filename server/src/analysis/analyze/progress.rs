//! How far an analysis has got, for progress bars, and a way to stop it.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Events between two progress reports.
const REPORT_EVERY: u64 = 4096;

/// The stage an analysis is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// First pass: reading every event and mining its shape.
    Reading,
    /// Turning shapes into templates.
    Mining,
    /// Second pass: statistics, families, chains, security and timeline.
    Correlating,
}

/// A progress report.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The stage.
    pub stage: Stage,
    /// Of the whole analysis, 0 to 100.
    pub percent: f64,
    /// Input bytes read in this pass (compressed bytes for gzip files).
    pub bytes_read: u64,
    /// Input bytes in all (0 when unknown).
    pub bytes_total: u64,
    /// Events read so far in this pass.
    pub events: u64,
    /// Physical lines read so far in this pass (an event may span several).
    pub lines: u64,
    /// Distinct shapes so far (reading) or templates (afterwards).
    pub patterns: u64,
}

/// Hears progress reports; answers whether to go on.
pub trait Observer {
    /// Called every few thousand events and at each stage. Returning `false` stops the
    /// analysis with [`super::AnalyzeError::Cancelled`].
    fn progress(&mut self, progress: &Progress) -> bool;
}

/// An observer that hears nothing and never stops.
pub struct Unobserved;

impl Observer for Unobserved {
    fn progress(&mut self, _: &Progress) -> bool {
        true
    }
}

/// Counts the bytes read through it into a shared counter.
pub struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    /// Wraps `inner`, adding to `count`.
    pub fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Self { inner, count }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Share of the whole analysis each stage ends at.
const READING_ENDS: f64 = 45.0;
const MINING_ENDS: f64 = 50.0;
const CORRELATING_ENDS: f64 = 99.0;

/// Keeps the figures of the stage under way and reports them.
pub struct Tracker<'a> {
    observer: &'a mut dyn Observer,
    /// Bytes read in the current pass.
    pub read: Arc<AtomicU64>,
    /// Input bytes.
    total: u64,
    /// Bytes the current pass reads: the input's, or the first pass's spooled events.
    pass_total: u64,
    stage: Stage,
}

impl<'a> Tracker<'a> {
    /// A tracker for inputs of `total` bytes.
    pub fn new(observer: &'a mut dyn Observer, total: u64) -> Self {
        Self {
            observer,
            read: Arc::default(),
            total,
            pass_total: total,
            stage: Stage::Reading,
        }
    }

    /// Enters `stage` (a new pass counts its bytes from zero) and reports it.
    pub fn enter(&mut self, stage: Stage, patterns: u64) -> bool {
        self.enter_pass(stage, patterns, self.total)
    }

    /// Enters `stage`, a pass over `bytes` other than the input's (the spooled events), and
    /// reports it. Its progress is reported as the same share of the input's bytes.
    pub fn enter_pass(&mut self, stage: Stage, patterns: u64, bytes: u64) -> bool {
        self.stage = stage;
        self.pass_total = bytes;
        self.read.store(0, Ordering::Relaxed);
        self.report(0, 0, patterns)
    }

    /// Reports after every few thousand events.
    pub fn tick(&mut self, events: u64, lines: u64, patterns: u64) -> bool {
        !events.is_multiple_of(REPORT_EVERY) || self.report(events, lines, patterns)
    }

    fn report(&mut self, events: u64, lines: u64, patterns: u64) -> bool {
        let read = self.read.load(Ordering::Relaxed).min(self.pass_total);
        let fraction = if self.pass_total == 0 {
            0.0
        } else {
            read as f64 / self.pass_total as f64
        };
        let bytes_read = if self.pass_total == self.total {
            read
        } else {
            (fraction * self.total as f64) as u64
        };
        let percent = match self.stage {
            Stage::Reading => READING_ENDS * fraction,
            Stage::Mining => READING_ENDS,
            Stage::Correlating => MINING_ENDS + (CORRELATING_ENDS - MINING_ENDS) * fraction,
        };
        self.observer.progress(&Progress {
            stage: self.stage,
            percent: (percent * 10.0).round() / 10.0,
            bytes_read,
            bytes_total: self.total,
            events,
            lines,
            patterns,
        })
    }
}
