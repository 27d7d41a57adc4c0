-- When a finished analysis' templates were recorded for the history's search. Analyses that
-- finished before migration 0008 have none: the server reads their stored results back and
-- records them in the background, oldest first.

-- Row-level security hides every row from an ordinary role without a scope; this migration
-- runs in one transaction, so the scope ends with it.
select set_config('faultline.scope', '*', true);

alter table analyses add column indexed_at_ms bigint;
update analyses set indexed_at_ms = finished_at_ms
    where status = 'done'
      and (top_severity is not null
           or exists (select 1 from analysis_templates t where t.analysis_id = analyses.id));
create index analyses_unindexed on analyses (finished_at_ms) where indexed_at_ms is null and status = 'done';
