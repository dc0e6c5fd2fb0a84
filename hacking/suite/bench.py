# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bench-smoke stage: a quick run of benchmarks/run.py, so that it never rots."""

from __future__ import annotations

import json
import os
import sys
import tempfile

from .common import ROOT, run


def stage_bench_smoke(track: str, ctx: dict) -> None:
    """A quick run of benchmarks/run.py so that it never rots. Its figures are not judged; uv_venv's
    correctness is: what it reports after a fresh install, on the no-op, on a real change and in
    check mode (the run's venv_correctness_uv_venv note), and no index request on the pinned no-op."""
    with tempfile.TemporaryDirectory(prefix="uv-bench-smoke-") as scratch:
        out = os.path.join(scratch, "smoke.json")
        run([sys.executable, os.path.join(ROOT, "benchmarks", "run.py"), "--quick", "--json", out])
        with open(out) as handle:
            data = json.load(handle)
    report = data["notes"].get("venv_correctness_uv_venv")
    requests = data["results"].get("venv_pinned_noop_uv_venv_requests", {})
    if not report or "wrong" not in report:
        raise SystemExit("bench-smoke: no uv_venv correctness report (%r; %r)"
                         % (report, data["results"].get("venv_fresh_install_uv_venv_s")))
    if report["wrong"]:
        raise SystemExit("bench-smoke: uv_venv reported wrongly: %s (%s)"
                         % (", ".join(report["wrong"]), json.dumps(report)))
    if requests.get("max") != 0:
        raise SystemExit("bench-smoke: uv_venv's pinned no-op asked the index: %r" % (requests,))
    print("bench-smoke: uv_venv correctness %s; pinned no-op index requests 0" % json.dumps(report))
