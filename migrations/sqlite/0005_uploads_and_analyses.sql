-- Uploads (files stored in object storage, their rows here), analyses of them, and the durable
-- job queue that runs the analyses.

-- An organisation may have its own limits; null means the server's defaults.
alter table orgs add column max_upload_bytes integer;
alter table orgs add column quota_bytes integer;

create table uploads (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    name text not null,
    bytes integer not null,
    sha256 text not null,
    kind text not null,
    storage_key text not null,
    created_by text not null,
    created_at_ms integer not null
);
create index uploads_by_org on uploads (org_id, created_at_ms);
create index uploads_by_digest on uploads (org_id, sha256);

create table analyses (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    name text not null,
    status text not null,
    upload_ids text not null,
    previous_analysis_id text,
    progress text not null,
    progress_seq integer not null default 0,
    summary text,
    result_key text,
    error text,
    created_by text not null,
    created_at_ms integer not null,
    started_at_ms integer,
    finished_at_ms integer,
    cancel_requested integer not null default 0
);
create index analyses_by_org on analyses (org_id, created_at_ms);

-- One row per job. A worker claims a queued job by taking a lease (locked_by, locked_until_ms);
-- a lease that runs out (the worker died) makes the job claimable again.
create table jobs (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    kind text not null,
    subject_id text not null,
    status text not null,
    attempts integer not null default 0,
    max_attempts integer not null,
    run_after_ms integer not null,
    locked_by text,
    locked_until_ms integer,
    last_error text,
    created_at_ms integer not null,
    finished_at_ms integer
);
create index jobs_ready on jobs (status, run_after_ms);
create index jobs_by_org on jobs (org_id, status);
create unique index jobs_by_subject on jobs (kind, subject_id);
