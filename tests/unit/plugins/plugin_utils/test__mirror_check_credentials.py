# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv_mirror_check keeps an index's credentials on the index's origin (issue 33 item 7).

A real ``ControllerSource`` and ``SourceChecker`` against two loopback servers that record
the headers they receive: an index whose project page links its wheel on another host
(a CDN, object storage), as uv_install would download it.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from ansible_collections.pyfleet.uv.plugins.plugin_utils import _mirror_check as mc
from ansible_collections.pyfleet.uv.plugins.plugin_utils._source import ControllerSource

from ansible_collections.pyfleet.uv.tests.unit.plugins.module_utils.test__credentials import serve

PW = "idx-pw-s3cret-value"
TOKEN = "idx-tok-s3cret-value"
WHEEL = "uv-0.5.11-py3-none-manylinux_2_17_x86_64.whl"
BODY = b"not really a wheel, but its sha256 is published"


@pytest.mark.parametrize("verify", [False, True], ids=["probe", "verify"])
def test_wheel_checks_send_nothing_to_another_origin(tmp_path, verify):
    with serve() as index, serve() as cdn:
        page = {"meta": {"api-version": "1.0"}, "name": "uv", "files": [
            {"filename": WHEEL, "url": cdn.url + "/wheels/" + WHEEL,
             "hashes": {"sha256": hashlib.sha256(BODY).hexdigest()}}]}
        index.routes["/simple/uv/"] = (200, {"Content-Type": "application/vnd.pypi.simple.v1+json"},
                                       json.dumps(page).encode())
        cdn.routes["/wheels/" + WHEEL] = (200, {}, BODY)
        args = dict(index_url=index.url + "/simple/", url_username="fleet", url_password=PW, force_basic_auth=True,
                    headers={"X-Index-Token": TOKEN}, download_retries=0, timeout=5, use_proxy=False)
        source = ControllerSource(args, str(tmp_path / "cache"), lambda _w: None)
        version = source.resolve("0.5.11")
        source.client.resolve(version)
        found = mc.SourceChecker(source, version, verify=verify)("x86_64-unknown-linux-gnu")
        assert found.served and found.usable, found.note
        assert found.verified is (True if verify else None)
        sent = index.seen[0][1]
        assert sent["X-Index-Token"] == TOKEN and sent["Authorization"] == "Basic " + base64.b64encode(
            ("fleet:" + PW).encode()).decode()
        assert cdn.seen, "the wheel was not asked for"
        for _path, headers in cdn.seen:
            assert "Authorization" not in headers and "X-Index-Token" not in headers, headers
            assert PW not in repr(headers) and TOKEN not in repr(headers)
