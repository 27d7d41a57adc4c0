//! Reading log input in bounded memory: gzip is detected by its magic bytes and inflated on the
//! fly, invalid UTF-8 is replaced, and lines longer than [`MAX_LINE_BYTES`] are truncated and
//! flagged rather than buffered whole.

use std::io::{self, BufRead, BufReader, Read};

/// Longest line kept in full; the rest of a longer line is skipped.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One physical line of input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the (decompressed) input.
    pub number: u64,
    /// The text, without its line ending; invalid UTF-8 replaced by U+FFFD.
    pub text: String,
    /// True when the line was longer than the limit and was cut.
    pub truncated: bool,
}

/// Errors while reading input.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The underlying read failed (including a corrupt or truncated gzip stream).
    #[error("line {line}: {source}")]
    Io {
        /// Line being read when it failed.
        line: u64,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Wraps `input`, inflating it when it starts with the gzip magic bytes.
pub fn open(input: impl Read + Send + 'static) -> io::Result<Box<dyn BufRead + Send>> {
    let mut buffered = BufReader::with_capacity(256 * 1024, input);
    let head = buffered.fill_buf()?;
    if head.starts_with(&GZIP_MAGIC) {
        let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
        Ok(Box::new(BufReader::with_capacity(256 * 1024, decoder)))
    } else {
        Ok(Box::new(buffered))
    }
}

/// Iterates over the lines of a reader, holding at most one line (capped) in memory.
pub struct Lines<R> {
    inner: R,
    number: u64,
    max: usize,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `inner` with the default limit.
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE_BYTES)
    }

    /// Lines of `inner`, cutting each at `max` bytes.
    pub fn with_limit(inner: R, max: usize) -> Self {
        Self {
            inner,
            number: 0,
            max,
            buf: Vec::with_capacity(256),
            done: false,
        }
    }

    /// Reads the next line into `self.buf`; returns (read anything, truncated).
    fn fill_line(&mut self) -> io::Result<(bool, bool)> {
        self.buf.clear();
        let mut any = false;
        let mut truncated = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok((any, truncated));
            }
            any = true;
            let (used, found_newline) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let content = if found_newline {
                &chunk[..used - 1]
            } else {
                chunk
            };
            let room = self.max.saturating_sub(self.buf.len());
            if content.len() > room {
                truncated = true;
            }
            self.buf
                .extend_from_slice(&content[..content.len().min(room)]);
            self.inner.consume(used);
            if found_newline {
                return Ok((true, truncated));
            }
        }
    }
}

impl<R: BufRead> Iterator for Lines<R> {
    type Item = Result<Line, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // Most lines lie whole in the reader's buffer: their text is copied from there once,
        // not gathered into `self.buf` first.
        match self.inner.fill_buf() {
            Ok(chunk) => {
                if let Some(end) = memchr::memchr(b'\n', chunk)
                    && end <= self.max
                {
                    let content = &chunk[..end];
                    let content = content.strip_suffix(b"\r").unwrap_or(content);
                    let text = text_of(content);
                    self.inner.consume(end + 1);
                    self.number += 1;
                    return Some(Ok(Line {
                        number: self.number,
                        text,
                        truncated: false,
                    }));
                }
            }
            // `fill_line` retries.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                self.done = true;
                return Some(Err(ReadError::Io {
                    line: self.number + 1,
                    source,
                }));
            }
        }
        match self.fill_line() {
            Ok((false, _)) => {
                self.done = true;
                None
            }
            Ok((true, truncated)) => {
                self.number += 1;
                if self.buf.last() == Some(&b'\r') {
                    self.buf.pop();
                }
                let text = text_of(&self.buf);
                Some(Ok(Line {
                    number: self.number,
                    text,
                    truncated,
                }))
            }
            Err(source) => {
                self.done = true;
                Some(Err(ReadError::Io {
                    line: self.number + 1,
                    source,
                }))
            }
        }
    }
}

/// `bytes` as text, invalid UTF-8 replaced by U+FFFD.
fn text_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Lines `first - around ..= last + around` of `input` (1-based, as [`Lines`] numbers them),
/// read from the start and no further than the last one wanted. At most `max_lines` are kept:
/// an event longer than that shows its start and the lines after it are dropped.
pub fn excerpt(
    input: impl Read + Send + 'static,
    first: u64,
    last: u64,
    around: u64,
    max_lines: usize,
) -> Result<Vec<Line>, ReadError> {
    let from = first.saturating_sub(around).max(1);
    let to = last.max(first).saturating_add(around);
    let reader = open(input).map_err(|source| ReadError::Io { line: 1, source })?;
    let mut kept = Vec::new();
    for line in Lines::new(reader) {
        let line = line?;
        if line.number > to || kept.len() == max_lines {
            break;
        }
        if line.number >= from {
            kept.push(line);
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::generated;
    use std::io::Write;

    fn lines(input: &[u8], max: usize) -> Vec<Line> {
        Lines::with_limit(input, max)
            .collect::<Result<Vec<_>, _>>()
            .expect("reads")
    }

    #[test]
    fn splits_on_lf_and_crlf_and_keeps_a_last_line_without_newline() {
        let got = lines(b"a\r\nb\n\nc", 100);
        let texts: Vec<_> = got.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["a", "b", "", "c"]);
        assert_eq!(got[3].number, 4);
    }

    #[test]
    fn long_lines_are_cut_and_flagged_and_the_next_line_is_intact() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\nnext\n");
        let got = lines(&input, 10);
        assert_eq!(got[0].text, "x".repeat(10));
        assert!(got[0].truncated);
        assert_eq!(got[1].text, "next");
        assert!(!got[1].truncated);
    }

    #[test]
    fn lines_read_the_same_whatever_the_buffer_holds() {
        // With a one-byte buffer no line lies whole in it, so every line takes the gathering
        // path; with a large one nearly every line is taken straight from the buffer.
        let mut numbers = generated::Xorshift::new(0x9e37_79b9_7f4a_7c15);
        let mut state = 0;
        for _ in 0..300 {
            let mut input = Vec::new();
            for _ in 0..12 {
                state = numbers.next();
                let len = (state % 12) as usize;
                input.extend((0..len).map(|k| b"ab\r\xff"[(state >> (2 * k + 8)) as usize % 4]));
                input.extend_from_slice(if state & 1 == 0 { b"\n" } else { b"\r\n" });
            }
            if state & 2 == 0 {
                input.extend_from_slice(b"tail");
            }
            for max in [0, 1, 4, 7, 8, 100] {
                let whole = lines(&input, max);
                let byte_by_byte: Vec<Line> =
                    Lines::with_limit(io::BufReader::with_capacity(1, &input[..]), max)
                        .collect::<Result<_, _>>()
                        .expect("reads");
                assert_eq!(whole, byte_by_byte, "{input:?} max {max}");
            }
        }
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let got = lines(b"ok \xff\xfe done\n", 100);
        assert_eq!(got[0].text, "ok \u{fffd}\u{fffd} done");
    }

    #[test]
    fn gzip_is_detected_and_inflated() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"one\ntwo\n").expect("write");
        let gz = encoder.finish().expect("finish");
        let reader = open(io::Cursor::new(gz)).expect("opens");
        let texts: Vec<_> = Lines::new(reader).map(|l| l.expect("line").text).collect();
        assert_eq!(texts, ["one", "two"]);
    }

    #[test]
    fn truncated_gzip_is_an_error_not_a_panic() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder
            .write_all(&b"line of text\n".repeat(1000))
            .expect("write");
        let gz = encoder.finish().expect("finish");
        let reader = open(io::Cursor::new(gz[..gz.len() / 2].to_vec())).expect("opens");
        let results: Vec<_> = Lines::new(reader).collect();
        assert!(results.iter().any(Result::is_err));
    }

    #[test]
    fn an_excerpt_holds_the_lines_around_an_event_and_stops_there() {
        let input: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let got =
            excerpt(io::Cursor::new(input.clone().into_bytes()), 10, 12, 2, 50).expect("reads");
        let numbers: Vec<_> = got.iter().map(|l| l.number).collect();
        assert_eq!(numbers, (8..=14).collect::<Vec<_>>());
        assert_eq!(got[0].text, "line 8");

        let start =
            excerpt(io::Cursor::new(input.clone().into_bytes()), 1, 1, 3, 50).expect("reads");
        assert_eq!(start.first().map(|l| l.number), Some(1));
        assert_eq!(start.len(), 4);

        let end =
            excerpt(io::Cursor::new(input.clone().into_bytes()), 99, 100, 5, 50).expect("reads");
        assert_eq!(end.last().map(|l| l.number), Some(100));

        let capped = excerpt(io::Cursor::new(input.into_bytes()), 20, 90, 5, 10).expect("reads");
        assert_eq!(capped.len(), 10);
        assert_eq!(capped[0].number, 15);
    }

    #[test]
    fn an_excerpt_reads_gzip_by_decompressed_line_numbers() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"a\nb\nc\nd\n").expect("write");
        let gz = encoder.finish().expect("finish");
        let got = excerpt(io::Cursor::new(gz), 3, 3, 1, 50).expect("reads");
        let texts: Vec<_> = got.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["b", "c", "d"]);
    }
}
