-- The head (last sequence number and hash) of every audit chain, kept beside the chain so that
-- deleting its newest entries is detected, and a guard against deleting entries at all while
-- their organisation exists (deleting an organisation deletes its row first, then its chain).

create table audit_heads (
    org_id text primary key,
    seq bigint not null,
    hash text not null
);

insert into audit_heads (org_id, seq, hash)
select distinct on (org_id) org_id, seq, hash
from audit_log
order by org_id, seq desc;

-- Whether the organisation exists, seen past row-level security (which would otherwise hide
-- another organisation's row and let its entries go).
create function audit_org_exists(org text) returns boolean language plpgsql as $$
declare
    scope text := current_setting('faultline.scope', true);
    found boolean;
begin
    perform set_config('faultline.scope', '*', true);
    found := exists (select 1 from orgs where id = org);
    perform set_config('faultline.scope', coalesce(scope, ''), true);
    return found;
end;
$$;

create function audit_refuse_delete() returns trigger language plpgsql as $$
begin
    if old.org_id = '' or audit_org_exists(old.org_id) then
        raise exception 'the audit log is append-only';
    end if;
    return old;
end;
$$;
create trigger audit_log_no_delete before delete on audit_log
    for each row execute function audit_refuse_delete();
create trigger audit_heads_no_delete before delete on audit_heads
    for each row execute function audit_refuse_delete();

create function audit_heads_refuse_rewind() returns trigger language plpgsql as $$
begin
    if new.seq <= old.seq then
        raise exception 'an audit chain only grows';
    end if;
    return new;
end;
$$;
create trigger audit_heads_forward_only before update on audit_heads
    for each row execute function audit_heads_refuse_rewind();
