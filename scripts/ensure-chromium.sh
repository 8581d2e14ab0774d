#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the console's browser tests
# (apps/cli/tests/console-browser.test.ts drives it with playwright-core; no browser download).
# Idempotent: does nothing when it is there. Installs it with apt-get as root (or with
# passwordless sudo); otherwise says how, and exits 1 so callers can warn. The browser tests
# then fail with the same advice: they are never skipped.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

# Root, or passwordless sudo: apt-get can install it.
as_root=none
if [ "$(id -u)" -eq 0 ]; then
  as_root=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
fi

why="installing it needs apt-get, run as root or with passwordless sudo"
if command -v apt-get >/dev/null 2>&1 && [ "$as_root" != none ]; then
  why="apt-get install chromium did not put it there (see above)"
  echo "ensure-chromium: installing Debian's chromium package for the console's browser tests"
  export DEBIAN_FRONTEND=noninteractive
  if $as_root apt-get update -qq && $as_root apt-get install -y -qq --no-install-recommends chromium && [ -x "$CHROMIUM" ]; then
    echo "ensure-chromium: $("$CHROMIUM" --version 2>/dev/null || echo chromium) is at $CHROMIUM"
    exit 0
  fi
fi

cat >&2 <<MESSAGE
ensure-chromium: Chromium is not installed at $CHROMIUM, and $why.
  The console's browser tests (apps/cli/tests/console-browser.test.ts) fail until it is there.
  Install it with:
      sudo apt-get update && sudo apt-get install -y chromium
MESSAGE
exit 1
