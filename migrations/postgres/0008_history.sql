-- History: projects that group analyses (by service), and what the history page searches and
-- filters by without opening each result: the file names, the highest severity, the event
-- count, the detected service, the model (none yet: the built-in engine) and every template.

create table projects (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    name text not null,
    description text not null default '',
    created_by text not null,
    created_at_ms bigint not null
);
create unique index projects_by_name on projects (org_id, lower(name));

alter table analyses add column project_id text references projects (id) on delete set null;
alter table analyses add column files text not null default '';
alter table analyses add column top_severity text;
alter table analyses add column events bigint;
alter table analyses add column service text;
alter table analyses add column model text;
create index analyses_by_project on analyses (org_id, project_id, created_at_ms);

-- Earlier analyses: their file names and totals are known; their templates stay unsearched.
update analyses set files = coalesce((
    select string_agg(u.name, E'\n') from jsonb_array_elements_text(analyses.upload_ids::jsonb) j (id)
    join uploads u on u.id = j.id
), '');
update analyses set events = (summary::jsonb ->> 'events')::bigint where summary is not null;

create table analysis_templates (
    analysis_id text not null references analyses (id) on delete cascade,
    org_id text not null references orgs (id) on delete cascade,
    template text not null
);
create index analysis_templates_by_analysis on analysis_templates (analysis_id);

alter table projects enable row level security;
alter table projects force row level security;
create policy tenant on projects using (faultline_visible(org_id)) with check (faultline_visible(org_id));

alter table analysis_templates enable row level security;
alter table analysis_templates force row level security;
create policy tenant on analysis_templates using (faultline_visible(org_id)) with check (faultline_visible(org_id));
