//! Arbitrary bytes as a log file (plain, gzip, JSON, anything): analysing them must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use server::analysis::analyze::{Options, Source, analyze};

fuzz_target!(|data: &[u8]| {
    let source = Source::bytes("fuzz.log", data.to_vec());
    if let Ok(analysis) = analyze(&[source], Options::default()) {
        let events: u64 = analysis.patterns.iter().map(|p| p.count).sum();
        assert_eq!(events, analysis.summary.events);
    }
});
