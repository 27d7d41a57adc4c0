//! The database: one handle over SQLite (embedded default) or PostgreSQL (production), and the
//! migrations for each.
//!
//! Both backends accept the same lower-case SQL with `$1` placeholders, so a repository
//! function writes its query once and runs it on either pool through [`with_db!`].

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// A connection pool on one of the supported backends. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    /// The embedded default.
    Sqlite(SqlitePool),
    /// The production backend.
    Postgres(PgPool),
}

/// Runs the same expression against whichever pool `db` holds, with `$pool` bound to it.
#[macro_export]
macro_rules! with_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// An open transaction on either backend. Repository functions take `&mut Tx`, so a request
/// that writes several rows commits them together or not at all.
pub enum Tx {
    /// A SQLite transaction.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// A PostgreSQL transaction.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs the same expression against whichever connection `tx` holds, with `$conn` bound to a
/// `&mut` connection (use it as `&mut *$conn`).
#[macro_export]
macro_rules! with_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// A statement composed at run time (filters that are present or not), with its parameters
/// numbered as they are added. The text is only ever built from fixed fragments; every value
/// goes in as a parameter.
#[derive(Debug, Default)]
pub struct Statement {
    text: String,
    params: Vec<Param>,
}

#[derive(Debug)]
enum Param {
    Text(String),
    Int(i64),
}

impl Statement {
    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.text.push_str(sql);
        self
    }

    /// Adds a text parameter and returns its placeholder (`$3`).
    pub fn text(&mut self, value: impl Into<String>) -> String {
        self.params.push(Param::Text(value.into()));
        format!("${}", self.params.len())
    }

    /// Adds an integer parameter and returns its placeholder.
    pub fn int(&mut self, value: i64) -> String {
        self.params.push(Param::Int(value));
        format!("${}", self.params.len())
    }

    /// The SQL so far.
    pub fn sql(&self) -> &str {
        &self.text
    }

    /// Runs it and decodes every row.
    pub async fn fetch_all<T>(&self, tx: &mut Tx) -> Result<Vec<T>, sqlx::Error>
    where
        T: Send + Unpin,
        T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        with_tx!(tx, c => {
            let mut query = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(self.text.as_str()));
            for param in &self.params {
                query = match param {
                    Param::Text(v) => query.bind(v.as_str()),
                    Param::Int(v) => query.bind(*v),
                };
            }
            query.fetch_all(&mut *c).await
        })
    }

    /// Runs it and reads the first column of the one row as an integer (a count).
    pub async fn fetch_count(&self, tx: &mut Tx) -> Result<i64, sqlx::Error> {
        with_tx!(tx, c => {
            let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(self.text.as_str()));
            for param in &self.params {
                query = match param {
                    Param::Text(v) => query.bind(v.as_str()),
                    Param::Int(v) => query.bind(*v),
                };
            }
            query.fetch_one(&mut *c).await
        })
    }
}

/// Whose rows a transaction may touch. On PostgreSQL, row-level security enforces it as a
/// second line of defence behind every query's own `org_id` filter: rows of other
/// organisations are invisible, and a transaction that names no scope sees none at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    /// One organisation's rows (requests under `/orgs/{org}/`).
    Org(&'a str),
    /// Every organisation's rows: signing in, resolving a token, listing one's organisations,
    /// creating or deleting an organisation, the CLI. Such code filters by user or token.
    System,
}

impl Tx {
    async fn set_scope(&mut self, scope: Scope<'_>) -> Result<(), sqlx::Error> {
        if let Self::Postgres(t) = self {
            let value = match scope {
                Scope::Org(id) => id,
                Scope::System => "*",
            };
            sqlx::query(r"select set_config('faultline.scope', $1, true)")
                .bind(value)
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// Makes every change in the transaction permanent.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(t) => t.commit().await,
            Self::Postgres(t) => t.commit().await,
        }
    }
}

/// Errors from connecting to or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database could not be reached or opened.
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// The directory for a SQLite file could not be created.
    #[error("cannot create the database directory {path}: {source}")]
    Directory {
        /// The directory that could not be created.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A migration failed to apply.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error(transparent)]
    Query(#[from] sqlx::Error),
}

/// Which migrations are expected and which are applied.
#[derive(Clone, Debug, serde::Serialize, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Highest migration version applied successfully, if any.
    pub applied: Option<i64>,
    /// Highest migration version this binary ships.
    pub expected: i64,
}

impl SchemaStatus {
    /// True when every shipped migration is applied.
    pub fn is_current(&self) -> bool {
        self.applied == Some(self.expected)
    }
}

/// Connection-pool figures for `/metrics`.
#[derive(Clone, Copy, Debug)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections that are idle.
    pub idle: u32,
    /// Configured maximum.
    pub max: u32,
}

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl Db {
    /// Opens a pool for `url`, creating a SQLite file (and its directory) if it does not exist.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(DbError::Connect)?;
            Self::connect_sqlite(options).await
        } else {
            let options = PgConnectOptions::from_str(url).map_err(DbError::Connect)?;
            Self::connect_postgres(options).await
        }
    }

    /// Opens a SQLite pool with the settings Faultline relies on (WAL, foreign keys, a busy
    /// timeout so concurrent writers wait instead of failing).
    pub async fn connect_sqlite(options: SqliteConnectOptions) -> Result<Self, DbError> {
        let file = options.get_filename();
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir(dir)?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(DbError::Connect)?;
        Ok(Self::Sqlite(pool))
    }

    /// Opens a PostgreSQL pool.
    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Self, DbError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(DbError::Connect)?;
        Ok(Self::Postgres(pool))
    }

    /// Begins a transaction that will write, able to touch `scope`'s rows. On SQLite it takes
    /// the write lock at once (`begin immediate`), so two writers queue on the busy timeout
    /// instead of one failing when it upgrades a read lock.
    pub async fn begin(&self, scope: Scope<'_>) -> Result<Tx, sqlx::Error> {
        let mut tx = match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin_with("begin immediate").await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        };
        tx.set_scope(scope).await?;
        Ok(tx)
    }

    /// Begins a transaction that only reads, able to see `scope`'s rows.
    pub async fn begin_read(&self, scope: Scope<'_>) -> Result<Tx, sqlx::Error> {
        let mut tx = match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        };
        tx.set_scope(scope).await?;
        Ok(tx)
    }

    /// Whether PostgreSQL enforces row-level security for this connection's role: superusers
    /// and roles with `bypassrls` skip it (SQLite has none).
    pub async fn row_security_enforced(&self) -> Result<Option<bool>, sqlx::Error> {
        match self {
            Self::Sqlite(_) => Ok(None),
            Self::Postgres(pool) => {
                let bypass: bool = sqlx::query_scalar(
                    r"select rolsuper or rolbypassrls from pg_roles where rolname = current_user",
                )
                .fetch_one(pool)
                .await?;
                Ok(Some(!bypass))
            }
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self {
            Self::Sqlite(_) => &SQLITE_MIGRATIONS,
            Self::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies every pending migration. Safe to run concurrently from several processes: each
    /// backend's migrator takes a lock.
    pub async fn migrate(&self) -> Result<SchemaStatus, DbError> {
        with_db!(self, pool => self.migrator().run(pool).await)?;
        self.schema_status().await
    }

    /// Reads which migrations are applied, without changing anything.
    pub async fn schema_status(&self) -> Result<SchemaStatus, DbError> {
        let expected = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
        let applied: Option<i64> = with_db!(self, pool => {
            let table_exists: bool = sqlx::query_scalar(self.migrations_table_exists_sql())
                .fetch_one(pool)
                .await?;
            if table_exists {
                sqlx::query_scalar(r"select max(version) from _sqlx_migrations where success")
                    .fetch_one(pool)
                    .await?
            } else {
                None
            }
        });
        Ok(SchemaStatus { applied, expected })
    }

    fn migrations_table_exists_sql(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => {
                r"select exists(select 1 from sqlite_master where type = 'table' and name = '_sqlx_migrations')"
            }
            Self::Postgres(_) => r"select to_regclass('_sqlx_migrations') is not null",
        }
    }

    /// Round-trips a trivial query: is the database reachable right now?
    pub async fn ping(&self) -> Result<(), DbError> {
        with_db!(self, pool => sqlx::query(r"select 1").execute(pool).await.map(drop))?;
        Ok(())
    }

    /// Pool figures for monitoring.
    pub fn pool_stats(&self) -> PoolStats {
        with_db!(self, pool => PoolStats {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        })
    }

    /// Closes every connection, waiting for checked-out ones to come back.
    pub async fn close(&self) {
        with_db!(self, pool => pool.close().await);
    }
}

fn create_dir(dir: &Path) -> Result<(), DbError> {
    std::fs::create_dir_all(dir).map_err(|source| DbError::Directory {
        path: dir.display().to_string(),
        source,
    })
}

/// The identity of this installation, created by the first migration.
#[derive(Clone, Debug, sqlx::FromRow, serde::Serialize)]
pub struct Instance {
    /// Random id of the installation.
    pub id: String,
    /// When the database was first migrated, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// Returns the installation record, creating it on first call.
pub async fn instance(db: &Db) -> Result<Instance, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = now_ms();
    let row = with_db!(db, pool => {
        sqlx::query(r"insert into instance (singleton, id, created_at_ms) values (1, $1, $2) on conflict (singleton) do nothing")
            .bind(&id)
            .bind(now)
            .execute(pool)
            .await?;
        sqlx::query_as::<_, Instance>(r"select id, created_at_ms from instance where singleton = 1")
            .fetch_one(pool)
            .await?
    });
    Ok(row)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}
