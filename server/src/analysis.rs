//! The analysis engine: reading logs of any common format, assembling multi-line events and
//! mining message templates with exact counts. Runs server-side and needs no AI.

pub mod analyze;
pub mod classify;
pub mod events;
pub mod format;
pub mod level;
pub mod mask;
pub mod miner;
pub mod needle;
pub mod reader;
pub mod timestamp;

use std::io::{self, BufRead, Write};

/// `faultline templates`: reads one message per line and writes one template per line, in
/// order. Returns the number of lines.
pub fn write_templates(input: impl BufRead, output: impl Write) -> io::Result<u64> {
    let mut miner = miner::Miner::new();
    let mut shapes = Vec::new();
    for line in reader::Lines::new(input) {
        let line = line.map_err(|e| io::Error::other(e.to_string()))?;
        shapes.push(miner.add(&line.text));
    }
    let mined = miner.finish();
    let mut out = io::BufWriter::with_capacity(1 << 16, output);
    for shape in &shapes {
        out.write_all(mined.templates[mined.template_of(*shape) as usize].as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(shapes.len() as u64)
}

#[cfg(test)]
mod generated;
#[cfg(test)]
mod properties;
