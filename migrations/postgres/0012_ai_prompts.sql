-- Teams' custom AI prompts: a system prompt, an analysis prompt and a test prompt, each kept as
-- numbered versions (the latest is used; an empty body means the built-in prompt).

create table ai_prompts (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    team_id text not null references teams (id) on delete cascade,
    kind text not null,
    version integer not null,
    body text not null,
    created_by text not null,
    author text not null,
    created_at_ms bigint not null,
    unique (org_id, team_id, kind, version)
);

-- `faultline` names the built-in engine in AI answers; a provider named so is renamed.
update ai_providers set name = name || ' (provider)' where lower(name) = 'faultline';

alter table ai_prompts enable row level security;
alter table ai_prompts force row level security;
create policy tenant on ai_prompts using (faultline_visible(org_id)) with check (faultline_visible(org_id));
