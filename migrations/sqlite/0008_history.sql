-- History: projects that group analyses (by service), and what the history page searches and
-- filters by without opening each result: the file names, the highest severity, the event
-- count, the detected service, the model (none yet: the built-in engine) and every template.

create table projects (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    name text not null,
    description text not null default '',
    created_by text not null,
    created_at_ms integer not null
);
create unique index projects_by_name on projects (org_id, lower(name));

alter table analyses add column project_id text references projects (id) on delete set null;
alter table analyses add column files text not null default '';
alter table analyses add column top_severity text;
alter table analyses add column events integer;
alter table analyses add column service text;
alter table analyses add column model text;
create index analyses_by_project on analyses (org_id, project_id, created_at_ms);

-- Earlier analyses: their file names and totals are known; their templates stay unsearched.
update analyses set files = coalesce((
    select group_concat(u.name, char(10)) from json_each(analyses.upload_ids) j
    join uploads u on u.id = j.value
), '');
update analyses set events = json_extract(summary, '$.events') where summary is not null;

create table analysis_templates (
    analysis_id text not null references analyses (id) on delete cascade,
    org_id text not null references orgs (id) on delete cascade,
    template text not null
);
create index analysis_templates_by_analysis on analysis_templates (analysis_id);
