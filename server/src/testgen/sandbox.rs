//! Runs a generated suite in a sandbox and reports what passed, failed and was skipped, and
//! which files did not compile. Every framework whose toolchain is on the host runs: pytest and
//! Selenium (the system Python), Jest, Mocha and Playwright (Node; Playwright with the host's
//! Chromium), RSpec, PHPUnit, Go testing and JUnit 5 (javac and the JUnit console launcher).
//! NUnit needs .NET and Cypress its own browser download, which are not here. The suite runs
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

use app::api::testgen::{Framework, RunReport, Suite, Unbuilt};
use tokio::io::AsyncReadExt;

use super::bundle;

/// Output kept from a run (its end, where the summary is).
const OUTPUT_BYTES: usize = 64 * 1024;
/// The uid and gid a run takes when the server is root.
const NOBODY: u32 = 65534;

/// Where the runners come from and how long a run may take.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// A `node_modules` directory holding `jest`, `mocha`, `chai`, `sinon` and
    /// `@playwright/test` (`FAULTLINE_TEST_NODE_MODULES`); without it JavaScript suites do not
    /// run.
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
    /// NUnit and Cypress suites do not run here.
    #[error("{0} suites are not run here (their toolchain is not on the server)")]
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

/// Whether `framework`'s suites can run here at all (given its toolchain).
pub fn runs(framework: Framework) -> bool {
    framework.runs_in_sandbox()
}

/// The directories a run's `PATH` holds, where runners are looked up.
const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Where Debian's junit5 package puts the JUnit console launcher (it carries the JUnit
/// Platform and Jupiter).
const JUNIT_LAUNCHER: &str = "/usr/share/java/junit-platform-console-standalone.jar";
/// Mockito and what it needs, from Debian's libmockito-java, when present.
const MOCKITO_JARS: [&str; 4] = [
    "/usr/share/java/mockito-core.jar",
    "/usr/share/java/byte-buddy.jar",
    "/usr/share/java/byte-buddy-agent.jar",
    "/usr/share/java/objenesis.jar",
];

/// Compiles a Java suite file by file as far as it goes (a file javac rejects is set aside and
/// the rest compiled again), then runs what compiled with the JUnit console launcher.
/// Arguments: the class path, the classes directory, javac's log, the reports directory.
const JUNIT_SCRIPT: &str = r#"set -u
jars=$1 classes=$2 log=$3 reports=$4
mkdir -p "$classes"
find src -name '*.java' | sort > "$classes.sources"
: > "$log"
round=0
while [ -s "$classes.sources" ] && [ "$round" -lt 6 ]; do
  round=$((round + 1))
  if javac -J-Xmx512m -encoding UTF-8 -nowarn -proc:none -Xmaxerrs 1000 -d "$classes" -cp "$jars" @"$classes.sources" 2> "$classes.err"; then
    break
  fi
  cat "$classes.err" >> "$log"
  sed -n 's/^\(.*\.java\):[0-9]*: error: .*/\1/p' "$classes.err" | sort -u > "$classes.bad"
  [ -s "$classes.bad" ] || break
  grep -vxF -f "$classes.bad" "$classes.sources" > "$classes.next" || true
  mv "$classes.next" "$classes.sources"
  rm -rf "$classes" && mkdir -p "$classes"
done
exec java -Xmx512m -jar "$JUNIT_LAUNCHER" -cp "$classes:$jars" --scan-class-path "$classes" \
  --reports-dir "$reports" --disable-banner --disable-ansi-colors --details=tree
"#;

/// Where Debian puts Chromium, which Playwright suites run with (Playwright's own browser
/// downloads are not used).
const CHROMIUM: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

/// The Playwright configuration a run uses: the suite's own, with the host's Chromium, its test
/// directory made absolute, one worker, and its output beside the suite.
const PLAYWRIGHT_CONFIG: &str = r#"const path = require('path');
const suite = process.cwd();
let base = {};
try {
  base = require(path.join(suite, 'playwright.config.js'));
} catch (e) {
  if (e.code !== 'MODULE_NOT_FOUND') throw e;
}
base = base.default || base;
const use = base.use || {};
module.exports = {
  ...base,
  testDir: path.resolve(suite, base.testDir || 'tests/e2e'),
  outputDir: path.join(suite, '..', 'playwright-output'),
  workers: 1,
  use: {
    ...use,
    launchOptions: { ...(use.launchOptions || {}), executablePath: process.env.PLAYWRIGHT_CHROMIUM },
  },
};
"#;

/// The PHPUnit bootstrap: the suite's classes load from `tests/` (as composer's autoload-dev
/// would), and a project's own autoloader, when the suite sits in one, comes first.
const PHP_BOOTSTRAP: &str = r#"<?php
declare(strict_types=1);
$suite = getcwd();
if (is_file($suite . '/vendor/autoload.php')) {
    require $suite . '/vendor/autoload.php';
}
spl_autoload_register(static function (string $class) use ($suite): void {
    $prefix = 'Faultline\\Tests\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = $suite . '/tests/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
"#;

/// How a framework's suite is run.
struct Runner {
    /// The command line, run in the suite's directory.
    args: Vec<String>,
    /// Where the runner writes its machine-readable report.
    report: PathBuf,
    /// Environment besides the sandbox's own.
    env: Vec<(&'static str, String)>,
    /// The memory limit, as prlimit's option (`--as=…`, or `--data=…` for Chromium, which
    /// reserves more address space than any sane limit).
    memory_limit: String,
    /// The memory limit as the report describes it.
    memory: String,
    /// Files written beside the suite before the run (a bootstrap, a build script).
    support: Vec<(PathBuf, &'static str)>,
}

/// The path of `program` in the run's `PATH`, or why the framework cannot run.
fn program(framework: Framework, name: &str) -> Result<String, RunError> {
    PATH.split(':')
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
        .ok_or_else(|| {
            RunError::NoToolchain(format!(
                "{} suites need `{name}`, which is not installed on this server",
                framework.label()
            ))
        })
}

/// The runner for `framework`, its files under the run's directory `dir`.
fn runner(framework: Framework, config: &RunnerConfig, dir: &Path) -> Result<Runner, RunError> {
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
    // Node, the JVM and Go reserve far more address space than they use; their heaps are
    // capped by their own settings instead.
    let heap = |args: Vec<String>, env: Vec<(&'static str, String)>| Runner {
        args,
        report: report.clone(),
        env,
        memory_limit: format!("--as={}", 64u64 << 30),
        memory: "512 MiB heap".into(),
        support: Vec::new(),
    };
    let mapped = |args: Vec<String>| Runner {
        args,
        report: report.clone(),
        env: Vec::new(),
        memory_limit: format!("--as={}", config.memory_bytes),
        memory: format!("{} MiB memory", config.memory_bytes >> 20),
        support: Vec::new(),
    };
    let home = |sub: &str| dir.join(sub).display().to_string();
    Ok(match framework {
        Framework::Pytest | Framework::Selenium => {
            program(framework, "python3")?;
            mapped(vec![
                "python3".into(),
                "-m".into(),
                "pytest".into(),
                "-q".into(),
                "-p".into(),
                "no:cacheprovider".into(),
                "-rs".into(),
                format!("--junitxml={}", report.display()),
            ])
        }
        Framework::Mocha => heap(
            vec![
                "node".into(),
                "--max-old-space-size=512".into(),
                node("mocha/bin/mocha.js")?,
                "--reporter".into(),
                "json".into(),
                "--reporter-option".into(),
                format!("output={}", report.display()),
            ],
            Vec::new(),
        ),
        Framework::Jest => heap(
            vec![
                "node".into(),
                "--max-old-space-size=512".into(),
                node("jest/bin/jest.js")?,
                "--ci".into(),
                "--json".into(),
                format!("--outputFile={}", report.display()),
            ],
            Vec::new(),
        ),
        Framework::Playwright => {
            let cli = node("@playwright/test/cli.js")?;
            let chromium = CHROMIUM
                .into_iter()
                .find(|p| Path::new(p).is_file())
                .ok_or_else(|| {
                    RunError::NoToolchain(
                        "Playwright suites need Chromium (Debian's chromium package)".into(),
                    )
                })?;
            let config = dir.join("playwright.sandbox.config.js");
            let mut runner = heap(
                vec![
                    "node".into(),
                    "--max-old-space-size=512".into(),
                    cli,
                    "test".into(),
                    "--config".into(),
                    config.display().to_string(),
                    "--reporter=json".into(),
                ],
                vec![
                    ("PLAYWRIGHT_JSON_OUTPUT_FILE", report.display().to_string()),
                    ("PLAYWRIGHT_JSON_OUTPUT_NAME", report.display().to_string()),
                    ("PLAYWRIGHT_CHROMIUM", chromium.into()),
                    (
                        "PLAYWRIGHT_BROWSERS_PATH",
                        dir.join("browsers").display().to_string(),
                    ),
                ],
            );
            runner.support.push((config, PLAYWRIGHT_CONFIG));
            runner.memory_limit = format!("--data={}", 4u64 << 30);
            runner.memory = "512 MiB Node heap, 4 GiB data per browser process".into();
            runner
        }
        Framework::Rspec => {
            program(framework, "rspec")?;
            mapped(vec![
                "rspec".into(),
                "--no-color".into(),
                "--format".into(),
                "progress".into(),
                "--format".into(),
                "json".into(),
                "--out".into(),
                report.display().to_string(),
            ])
        }
        Framework::Phpunit => {
            program(framework, "phpunit")?;
            let bootstrap = dir.join("bootstrap.php");
            let mut runner = mapped(vec![
                "phpunit".into(),
                "--no-configuration".into(),
                "--do-not-cache-result".into(),
                "--colors=never".into(),
                "--bootstrap".into(),
                bootstrap.display().to_string(),
                "--log-junit".into(),
                report.display().to_string(),
                "tests".into(),
            ]);
            runner.support.push((bootstrap, PHP_BOOTSTRAP));
            runner
        }
        Framework::Gotest => {
            program(framework, "go")?;
            // The report is go's JSON event stream; build errors go to stderr.
            heap(
                vec![
                    "sh".into(),
                    "-c".into(),
                    "exec go test -json -count=1 ./... > \"$0\"".into(),
                    report.display().to_string(),
                ],
                vec![
                    ("GOPATH", home("go")),
                    ("GOCACHE", home("go-cache")),
                    ("GOFLAGS", "-mod=mod".into()),
                    ("GOPROXY", "off".into()),
                    ("GOSUMDB", "off".into()),
                    ("GOTOOLCHAIN", "local".into()),
                    ("GOTELEMETRY", "off".into()),
                    ("GOMEMLIMIT", "512MiB".into()),
                    ("CGO_ENABLED", "0".into()),
                ],
            )
        }
        Framework::Junit => {
            program(framework, "javac")?;
            program(framework, "java")?;
            if !Path::new(JUNIT_LAUNCHER).is_file() {
                return Err(RunError::NoToolchain(format!(
                    "JUnit 5 suites need the JUnit console launcher ({JUNIT_LAUNCHER}, Debian's junit5 package)"
                )));
            }
            let jars: Vec<&str> = std::iter::once(JUNIT_LAUNCHER)
                .chain(MOCKITO_JARS.into_iter().filter(|j| Path::new(j).is_file()))
                .collect();
            let script = dir.join("junit.sh");
            let reports = dir.join("reports");
            let mut runner = heap(
                vec![
                    "sh".into(),
                    script.display().to_string(),
                    jars.join(":"),
                    dir.join("classes").display().to_string(),
                    dir.join("javac.log").display().to_string(),
                    reports.display().to_string(),
                ],
                vec![("JUNIT_LAUNCHER", JUNIT_LAUNCHER.into())],
            );
            runner.report = reports.join("TEST-junit-jupiter.xml");
            runner.support.push((script, JUNIT_SCRIPT));
            runner
        }
        other => return Err(RunError::Unsupported(other.label())),
    })
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

/// The confinement wrapped around the runner, as a command prefix, and what it guarantees.
fn confinement(config: &RunnerConfig, runner: &Runner) -> (Vec<String>, Vec<String>) {
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
    prefix.extend([
        "prlimit".into(),
        format!("--cpu={}", config.cpu_seconds),
        runner.memory_limit.clone(),
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
            "limits: {} s CPU, {} s wall clock, {}, 64 MiB files, 256 open files",
            config.cpu_seconds, config.wall_seconds, runner.memory
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
        .env("PATH", PATH)
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
    let runner = runner(suite.framework, config, work.path())?;
    for (path, text) in &runner.support {
        std::fs::write(path, text)?;
    }
    let (prefix, isolation) = confinement(config, &runner);
    if is_root() {
        // The unprivileged user owns the run's directory and nothing else.
        chown_tree(work.path())?;
    }
    let mut command = tokio::process::Command::new(&prefix[0]);
    command
        .args(&prefix[1..])
        .args(&runner.args)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", PATH)
        .envs(runner.env.iter().map(|(k, v)| (*k, v)))
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
    // Both pipes at once: a runner that fills one while the other is read would stall.
    let read = async {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let stdout = async {
            if let Some(o) = out.as_mut() {
                let _ = o.read_to_end(&mut a).await;
            }
        };
        let stderr = async {
            if let Some(e) = err.as_mut() {
                let _ = e.read_to_end(&mut b).await;
            }
        };
        tokio::join!(stdout, stderr);
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
    let report_text = std::fs::read_to_string(&runner.report).ok();
    let counts = report_text
        .as_deref()
        .and_then(|text| counts(suite.framework, text));
    let mut output_text = String::from_utf8_lossy(&output).into_owned();
    let unbuilt = match suite.framework {
        Framework::Gotest => {
            // What `go test -v` would have printed comes after the build errors.
            if let Some(text) = &report_text {
                output_text.push_str(&go_output(text));
            }
            unbuilt(&output_text, ".go")
        }
        Framework::Junit => std::fs::read_to_string(work.path().join("javac.log"))
            .map(|log| unbuilt(&log, ".java"))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
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
        unbuilt,
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
        // JUnit XML: pytest's, PHPUnit's and the JUnit console launcher's.
        Framework::Pytest | Framework::Selenium | Framework::Phpunit | Framework::Junit => {
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
        Framework::Rspec => {
            let doc: serde_json::Value = serde_json::from_str(report).ok()?;
            let n = |k: &str| {
                doc["summary"][k]
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
            };
            let (examples, failures, pending) = (
                n("example_count")?,
                n("failure_count")?,
                n("pending_count")?,
            );
            Some((
                examples.saturating_sub(failures + pending),
                failures,
                pending,
                n("errors_outside_of_examples_count").unwrap_or(0),
            ))
        }
        Framework::Gotest => go_counts(report),
        Framework::Playwright => {
            let doc: serde_json::Value = serde_json::from_str(report).ok()?;
            let n = |k: &str| doc["stats"][k].as_u64().and_then(|v| u32::try_from(v).ok());
            let errors = doc["errors"]
                .as_array()
                .map_or(0, |e| u32::try_from(e.len()).unwrap_or(u32::MAX));
            Some((
                n("expected")? + n("flaky").unwrap_or(0),
                n("unexpected")?,
                n("skipped")?,
                errors,
            ))
        }
        _ => None,
    }
}

/// One event of `go test -json`.
#[derive(serde::Deserialize)]
struct GoEvent {
    #[serde(rename = "Action")]
    action: String,
    #[serde(rename = "Package", default)]
    package: String,
    #[serde(rename = "Test", default)]
    test: Option<String>,
    #[serde(rename = "Output", default)]
    output: Option<String>,
}

fn go_events(report: &str) -> impl Iterator<Item = GoEvent> + '_ {
    report
        .lines()
        .filter_map(|line| serde_json::from_str::<GoEvent>(line).ok())
}

/// Counts from `go test -json`: each test's last outcome, subtests counted and the tests
/// that only group them not.
fn go_counts(report: &str) -> Option<(u32, u32, u32, u32)> {
    let mut outcome: std::collections::BTreeMap<(String, String), String> = Default::default();
    // Older go versions write a package that did not build as a plain `FAIL pkg [build
    // failed]` line.
    let mut any = report
        .lines()
        .any(|l| l.starts_with("FAIL\t") && l.ends_with(" failed]"));
    for event in go_events(report) {
        any = true;
        if let (Some(test), "pass" | "fail" | "skip") = (event.test, event.action.as_str()) {
            outcome.insert((event.package, test), event.action);
        }
    }
    if !any {
        return None;
    }
    let parent = |(package, test): &(String, String)| {
        let prefix = format!("{test}/");
        outcome
            .range((package.clone(), prefix.clone())..)
            .next()
            .is_some_and(|((p, t), _)| p == package && t.starts_with(&prefix))
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (key, action) in &outcome {
        if parent(key) {
            continue;
        }
        match action.as_str() {
            "pass" => passed += 1,
            "fail" => failed += 1,
            _ => skipped += 1,
        }
    }
    Some((passed, failed, skipped, 0))
}

/// The text `go test -v` prints, from its JSON events.
fn go_output(report: &str) -> String {
    go_events(report).filter_map(|e| e.output).collect()
}

/// The files a compiler rejected (`path.ext:line[:col]: [error: ]message`), each with its
/// first complaint, in the order they appear.
fn unbuilt(log: &str, extension: &str) -> Vec<Unbuilt> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for line in log.lines() {
        let Some(at) = line.find(&format!("{extension}:")) else {
            continue;
        };
        let path = line[..at + extension.len()].trim_start_matches("./");
        let rest = &line[at + extension.len() + 1..];
        // Skip the line and column numbers.
        let message = rest
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == ':')
            .trim();
        let message = message.strip_prefix("error:").unwrap_or(message).trim();
        if path.contains(' ') || message.is_empty() || message.starts_with("warning:") {
            continue;
        }
        if seen.insert(path.to_owned()) {
            out.push(Unbuilt {
                path: path.to_owned(),
                reason: message.chars().take(300).collect(),
            });
        }
    }
    out
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
        let playwright = r#"{"stats": {"expected": 2, "unexpected": 1, "skipped": 4, "flaky": 1}, "errors": []}"#;
        assert_eq!(
            counts(Framework::Playwright, playwright),
            Some((3, 1, 4, 0))
        );
        let jest = r#"{"numPassedTests": 3, "numFailedTests": 0, "numPendingTests": 4, "numTodoTests": 1, "numRuntimeErrorTestSuites": 1}"#;
        assert_eq!(counts(Framework::Jest, jest), Some((3, 0, 5, 1)));
        assert_eq!(counts(Framework::Pytest, "garbage"), None);
        assert!(runs(Framework::Jest) && runs(Framework::Junit) && !runs(Framework::Nunit));
        assert!(runs(Framework::Playwright) && !runs(Framework::Cypress));
        let rspec = r#"{"summary": {"example_count": 9, "failure_count": 2, "pending_count": 4, "errors_outside_of_examples_count": 1}}"#;
        assert_eq!(counts(Framework::Rspec, rspec), Some((3, 2, 4, 1)));
        let launcher = r#"<testsuite name="JUnit Jupiter" tests="7" skipped="5" failures="1" errors="0" time="0.1">"#;
        assert_eq!(counts(Framework::Junit, launcher), Some((1, 1, 5, 0)));
    }

    #[test]
    fn go_events_count_leaf_tests() {
        let report = [
            r#"{"Action":"run","Package":"m/regression","Test":"TestCart"}"#,
            r#"{"Action":"run","Package":"m/regression","Test":"TestCart/answers"}"#,
            r#"{"Action":"output","Package":"m/regression","Test":"TestCart/answers","Output":"    support_test.go:30: set BASE_URL\n"}"#,
            r#"{"Action":"skip","Package":"m/regression","Test":"TestCart/answers"}"#,
            r#"{"Action":"fail","Package":"m/regression","Test":"TestCart/answers_2"}"#,
            r#"{"Action":"fail","Package":"m/regression","Test":"TestCart"}"#,
            r#"{"Action":"pass","Package":"m/regression","Test":"TestCartX"}"#,
            r#"{"Action":"pass","Package":"m/other","Test":"TestCart"}"#,
            r#"{"Action":"output","Package":"m/app","Output":"FAIL\tm/app [build failed]\n"}"#,
            r#"{"Action":"fail","Package":"m/app"}"#,
        ]
        .join("\n");
        // TestCart groups two subtests; TestCartX and m/other's TestCart are leaves.
        assert_eq!(go_counts(&report), Some((2, 1, 1, 0)));
        assert!(go_output(&report).contains("set BASE_URL"));
        assert_eq!(go_counts("not json"), None);
        assert_eq!(
            go_counts("FAIL\tm/app [build failed]\n"),
            Some((0, 0, 0, 0))
        );
    }

    #[test]
    fn compiler_complaints_name_each_file_once() {
        let javac = "src/test/java/app/AppTest.java:12: error: cannot find symbol\n    App app;\n    ^\nsrc/test/java/app/AppTest.java:30: error: cannot find symbol\nsrc/test/java/com/shop/CartTest.java:4: error: package com.shop.cart does not exist\n3 errors\n";
        let files = unbuilt(javac, ".java");
        assert_eq!(
            files
                .iter()
                .map(|u| (u.path.as_str(), u.reason.as_str()))
                .collect::<Vec<_>>(),
            [
                ("src/test/java/app/AppTest.java", "cannot find symbol"),
                (
                    "src/test/java/com/shop/CartTest.java",
                    "package com.shop.cart does not exist"
                ),
            ]
        );
        let go = "# m/app [m/app.test]\n./app/app_regression_test.go:22:13: undefined: LoginFailed\nFAIL\tm/app [build failed]\n";
        assert_eq!(unbuilt(go, ".go")[0].path, "app/app_regression_test.go");
        assert_eq!(unbuilt(go, ".go")[0].reason, "undefined: LoginFailed");
    }
}
