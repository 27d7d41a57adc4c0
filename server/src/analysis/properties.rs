//! Property tests: arbitrary input never panics the readers, the masker, the miner or the
//! analysis, and their basic accounting always holds.

use proptest::prelude::*;

use super::analyze::{Options, Source, analyze, analyze_rereading};
use super::events::Events;
use super::mask::mask;
use super::miner::Miner;
use super::reader::Lines;
use super::timestamp::{TimeContext, days_from_civil, format_rfc3339, parse_prefix};

/// Text that looks a little like logs: words, numbers, punctuation, some non-ASCII.
fn loggy() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        r"([A-Za-z]{1,8}|[0-9]{1,6}|[ :=/.,\[\]()<>*#@'-]|é|\u{fffd}|\t){0,30}",
    )
    .expect("valid regex")
}

/// Lines of the kinds the formats and multi-line records read, mixed with anything loggy.
fn log_line() -> impl Strategy<Value = String> {
    let word = "[a-z]{1,6}";
    prop_oneof![
        loggy(),
        (0u32..100_000, loggy()).prop_map(|(n, t)| format!("2026-12-01T10:{:02}:{:02}Z ERROR {t}", n % 60, n / 60 % 60)),
        "  at [a-z]{1,5}\\.[a-z]{1,5}\\([A-Z][a-z]{1,5}\\.java:[0-9]{1,3}\\)",
        (word, loggy(), 100u16..600).prop_map(|(k, t, st)| format!(
            r#"{{"level":"warn","msg":{t:?},"{k}":"v","status":{st},"url":"/api/{k}/12"}}"#
        )),
        (word, 100u16..600, 0u32..5000).prop_map(|(p, st, ms)| format!(
            r#"10.0.0.1 - - [01/Dec/2026:10:00:00 +0000] "GET /{p}/7?q=1 HTTP/1.1" {st} 12 "-" "curl" {ms}"#
        )),
        (word, loggy()).prop_map(|(k, t)| format!("level=info {k}=1 msg={t:?} duration=12ms")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_spool_and_a_second_reading_agree(files in proptest::collection::vec(proptest::collection::vec(log_line(), 0..30), 1..4)) {
        let sources = || -> Vec<Source> {
            files.iter().enumerate().map(|(i, lines)| Source::bytes(format!("{i}.log"), lines.join("\n").into_bytes())).collect()
        };
        let json = |a: super::analyze::Analysis| serde_json::to_string(&a).expect("json");
        let spooled = analyze(&sources(), Options::default()).expect("in-memory reads");
        let reread = analyze_rereading(&sources(), Options::default()).expect("in-memory reads");
        prop_assert_eq!(json(spooled), json(reread));
    }

    #[test]
    fn reader_splits_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..4096), limit in 1usize..64) {
        let lines: Vec<_> = Lines::with_limit(&data[..], limit).collect::<Result<_, _>>().expect("in-memory reads");
        let newlines = data.iter().filter(|&&b| b == b'\n').count();
        let trailing = usize::from(!data.is_empty() && data.last() != Some(&b'\n'));
        prop_assert_eq!(lines.len(), newlines + trailing);
        for (i, line) in lines.iter().enumerate() {
            prop_assert_eq!(line.number, i as u64 + 1);
            prop_assert!(line.text.len() <= limit * 3);
        }
    }

    #[test]
    fn events_cover_lines_in_order(text in proptest::collection::vec(loggy(), 0..40)) {
        let joined = text.join("\n");
        let events: Vec<_> = Events::new(Lines::new(joined.as_bytes()), TimeContext::default())
            .collect::<Result<_, _>>()
            .expect("in-memory reads");
        let mut last = 0;
        for e in &events {
            prop_assert!(e.line > last && e.end_line >= e.line);
            last = e.end_line;
        }
    }

    #[test]
    fn masking_any_text_is_total_and_tidy(text in loggy()) {
        let masked = mask(&text);
        prop_assert!(!masked.starts_with(' ') && !masked.ends_with(' ') && !masked.contains("  "));
    }

    #[test]
    fn mining_counts_every_message_and_is_deterministic(messages in proptest::collection::vec(loggy(), 1..60)) {
        let run = || {
            let mut miner = Miner::new();
            let shapes: Vec<_> = messages.iter().map(|m| miner.add(m)).collect();
            let mined = miner.finish();
            let templates: Vec<String> = shapes.iter().map(|&s| mined.templates[mined.template_of(s) as usize].clone()).collect();
            (templates, mined.counts.iter().sum::<u64>())
        };
        let (first, total) = run();
        prop_assert_eq!(total, messages.len() as u64);
        prop_assert_eq!(run().0, first);
    }

    #[test]
    fn analysing_any_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(a) = analyze(&[Source::bytes("x.log", data)], Options::default()) {
            prop_assert_eq!(a.summary.events, a.patterns.iter().map(|p| p.count).sum::<u64>());
        }
    }

    #[test]
    fn timestamps_round_trip(y in 1971i64..2100, mo in 1i64..=12, d in 1i64..=28, h in 0i64..24, mi in 0i64..60, s in 0i64..60, ms in 0i64..1000) {
        let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z rest");
        let found = parse_prefix(&text, TimeContext::default()).expect("ISO timestamp");
        let expected = (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1000 + ms;
        prop_assert_eq!(found.ms, expected);
        prop_assert_eq!(format_rfc3339(found.ms), text[..24].to_owned());
    }

    #[test]
    fn timestamp_parsing_never_panics(text in "\\PC{0,40}") {
        let _ = parse_prefix(&text, TimeContext::default());
    }
}
