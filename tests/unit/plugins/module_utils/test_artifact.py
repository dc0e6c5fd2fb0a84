# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.artifact import redact_url, url_password


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://user:secret@m.example.com/uv/", "https://********@m.example.com/uv/"),
        ("https://m.example.com/uv/a?token=secret&x=1", "https://m.example.com/uv/a?token=********&x=********"),
        ("http://127.0.0.1:8080/uv/", "http://127.0.0.1:8080/uv/"),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected
    assert "secret" not in redact_url(url)


def test_url_password():
    assert url_password("https://u:p%40ss@h/") == "p%40ss"
    assert url_password("https://h/") is None
