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
from ansible_collections.pyfleet.uv.plugins.module_utils.install._artifacts import _fetcher_class
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


class PageFetcher(object):
    """The transport edge for an index page: hands ``body`` to the page parser, as a fetcher does."""

    def __init__(self, body):
        self.body = body

    def get_page(self, url, accept, make_parser):
        from ansible_collections.pyfleet.uv.plugins.module_utils.install._fetch import Response
        parser = make_parser(url, "application/vnd.pypi.simple.v1+json")
        parser.feed(self.body)
        return Response(url, 200, body=parser)


WHEEL = "uv-0.5.11-py3-none-manylinux_2_17_x86_64.whl"


@pytest.mark.parametrize("name, refused", [
    (WHEEL, False),
    (WHEEL + "\n", True),  # the wheel name pattern's "$" admits a final newline
], ids=["plain", "newline"])
def test_index_file_names_must_be_plain(name, refused):
    """An index file name becomes a file name on the host and the controller: only a plain one is taken."""
    from ansible_collections.pyfleet.uv.plugins.module_utils.install._artifacts import Notes, SourceClient
    from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
    page = json.dumps({"files": [{"filename": name, "url": "https://idx.example/files/x.whl",
                                  "hashes": {"sha256": "a" * 64}}]}).encode()
    params = dict(allow_missing_checksum=False, index_url="https://idx.example/simple/", mirror_url=None)
    client = SourceClient(params, ("sidecar", None), PageFetcher(page), Notes(), lambda _w: None)
    assert client.resolve("0.5.11") == "0.5.11"
    if refused:
        with pytest.raises(MirrorError, match="not a plain file name"):
            client.artifact("0.5.11", "x86_64-unknown-linux-gnu")
    else:
        assert client.artifact("0.5.11", "x86_64-unknown-linux-gnu").name == WHEEL
