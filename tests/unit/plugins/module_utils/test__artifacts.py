# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = r"""
import json, sys
%s
from ansible_collections.pyfleet.uv.plugins.module_utils._artifacts import _fetcher_class
fetcher = _fetcher_class()
from ansible.module_utils import urls
loaded = sorted(name for name in sys.modules if name.split(".")[0] == "cryptography" and sys.modules[name] is not None)
blocked = "cryptography" in sys.modules and sys.modules["cryptography"] is None
import cryptography.x509  # allowed again after the import
print(json.dumps({"fetcher": fetcher.__name__, "loaded": loaded, "blocked": blocked,
                  "has_cryptography": urls.HAS_CRYPTOGRAPHY}))
"""


def probe(before=""):
    out = subprocess.run([sys.executable, "-c", PROBE % before], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_http_stack_is_imported_without_cryptography():
    pytest.importorskip("cryptography.x509")
    result = probe()
    assert result == {"fetcher": "Fetcher", "loaded": [], "blocked": False, "has_cryptography": False}, result


def test_cryptography_imported_before_is_left_alone():
    pytest.importorskip("cryptography.x509")
    result = probe("import cryptography.x509")
    assert result["fetcher"] == "Fetcher" and result["has_cryptography"] is True and result["loaded"], result
