#!/usr/bin/env bash
# The whole test suite, with all set-up (see README.md). Extra arguments go to
# `hacking/suite test` (hacking/suite/__init__.py), e.g. --stage units-newest.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 hacking/suite test "$@"
