-- The head (last sequence number and hash) of every audit chain, kept beside the chain so that
-- deleting its newest entries is detected, and a guard against deleting entries at all while
-- their organisation exists (deleting an organisation deletes its row first, then its chain).

create table audit_heads (
    org_id text primary key,
    seq integer not null,
    hash text not null
);

insert into audit_heads (org_id, seq, hash)
select a.org_id, a.seq, a.hash
from audit_log a
where a.seq = (select max(b.seq) from audit_log b where b.org_id = a.org_id);

create trigger audit_log_no_delete before delete on audit_log
when old.org_id = '' or exists (select 1 from orgs where id = old.org_id)
begin
    select raise(abort, 'the audit log is append-only');
end;

create trigger audit_heads_forward_only before update on audit_heads
when new.seq <= old.seq
begin
    select raise(abort, 'an audit chain only grows');
end;

create trigger audit_heads_no_delete before delete on audit_heads
when old.org_id = '' or exists (select 1 from orgs where id = old.org_id)
begin
    select raise(abort, 'the audit log is append-only');
end;
