#!/usr/bin/env bash
# Installs what building (and, with `test`, testing) Faultline needs on a fresh Debian machine,
# without asking. Safe to run repeatedly: each step is skipped when its tool is already there.
#   scripts/setup.sh          tools to build and run
#   scripts/setup.sh test     plus what the test suite needs (Chromium, PostgreSQL running)
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.129 # must equal the wasm-bindgen pin in Cargo.toml
mode=${1:-build}

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked --quiet
fi

command -v npm >/dev/null || apt_install nodejs npm
command -v gzip >/dev/null || apt_install gzip

# npm packages: binaryen (wasm-opt 123; Debian's 108 breaks hydration) and playwright-core.
if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ end2end/package-lock.json -nt end2end/node_modules/.stamp ]; then
  log "npm ci (end2end: binaryen, playwright-core)"
  (cd end2end && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.stamp)
fi

if [ "$mode" = test ]; then
  # poppler-utils renders and reads the PDF reports in the tests (pdftoppm, pdftotext).
  apt_install chromium fonts-dejavu-core poppler-utils
  # The real toolchains that cross-check generated tests: ruby -c, php -l, gofmt -e, and javac
  # with the JUnit 5 and Mockito jars.
  apt_install ruby php-cli golang-go default-jdk-headless junit5 libmockito-java
  # The sandbox runs generated suites with the host's toolchains as an unprivileged user:
  # pytest and Selenium with the system Python, RSpec, PHPUnit, go test and the JUnit console
  # launcher (junit5, above).
  apt_install python3-pytest python3-requests python3-selenium ruby-rspec phpunit
  # A real SMTP server on loopback for the mail tests.
  if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    log "pip install aiosmtpd"
    python3 -m pip install --quiet aiosmtpd==1.4.6 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages aiosmtpd==1.4.6
  fi
  # A real XLSX reader, to read the workbook exports back.
  if ! python3 -c 'import openpyxl' 2>/dev/null; then
    log "pip install openpyxl"
    python3 -m pip install --quiet openpyxl==3.1.5 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages openpyxl==3.1.5
  fi
  # pytest and requests run generated test suites against a service on loopback.
  if ! python3 -c 'import pytest, requests' 2>/dev/null; then
    log "pip install pytest requests"
    python3 -m pip install --quiet pytest==8.3.4 requests==2.32.3 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages pytest==8.3.4 requests==2.32.3
  fi
  # A real S3-compatible server on loopback for the object-storage tests.
  if ! command -v moto_server >/dev/null 2>&1; then
    log "pip install moto[server]"
    python3 -m pip install --quiet 'moto[server]==5.2.1' 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages 'moto[server]==5.2.1'
  fi
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
fi
