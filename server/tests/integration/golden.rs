//! Golden analyses: the full JSON analysis of each realistic sample log in
//! `tests/fixtures/logs/` (a Java service with stack traces, a Node API with JSON logs, a Python
//! worker, an nginx access log with attacks, a PostgreSQL log with slow queries), compared with
//! the reviewed snapshot in `tests/integration/snapshots/`.

use std::path::PathBuf;

use server::analysis::analyze::{Options, Source, analyze};

fn golden(file: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/logs")
        .join(file);
    let analysis = analyze(&[Source::file(&path)], Options::default()).expect("analyses");
    insta::assert_json_snapshot!(file, analysis);
}

#[test]
fn java_service_with_stack_traces() {
    golden("java-service.log");
}

#[test]
fn node_api_json_lines() {
    golden("node-api.jsonl");
}

#[test]
fn python_worker_with_tracebacks() {
    golden("python-app.log");
}

#[test]
fn nginx_access_log_with_attacks() {
    golden("nginx-access.log");
}

#[test]
fn postgresql_log_with_slow_queries() {
    golden("postgresql.log");
}

#[test]
fn several_files_at_once() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs");
    let sources = [
        Source::file(dir.join("java-service.log")),
        Source::file(dir.join("postgresql.log")),
    ];
    let analysis = analyze(&sources, Options::default()).expect("analyses");
    assert_eq!(analysis.files.len(), 2);
    assert_eq!(
        analysis.summary.events,
        analysis.files.iter().map(|f| f.events).sum::<u64>()
    );
    assert_eq!(
        analysis.summary.events,
        analysis.patterns.iter().map(|p| p.count).sum::<u64>()
    );
    let java_only = analysis
        .patterns
        .iter()
        .find(|p| p.template.starts_with("Payment failed"))
        .expect("java pattern");
    assert_eq!(java_only.files.len(), 1);
    assert_eq!(java_only.files[0].file, "java-service.log");
    assert_eq!(java_only.files[0].count, java_only.count);
    let java_events = analysis.files[0].events as f64;
    assert!((java_only.files[0].share - java_only.count as f64 / java_events).abs() < 1e-4);
}

#[test]
fn gzip_input_gives_the_same_analysis() {
    use std::io::Write;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs");
    let plain = std::fs::read(dir.join("python-app.log")).expect("fixture");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&plain).expect("compress");
    let gz = encoder.finish().expect("finish");
    let a = analyze(
        &[Source::bytes("python-app.log", plain)],
        Options::default(),
    )
    .expect("plain");
    let b = analyze(&[Source::bytes("python-app.log", gz)], Options::default()).expect("gzip");
    assert_eq!(
        serde_json::to_value(&a).expect("json"),
        serde_json::to_value(&b).expect("json")
    );
}

#[test]
fn truncated_gzip_is_a_clear_error() {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(&b"2024-01-01 00:00:00 INFO hello world\n".repeat(5000))
        .expect("compress");
    let gz = encoder.finish().expect("finish");
    let cut = gz[..gz.len() / 2].to_vec();
    let err =
        analyze(&[Source::bytes("cut.log.gz", cut)], Options::default()).expect_err("must fail");
    assert!(err.to_string().starts_with("cut.log.gz:"), "{err}");
}

/// Inputs that once crashed the engine under fuzzing (`fuzz/`) stay fixed.
#[test]
fn former_fuzz_crashes_are_analysed() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz fixtures") {
        let path = entry.expect("entry").path();
        let analysis = analyze(&[Source::file(&path)], Options::default());
        if let Ok(a) = analysis {
            assert_eq!(
                a.summary.events,
                a.patterns.iter().map(|p| p.count).sum::<u64>()
            );
        }
        seen += 1;
    }
    assert!(seen > 0);
}
