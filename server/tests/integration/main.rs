//! Integration tests: the real router, in-process, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL.

mod accuracy;
mod ai;
mod audit;
mod auth;
mod compare;
mod discussion;
mod golden;
mod helpers;
mod history;
mod http;
mod identity;
mod ingest;
mod lifecycle;
mod mail;
mod matrix;
mod openapi;
mod pages;
mod probes;
mod processes;
mod sharing;
mod storage;
mod tenancy;
mod testgen;
mod workspace;
