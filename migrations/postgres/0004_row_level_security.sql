-- Row-level security: a second line of defence behind every query's own org_id filter. Each
-- transaction names its scope in the setting `faultline.scope` (src/db.rs, `Scope`): one
-- organisation's id, or `*` for code that works across organisations (signing in, resolving a
-- token, the CLI). Rows of other organisations are invisible and cannot be written, and a
-- transaction that names no scope sees no tenant rows at all. FORCE applies the policies to the
-- tables' owner too; superusers and roles with BYPASSRLS are never subject to them, so run
-- Faultline as an ordinary role (the server warns at start-up otherwise).

create function faultline_visible(org text) returns boolean language sql stable as $$
    select case coalesce(current_setting('faultline.scope', true), '')
        when '*' then true
        when '' then false
        else org = current_setting('faultline.scope', true)
    end
$$;

alter table orgs enable row level security;
alter table orgs force row level security;
create policy tenant on orgs using (faultline_visible(id)) with check (faultline_visible(id));

alter table roles enable row level security;
alter table roles force row level security;
create policy tenant on roles using (faultline_visible(org_id)) with check (faultline_visible(org_id));

alter table memberships enable row level security;
alter table memberships force row level security;
create policy tenant on memberships using (faultline_visible(org_id)) with check (faultline_visible(org_id));

alter table teams enable row level security;
alter table teams force row level security;
create policy tenant on teams using (faultline_visible(org_id)) with check (faultline_visible(org_id));

alter table team_members enable row level security;
alter table team_members force row level security;
create policy tenant on team_members using (faultline_visible(org_id)) with check (faultline_visible(org_id));

alter table invitations enable row level security;
alter table invitations force row level security;
create policy tenant on invitations using (faultline_visible(org_id)) with check (faultline_visible(org_id));

alter table api_tokens enable row level security;
alter table api_tokens force row level security;
create policy tenant on api_tokens using (faultline_visible(org_id)) with check (faultline_visible(org_id));

alter table audit_log enable row level security;
alter table audit_log force row level security;
create policy tenant on audit_log using (faultline_visible(org_id)) with check (faultline_visible(org_id));

alter table audit_heads enable row level security;
alter table audit_heads force row level security;
create policy tenant on audit_heads using (faultline_visible(org_id)) with check (faultline_visible(org_id));
