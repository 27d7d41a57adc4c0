//! What an upload holds, decided from its bytes as they stream past: text, JSON or gzip are
//! accepted; anything else is refused with the type it looks like. A gzip file is decompressed
//! on the fly (nothing is kept) so a truncated or corrupt one is refused before it is stored.

use std::io::{self, Write};

/// Bytes looked at before deciding what a file is.
const SNIFF_BYTES: usize = 8192;

/// What an accepted upload holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Plain text logs.
    Text,
    /// JSON or JSON lines.
    Json,
    /// gzip-compressed text or JSON.
    Gzip,
}

impl Kind {
    /// The name stored with the upload.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
            Self::Gzip => "gzip",
        }
    }
}

/// Why an upload's content is refused, in words for the person who sent it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A binary format the `infer` crate recognises.
    #[error(
        "This file looks like {description} ({mime}), not a log. Faultline reads text logs, JSON lines and gzip."
    )]
    Binary {
        /// Human name of the type.
        description: &'static str,
        /// Its MIME type.
        mime: &'static str,
    },
    /// Unrecognised bytes that are not text.
    #[error(
        "This file holds binary data, not text. Faultline reads text logs, JSON lines and gzip (UTF-16 files: convert them to UTF-8 first)."
    )]
    NotText,
    /// The gzip stream is damaged or cut short.
    #[error(
        "This gzip file is damaged or incomplete ({0}). Compress it again, or upload it uncompressed."
    )]
    BadGzip(String),
    /// The file is empty.
    #[error("The file is empty.")]
    Empty,
}

/// Watches an upload's bytes go by.
pub struct Inspector {
    head: Vec<u8>,
    kind: Option<Kind>,
    gzip: Option<flate2::write::MultiGzDecoder<InnerHead>>,
    seen: u64,
}

/// Keeps the first bytes of the decompressed stream and counts the rest.
#[derive(Default)]
struct InnerHead {
    head: Vec<u8>,
}

impl Write for InnerHead {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = SNIFF_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&buf[..room.min(buf.len())]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Default for Inspector {
    fn default() -> Self {
        Self::new()
    }
}

impl Inspector {
    /// A new inspector for one file.
    pub fn new() -> Self {
        Self {
            head: Vec::with_capacity(SNIFF_BYTES),
            kind: None,
            gzip: None,
            seen: 0,
        }
    }

    /// Looks at the next `bytes`.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Refusal> {
        self.seen += bytes.len() as u64;
        if self.kind.is_none() {
            let room = SNIFF_BYTES - self.head.len();
            let (now, rest) = bytes.split_at(room.min(bytes.len()));
            self.head.extend_from_slice(now);
            if self.head.len() < SNIFF_BYTES {
                return Ok(());
            }
            self.decide()?;
            return self.feed_gzip(rest);
        }
        self.feed_gzip(bytes)
    }

    /// The verdict once every byte has been seen.
    pub fn finish(mut self) -> Result<Kind, Refusal> {
        if self.seen == 0 {
            return Err(Refusal::Empty);
        }
        if self.kind.is_none() {
            self.decide()?;
        }
        if let Some(mut gzip) = self.gzip.take() {
            gzip.try_finish().map_err(gzip_refusal)?;
            let inner = gzip.finish().map_err(gzip_refusal)?;
            if inner.head.is_empty() {
                return Err(Refusal::Empty);
            }
            check_text(&inner.head)?;
        }
        self.kind.ok_or(Refusal::Empty)
    }

    fn feed_gzip(&mut self, bytes: &[u8]) -> Result<(), Refusal> {
        if let Some(gzip) = &mut self.gzip
            && !bytes.is_empty()
        {
            gzip.write_all(bytes).map_err(gzip_refusal)?;
            // The decompressed head is checked as soon as it is there, not only at the end.
            if gzip.get_ref().head.len() >= SNIFF_BYTES {
                check_text(&gzip.get_ref().head)?;
            }
        }
        Ok(())
    }

    /// Decides from the head, then starts decompressing it if it is gzip.
    fn decide(&mut self) -> Result<(), Refusal> {
        let kind = classify(&self.head)?;
        self.kind = Some(kind);
        if kind == Kind::Gzip {
            self.gzip = Some(flate2::write::MultiGzDecoder::new(InnerHead::default()));
            let head = std::mem::take(&mut self.head);
            self.feed_gzip(&head)?;
        }
        Ok(())
    }
}

/// Refuses a file on disk for what an upload would be refused for, from its first bytes (and,
/// when it is gzip, the first bytes inside): `Ok(None)` when it may be analysed. An empty file
/// passes, since it analyses to nothing, and so does damage past the first bytes of a gzip
/// file, which reading it reports.
pub fn sniff_file(path: &std::path::Path) -> io::Result<Option<Refusal>> {
    use std::io::Read;

    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let file = std::fs::File::open(path)?;
    file.take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    match classify(&head) {
        Ok(Kind::Gzip) => {}
        Ok(_) | Err(Refusal::Empty) => return Ok(None),
        Err(refusal) => return Ok(Some(refusal)),
    }
    let mut inner = Vec::with_capacity(SNIFF_BYTES);
    let decoder = flate2::read::MultiGzDecoder::new(io::BufReader::new(std::fs::File::open(path)?));
    if let Err(e) = decoder.take(SNIFF_BYTES as u64).read_to_end(&mut inner) {
        return Ok(Some(gzip_refusal(e)));
    }
    Ok(check_text(&inner).err())
}

fn gzip_refusal(e: io::Error) -> Refusal {
    let reason = match e.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::WriteZero => "it ends too early".to_owned(),
        _ => e.to_string(),
    };
    Refusal::BadGzip(reason)
}

/// Classifies a file from its first bytes.
pub fn classify(head: &[u8]) -> Result<Kind, Refusal> {
    if head.is_empty() {
        return Err(Refusal::Empty);
    }
    if let Some(found) = infer::get(head) {
        if found.mime_type() == "application/gzip" {
            return Ok(Kind::Gzip);
        }
        if found.matcher_type() != infer::MatcherType::Text {
            return Err(Refusal::Binary {
                description: describe(found.mime_type()),
                mime: found.mime_type(),
            });
        }
    }
    check_text(head)?;
    let first = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| head[i]);
    Ok(match first {
        Some(b'{' | b'[') => Kind::Json,
        _ => Kind::Text,
    })
}

/// Refuses bytes that are not text: any NUL, or more than one in twenty bytes being control
/// characters other than tab, newline, carriage return, form feed and escape (terminal colours).
fn check_text(head: &[u8]) -> Result<(), Refusal> {
    if let Some(found) = infer::get(head)
        && found.matcher_type() != infer::MatcherType::Text
    {
        return Err(Refusal::Binary {
            description: describe(found.mime_type()),
            mime: found.mime_type(),
        });
    }
    if head.contains(&0) {
        return Err(Refusal::NotText);
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    if control * 20 > head.len() {
        return Err(Refusal::NotText);
    }
    Ok(())
}

/// A readable name for the common binary types people upload by mistake.
fn describe(mime: &str) -> &'static str {
    match mime {
        "image/png" => "a PNG image",
        "image/jpeg" => "a JPEG image",
        "image/gif" => "a GIF image",
        "application/pdf" => "a PDF document",
        "application/zip" => "a ZIP archive",
        "application/x-tar" => "a tar archive",
        "application/x-bzip2" => "a bzip2 archive",
        "application/x-xz" => "an xz archive",
        "application/zstd" => "a Zstandard archive",
        "application/x-7z-compressed" => "a 7-Zip archive",
        "application/vnd.rar" | "application/x-rar-compressed" => "a RAR archive",
        "application/x-executable" | "application/x-elf" => "an executable (ELF)",
        "application/vnd.microsoft.portable-executable" => "a Windows executable",
        "application/x-mach-binary" => "a macOS executable",
        "application/wasm" => "a WebAssembly module",
        "application/vnd.sqlite3" | "application/x-sqlite3" => "a SQLite database",
        m if m.starts_with("image/") => "an image",
        m if m.starts_with("video/") => "a video",
        m if m.starts_with("audio/") => "an audio file",
        m if m.starts_with("font/") => "a font",
        m if m.contains("officedocument") || m.contains("msword") || m.contains("ms-excel") => {
            "an office document"
        }
        _ => "a binary file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect(bytes: &[u8], chunk: usize) -> Result<Kind, Refusal> {
        let mut inspector = Inspector::new();
        for piece in bytes.chunks(chunk.max(1)) {
            inspector.feed(piece)?;
        }
        inspector.finish()
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).expect("compress");
        encoder.finish().expect("compress")
    }

    fn logs(lines: usize) -> Vec<u8> {
        (0..lines)
            .map(|i| format!("2026-12-01 10:00:{:02} ERROR request {i} failed\n", i % 60))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn text_json_and_gzip_are_accepted_in_any_chunking() {
        for chunk in [1, 7, 4096, 1 << 20] {
            assert_eq!(inspect(&logs(500), chunk), Ok(Kind::Text));
            assert_eq!(inspect(b"  {\"level\":\"error\"}\n", chunk), Ok(Kind::Json));
            assert_eq!(inspect(&gzip(&logs(5000)), chunk), Ok(Kind::Gzip));
        }
        let mut two_members = gzip(&logs(10));
        two_members.extend(gzip(&logs(10)));
        assert_eq!(inspect(&two_members, 100), Ok(Kind::Gzip));
        assert_eq!(
            inspect("é ünïcode \x1b[31mred\x1b[0m\n".as_bytes(), 3),
            Ok(Kind::Text)
        );
    }

    #[test]
    fn truncated_or_corrupt_gzip_is_refused() {
        let whole = gzip(&logs(5000));
        for cut in [20, whole.len() / 2, whole.len() - 4] {
            let result = inspect(&whole[..cut], 1000);
            assert!(
                matches!(result, Err(Refusal::BadGzip(_))),
                "cut at {cut}: {result:?}"
            );
        }
        let mut corrupt = whole.clone();
        corrupt[whole.len() / 2] ^= 0xff;
        corrupt[whole.len() / 2 + 1] ^= 0xff;
        assert!(matches!(inspect(&corrupt, 1000), Err(Refusal::BadGzip(_))));
    }

    #[test]
    fn files_on_disk_are_refused_for_what_uploads_are() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sniff = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            sniff_file(&path).expect("readable")
        };
        assert_eq!(sniff("app.log", &logs(500)), None);
        assert_eq!(
            sniff("empty.log", b""),
            None,
            "an empty log analyses to nothing"
        );
        assert_eq!(sniff("app.log.gz", &gzip(&logs(5000))), None);
        let whole = gzip(&logs(50_000));
        assert_eq!(
            sniff("cut.log.gz", &whole[..whole.len() / 2]),
            None,
            "damage past the first bytes is for reading to report"
        );
        assert!(matches!(
            sniff("head.log.gz", &whole[..20]),
            Some(Refusal::BadGzip(_))
        ));
        assert_eq!(
            sniff("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01"),
            Some(Refusal::Binary {
                description: "a PNG image",
                mime: "image/png"
            })
        );
        let mut noise = logs(10);
        noise.extend([0u8; 64]);
        assert_eq!(sniff("noise.bin", &noise), Some(Refusal::NotText));
        assert_eq!(sniff("noise.bin.gz", &gzip(&noise)), Some(Refusal::NotText));
        assert!(sniff_file(&dir.path().join("missing.log")).is_err());
    }

    #[test]
    fn binary_files_are_named() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
        let err = inspect(png, 4).expect_err("png");
        assert_eq!(
            err,
            Refusal::Binary {
                description: "a PNG image",
                mime: "image/png"
            }
        );
        assert!(err.to_string().contains("PNG image (image/png)"), "{err}");
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0".to_vec();
        elf.resize(512, 0);
        let err = inspect(&elf, 64).expect_err("elf");
        assert!(
            matches!(err, Refusal::Binary { .. } | Refusal::NotText),
            "{err:?}"
        );
        assert_eq!(
            inspect(&[1, 2, 3, 0, 5, 6, 7, 8], 64),
            Err(Refusal::NotText)
        );
        // gzip of a binary file is refused by what is inside.
        let gz_png = gzip(&png.repeat(100));
        assert!(matches!(inspect(&gz_png, 64), Err(Refusal::Binary { .. })));
        assert_eq!(inspect(b"", 64), Err(Refusal::Empty));
        assert_eq!(inspect(&gzip(b""), 64), Err(Refusal::Empty));
    }
}
