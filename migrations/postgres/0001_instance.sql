-- The identity of this installation: one row, created on first start.
create table instance (
    singleton smallint primary key check (singleton = 1),
    id text not null,
    created_at_ms bigint not null
);
