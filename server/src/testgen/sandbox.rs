//! Runs a generated pytest, Jest or Mocha suite in a sandbox and reports what passed, failed and
//! was skipped. The suite runs
//! - in a separate process, in a fresh temporary directory (removed afterwards), with an empty
//!   environment (nothing of the server's variables, a home inside the directory);
//! - without network: in a new network namespace (`unshare --net`) that has no interface up;
//! - as an unprivileged user (`nobody`) when the server runs as root, so it can neither read the
//!   server's data directory (0700) nor write outside its own;
//! - under limits: CPU seconds, address space, file size and open files (`prlimit`), and a wall
//!   clock after which the whole process group is killed (`timeout`).
//!
//! A host without these tools refuses to run rather than run unconfined.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use app::api::testgen::{Framework, RunReport, Suite};
use tokio::io::AsyncReadExt;

use super::bundle;

/// Output kept from a run (its end, where the summary is).
const OUTPUT_BYTES: usize = 64 * 1024;
/// The uid and gid a run takes when the server is root.
const NOBODY: u32 = 65534;

/// Where the runners come from and how long a run may take.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// A `node_modules` directory holding `jest`, `mocha`, `chai` and `sinon`
    /// (`FAULTLINE_TEST_NODE_MODULES`); without it only pytest suites run.
    pub node_modules: Option<PathBuf>,
    /// Wall-clock seconds a run may take (`FAULTLINE_TEST_RUN_SECONDS`, default 120).
    pub wall_seconds: u64,
    /// CPU seconds a run may use.
    pub cpu_seconds: u64,
    /// Address space a Python run may map, in bytes.
    pub memory_bytes: u64,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            node_modules: None,
            wall_seconds: 120,
            cpu_seconds: 120,
            memory_bytes: 2 << 30,
        }
    }
}

/// Why a suite could not be run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Only pytest, Jest and Mocha suites run here.
    #[error("{0} suites are not run here; pytest, Jest and Mocha suites are")]
    Unsupported(&'static str),
    /// The framework's toolchain is not installed on the server.
    #[error("{0}")]
    NoToolchain(String),
    /// The sandbox's tools are missing or not permitted.
    #[error("the sandbox is not available on this server: {0}")]
    NoSandbox(String),
    /// The temporary directory could not be prepared.
    #[error("could not prepare the run: {0}")]
    Io(#[from] std::io::Error),
}

/// Whether `framework`'s suites can run here at all.
pub fn runs(framework: Framework) -> bool {
    matches!(
        framework,
        Framework::Pytest | Framework::Jest | Framework::Mocha
    )
}

/// The runner's command line inside the suite directory, and where it writes its report.
fn runner(
    framework: Framework,
    config: &RunnerConfig,
    dir: &Path,
) -> Result<(Vec<String>, PathBuf), RunError> {
    let report = dir.join("report.out");
    let node = |script: &str| -> Result<String, RunError> {
        let modules = config.node_modules.as_ref().ok_or_else(|| {
            RunError::NoToolchain(format!(
                "{} is not installed for test runs (set FAULTLINE_TEST_NODE_MODULES)",
                framework.label()
            ))
        })?;
        let path = modules.join(script);
        if !path.exists() {
            return Err(RunError::NoToolchain(format!(
                "{} is missing from {}",
                script,
                modules.display()
            )));
        }
        Ok(path.display().to_string())
    };
    let args = match framework {
        Framework::Pytest => vec![
            "python3".into(),
            "-m".into(),
            "pytest".into(),
            "-q".into(),
            "-p".into(),
            "no:cacheprovider".into(),
            "-rs".into(),
            format!("--junitxml={}", report.display()),
        ],
        Framework::Mocha => vec![
            "node".into(),
            "--max-old-space-size=512".into(),
            node("mocha/bin/mocha.js")?,
            "--reporter".into(),
            "json".into(),
            "--reporter-option".into(),
            format!("output={}", report.display()),
        ],
        Framework::Jest => vec![
            "node".into(),
            "--max-old-space-size=512".into(),
            node("jest/bin/jest.js")?,
            "--ci".into(),
            "--json".into(),
            format!("--outputFile={}", report.display()),
        ],
        other => return Err(RunError::Unsupported(other.label())),
    };
    Ok((args, report))
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

/// The confinement wrapped around the runner, as a command prefix, and what it guarantees.
fn confinement(config: &RunnerConfig, framework: Framework) -> (Vec<String>, Vec<String>) {
    let root = is_root();
    let mut prefix: Vec<String> = vec![
        "timeout".into(),
        "--kill-after=5".into(),
        config.wall_seconds.to_string(),
        "unshare".into(),
        "--net".into(),
        "--fork".into(),
        "--kill-child".into(),
    ];
    if !root {
        prefix.push("--map-root-user".into());
    }
    prefix.push("--".into());
    // Node reserves far more address space than it uses; its heap is capped by a flag instead.
    let address_space = if framework == Framework::Pytest {
        config.memory_bytes
    } else {
        64 << 30
    };
    prefix.extend([
        "prlimit".into(),
        format!("--cpu={}", config.cpu_seconds),
        format!("--as={address_space}"),
        format!("--fsize={}", 64u64 << 20),
        "--nofile=256".into(),
        "--".into(),
    ]);
    let mut isolation = vec![
        "separate process".to_owned(),
        "fresh temporary directory, removed afterwards".to_owned(),
        "empty environment".to_owned(),
        "no network (own network namespace)".to_owned(),
        format!(
            "limits: {} s CPU, {} s wall clock, {} MiB memory, 64 MiB files, 256 open files",
            config.cpu_seconds,
            config.wall_seconds,
            if framework == Framework::Pytest {
                config.memory_bytes >> 20
            } else {
                512
            }
        ),
    ];
    if root {
        prefix.extend([
            "setpriv".into(),
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".into(),
            "--".into(),
        ]);
        isolation.push("unprivileged user (nobody)".to_owned());
    }
    (prefix, isolation)
}

/// Checks once that the sandbox's tools work here.
async fn sandbox_available() -> Result<(), RunError> {
    let mut args = vec!["--net", "--fork"];
    if !is_root() {
        args.push("--map-root-user");
    }
    args.extend(["--", "prlimit", "--cpu=1", "--", "true"]);
    let status = tokio::process::Command::new("unshare")
        .args(&args)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .map_err(|e| RunError::NoSandbox(format!("unshare: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(RunError::NoSandbox(
            "a network namespace cannot be created (unshare --net failed)".into(),
        ))
    }
}

/// Checks that `framework`'s runner and the sandbox are available, before any work is queued.
pub async fn ready(framework: Framework, config: &RunnerConfig) -> Result<(), RunError> {
    if !runs(framework) {
        return Err(RunError::Unsupported(framework.label()));
    }
    runner(framework, config, Path::new("."))?;
    sandbox_available().await
}

/// Runs `suite` and reports the outcome.
pub async fn run(suite: &Suite, config: &RunnerConfig) -> Result<RunReport, RunError> {
    if !runs(suite.framework) {
        return Err(RunError::Unsupported(suite.framework.label()));
    }
    sandbox_available().await?;
    let work = tempfile::Builder::new()
        .prefix("faultline-run-")
        .tempdir()?;
    let dir = work.path().join("suite");
    bundle::write_dir(suite, &dir)?;
    let (runner, report) = runner(suite.framework, config, work.path())?;
    let (prefix, isolation) = confinement(config, suite.framework);
    if is_root() {
        // The unprivileged user owns the run's directory and nothing else.
        chown_tree(work.path())?;
    }
    let mut command = tokio::process::Command::new(&prefix[0]);
    command
        .args(&prefix[1..])
        .args(&runner)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", work.path())
        .env("LANG", "C.UTF-8")
        .env("CI", "true")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(modules) = &config.node_modules {
        command.env("NODE_PATH", modules);
    }
    let started = Instant::now();
    let mut child = command.spawn()?;
    let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
    let read = async {
        let mut a = Vec::new();
        let mut b = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut a).await;
        }
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_end(&mut b).await;
        }
        a.extend_from_slice(&b);
        a
    };
    // `timeout` kills the run; this only guards against `timeout` itself hanging.
    let backstop = Duration::from_secs(config.wall_seconds + 15);
    let (output, status) = match tokio::time::timeout(backstop, async {
        let output = read.await;
        (output, child.wait().await)
    })
    .await
    {
        Ok((output, status)) => (output, status.ok()),
        Err(_) => (b"the run did not end and was killed".to_vec(), None),
    };
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let code = status.and_then(|s| s.code());
    let timed_out = code == Some(124) || code == Some(137) || status.is_none();
    let counts = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| counts(suite.framework, &text));
    let mut output_text = String::from_utf8_lossy(&output).into_owned();
    if output_text.len() > OUTPUT_BYTES {
        let cut = output_text.len() - OUTPUT_BYTES;
        let boundary = (cut..output_text.len())
            .find(|&i| output_text.is_char_boundary(i))
            .unwrap_or(cut);
        output_text = format!("…{}", &output_text[boundary..]);
    }
    let (passed, failed, skipped, errors) = counts.unwrap_or((0, 0, 0, 0));
    Ok(RunReport {
        framework: suite.framework,
        passed,
        failed,
        skipped,
        errors,
        duration_ms,
        exit_code: code,
        timed_out,
        reported: counts.is_some(),
        output: output_text,
        isolation,
    })
}

/// Gives the run's directory to the unprivileged user.
fn chown_tree(path: &Path) -> std::io::Result<()> {
    std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY))?;
    if path.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path())?;
        }
    }
    Ok(())
}

/// `(passed, failed, skipped, errors)` from a runner's report.
pub fn counts(framework: Framework, report: &str) -> Option<(u32, u32, u32, u32)> {
    match framework {
        Framework::Pytest => {
            // <testsuite name="pytest" errors="0" failures="1" skipped="3" tests="9" …>
            let start = report.find("<testsuite ")?;
            let tag = &report[start..start + report[start..].find('>')?];
            let attr = |name: &str| -> Option<u32> {
                let key = format!(" {name}=\"");
                let from = tag.find(&key)? + key.len();
                tag[from..].split('"').next()?.parse().ok()
            };
            let (tests, failures, skipped, errors) = (
                attr("tests")?,
                attr("failures")?,
                attr("skipped")?,
                attr("errors")?,
            );
            Some((
                tests.saturating_sub(failures + skipped + errors),
                failures,
                skipped,
                errors,
            ))
        }
        Framework::Mocha => {
            let doc: serde_json::Value = serde_json::from_str(report).ok()?;
            let n = |k: &str| doc["stats"][k].as_u64().and_then(|v| u32::try_from(v).ok());
            Some((n("passes")?, n("failures")?, n("pending")?, 0))
        }
        Framework::Jest => {
            let doc: serde_json::Value = serde_json::from_str(report).ok()?;
            let n = |k: &str| doc[k].as_u64().and_then(|v| u32::try_from(v).ok());
            let errors = n("numRuntimeErrorTestSuites").unwrap_or(0);
            Some((
                n("numPassedTests")?,
                n("numFailedTests")?,
                n("numPendingTests")? + n("numTodoTests").unwrap_or(0),
                errors,
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_counted() {
        let junit = r#"<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="1" failures="2" skipped="3" tests="10" time="0.5"></testsuite></testsuites>"#;
        assert_eq!(counts(Framework::Pytest, junit), Some((4, 2, 3, 1)));
        let mocha = r#"{"stats": {"passes": 5, "failures": 1, "pending": 2}}"#;
        assert_eq!(counts(Framework::Mocha, mocha), Some((5, 1, 2, 0)));
        let jest = r#"{"numPassedTests": 3, "numFailedTests": 0, "numPendingTests": 4, "numTodoTests": 1, "numRuntimeErrorTestSuites": 1}"#;
        assert_eq!(counts(Framework::Jest, jest), Some((3, 0, 5, 1)));
        assert_eq!(counts(Framework::Pytest, "garbage"), None);
        assert!(runs(Framework::Jest) && !runs(Framework::Junit));
    }
}
