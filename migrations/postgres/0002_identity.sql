-- Identity and tenancy: users, organisations (tenants), memberships, custom roles, teams,
-- sessions with rotating refresh tokens, one-time email tokens, invitations, API tokens and
-- the tamper-evident audit log. Every tenant-owned row carries its org_id.

create table users (
    id text primary key,
    email text not null unique,
    password_hash text not null,
    email_verified_at_ms bigint,
    disabled_at_ms bigint,
    password_changed_at_ms bigint not null,
    totp_secret text,
    totp_pending_secret text,
    totp_enabled_at_ms bigint,
    totp_last_step bigint,
    theme text not null default 'system',
    default_framework text not null default 'pytest',
    time_zone text not null default 'UTC',
    created_at_ms bigint not null
);

create table recovery_codes (
    user_id text not null references users (id) on delete cascade,
    code_hash text not null,
    used_at_ms bigint,
    primary key (user_id, code_hash)
);

create table orgs (
    id text primary key,
    slug text not null unique,
    name text not null,
    require_mfa boolean not null default false,
    created_at_ms bigint not null
);

create table roles (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    name text not null,
    permissions text not null,
    created_at_ms bigint not null,
    unique (org_id, name)
);

-- role is a built-in key (owner, admin, member, viewer) or the id of a custom role in roles.
create table memberships (
    org_id text not null references orgs (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    role text not null,
    created_at_ms bigint not null,
    primary key (org_id, user_id)
);
create index memberships_by_user on memberships (user_id);

create table teams (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    name text not null,
    created_at_ms bigint not null,
    unique (org_id, name)
);

create table team_members (
    org_id text not null references orgs (id) on delete cascade,
    team_id text not null references teams (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    created_at_ms bigint not null,
    primary key (team_id, user_id)
);

-- A session is a refresh-token family: rotating a token keeps the session, reusing an old one
-- revokes it.
create table sessions (
    id text primary key,
    user_id text not null references users (id) on delete cascade,
    created_at_ms bigint not null,
    last_used_at_ms bigint not null,
    expires_at_ms bigint not null,
    revoked_at_ms bigint,
    revoked_reason text,
    mfa boolean not null,
    user_agent text not null,
    ip text not null
);
create index sessions_by_user on sessions (user_id);

create table refresh_tokens (
    token_hash text primary key,
    session_id text not null references sessions (id) on delete cascade,
    created_at_ms bigint not null,
    used_at_ms bigint
);
create index refresh_tokens_by_session on refresh_tokens (session_id);

-- Single-use links sent by mail: email verification and password reset.
create table email_tokens (
    token_hash text primary key,
    user_id text not null references users (id) on delete cascade,
    purpose text not null,
    created_at_ms bigint not null,
    expires_at_ms bigint not null,
    used_at_ms bigint
);

create table invitations (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    email text not null,
    role text not null,
    team_id text references teams (id) on delete set null,
    token_hash text not null unique,
    invited_by text not null,
    created_at_ms bigint not null,
    expires_at_ms bigint not null,
    accepted_at_ms bigint,
    accepted_by text,
    revoked_at_ms bigint
);
create index invitations_by_org on invitations (org_id);

-- kind is 'personal' (acts as user_id, limited to scopes) or 'org' (acts as the organisation).
create table api_tokens (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    kind text not null,
    name text not null,
    token_hash text not null unique,
    prefix text not null,
    scopes text not null,
    created_at_ms bigint not null,
    expires_at_ms bigint not null,
    last_used_at_ms bigint,
    revoked_at_ms bigint
);
create index api_tokens_by_org on api_tokens (org_id);

-- Append-only, one hash chain per organisation (org_id '' holds events outside any
-- organisation). hash = SHA-256 over prev_hash and the entry's fields; see src/audit.rs.
create table audit_log (
    org_id text not null,
    seq bigint not null,
    at_ms bigint not null,
    actor_id text not null,
    actor text not null,
    action text not null,
    target text not null,
    ip text not null,
    detail text not null,
    prev_hash text not null,
    hash text not null,
    primary key (org_id, seq)
);
create index audit_log_by_action on audit_log (org_id, action);

create function audit_log_refuse_update() returns trigger language plpgsql as $$
begin
    raise exception 'the audit log is append-only';
end;
$$;
create trigger audit_log_append_only before update on audit_log
    for each row execute function audit_log_refuse_update();
