# Faultline: `make run` builds and serves the app; `make test` runs the whole test suite.
# Both install what they need first (scripts/setup.sh). Configuration comes from the
# environment (see README.md), e.g. `FAULTLINE_ADDR=127.0.0.1:8080 make run`.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR
SITE ?= $(CURDIR)/target/site
export SITE
BIN := $(CARGO_TARGET_DIR)/release/faultline
# The browser tests drive the debug build that `make unit` has just compiled for the integration
# tests: the same code, with overflow checks, and without the release build's many minutes.
E2E_BIN := $(CARGO_TARGET_DIR)/debug/faultline
# Tests run on SQLite always and on PostgreSQL when TEST_DATABASE_URL is set (.ci/run sets it).
TEST_DATABASE_URL ?=
export TEST_DATABASE_URL

.PHONY: help setup setup-test site build run migrate test fmt-check clippy unit e2e bench-size clean

help:
	@echo "make run    build and serve Faultline at http://$${FAULTLINE_ADDR:-127.0.0.1:3000}"
	@echo "make test   run the whole test suite (fmt, clippy, tests on SQLite and PostgreSQL, browser tests)"

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

site: setup
	@scripts/build-site.sh

build: site
	cargo build --release -p server

run: build
	FAULTLINE_SITE_ROOT="$${FAULTLINE_SITE_ROOT:-$(SITE)}" \
	FAULTLINE_TEST_NODE_MODULES="$${FAULTLINE_TEST_NODE_MODULES:-$(CURDIR)/end2end/node_modules}" $(BIN) serve

migrate: build
	$(BIN) migrate

fmt-check:
	cargo fmt --all --check

clippy:
	cargo clippy -p server -p app --all-targets -- -D warnings
	cargo clippy -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

unit:
	@if [ -n "$(TEST_DATABASE_URL)" ]; then echo "==> tests on SQLite and PostgreSQL ($(TEST_DATABASE_URL))"; \
	else echo "==> tests on SQLite (set TEST_DATABASE_URL=postgres://... to add PostgreSQL)"; fi
	cargo test -p app -p server

e2e: site
	cargo test -p app -p server --no-run
	cd end2end && FAULTLINE_BIN="$(E2E_BIN)" SITE="$(SITE)" npm test

test: setup-test fmt-check clippy unit e2e

clean:
	cargo clean
	rm -rf target/site data/faultline.db*
