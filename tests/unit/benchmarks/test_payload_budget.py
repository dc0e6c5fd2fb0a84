# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No module's payload grows past its budget (issue 32).

Each module's AnsiballZ payload is built by ansible-core's own dependency finder
(benchmarks/payload.py, in a child interpreter so that ansible's collection loader never
enters this process) and the files and KB of this collection's module_utils in it are held
against benchmarks/payload_budget.json. A module without a budget fails too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PAYLOAD = os.path.join(ROOT, "benchmarks", "payload.py")
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import payload  # noqa: E402  pylint: disable=wrong-import-position

MODULES = payload.modules(ROOT)


@pytest.fixture(scope="module")
def measured():
    out = subprocess.run([sys.executable, PAYLOAD, "--json", "--root", ROOT], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["modules"]


@pytest.mark.parametrize("module", MODULES)
def test_module_payload_within_its_budget(measured, module):
    budgets = payload.load_budget()
    problems = payload.judge({module: measured[module]}, {module: budgets[module]} if module in budgets else {})
    assert not problems, "\n".join(problems)


def test_every_budget_names_a_module():
    stale = sorted(set(payload.load_budget()) - set(MODULES))
    assert not stale, "budgets for modules that do not exist: %s (remove them from %s)" % (stale, payload.BUDGET)


def test_payload_is_what_the_finder_packs(measured):
    """The measure reads the real payload: uv_install's download code comes with it, through
    imports inside functions too, and ansible's own module_utils are counted apart."""
    install = measured["uv_install"]
    assert {"install/_fetch.py", "install/_archive.py", "install/_archive_stream.py", "libc.py", "targets.py"} <= set(install["collection_mu"])
    assert "config/_uv_settings.py" not in install["collection_mu"]
    assert install["ansible_mu_files"] > 10
    assert install["zip_kb"] > 0
    assert set(measured) == set(MODULES)


ROW = {"collection_mu_files": 3, "collection_mu_kb": 10.9, "collection_mu": ["_errors.py", "tools.py", "x.py"]}
BUDGET = {"collection_mu_files": 4, "collection_mu_kb": 12.0}


@pytest.mark.parametrize("row, budgets, expected", [
    (ROW, {"m": BUDGET}, []),
    (dict(ROW, collection_mu_kb=12.0), {"m": BUDGET}, []),
    (dict(ROW, collection_mu_kb=12.1), {"m": BUDGET}, ["m's payload has grown past its budget: KB of this collection's "
                                                       "module_utils 12.1 > 12.0 (it packs _errors.py, tools.py, x.py)"]),
    (dict(ROW, collection_mu_files=5), {"m": BUDGET}, ["m's payload has grown past its budget: files of this "
                                                       "collection's module_utils 5 > 4"]),
    (ROW, {}, ["m has no payload budget: add an entry to benchmarks/payload_budget.json"]),
    (ROW, {"m": {"collection_mu_kb": 12.0}}, ["m's budget has no 'collection_mu_files'"]),
    (ROW, {"m": BUDGET, "gone": BUDGET}, ["benchmarks/payload_budget.json has a budget for gone, which is not a module"]),
], ids=["within", "at-the-budget", "kb-over", "files-over", "no-budget", "budget-without-files", "stale-budget"])
def test_judge(row, budgets, expected):
    problems = payload.judge({"m": row}, budgets)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected):
        assert problem.startswith(start), problem


def test_suggest_adds_a_small_margin():
    assert payload.suggest(ROW) == {"collection_mu_files": 4, "collection_mu_kb": 12.0,
                                    "today": {"collection_mu_files": 3, "collection_mu_kb": 10.9}}
    big = dict(ROW, collection_mu_files=17, collection_mu_kb=189.5)
    assert payload.suggest(big)["collection_mu_kb"] == 195.5
