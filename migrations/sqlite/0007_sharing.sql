-- Who sees an analysis: everyone in the organisation ('org', as before), the teams it is shared
-- with ('teams'), or only its author ('private'); owners and admins see every analysis. A share
-- may carry a role key whose analysis permissions the team's members get on that analysis.
alter table analyses add column visibility text not null default 'org';

create table analysis_shares (
    analysis_id text not null references analyses (id) on delete cascade,
    org_id text not null references orgs (id) on delete cascade,
    team_id text not null references teams (id) on delete cascade,
    role text,
    created_at_ms integer not null,
    primary key (analysis_id, team_id)
);
create index analysis_shares_by_team on analysis_shares (org_id, team_id);
