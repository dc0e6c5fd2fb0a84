# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lint stage's judgement: dependency deprecation warnings are recorded, findings fail."""

from __future__ import annotations

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "hacking"))

import lint_output  # noqa: E402  pylint: disable=wrong-import-position

VENV = "/root/.cache/pyfleet-uv/venvs/tool-lint-b451ccd22f96"
CLONE = "/tmp/uv-lint-x/pyfleet-uv"
SUMMARY = re.compile(r"^Passed: 0 failure\(s\), 0 warning\(s\) in \d+ files processed")
AGENT = VENV + "/lib/python3.12/site-packages/ansible/_internal/_ssh/_ssh_agent.py"
DSA = "DSA is deprecated and support will be removed in a future release. Use a more modern signature algorithm."
# What ansible-lint 26.10.1 printed with ansible-core 2.21.5 and cryptography 51.0.1 (issue 27).
REAL = "\n".join([
    "%s:18: CryptographyDeprecationWarning: %s" % (AGENT, DSA),
    "  from cryptography.hazmat.primitives.asymmetric.dsa import (",
    "WARNING  %s:18 CryptographyDeprecationWarning %s" % (AGENT, DSA),
    "WARNING  %s:18 CryptographyDeprecationWarning %s" % (AGENT, DSA),
    "",
    "Passed: 0 failure(s), 0 warning(s) in 130 files processed of 157 encountered. "
    "Profile 'production' was required, and it passed.",
])


def test_dependency_deprecation_warnings_are_tolerated_and_named():
    summaries, tolerated, findings = lint_output.classify(REAL, VENV, CLONE, SUMMARY)
    assert findings == []
    assert len(summaries) == 1
    assert len(tolerated) == 3
    described = lint_output.describe_tolerated(tolerated, VENV)
    assert "CryptographyDeprecationWarning from ansible/_internal/_ssh/_ssh_agent.py:18" in described


def test_a_finding_about_our_content_fails_beside_them():
    text = REAL + "\nname[missing]: All tasks should be named.\nhacking/demo.yml:12 Task/Handler: command\n"
    _summaries, tolerated, findings = lint_output.classify(text, VENV, CLONE, SUMMARY)
    assert len(tolerated) == 3
    assert findings == ["name[missing]: All tasks should be named.", "hacking/demo.yml:12 Task/Handler: command"]


def test_a_warning_about_our_files_is_a_finding():
    ours = "WARNING  %s/plugins/modules/uv_install.py:3 DeprecationWarning something of ours" % CLONE
    _summaries, tolerated, findings = lint_output.classify(ours, VENV, CLONE, SUMMARY)
    assert tolerated == [] and findings == [ours]


def test_other_warning_categories_from_the_venv_are_findings():
    other = "WARNING  %s:18 UserWarning %s" % (AGENT, DSA)
    outside = "WARNING  /usr/lib/python3/dist-packages/x.py:1 DeprecationWarning elsewhere"
    _summaries, tolerated, findings = lint_output.classify(other + "\n" + outside, VENV, CLONE, SUMMARY)
    assert tolerated == [] and findings == [other, outside]


def test_a_failed_summary_is_not_a_summary():
    failed = "Failed: 1 failure(s), 0 warning(s) on 131 files. Profile 'production' was required, but 'min' passed."
    summaries, _tolerated, findings = lint_output.classify(failed, VENV, CLONE, SUMMARY)
    assert summaries == [] and findings == [failed]
