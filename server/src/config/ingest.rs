//! Configuration of uploads, their storage and the background workers.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use super::ConfigError;

/// Where uploaded files are kept.
#[derive(Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// A directory on this machine (the default: `<data dir>/objects`).
    Local(std::path::PathBuf),
    /// An S3-compatible bucket.
    S3(S3Config),
}

/// An S3-compatible bucket and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Endpoint URL for stores other than AWS (MinIO, Ceph, R2, a local test server).
    pub endpoint: Option<String>,
    /// Region.
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(dir) => f.debug_tuple("Local").field(dir).finish(),
            Self::S3(s3) => f
                .debug_struct("S3")
                .field("bucket", &s3.bucket)
                .field("endpoint", &s3.endpoint)
                .field("region", &s3.region)
                .field("access_key_id", &s3.access_key_id)
                .field("secret_access_key", &"***")
                .finish(),
        }
    }
}

/// Uploads and background work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestConfig {
    /// Where files go.
    pub storage: StorageConfig,
    /// Largest file an organisation may upload unless it sets its own limit.
    pub max_upload_bytes: u64,
    /// Bytes of uploads an organisation may keep unless it sets its own quota.
    pub org_quota_bytes: u64,
    /// Jobs one process runs at once (0: it runs none and only serves requests).
    pub workers: usize,
    /// Jobs of one organisation running at once across every process.
    pub org_concurrency: i64,
    /// How long a worker's claim on a job lasts without renewal; a job whose worker died is
    /// taken up again once it runs out.
    pub lease_ms: i64,
}

/// 1 GiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 1 << 30;
/// 20 GiB.
pub const DEFAULT_ORG_QUOTA_BYTES: u64 = 20 << 30;

impl IngestConfig {
    /// Reads the variables; `data_dir` anchors the default local storage.
    pub fn from_vars(vars: &HashMap<String, String>, data_dir: &Path) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let storage = match get("FAULTLINE_STORAGE_URL") {
            None => StorageConfig::Local(data_dir.join("objects")),
            Some(url) if url.starts_with("file://") => {
                StorageConfig::Local(url.trim_start_matches("file://").into())
            }
            Some(url) if url.starts_with("s3://") => {
                let bucket = url.trim_start_matches("s3://").trim_end_matches('/');
                if bucket.is_empty() || bucket.contains('/') {
                    return Err(ConfigError::new(
                        "FAULTLINE_STORAGE_URL",
                        "an S3 URL names just the bucket: s3://BUCKET",
                    ));
                }
                let required = |name: &'static str| {
                    get(name).map(str::to_owned).ok_or_else(|| {
                        ConfigError::new(name, "is required when FAULTLINE_STORAGE_URL is s3://…")
                    })
                };
                StorageConfig::S3(S3Config {
                    bucket: bucket.to_owned(),
                    endpoint: get("FAULTLINE_S3_ENDPOINT").map(str::to_owned),
                    region: get("FAULTLINE_S3_REGION").unwrap_or("us-east-1").to_owned(),
                    access_key_id: required("FAULTLINE_S3_ACCESS_KEY_ID")?,
                    secret_access_key: required("FAULTLINE_S3_SECRET_ACCESS_KEY")?,
                })
            }
            Some(other) => {
                return Err(ConfigError::new(
                    "FAULTLINE_STORAGE_URL",
                    format!("{other:?} is not a storage URL; expected file:///DIR or s3://BUCKET"),
                ));
            }
        };
        Ok(Self {
            storage,
            max_upload_bytes: bytes(get, "FAULTLINE_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)?,
            org_quota_bytes: bytes(get, "FAULTLINE_ORG_QUOTA_BYTES", DEFAULT_ORG_QUOTA_BYTES)?,
            // 0: this process serves requests only and leaves the jobs to others.
            workers: range(get, "FAULTLINE_WORKERS", 2, 0, 64)?,
            org_concurrency: i64::try_from(count(get, "FAULTLINE_ORG_CONCURRENCY", 2, 64)?)
                .unwrap_or(i64::MAX),
            lease_ms: i64::try_from(count(get, "FAULTLINE_JOB_LEASE_SECS", 30, 3600)?)
                .unwrap_or(30)
                * 1000,
        })
    }
}

/// A byte count: `1073741824`, `512MB`, `1GiB`, `20G`.
fn bytes<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    name: &'static str,
    default: u64,
) -> Result<u64, ConfigError> {
    let Some(raw) = get(name) else {
        return Ok(default);
    };
    parse_bytes(raw).ok_or_else(|| {
        ConfigError::new(
            name,
            format!("{raw:?} is not a size; write bytes or a size such as 512MB or 1GiB"),
        )
    })
}

/// Parses `1073741824`, `512MB`, `512 MiB`, `1G`.
pub fn parse_bytes(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => return None,
    };
    number.checked_mul(factor).filter(|&n| n > 0)
}

fn count<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    name: &'static str,
    default: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    range(get, name, default, 1, max)
}

fn range<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    name: &'static str,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                ConfigError::new(name, format!("{raw:?} is not a number from {min} to {max}"))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("1073741824"), Some(1 << 30));
        assert_eq!(parse_bytes("512MB"), Some(512 << 20));
        assert_eq!(parse_bytes("1 GiB"), Some(1 << 30));
        assert_eq!(parse_bytes("0"), None);
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(parse_bytes("5PB"), None);
    }

    #[test]
    fn storage_urls() {
        let vars = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect()
        };
        let dir = Path::new("/data");
        let c = IngestConfig::from_vars(&vars(&[]), dir).expect("defaults");
        assert_eq!(c.storage, StorageConfig::Local("/data/objects".into()));
        assert_eq!(c.max_upload_bytes, DEFAULT_MAX_UPLOAD_BYTES);
        let e = IngestConfig::from_vars(&vars(&[("FAULTLINE_STORAGE_URL", "s3://logs")]), dir)
            .expect_err("needs keys");
        assert_eq!(e.var, "FAULTLINE_S3_ACCESS_KEY_ID");
        let c = IngestConfig::from_vars(
            &vars(&[
                ("FAULTLINE_STORAGE_URL", "s3://logs"),
                ("FAULTLINE_S3_ENDPOINT", "http://127.0.0.1:9000"),
                ("FAULTLINE_S3_ACCESS_KEY_ID", "test"),
                ("FAULTLINE_S3_SECRET_ACCESS_KEY", "secret"),
            ]),
            dir,
        )
        .expect("s3");
        assert!(!format!("{c:?}").contains("secret\""), "{c:?}");
        let e = IngestConfig::from_vars(&vars(&[("FAULTLINE_STORAGE_URL", "ftp://x")]), dir)
            .expect_err("unknown");
        assert_eq!(e.var, "FAULTLINE_STORAGE_URL");
        let c = IngestConfig::from_vars(&vars(&[("FAULTLINE_WORKERS", "0")]), dir)
            .expect("a process without workers");
        assert_eq!(c.workers, 0);
        let e = IngestConfig::from_vars(&vars(&[("FAULTLINE_WORKERS", "65")]), dir)
            .expect_err("workers");
        assert_eq!(e.var, "FAULTLINE_WORKERS");
    }
}
