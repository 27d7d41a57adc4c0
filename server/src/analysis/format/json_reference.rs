//! The earlier `serde_json`-based reading of JSON lines, kept as the reference the one-pass
//! scanner in `json.rs` is tested against: same fields, same numbers, same errors.

use super::Parsed;
// Levels and times are read from the fields as before; only the reading of the object changed.
use super::structured::{
    ERROR_MESSAGE_KEYS, LEVEL_KEYS, MAX_FIELDS, MESSAGE_KEYS, STACK_KEYS, TIME_KEYS, level_of,
    time_of,
};
use crate::analysis::timestamp::TimeContext;

/// Every scalar field of the object `text`, flattened, the first `cap` (and well-known ones
/// past it) kept; `None` when `serde_json` rejects it.
pub(super) fn flatten(text: &str, cap: usize) -> Option<Vec<(String, Scalar)>> {
    let mut scalars = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    serde::de::DeserializeSeed::deserialize(
        Flatten {
            out: &mut scalars,
            prefix: None,
            cap,
        },
        &mut de,
    )
    .ok()?;
    de.end().ok()?;
    Some(scalars)
}

/// A scalar JSON value, as text, remembering whether it was a number.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Scalar {
    pub text: String,
    pub number: bool,
}

/// Streams a JSON object into flattened `(key, scalar)` pairs without building a value tree:
/// nested objects one level deep become `outer.inner`, arrays and deeper objects are skipped.
struct Flatten<'a> {
    out: &'a mut Vec<(String, Scalar)>,
    prefix: Option<&'a str>,
    cap: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for Flatten<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Flatten<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let name = match self.prefix {
                Some(prefix) => {
                    let mut name = String::with_capacity(prefix.len() + 1 + key.len());
                    name.push_str(prefix);
                    name.push('.');
                    name.push_str(&key);
                    name
                }
                None => key.into_owned(),
            };
            let full = self.out.len() >= self.cap;
            map.next_value_seed(Field {
                out: &mut *self.out,
                name,
                nested: self.prefix.is_none(),
                full,
                cap: self.cap,
            })?;
        }
        Ok(())
    }
}

/// One field's value: a scalar is kept, an object is flattened (at the top level only).
struct Field<'a> {
    out: &'a mut Vec<(String, Scalar)>,
    name: String,
    nested: bool,
    full: bool,
    cap: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for Field<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Field<'_> {
    fn keep(self, text: String, number: bool) {
        if !self.full || is_well_known(&self.name) {
            self.out.push((self.name, Scalar { text, number }));
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Field<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.keep(v.to_owned(), false);
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.keep(v, false);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.keep(itoa::Buffer::new().format(v).to_owned(), true);
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.keep(itoa::Buffer::new().format(v).to_owned(), true);
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.keep(v.to_string(), true);
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.keep(v.to_string(), false);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.nested {
            let flatten = Flatten {
                out: self.out,
                prefix: Some(&self.name),
                cap: self.cap,
            };
            return flatten.visit_map(map);
        }
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(())
    }
}

fn is_well_known(name: &str) -> bool {
    [
        &MESSAGE_KEYS[..],
        &LEVEL_KEYS,
        &TIME_KEYS,
        &STACK_KEYS,
        &ERROR_MESSAGE_KEYS,
    ]
    .iter()
    .any(|keys| keys.contains(&name))
}

/// Parses one JSON object line, as `parse_json` did.
pub fn parse_json(line: &str, ctx: TimeContext) -> Option<Parsed> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') {
        return None;
    }
    let scalars = flatten(trimmed, MAX_FIELDS)?;
    let get = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| scalars.iter().find(|(name, _)| name == k).map(|(_, v)| v))
    };

    let level = get(&LEVEL_KEYS).and_then(|v| level_of(&v.text, v.number));
    let timestamp = get(&TIME_KEYS).and_then(|v| time_of(&v.text, v.number, ctx));
    let error_message = get(&ERROR_MESSAGE_KEYS).map(|v| v.text.clone());
    let stack = get(&STACK_KEYS).map(|v| v.text.clone());
    let message = get(&MESSAGE_KEYS)
        .map(|v| v.text.clone())
        .or_else(|| error_message.clone())
        .unwrap_or_default();
    // An error beside the message adds to it: "payment failed: card declined".
    let message = match error_message {
        Some(e) if !message.contains(&e) && !e.is_empty() => format!("{message}: {e}"),
        _ => message,
    };
    let fields = scalars
        .into_iter()
        .map(|(k, v)| (k.into(), v.text))
        .collect();
    Some(Parsed {
        timestamp,
        level,
        message: message.trim().to_owned(),
        fields,
        stack,
        yearless: false,
    })
}

/// Small deterministic generator of JSON-like lines.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[self.below(items.len())]
    }

    fn space(&mut self, out: &mut String) {
        if self.below(4) == 0 {
            out.push_str(self.pick(&[" ", "  ", "\t", "\n", "\r\n", " \t "]));
        }
    }

    fn string(&mut self, out: &mut String) {
        const PIECES: [&str; 22] = [
            "msg",
            "level",
            "time",
            "err",
            "a.b",
            "",
            "x",
            "héllo",
            "日本",
            "😀",
            r"\n",
            r#"\""#,
            r"\\",
            r"\/",
            r"\t",
            r"\u00e9",
            r"\u0041",
            r"\ud83d\ude00",
            r"\ud800",
            r"\udc00",
            r"\uDBFF\uDFFF",
            " ",
        ];
        out.push('"');
        for _ in 0..self.below(4) {
            out.push_str(self.pick(&PIECES));
        }
        out.push('"');
    }

    fn number(&mut self, out: &mut String) {
        out.push_str(self.pick(&[
            "0",
            "-0",
            "7",
            "-12",
            "50",
            "1700000000123",
            "1700000000.5",
            "1.5",
            "-2.25",
            "1e3",
            "2E-2",
            "1.0e+2",
            "0.000001",
            "12345678901234567890",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "123456789012345678901234567",
            "1e400",
            "-1e400",
            "1e-400",
            "0e999",
            "3.14159",
            "100.0",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "0x10",
        ]));
    }

    fn value(&mut self, out: &mut String, depth: usize) {
        let choice = if depth > 3 {
            self.below(4)
        } else {
            self.below(7)
        };
        match choice {
            0 => self.string(out),
            1 => self.number(out),
            2 => out.push_str(self.pick(&["true", "false", "null"])),
            3 => self.string(out),
            4 | 5 => self.object(out, depth + 1),
            _ => {
                out.push('[');
                for i in 0..self.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    self.space(out);
                    self.value(out, depth + 1);
                    self.space(out);
                }
                out.push(']');
            }
        }
    }

    fn object(&mut self, out: &mut String, depth: usize) {
        const KEYS: [&str; 16] = [
            "msg",
            "message",
            "level",
            "lvl",
            "time",
            "ts",
            "t",
            "err",
            "error",
            "stack",
            "exception",
            "req",
            "res",
            "message\\u0041",
            "a",
            "log.level",
        ];
        out.push('{');
        for i in 0..self.below(6) {
            if i > 0 {
                out.push(',');
            }
            self.space(out);
            if self.below(5) == 0 {
                self.string(out);
            } else {
                out.push('"');
                out.push_str(self.pick(&KEYS));
                out.push('"');
            }
            self.space(out);
            out.push(':');
            self.space(out);
            self.value(out, depth);
            self.space(out);
        }
        out.push('}');
    }

    /// A generated object, sometimes broken by a few edits.
    fn line(&mut self) -> String {
        let mut out = String::new();
        self.space(&mut out);
        self.object(&mut out, 0);
        self.space(&mut out);
        if self.below(3) == 0 {
            let mut chars: Vec<char> = out.chars().collect();
            for _ in 0..=self.below(3) {
                let at = self.below(chars.len() + 1);
                match self.below(3) {
                    0 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ => {
                        let c = self.pick(&[
                            "{", "}", "[", "]", ",", ":", "\"", "\\", " ", "0", "e", "\u{1}", "x",
                        ]);
                        chars.insert(at, c.chars().next().unwrap_or(' '));
                    }
                }
            }
            out = chars.into_iter().collect();
        }
        out
    }
}

/// The scanner's fields, as the reference reports them.
fn scanned(text: &str) -> Option<Vec<(String, Scalar)>> {
    let mut out = Vec::new();
    super::json::flatten(text, |name, value| {
        let (text, number) = match value {
            super::json::Value::Text(t) => (t.into_owned(), false),
            super::json::Value::Number(t) => (t.into_owned(), true),
            super::json::Value::Bool(b) => (b.to_string(), false),
        };
        out.push((name.joined().into_owned(), Scalar { text, number }));
    })?;
    Some(out)
}

/// Equal, but for the last bits of numbers too long for `f64`, which `serde_json` (without its
/// `float_roundtrip` feature) rounds less exactly than the standard library.
fn same_fields(a: &[(String, Scalar)], b: &[(String, Scalar)]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((an, av), (bn, bv))| {
            an == bn
                && av.number == bv.number
                && (av.text == bv.text
                    || av.number
                        && matches!(
                            (av.text.parse::<f64>(), bv.text.parse::<f64>()),
                            (Ok(x), Ok(y)) if ((x - y) / x).abs() < 1e-14
                        ))
        })
}

const EDGE_CASES: [&str; 40] = [
    "{}",
    " { } ",
    r#"{"a":1}"#,
    r#"{"a":1,}"#,
    r#"{,"a":1}"#,
    r#"{"a" 1}"#,
    r#"{"a":1}x"#,
    r#"{"a":1} {"b":2}"#,
    r#"{"a":{"b":{"c":[1,{"d":2}]}},"e":"f"}"#,
    r#"{"a":{"b":1,"c":{"d":2},"e":[3]},"f":null}"#,
    r#"{"a":[]}"#,
    r#"{"a":[1,]}"#,
    r#"{"a":[,1]}"#,
    r#"{"a":{}}"#,
    r#"{"a":{"b":{}}}"#,
    r#"{"a":{"b":{,}}}"#,
    r#"{"a":{"b":{"c":1,}}}"#,
    r#"{"a":[{"k":1 "j":2}]}"#,
    r#"{"a":[{"k\ud800":1}]}"#,
    r#"{"a":{"b":{"k\ud800":1}}}"#,
    r#"{"a":{"b\ud800":1}}"#,
    r#"{"a":[[[[1,[2]],{"b":[{"c":{}}]}]]]}"#,
    "{\"a\":\"tab\there\"}",
    "{\"a\":\"nul\u{0}\"}",
    r#"{"a":"\x"}"#,
    r#"{"a":"\u12"}"#,
    r#"{"a":"\u12G4"}"#,
    r#"{"a":"\ud83d\u0041"}"#,
    r#"{"a":"\ud83d\\"}"#,
    r#"{"a":"\ud83d"}"#,
    r#"{"a":"end\"}"#,
    r#"{"a":tru}"#,
    r#"{"a":nul}"#,
    r#"{"a":truex}"#,
    r#"{"a":-0.0,"b":1E2,"c":1e-2,"d":5e-324,"e":2.5e-320}"#,
    "{\"a\":1}\u{a0}",
    "{\"a\":\u{a0}1}",
    r#"{"a":"x","a":"y","msg":"m","message":"n"}"#,
    r#"[{"a":1}]"#,
    r#""a""#,
];

#[test]
fn scanner_reads_what_serde_json_reads() {
    let mut generator = Gen(0x9e37_79b9_7f4a_7c15);
    let generated = (0..40_000).map(|_| generator.line());
    // Skipped values nest to any depth.
    let deep = [
        format!(r#"{{"a":{}{}}}"#, "[".repeat(300), "]".repeat(300)),
        format!(
            r#"{{"a":{{"b":{}1{}}}}}"#,
            r#"{"c":"#.repeat(300),
            "}".repeat(300)
        ),
        format!(r#"{{"a":{}{}}}"#, "[".repeat(300), "]".repeat(299)),
    ];
    let mut accepted = 0;
    for text in EDGE_CASES
        .iter()
        .map(|s| s.to_string())
        .chain(deep)
        .chain(generated)
    {
        let expected = flatten(&text, usize::MAX);
        let got = scanned(&text);
        accepted += usize::from(expected.is_some());
        match (&expected, &got) {
            (Some(a), Some(b)) => assert!(same_fields(a, b), "{text}\n{a:?}\n{b:?}"),
            (None, None) => {}
            _ => panic!("{text}: serde_json {expected:?}, scanner {got:?}"),
        }
    }
    // Both outcomes are well exercised.
    assert!((10_000..38_000).contains(&accepted), "{accepted} accepted");
}

#[test]
fn records_read_as_before() {
    let ctx = TimeContext::default();
    let mut generator = Gen(7);
    let mut lines: Vec<String> = (0..20_000).map(|_| generator.line()).collect();
    // Past the field cap the well-known keys still count.
    let many: String = (0..60).map(|i| format!("\"f{i}\":{i},")).collect();
    lines.push(format!(r#"{{{many}"level":"warn","msg":"late","x":1}}"#));
    lines.push(format!(
        r#"{{"msg":"early",{many}"error":"boom","time":1700000000}}"#
    ));
    lines.push(format!(
        r#"{{"req":{{{many}"a":1}},"level":"error","msg":"m"}}"#
    ));
    for line in &lines {
        let (expected, got) = (
            parse_json(line, ctx),
            super::structured::parse_json(line, ctx),
        );
        match (&expected, &got) {
            (Some(a), Some(b)) if a.fields.len() == b.fields.len() => {
                // Number texts may differ in the last bits; everything else is equal.
                assert_eq!(
                    (a.timestamp, a.level, &a.message, &a.stack),
                    (b.timestamp, b.level, &b.message, &b.stack),
                    "{line}"
                );
                for ((an, av), (bn, bv)) in a.fields.iter().zip(&b.fields) {
                    assert_eq!(an, bn, "{line}");
                    assert!(
                        av == bv || av.parse::<f64>().is_ok() && bv.parse::<f64>().is_ok(),
                        "{line}: {av} / {bv}"
                    );
                }
            }
            (None, None) => {}
            _ => panic!("{line}:\n{expected:?}\n{got:?}"),
        }
    }
}
