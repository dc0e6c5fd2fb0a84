# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one secret policy: user info of any shape, the last '@', query values."""

from __future__ import annotations

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import (
    MASK,
    masking_module_class,
    redact_text,
    redact_url,
    register_secrets,
    url_secrets,
)


@pytest.mark.parametrize(
    "url, shown, secrets",
    [
        ("https://user:pa@ss@host.example:8443/simple/", "https://%s@host.example:8443/simple/" % MASK,
         ["user:pa@ss", "pa@ss"]),
        ("https://glpat-TOKEN123@gitlab.example/api/v4/projects/1/packages/pypi/simple",
         "https://%s@gitlab.example/api/v4/projects/1/packages/pypi/simple" % MASK, ["glpat-TOKEN123"]),
        ("https://:only-password@h/", "https://%s@h/" % MASK, [":only-password", "only-password"]),
        ("https://h/uv/a.tar.gz?sv=2020&sig=abc%2Fdef&v=1",
         "https://h/uv/a.tar.gz?sv=%s&sig=%s&v=%s" % (MASK, MASK, MASK), ["2020", "abc%2Fdef", "abc/def"]),
        ("http://127.0.0.1:8080/uv/", "http://127.0.0.1:8080/uv/", []),
    ],
)
def test_url_policy(url, shown, secrets):
    assert redact_url(url) == shown
    assert url_secrets(url) == secrets
    for secret in secrets:
        assert secret not in redact_url(url)
        assert secret not in redact_text("failed: %s (HTTP 404)" % url)


def test_redact_text_masks_every_url_in_a_file():
    text = 'url = "https://u:p@ss@idx.example/simple"\nmirror = "https://TOK@m.example/p?token=abcdef"\n'
    shown = redact_text(text)
    for secret in ("p@ss", "TOK", "abcdef", "u:p"):
        assert secret not in shown
    assert "idx.example/simple" in shown and "m.example/p?token=" in shown


def test_register_walks_nested_options():
    found = set()
    register_secrets(found, {"settings": {"index": [{"url": "https://T0KEN@h/s"}]}, "other": "x"}, ["settings"])
    assert found == {"T0KEN"}


def test_masking_module_registers_before_the_spec_is_checked():
    class Base(object):
        def __init__(self):
            self.no_log_values = set()
            self._load_params()
            raise RuntimeError("spec failure")  # what a failed argument spec does next

        def _load_params(self):
            self.params = {"mirror_url": "https://u:hunter22@m/", "index_url": None}

    seen = {}

    class Probe(masking_module_class(Base, ["mirror_url", "index_url"])):
        def __init__(self):
            try:
                super(Probe, self).__init__()
            except RuntimeError:
                seen["values"] = set(self.no_log_values)

    Probe()
    assert "hunter22" in seen["values"]


@pytest.mark.parametrize("password", ["QQQ'SECRET5", 'QQQ"SECRET6', "QQQ\\SECRET2", "QQQ<SECRET7>", "pa ss@SECRET8"])
def test_user_info_with_quotes_backslashes_and_blanks(password):
    url = "https://user:%s@127.0.0.1/simple" % password
    secrets = url_secrets(url)
    assert password in secrets
    assert password not in redact_url(url)
    if " " not in password:  # a blank ends a URL in free text; as an option value it is split whole
        assert password not in redact_text('url = "%s"\n' % url)
        assert password not in redact_text("error: invalid port in %s" % url)


def test_toml_escaped_forms_are_registered():
    # What uv prints when it quotes the file back: the TOML string escapes of the password.
    secrets = url_secrets('https://user:QQQ\\SE"CRET@h/simple')
    assert 'QQQ\\\\SE\\"CRET' in secrets


def test_short_user_tokens_are_masked_but_not_registered():
    assert url_secrets("https://x@h/simple") == []
    assert redact_url("https://x@h/simple") == "https://%s@h/simple" % MASK
