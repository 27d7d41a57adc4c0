//! Arbitrary bytes as messages: `templates` must write exactly one template per input line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    if let Ok(lines) = server::analysis::write_templates(data, &mut out) {
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count() as u64, lines);
    }
});
