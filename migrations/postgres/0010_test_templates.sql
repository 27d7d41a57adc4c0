-- Custom test templates: a team's own file scaffold and test, written once per error pattern
-- with the pattern's values. Every member of the organisation may use them.

create table test_templates (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    team_id text not null references teams (id) on delete cascade,
    name text not null,
    framework text not null,
    prelude text not null,
    test text not null,
    epilogue text not null,
    updated_by text not null,
    updated_at_ms bigint not null,
    unique (org_id, team_id, name)
);
create index test_templates_by_org on test_templates (org_id, name);

alter table test_templates enable row level security;
alter table test_templates force row level security;
create policy tenant on test_templates using (faultline_visible(org_id)) with check (faultline_visible(org_id));
