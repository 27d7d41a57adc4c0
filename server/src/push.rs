//! `faultline push`: uploads log files to a Faultline server, starts an analysis of them,
//! follows it with a progress bar and prints a summary and a link.
//!
//! Progress goes to standard error (a bar on a terminal, a line per step otherwise); the
//! summary goes to standard output, so scripts can capture it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use app::format::thousands;
use futures::StreamExt;
use serde_json::{Value, json};

/// What to push where.
#[derive(Debug, Clone)]
pub struct Push {
    /// The server's address, such as `https://faultline.example.com`.
    pub server: String,
    /// An API token (`flt_…`) with `create_analyses` and `view_analyses`.
    pub token: String,
    /// The analysis' name.
    pub name: Option<String>,
    /// The organisation, for personal tokens of people in several.
    pub org: Option<String>,
    /// Files to upload.
    pub files: Vec<PathBuf>,
    /// Start the analysis but do not wait for it.
    pub no_wait: bool,
}

/// How a push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The analysis finished.
    Done,
    /// It failed, or was cancelled, with this status.
    NotDone(String),
    /// Started; not waited for.
    Started,
}

/// A refusal the user can act on (bad token, file too large…): exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Runs the push.
pub async fn run(push: &Push) -> anyhow::Result<Ended> {
    let server = push.server.trim_end_matches('/').to_owned();
    if !(server.starts_with("http://") || server.starts_with("https://")) {
        return Err(Refused(format!(
            "--server {server:?} is not an http:// or https:// address"
        ))
        .into());
    }
    for file in &push.files {
        let meta = std::fs::metadata(file)
            .map_err(|e| Refused(format!("cannot read {}: {e}", file.display())))?;
        if !meta.is_file() {
            return Err(Refused(format!("{} is not a file", file.display())).into());
        }
    }
    let client = reqwest::Client::builder()
        .user_agent(concat!("faultline-push/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .context("cannot start the HTTP client")?;
    let api = Api {
        client,
        base: format!("{server}/api/v1"),
        token: push.token.clone(),
        org: push.org.clone(),
    };
    let mut bar = Bar::new();

    let mut ids = Vec::with_capacity(push.files.len());
    for file in &push.files {
        let upload = api.upload(file, &mut bar).await?;
        ids.push(upload["id"].as_str().unwrap_or_default().to_owned());
    }
    let mut body = json!({"upload_ids": ids});
    if let Some(name) = &push.name {
        body["name"] = name.clone().into();
    }
    let started = api
        .send(api.request(reqwest::Method::POST, "/analyses").json(&body))
        .await
        .context("cannot start the analysis")?;
    let id = started["id"].as_str().unwrap_or_default().to_owned();
    if push.no_wait {
        let view = api.analysis(&id, false).await?;
        bar.done(&format!("analysis {id} queued"));
        print_link(&server, &view)?;
        return Ok(Ended::Started);
    }

    loop {
        let view = api.analysis(&id, false).await?;
        let status = view["status"].as_str().unwrap_or_default();
        let p = &view["progress"];
        match status {
            "done" => {
                bar.done("analysis done");
                print_summary(&server, &view)?;
                return Ok(Ended::Done);
            }
            "failed" | "cancelled" => {
                bar.done(&format!("analysis {status}"));
                let mut out = std::io::stdout().lock();
                writeln!(
                    out,
                    "Analysis {status}: {}",
                    view["error"].as_str().unwrap_or("no reason given")
                )?;
                drop(out);
                print_link(&server, &view)?;
                return Ok(Ended::NotDone(status.to_owned()));
            }
            _ => {
                let stage = p["stage"].as_str().unwrap_or(status).replace('_', " ");
                let detail = format!(
                    "{} lines, {} events, {} patterns",
                    thousands(p["lines"].as_u64().unwrap_or(0)),
                    thousands(p["events"].as_u64().unwrap_or(0)),
                    thousands(p["patterns"].as_u64().unwrap_or(0))
                );
                bar.show(&stage, p["percent"].as_f64().unwrap_or(0.0), &detail);
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

struct Api {
    client: reqwest::Client,
    base: String,
    token: String,
    org: Option<String>,
}

impl Api {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(org) = &self.org {
            request = request.header("faultline-org", org);
        }
        request
    }

    /// Sends and reads a JSON answer; API errors become their message.
    async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let response = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {}", self.base, root_cause(&e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .context("the server's answer was cut short")?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let message = body["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("the server answered {status}"));
        if status.is_client_error() {
            Err(Refused(message).into())
        } else {
            bail!("{message}")
        }
    }

    async fn upload(&self, file: &std::path::Path, bar: &mut Bar) -> anyhow::Result<Value> {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "upload.log".into());
        let handle = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("cannot read {}", file.display()))?;
        let size = handle.metadata().await.map(|m| m.len()).unwrap_or(0);
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let stream =
            tokio_util::io::ReaderStream::with_capacity(handle, 256 * 1024).map(move |chunk| {
                if let Ok(bytes) = &chunk {
                    counter.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                }
                chunk
            });
        let request = self
            .request(reqwest::Method::POST, "/uploads")
            .query(&[("name", name.as_str())])
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, size)
            .body(reqwest::Body::wrap_stream(stream));
        let started = Instant::now();
        let mut answer = Box::pin(self.send(request));
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        let result = loop {
            tokio::select! {
                result = &mut answer => break result,
                _ = tick.tick() => {
                    let done = sent.load(Ordering::Relaxed);
                    let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
                    let percent = if size == 0 { 100.0 } else { done as f64 * 100.0 / size as f64 };
                    bar.show(&format!("uploading {name}"), percent, &format!("{}/s", human(rate as u64)));
                }
            }
        };
        let upload = result.with_context(|| format!("upload of {name} refused"))?;
        let note = if upload["duplicate"] == true {
            " (already uploaded; reusing it)"
        } else {
            ""
        };
        let seconds = started.elapsed().as_secs_f64();
        bar.done(&format!(
            "uploaded {name}: {} in {seconds:.1} s{note}",
            human(size)
        ));
        Ok(upload)
    }

    async fn analysis(&self, id: &str, result: bool) -> anyhow::Result<Value> {
        self.send(
            self.request(reqwest::Method::GET, &format!("/analyses/{id}"))
                .query(&[("result", if result { "true" } else { "false" })]),
        )
        .await
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn print_summary(server: &str, view: &Value) -> anyhow::Result<()> {
    let s = &view["summary"];
    let n = |k: &str| thousands(s[k].as_u64().unwrap_or(0));
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", view["name"].as_str().unwrap_or("Analysis"))?;
    writeln!(out, "  events          {}", n("events"))?;
    writeln!(out, "  lines           {}", n("lines"))?;
    writeln!(out, "  patterns        {}", n("patterns"))?;
    writeln!(out, "  error patterns  {}", n("error_patterns"))?;
    writeln!(out, "  error events    {}", n("error_events"))?;
    writeln!(out, "  error families  {}", n("families"))?;
    writeln!(out, "  critical        {}", n("critical_patterns"))?;
    if let (Some(first), Some(last)) = (s["first_seen"].as_str(), s["last_seen"].as_str()) {
        writeln!(out, "  time span       {first} – {last}")?;
    }
    let tests = &s["tests"];
    if let Some(written) = tests["tests"].as_u64() {
        writeln!(
            out,
            "  tests written   {} {} ({} of {} error patterns covered)",
            thousands(written),
            tests["framework"].as_str().unwrap_or_default(),
            thousands(tests["covered"].as_u64().unwrap_or(0)),
            thousands(tests["error_patterns"].as_u64().unwrap_or(0)),
        )?;
    }
    drop(out);
    print_link(server, view)
}

fn print_link(server: &str, view: &Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{server}{}",
        view["web_path"].as_str().unwrap_or_default()
    )?;
    Ok(())
}

/// `12.3 MB` (decimal units, as transfer rates are usually given).
fn human(n: u64) -> String {
    app::format::size(n as f64)
}

/// A one-line progress bar on a terminal; plain lines when standard error is not one.
struct Bar {
    terminal: bool,
    last: String,
}

impl Bar {
    fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            last: String::new(),
        }
    }

    fn show(&mut self, label: &str, percent: f64, detail: &str) {
        let percent = percent.clamp(0.0, 100.0);
        if self.terminal {
            const WIDTH: usize = 30;
            let filled = ((percent / 100.0) * WIDTH as f64).round() as usize;
            let bar = format!(
                "{}{}",
                "█".repeat(filled),
                "░".repeat(WIDTH - filled.min(WIDTH))
            );
            let line = format!("\r{label:<28} {bar} {percent:5.1}%  {detail}\x1b[K");
            let _ = std::io::stderr().write_all(line.as_bytes());
        } else if label != self.last {
            let _ = writeln!(std::io::stderr(), "{label}…");
        }
        self.last = label.to_owned();
    }

    fn done(&mut self, message: &str) {
        let _ = if self.terminal {
            writeln!(std::io::stderr(), "\r{message}\x1b[K")
        } else {
            writeln!(std::io::stderr(), "{message}")
        };
        self.last.clear();
    }
}
