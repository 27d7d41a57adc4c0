-- Threaded comments on an analysis' patterns, and the people they mention.

-- A thread is a first comment and its replies: every comment names the first comment of its
-- thread (a first comment names itself). Deleting a comment blanks it and keeps the row, so
-- the replies under it keep their place; deleting the analysis removes them all.
create table comments (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    analysis_id text not null references analyses (id) on delete cascade,
    pattern_id text not null,
    thread_id text not null,
    author_id text references users (id) on delete set null,
    body text not null,
    created_at_ms bigint not null,
    edited_at_ms bigint,
    deleted_at_ms bigint
);
create index comments_by_pattern on comments (analysis_id, pattern_id, created_at_ms);

-- Who a comment mentions: each mention is a notification until its reader marks it read.
create table mentions (
    comment_id text not null references comments (id) on delete cascade,
    org_id text not null references orgs (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    created_at_ms bigint not null,
    read_at_ms bigint,
    primary key (comment_id, user_id)
);
create index mentions_by_user on mentions (org_id, user_id, created_at_ms);

alter table comments enable row level security;
alter table comments force row level security;
create policy tenant on comments using (faultline_visible(org_id)) with check (faultline_visible(org_id));

alter table mentions enable row level security;
alter table mentions force row level security;
create policy tenant on mentions using (faultline_visible(org_id)) with check (faultline_visible(org_id));
