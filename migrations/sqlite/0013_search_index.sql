-- When a finished analysis' templates were recorded for the history's search. Analyses that
-- finished before migration 0008 have none: the server reads their stored results back and
-- records them in the background, oldest first.

alter table analyses add column indexed_at_ms integer;
update analyses set indexed_at_ms = finished_at_ms
    where status = 'done'
      and (top_severity is not null
           or exists (select 1 from analysis_templates t where t.analysis_id = analyses.id));
create index analyses_unindexed on analyses (finished_at_ms) where indexed_at_ms is null and status = 'done';
