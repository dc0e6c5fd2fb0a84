# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version resolution on the controller (PEP 440 specifiers with packaging)."""

from __future__ import annotations

import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
from ansible_collections.pyfleet.uv.plugins.plugin_utils._source import pick_version, source_options

VERSIONS = {"0.5.11": False, "0.13.8": False, "0.13.9": True, "0.13.10": False, "0.14.0": False,
            "0.15.0a1": False, "not-a-version": False}


@pytest.mark.parametrize(
    "spec, expected",
    [
        (">=0.13,<0.14", "0.13.10"),
        ("~=0.13.0", "0.13.10"),
        ("==0.13.*", "0.13.10"),
        ("==0.13.9", None),  # yanked: never chosen by a specifier
        ("<0.13", "0.5.11"),
        (">=0.14", "0.14.0"),  # the pre-release 0.15.0a1 is not admitted
        (">=0.15.0a1", "0.15.0a1"),  # unless the specifier names one
        (">=1.0", None),
        ("!=0.13.10,>=0.13,<0.14", "0.13.8"),
    ],
)
def test_pick_version(spec, expected):
    assert pick_version(VERSIONS, spec) == expected


def test_pick_version_rejects_garbage():
    with pytest.raises(MirrorError, match="not a valid PEP 440 specifier"):
        pick_version(VERSIONS, "=>0.13")


def test_source_options_defaults_and_exclusion():
    options = source_options({"index_url": "http://127.0.0.1:1/simple/", "unrelated": 1})
    assert options["timeout"] == 30 and options["download_retries"] == 3 and "unrelated" not in options
    with pytest.raises(MirrorError, match="mutually exclusive"):
        source_options({"index_url": "http://127.0.0.1:1/simple/", "mirror_url": "http://127.0.0.1:1/"})


def test_missing_requests_gives_a_clear_message(monkeypatch):
    from ansible_collections.pyfleet.uv.plugins.plugin_utils import _http

    monkeypatch.setitem(sys.modules, "requests", None)
    with pytest.raises(MirrorError, match="need the Python package 'requests' on the controller"):
        _http.load_requests()
