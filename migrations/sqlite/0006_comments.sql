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
    created_at_ms integer not null,
    edited_at_ms integer,
    deleted_at_ms integer
);
create index comments_by_pattern on comments (analysis_id, pattern_id, created_at_ms);

-- Who a comment mentions: each mention is a notification until its reader marks it read.
create table mentions (
    comment_id text not null references comments (id) on delete cascade,
    org_id text not null references orgs (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    created_at_ms integer not null,
    read_at_ms integer,
    primary key (comment_id, user_id)
);
create index mentions_by_user on mentions (org_id, user_id, created_at_ms);
