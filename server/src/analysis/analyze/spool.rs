//! The first pass's events, kept for the second pass so that it need not read, decompress and
//! parse the input again (13 % of an analysis's instructions on the benchmark's mixed logs).
//!
//! Events are written as length-prefixed records: in memory up to [`MEMORY`] bytes, then in an
//! anonymous temporary file, which the operating system removes when it is closed. Past
//! [`LIMIT`] bytes, or when the file cannot be written (a full disk), the spool is given up and
//! the second pass reads the input again, as it did before there was a spool.

use std::fs::File;
use std::io::{self, BufRead, Read, Seek, Write};
use std::path::PathBuf;

use rustc_hash::FxHashMap;

use super::{level_from_index, level_index};
use crate::analysis::events::Event;
use crate::analysis::format::Key;

/// Bytes kept in memory before the spool moves to a file.
const MEMORY: usize = 16 << 20;
/// Bytes written to the file at a time.
const CHUNK: usize = 256 << 10;
/// Bytes past which the spool is given up, so an analysis never fills a disk with it.
const LIMIT: u64 = 4 << 30;

/// Collects events during the first pass.
pub struct Writer {
    /// Records not yet written to the file (all of them while there is no file).
    buf: Vec<u8>,
    /// Where the file is made.
    dir: Option<PathBuf>,
    file: Option<File>,
    /// Bytes spooled so far, in memory and on file.
    bytes: u64,
    limit: u64,
    /// Field names the formats use as `&'static str`, each written as its index here; found by
    /// address and length, which is cheaper than hashing the text.
    key_ids: FxHashMap<(usize, usize), u32>,
    names: Vec<&'static str>,
    given_up: bool,
}

impl Writer {
    /// A spool whose file, if it needs one, is made in `dir` (the system's temporary directory
    /// when `None`).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self {
            buf: Vec::new(),
            dir,
            file: None,
            bytes: 0,
            limit: LIMIT,
            key_ids: FxHashMap::default(),
            names: Vec::new(),
            given_up: false,
        }
    }

    /// A spool given up past `limit` bytes.
    #[cfg(test)]
    pub fn with_limit(limit: u64) -> Self {
        Self {
            limit,
            ..Self::new(None)
        }
    }

    /// Adds `event`.
    pub fn push(&mut self, event: &Event) {
        if self.given_up {
            return;
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.encode(event);
        let len = self.buf.len() - start - 4;
        let Ok(len32) = u32::try_from(len) else {
            return self.give_up("an event of 4 GiB or more");
        };
        self.buf[start..start + 4].copy_from_slice(&len32.to_le_bytes());
        self.bytes += 4 + len as u64;
        if self.bytes > self.limit {
            return self.give_up("past its limit");
        }
        let full = match self.file {
            None => self.buf.len() >= MEMORY,
            Some(_) => self.buf.len() >= CHUNK,
        };
        if full && let Err(e) = self.flush() {
            self.give_up(&e.to_string());
        }
    }

    /// A record is a header (numbers, and the length of every text) and then the texts, one
    /// after the other, so that reading them back checks their UTF-8 once per record.
    fn encode(&mut self, event: &Event) {
        let out = &mut self.buf;
        let header_at = out.len();
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&event.line.to_le_bytes());
        out.extend_from_slice(&event.end_line.to_le_bytes());
        out.push(u8::from(event.timestamp.is_some()));
        out.extend_from_slice(&event.timestamp.unwrap_or(0).to_le_bytes());
        // Level indices are below 8, so one byte holds the level and the truncation flag.
        out.push(level_index(event.level) as u8 | u8::from(event.truncated) << 7);
        put_len(out, &event.message);
        out.extend_from_slice(&(event.fields.len() as u32).to_le_bytes());
        for (key, value) in &event.fields {
            match key {
                Key::Borrowed(name) => {
                    let names = &mut self.names;
                    let address = (name.as_ptr() as usize, name.len());
                    let id = *self.key_ids.entry(address).or_insert_with(|| {
                        names.push(name);
                        (names.len() - 1) as u32
                    });
                    out.push(0);
                    out.extend_from_slice(&id.to_le_bytes());
                }
                Key::Owned(key) => {
                    out.push(1);
                    put_len(out, key);
                }
            }
            put_len(out, value);
        }
        match &event.stack {
            Some(stack) => {
                out.push(1);
                put_len(out, stack);
            }
            None => out.push(0),
        }
        let header = (out.len() - header_at - 4) as u32;
        out[header_at..header_at + 4].copy_from_slice(&header.to_le_bytes());
        out.extend_from_slice(event.message.as_bytes());
        for (key, value) in &event.fields {
            if let Key::Owned(key) = key {
                out.extend_from_slice(key.as_bytes());
            }
            out.extend_from_slice(value.as_bytes());
        }
        if let Some(stack) = &event.stack {
            out.extend_from_slice(stack.as_bytes());
        }
    }

    /// Moves the records held in memory to the file, making it first if need be.
    fn flush(&mut self) -> io::Result<()> {
        let file = match &mut self.file {
            Some(file) => file,
            None => self.file.insert(match &self.dir {
                Some(dir) => tempfile::tempfile_in(dir)?,
                None => tempfile::tempfile()?,
            }),
        };
        file.write_all(&self.buf)?;
        if self.buf.capacity() > 2 * CHUNK {
            // The memory's worth is no longer needed: from now on records pass through in chunks.
            self.buf = Vec::with_capacity(2 * CHUNK);
        } else {
            self.buf.clear();
        }
        Ok(())
    }

    /// Stops spooling: the second pass will read the input again.
    fn give_up(&mut self, why: &str) {
        tracing::info!(
            bytes = self.bytes,
            why,
            "analysis spool given up; reading the input again"
        );
        self.given_up = true;
        self.buf = Vec::new();
        self.file = None;
    }

    /// The spooled events, to read in the order they were pushed; `None` when the spool was
    /// given up.
    pub fn finish(mut self) -> Option<Reader> {
        if self.given_up {
            return None;
        }
        let input = match self.file.take() {
            None => Input::Memory {
                data: std::mem::take(&mut self.buf),
                at: 0,
            },
            Some(mut file) => {
                let rewound = file
                    .write_all(&self.buf)
                    .and_then(|()| file.rewind())
                    .map(|()| file);
                match rewound {
                    Ok(file) => Input::File(io::BufReader::with_capacity(CHUNK, file)),
                    Err(e) => {
                        self.give_up(&e.to_string());
                        return None;
                    }
                }
            }
        };
        Some(Reader {
            input,
            names: self.names,
            record: Vec::new(),
            len: self.bytes,
            read: 0,
        })
    }
}

fn put_len(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
}

enum Input {
    Memory { data: Vec<u8>, at: usize },
    File(io::BufReader<File>),
}

/// Reads the spooled events back.
pub struct Reader {
    input: Input,
    names: Vec<&'static str>,
    /// A record that crosses the end of the file reader's buffer, copied out; reused.
    record: Vec<u8>,
    len: u64,
    read: u64,
}

impl Reader {
    /// Bytes in the spool.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Bytes read back so far.
    pub fn position(&self) -> u64 {
        self.read
    }

    /// Reads the next event into `event`, reusing its buffers.
    pub fn read_into(&mut self, event: &mut Event) -> io::Result<()> {
        let Self {
            input,
            names,
            record,
            read,
            ..
        } = self;
        let len = match input {
            Input::Memory { data, at } => {
                let record = data
                    .get(*at..)
                    .and_then(record_at)
                    .ok_or_else(|| damaged(io::ErrorKind::UnexpectedEof))?;
                decode(record, names, event)?;
                *at += 4 + record.len();
                record.len()
            }
            Input::File(file) => {
                // A record wholly in the reader's buffer is decoded where it is; one that
                // crosses the buffer's end is copied out first.
                let buffered = file.fill_buf()?;
                if let Some(whole) = record_at(buffered) {
                    let len = whole.len();
                    decode(whole, names, event)?;
                    file.consume(4 + len);
                    len
                } else {
                    let mut len = [0; 4];
                    file.read_exact(&mut len)?;
                    let len = u32::from_le_bytes(len) as usize;
                    record.resize(len, 0);
                    file.read_exact(record)?;
                    decode(record, names, event)?;
                    len
                }
            }
        };
        *read += 4 + len as u64;
        Ok(())
    }
}

/// The record at the start of `bytes`, if it is all there.
fn record_at(bytes: &[u8]) -> Option<&[u8]> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    bytes.get(4..4 + len)
}

fn damaged(kind: io::ErrorKind) -> io::Error {
    io::Error::new(kind, "the analysis's spooled events are damaged")
}

/// Reads a record's header.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<usize> {
        Some(u32::from_le_bytes(self.array()?) as usize)
    }
}

/// Hands out a record's texts in order.
struct Texts<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Texts<'a> {
    fn next(&mut self, len: usize) -> Option<&'a str> {
        let text = self.text.get(self.at..self.at.checked_add(len)?)?;
        self.at += len;
        Some(text)
    }

    /// The next text into `out`, reusing its buffer.
    fn next_into(&mut self, len: usize, out: &mut String) -> Option<()> {
        let text = self.next(len)?;
        out.clear();
        out.push_str(text);
        Some(())
    }
}

/// Fills `event` from `record`.
fn decode(record: &[u8], names: &[&'static str], event: &mut Event) -> io::Result<()> {
    fill(record, names, event).ok_or_else(|| damaged(io::ErrorKind::InvalidData))
}

fn fill(record: &[u8], names: &[&'static str], event: &mut Event) -> Option<()> {
    let header_len = u32::from_le_bytes(record.get(..4)?.try_into().ok()?) as usize;
    let header = record.get(4..4usize.checked_add(header_len)?)?;
    let mut texts = Texts {
        text: std::str::from_utf8(&record[4 + header_len..]).ok()?,
        at: 0,
    };
    let mut at = Cursor {
        bytes: header,
        at: 0,
    };
    event.line = u64::from_le_bytes(at.array()?);
    event.end_line = u64::from_le_bytes(at.array()?);
    let has_timestamp = at.u8()? == 1;
    let timestamp = i64::from_le_bytes(at.array()?);
    event.timestamp = has_timestamp.then_some(timestamp);
    let flags = at.u8()?;
    event.level = level_from_index(usize::from(flags & 0x7f).min(7));
    event.truncated = flags & 0x80 != 0;
    texts.next_into(at.u32()?, &mut event.message)?;
    let fields = at.u32()?;
    event.fields.truncate(fields);
    for i in 0..fields {
        let key = match at.u8()? {
            0 => Key::Borrowed(names.get(at.u32()?)?),
            _ => {
                let name = texts.next(at.u32()?)?;
                match event.fields.get_mut(i) {
                    Some((Key::Owned(old), _)) => {
                        old.clear();
                        old.push_str(name);
                        Key::Owned(std::mem::take(old))
                    }
                    _ => Key::Owned(name.to_owned()),
                }
            }
        };
        let value_len = at.u32()?;
        match event.fields.get_mut(i) {
            Some(field) => {
                field.0 = key;
                texts.next_into(value_len, &mut field.1)?;
            }
            None => event.fields.push((key, texts.next(value_len)?.to_owned())),
        }
    }
    if at.u8()? == 1 {
        let len = at.u32()?;
        texts.next_into(len, event.stack.get_or_insert_with(String::new))?;
    } else {
        event.stack = None;
    }
    (at.at == header.len() && texts.at == texts.text.len()).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::level::Level;

    fn events() -> Vec<Event> {
        let mut plain = Event::with_fields("job 7 failed", &[]);
        plain.line = 3;
        plain.end_line = 5;
        plain.timestamp = Some(-1_234);
        plain.level = Some(Level::Fatal);
        plain.stack = Some("  at worker.run(worker.py:3)\n  at main".to_owned());
        let mut fielded = Event::with_fields(
            "GET /users/é 200",
            &[
                ("client_ip", "10.0.0.1"),
                ("custom key", ""),
                ("status", "200"),
            ],
        );
        fielded.fields[0].0 = Key::Borrowed("client_ip");
        fielded.fields[2].0 = Key::Borrowed("status");
        fielded.truncated = true;
        fielded.level = Some(Level::Trace);
        let mut owned_keys = Event::with_fields("x", &[("a", "1"), ("b", "2"), ("c", "3")]);
        owned_keys.timestamp = Some(i64::MAX);
        vec![
            plain.clone(),
            fielded,
            Event::default(),
            owned_keys,
            plain,
            Event::with_fields("", &[("status", "500")]),
        ]
    }

    fn read_back(writer: Writer, count: usize) -> Vec<Event> {
        let mut reader = writer.finish().expect("kept");
        // One buffer for every event, as the analysis reads them: nothing may leak from one
        // event into the next.
        let mut event = Event::default();
        let mut out = Vec::new();
        for _ in 0..count {
            reader.read_into(&mut event).expect("reads");
            out.push(event.clone());
        }
        assert_eq!(reader.position(), reader.len());
        assert!(
            reader.read_into(&mut event).is_err(),
            "nothing past the end"
        );
        out
    }

    #[test]
    fn events_come_back_as_they_went_in() {
        let mut writer = Writer::new(None);
        let events = events();
        for e in &events {
            writer.push(e);
        }
        assert_eq!(read_back(writer, events.len()), events);
    }

    #[test]
    fn a_spool_past_its_memory_moves_to_a_file() {
        let mut writer = Writer::new(None);
        let mut big = Event::with_fields(&"long message ".repeat(10_000), &[]);
        let mut all = Vec::new();
        for i in 0..200 {
            big.line = i;
            writer.push(&big);
            all.push(big.clone());
        }
        assert!(writer.file.is_some(), "{} bytes held", writer.buf.len());
        assert_eq!(read_back(writer, all.len()), all);
    }

    #[test]
    fn a_spool_that_cannot_make_its_file_is_given_up() {
        let dir = tempfile::tempdir().expect("dir");
        let mut writer = Writer::new(Some(dir.path().join("missing")));
        let big = Event::with_fields(&"long message ".repeat(10_000), &[]);
        for _ in 0..200 {
            writer.push(&big);
        }
        assert!(writer.finish().is_none());
        // In a directory that exists, the same events come back.
        let mut writer = Writer::new(Some(dir.path().to_path_buf()));
        for _ in 0..200 {
            writer.push(&big);
        }
        assert!(writer.file.is_some());
        assert_eq!(read_back(writer, 200).last(), Some(&big));
    }

    #[test]
    fn a_spool_past_its_limit_is_given_up() {
        let mut writer = Writer::with_limit(1_000);
        for e in events().iter().cycle().take(100) {
            writer.push(e);
        }
        assert!(writer.finish().is_none());
    }
}
