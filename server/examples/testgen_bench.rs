//! Test-generation benchmark: the time to generate, validate and document (1) a suite of 10
//! tests and (2) suites for 100 error patterns in each of the 11 frameworks. Patterns are
//! synthetic but shaped like real ones: access-log endpoints, Java, Python and Node.js stack
//! traces, validation and auth failures.
//!
//! `cargo run --release -p server --example testgen_bench [RUNS]`

use std::time::{Duration, Instant};

use app::api::patterns::{PatternDoc, ResultDoc, RiskDoc, SampleDoc, ValueCountDoc, VariableDoc};
use app::api::testgen::{Framework, Preferences};
use server::testgen::{Request, generate};

fn variable(value: &str) -> VariableDoc {
    VariableDoc {
        cardinality: 40,
        cardinality_exact: true,
        top: vec![ValueCountDoc {
            value: value.into(),
            count: 10,
        }],
    }
}

/// Pattern `i` of a synthetic analysis.
fn pattern(i: usize) -> PatternDoc {
    let id = format!("p{i}");
    let (template, category, variables, sample, stack) = match i % 6 {
        0 if i.is_multiple_of(12) => (
            format!("GET /api/orders{i}/{{id}} 502"),
            "dependency",
            vec![],
            format!("GET /api/orders{i}/{} 502", 1000 + i),
            None,
        ),
        0 => (
            format!("GET /shop{i}/checkout 503"),
            "payment",
            vec![],
            format!("GET /shop{i}/checkout 503"),
            None,
        ),
        1 => (
            format!("Payment {i} failed for order <*>"),
            "payment",
            vec![variable("774722")],
            format!("Payment {i} failed for order 774722"),
            Some(format!(
                "org.springframework.dao.DataAccessResourceFailureException: Unable to acquire JDBC Connection\n\tat com.shop.billing{i}.PaymentRepository.save(PaymentRepository.java:88)\n\tat com.shop.billing{i}.PaymentService.charge(PaymentService.java:142)\nCaused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request timed out after 30000ms."
            )),
        ),
        2 => (
            format!("Task send_invoice{i}[<*>] raised unexpected exception"),
            "application",
            vec![variable("11262166")],
            format!("Task send_invoice{i}[11262166] raised unexpected exception"),
            Some(format!(
                "Traceback (most recent call last):\n  File \"/app/worker{i}/tasks.py\", line 88, in send_invoice\n    pdf = render_invoice(invoice_id)\n  File \"/app/worker{i}/render.py\", line 41, in render_invoice\n    total = sum(x)\nTypeError: unsupported operand type(s) for +: 'int' and 'NoneType'"
            )),
        ),
        3 => (
            format!(
                "request {i} errored: upstream pricing-service responded <*> Service Unavailable"
            ),
            "dependency",
            vec![variable("503")],
            format!(
                "request {i} errored: upstream pricing-service responded 503 Service Unavailable"
            ),
            Some(format!(
                "UpstreamError: upstream pricing-service responded 503 Service Unavailable\n    at PricingClient.quote (/srv/app/src/pricing{i}/client.js:48:13)\n    at async QuoteController.create (/srv/app/src/quotes{i}/controller.js:22:19)"
            )),
        ),
        4 => (
            format!("validation {i} failed: field \"email\" must be a valid address (got \"<*>\")"),
            "validation",
            vec![variable("a@b")],
            format!("validation {i} failed: field \"email\" must be a valid address (got \"a@b\")"),
            None,
        ),
        _ => (
            format!("Login {i} failed for <*> from <*>: bad credentials"),
            "auth",
            vec![variable("user-10"), variable("203.0.113.7")],
            format!("Login {i} failed for user-10 from 203.0.113.7: bad credentials"),
            None,
        ),
    };
    PatternDoc {
        id,
        template,
        count: 1000 - i as u64,
        severity: "high".into(),
        category: category.into(),
        is_error: true,
        samples: vec![SampleDoc {
            file: "app.log".into(),
            line: i as u64 + 1,
            end_line: i as u64 + 1,
            text: sample,
            stack,
        }],
        variables,
        risk: RiskDoc {
            score: 0.9 - i as f64 / 200.0,
            ..RiskDoc::default()
        },
        ..PatternDoc::default()
    }
}

fn doc(patterns: usize) -> ResultDoc {
    ResultDoc {
        patterns: (0..patterns).map(pattern).collect(),
        ..ResultDoc::default()
    }
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    let mut out = std::io::stdout().lock();
    let mut say = |line: String| {
        use std::io::Write;
        let _ = writeln!(out, "{line}");
    };

    // 10 tests: an endpoint (4 tests), a Java and a Python stack trace (3 each).
    let small = doc(3);
    for framework in [Framework::Pytest, Framework::Jest, Framework::Junit] {
        let request = Request {
            framework,
            preferences: Preferences {
                max_tests_per_pattern: 5,
                ..Preferences::default()
            },
            ..Request::default()
        };
        let mut times = Vec::new();
        let (mut tests, mut files) = (0, 0);
        for _ in 0..runs {
            let started = Instant::now();
            let suite = generate(&small, &request).expect("generates");
            times.push(started.elapsed());
            tests = suite.tests;
            files = suite.files.len();
        }
        say(format!(
            "{framework:<10} {tests} tests in {files} files from 3 patterns: median {:.2} ms (min {:.2} ms) over {runs} runs",
            median(times.clone()).as_secs_f64() * 1000.0,
            times
                .iter()
                .min()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1000.0
        ));
    }

    // 100 patterns × 11 frameworks.
    let large = doc(100);
    let mut total = Duration::ZERO;
    let mut all_tests = 0;
    for framework in Framework::ALL {
        let request = Request {
            framework,
            ..Request::default()
        };
        let mut times = Vec::new();
        let mut suite = None;
        for _ in 0..runs.div_ceil(4).max(1) {
            let started = Instant::now();
            suite = Some(generate(&large, &request).expect("generates"));
            times.push(started.elapsed());
        }
        let suite = suite.expect("at least one run");
        let m = median(times);
        total += m;
        all_tests += suite.tests;
        say(format!(
            "{framework:<10} 100 patterns: {:>4} tests in {:>3} files, {}/{} valid, median {:.1} ms",
            suite.tests,
            suite.files.len(),
            suite.valid_files,
            suite.checked_files,
            m.as_secs_f64() * 1000.0
        ));
    }
    say(format!(
        "all 11 frameworks, 100 patterns each: {all_tests} tests in {:.0} ms (sum of medians)",
        total.as_secs_f64() * 1000.0
    ));
}
