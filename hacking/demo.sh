#!/usr/bin/env bash
# The main job (see README.md): build a loopback mirror from the real uv wheels and
# install uv from it with a playbook, twice.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 hacking/suite demo "$@"
