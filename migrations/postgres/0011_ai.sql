-- Optional AI: an organisation's model providers (keys sealed with AES-256-GCM under the
-- server key, bound to the provider's id), its AI settings (the switch, PII redaction, the
-- monthly ceiling and routing by task), cached answers, and the usage of every call.

create table ai_providers (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    name text not null,
    kind text not null,
    base_url text not null,
    api_key_sealed text not null,
    key_hint text not null,
    models text not null,
    price_in_per_1k double precision not null,
    price_out_per_1k double precision not null,
    position integer not null,
    enabled boolean not null default true,
    created_by text not null,
    created_at_ms bigint not null,
    updated_at_ms bigint not null,
    unique (org_id, name)
);

create table ai_settings (
    org_id text primary key references orgs (id) on delete cascade,
    enabled boolean not null default true,
    redact_pii boolean not null default true,
    monthly_budget double precision,
    routes text not null default '[]',
    updated_at_ms bigint not null
);

create table ai_cache (
    org_id text not null references orgs (id) on delete cascade,
    key text not null,
    provider_id text not null,
    model text not null,
    answer text not null,
    tokens_in bigint not null,
    tokens_out bigint not null,
    created_at_ms bigint not null,
    primary key (org_id, key)
);

create table ai_usage (
    id text primary key,
    org_id text not null references orgs (id) on delete cascade,
    user_id text,
    task text not null,
    provider_id text,
    provider text not null,
    model text not null,
    tokens_in bigint not null,
    tokens_out bigint not null,
    cost double precision not null,
    cached boolean not null,
    outcome text not null,
    duration_ms bigint not null,
    at_ms bigint not null
);
create index ai_usage_by_org on ai_usage (org_id, at_ms);

alter table ai_providers enable row level security;
alter table ai_providers force row level security;
create policy tenant on ai_providers using (faultline_visible(org_id)) with check (faultline_visible(org_id));
alter table ai_settings enable row level security;
alter table ai_settings force row level security;
create policy tenant on ai_settings using (faultline_visible(org_id)) with check (faultline_visible(org_id));
alter table ai_cache enable row level security;
alter table ai_cache force row level security;
create policy tenant on ai_cache using (faultline_visible(org_id)) with check (faultline_visible(org_id));
alter table ai_usage enable row level security;
alter table ai_usage force row level security;
create policy tenant on ai_usage using (faultline_visible(org_id)) with check (faultline_visible(org_id));
