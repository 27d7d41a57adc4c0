-- Test generation: each member's and each team's choices (framework, CI system, preferences
-- and project context), kept as one JSON document per owner in an organisation.

create table test_settings (
    org_id text not null references orgs (id) on delete cascade,
    owner_kind text not null check (owner_kind in ('user', 'team')),
    owner_id text not null,
    settings text not null,
    updated_by text not null,
    updated_at_ms bigint not null,
    primary key (org_id, owner_kind, owner_id)
);
