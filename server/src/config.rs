//! Typed configuration, read once from the environment at start-up.
//!
//! Nothing else in the server reads environment variables: everything it needs is a field here,
//! so defaults live in one place and a bad value is reported before anything starts.

pub mod ingest;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything the `faultline` process is configured with.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address the HTTP server listens on (`FAULTLINE_ADDR`).
    pub addr: SocketAddr,
    /// Database connection string (`DATABASE_URL`): `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Directory for the SQLite database, the generated secret key and later uploads
    /// (`FAULTLINE_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Where the built WASM, JS, CSS and public assets live (`FAULTLINE_SITE_ROOT`).
    pub site_root: PathBuf,
    /// `development` or `production` (`FAULTLINE_ENV`).
    pub env: Environment,
    /// Log filter in `tracing` syntax (`FAULTLINE_LOG`).
    pub log_filter: String,
    /// Log line format (`FAULTLINE_LOG_FORMAT`); JSON in production unless overridden.
    pub log_format: LogFormat,
    /// The externally visible base URL (`FAULTLINE_PUBLIC_URL`); `https://` turns on HSTS and
    /// secure cookies.
    pub public_url: String,
    /// Secret key material (`FAULTLINE_SECRET_KEY`), `None` until [`Config::resolve_secret`]
    /// runs in development.
    pub secret_key: Option<SecretKey>,
    /// SMTP server for outgoing mail (`FAULTLINE_SMTP_URL`, e.g.
    /// `smtps://user:pass@mail.example.com`); without it mail is written to
    /// `<data dir>/outbox` as `.eml` files.
    pub smtp_url: Option<SmtpUrl>,
    /// Sender of outgoing mail (`FAULTLINE_MAIL_FROM`).
    pub mail_from: String,
    /// Take the client address from the last `X-Forwarded-For` hop (`FAULTLINE_TRUST_PROXY`);
    /// only behind a reverse proxy that sets it.
    pub trust_proxy: bool,
    /// Uploads, storage and workers.
    pub ingest: ingest::IngestConfig,
    /// Running generated test suites in the sandbox.
    pub test_runner: crate::testgen::sandbox::RunnerConfig,
    /// Calls to model providers.
    pub ai: crate::ai::AiConfig,
}

/// An SMTP URL, which may carry a password: never printed.
#[derive(Clone)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    /// The URL itself, for the mail transport.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SmtpUrl(<redacted>)")
    }
}

/// Deployment environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// Local development: human-readable logs, a generated secret key is acceptable.
    Development,
    /// Production: JSON logs, an explicit secret key is required.
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, one line per event.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Key material that never prints.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// Minimum length of a configured key, in bytes.
    pub const MIN_LEN: usize = 32;

    /// Accepts a key of at least [`Self::MIN_LEN`] bytes.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.len() < Self::MIN_LEN {
            return Err(format!(
                "must be at least {} characters (generate one with `openssl rand -hex 32`)",
                Self::MIN_LEN
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The raw key bytes, for deriving signing and encryption keys.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A configuration value that could not be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub var: &'static str,
    /// What is wrong with it, in words a user can act on.
    pub message: String,
}

impl ConfigError {
    fn new(var: &'static str, message: impl Into<String>) -> Self {
        Self {
            var,
            message: message.into(),
        }
    }
}

/// Default listen address.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "data";
/// Default site root, where `make run` puts the built assets.
pub const DEFAULT_SITE_ROOT: &str = "target/site";
/// File inside the data directory that holds a generated secret key.
pub const SECRET_KEY_FILE: &str = "secret.key";

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Builds the configuration from a map of variables, so tests need not touch the process
    /// environment.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let addr_raw = get("FAULTLINE_ADDR").unwrap_or(DEFAULT_ADDR);
        let addr: SocketAddr = addr_raw.parse().map_err(|_| {
            ConfigError::new(
                "FAULTLINE_ADDR",
                format!(
                    "{addr_raw:?} is not a socket address; expected host:port, e.g. {DEFAULT_ADDR}"
                ),
            )
        })?;

        let env = match get("FAULTLINE_ENV").unwrap_or("development") {
            "development" | "dev" => Environment::Development,
            "production" | "prod" => Environment::Production,
            other => {
                return Err(ConfigError::new(
                    "FAULTLINE_ENV",
                    format!("{other:?} is not an environment; expected development or production"),
                ));
            }
        };

        let data_dir = PathBuf::from(get("FAULTLINE_DATA_DIR").unwrap_or(DEFAULT_DATA_DIR));
        let database_url = match get("DATABASE_URL") {
            Some(url) => parse_database_url(url)?,
            None => format!("sqlite://{}", data_dir.join("faultline.db").display()),
        };

        let log_format = match get("FAULTLINE_LOG_FORMAT") {
            None if env == Environment::Production => LogFormat::Json,
            None | Some("pretty") | Some("text") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::new(
                    "FAULTLINE_LOG_FORMAT",
                    format!("{other:?} is not a log format; expected pretty or json"),
                ));
            }
        };

        let public_url = match get("FAULTLINE_PUBLIC_URL") {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                url.trim_end_matches('/').to_owned()
            }
            Some(url) => {
                return Err(ConfigError::new(
                    "FAULTLINE_PUBLIC_URL",
                    format!("{url:?} must start with http:// or https://"),
                ));
            }
            None => format!("http://{addr}"),
        };

        let secret_key = get("FAULTLINE_SECRET_KEY")
            .map(|raw| {
                SecretKey::parse(raw).map_err(|m| ConfigError::new("FAULTLINE_SECRET_KEY", m))
            })
            .transpose()?;
        if secret_key.is_none() && env == Environment::Production {
            return Err(ConfigError::new(
                "FAULTLINE_SECRET_KEY",
                "is required when FAULTLINE_ENV=production",
            ));
        }

        let smtp_url = match get("FAULTLINE_SMTP_URL") {
            Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
                Some(SmtpUrl(url.to_owned()))
            }
            Some(_) => {
                return Err(ConfigError::new(
                    "FAULTLINE_SMTP_URL",
                    "must start with smtp:// or smtps://",
                ));
            }
            None => None,
        };
        let mail_from = get("FAULTLINE_MAIL_FROM")
            .unwrap_or("Faultline <no-reply@faultline.localhost>")
            .to_owned();
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::new(
                "FAULTLINE_MAIL_FROM",
                format!(
                    "{mail_from:?} is not a mail address, e.g. Faultline <no-reply@example.com>"
                ),
            ));
        }
        let trust_proxy = match get("FAULTLINE_TRUST_PROXY").unwrap_or("false") {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            other => {
                return Err(ConfigError::new(
                    "FAULTLINE_TRUST_PROXY",
                    format!("{other:?} is not a boolean; expected true or false"),
                ));
            }
        };

        let ingest = ingest::IngestConfig::from_vars(vars, &data_dir)?;
        let mut test_runner = crate::testgen::sandbox::RunnerConfig {
            node_modules: get("FAULTLINE_TEST_NODE_MODULES").map(PathBuf::from),
            ..Default::default()
        };
        if let Some(raw) = get("FAULTLINE_TEST_RUN_SECONDS") {
            test_runner.wall_seconds = raw
                .parse::<u64>()
                .ok()
                .filter(|s| (5..=3600).contains(s))
                .ok_or_else(|| {
                ConfigError::new(
                    "FAULTLINE_TEST_RUN_SECONDS",
                    format!("{raw:?} is not a number of seconds between 5 and 3600"),
                )
            })?;
            test_runner.cpu_seconds = test_runner.wall_seconds;
        }
        let mut ai = crate::ai::AiConfig::default();
        let seconds = |name: &'static str, range: std::ops::RangeInclusive<u64>| {
            get(name)
                .map(|raw| {
                    raw.parse::<u64>()
                        .ok()
                        .filter(|s| range.contains(s))
                        .map(std::time::Duration::from_secs)
                        .ok_or_else(|| {
                            ConfigError::new(
                                name,
                                format!(
                                    "{raw:?} is not a number of seconds between {} and {}",
                                    range.start(),
                                    range.end()
                                ),
                            )
                        })
                })
                .transpose()
        };
        if let Some(timeout) = seconds("FAULTLINE_AI_TIMEOUT_SECONDS", 1..=600)? {
            ai.timeout = timeout;
        }
        if let Some(ttl) = seconds("FAULTLINE_AI_CACHE_SECONDS", 0..=30 * 86_400)? {
            ai.cache_ttl = ttl;
        }
        Ok(Self {
            test_runner,
            ai,
            ingest,
            addr,
            database_url,
            data_dir,
            site_root: PathBuf::from(get("FAULTLINE_SITE_ROOT").unwrap_or(DEFAULT_SITE_ROOT)),
            env,
            log_filter: get("FAULTLINE_LOG")
                .unwrap_or("info,sqlx=warn,tower_http=info")
                .to_owned(),
            log_format,
            public_url,
            secret_key,
            smtp_url,
            mail_from,
            trust_proxy,
        })
    }

    /// True when the public URL is served over TLS: turns on HSTS and `Secure` cookies.
    pub fn behind_tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Makes sure a secret key exists: the configured one, or one generated on first start and
    /// kept in the data directory. Returns whether a key was generated, so the caller can warn.
    pub fn resolve_secret(&mut self) -> Result<bool, ConfigError> {
        if self.secret_key.is_some() {
            return Ok(false);
        }
        let path = self.data_dir.join(SECRET_KEY_FILE);
        let (key, generated) = load_or_generate_secret(&path).map_err(|e| {
            ConfigError::new("FAULTLINE_DATA_DIR", format!("{}: {e}", path.display()))
        })?;
        self.secret_key = Some(key);
        Ok(generated)
    }
}

fn parse_database_url(url: &str) -> Result<String, ConfigError> {
    let supported = ["sqlite:", "postgres://", "postgresql://"];
    if supported.iter().any(|p| url.starts_with(p)) {
        Ok(url.to_owned())
    } else {
        Err(ConfigError::new(
            "DATABASE_URL",
            "unsupported database; expected sqlite://PATH or postgres://USER@HOST/DB",
        ))
    }
}

fn load_or_generate_secret(path: &Path) -> std::io::Result<(SecretKey, bool)> {
    match std::fs::read_to_string(path) {
        Ok(raw) => SecretKey::parse(&raw)
            .map(|k| (k, false))
            .map_err(|m| std::io::Error::new(std::io::ErrorKind::InvalidData, m)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let raw = hex::encode(rand::random::<[u8; 32]>());
            write_private(path, &raw)?;
            Ok((SecretKey(raw), true))
        }
        Err(e) => Err(e),
    }
}

/// Writes a file readable only by its owner, failing if it already exists.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_the_readme() {
        let config = Config::from_vars(&vars(&[])).expect("defaults are valid");
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(config.database_url, "sqlite://data/faultline.db");
        assert_eq!(config.env, Environment::Development);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(config.public_url, "http://127.0.0.1:3000");
        assert!(!config.behind_tls());
    }

    #[test]
    fn data_dir_moves_the_default_database() {
        let config = Config::from_vars(&vars(&[("FAULTLINE_DATA_DIR", "/srv/fl")])).expect("valid");
        assert_eq!(config.database_url, "sqlite:///srv/fl/faultline.db");
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases = [
            ("FAULTLINE_ADDR", "localhost"),
            ("FAULTLINE_ENV", "staging"),
            ("DATABASE_URL", "mysql://x"),
            ("FAULTLINE_LOG_FORMAT", "xml"),
            ("FAULTLINE_PUBLIC_URL", "example.com"),
            ("FAULTLINE_SECRET_KEY", "short"),
            ("FAULTLINE_SMTP_URL", "mail.example.com"),
            ("FAULTLINE_MAIL_FROM", "not an address"),
            ("FAULTLINE_TRUST_PROXY", "maybe"),
        ];
        for (var, value) in cases {
            let err = Config::from_vars(&vars(&[(var, value)])).expect_err(var);
            assert_eq!(err.var, var);
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn production_requires_a_secret_key() {
        let err = Config::from_vars(&vars(&[("FAULTLINE_ENV", "production")])).expect_err("no key");
        assert_eq!(err.var, "FAULTLINE_SECRET_KEY");
        let key = "k".repeat(40);
        let config = Config::from_vars(&vars(&[
            ("FAULTLINE_ENV", "production"),
            ("FAULTLINE_SECRET_KEY", &key),
        ]))
        .expect("valid");
        assert_eq!(config.log_format, LogFormat::Json);
        assert!(!format!("{config:?}").contains(&key), "secrets never print");
    }

    #[test]
    fn generated_secret_is_persisted_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().to_str().expect("utf-8 path");
        let mut first = Config::from_vars(&vars(&[("FAULTLINE_DATA_DIR", data)])).expect("valid");
        assert!(first.resolve_secret().expect("generated"));
        let mut second = Config::from_vars(&vars(&[("FAULTLINE_DATA_DIR", data)])).expect("valid");
        assert!(!second.resolve_secret().expect("reused"));
        let key = |c: &Config| c.secret_key.as_ref().map(|k| k.expose().to_vec());
        assert_eq!(key(&first), key(&second));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SECRET_KEY_FILE))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
