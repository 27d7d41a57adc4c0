-- Row-level security exists on PostgreSQL only (see migrations/postgres); SQLite is embedded,
-- with no other roles to guard against. This keeps both backends at the same schema version.
select 1;
