# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""uv.toml as data: key and type checks, suggestions, credentials and redaction."""

from __future__ import annotations

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.config._uv_config import (
    HEADER,
    ConfigError,
    build_document,
    credentials,
    credentials_problem,
    index_env_name,
    redact,
    render,
    suggest,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text

tomllib = pytest.importorskip("tomllib")

CORP = {"name": "corp", "url": "https://pypi.example.com/simple", "default": True}


def test_document_holds_settings_and_indexes_in_order():
    other = {"name": "extra", "url": "https://x.example.com/simple", "explicit": True}
    document = build_document({"python-downloads": "manual", "cache-dir": None}, [CORP, other])
    assert document == {"python-downloads": "manual", "index": [CORP, other]}
    text = render(document)
    assert text.startswith("# " + HEADER[0] + "\n")
    assert tomllib.loads(text) == document


@pytest.mark.parametrize("settings, fragment", [
    ({"python-install-mirrors": "x"},
     "unknown uv setting 'python-install-mirrors'; did you mean 'python-install-mirror'?"),
    ({"python_downloads": "never"}, "unknown uv setting 'python_downloads'; did you mean 'python-downloads'?"),
    ({"sytem-certs": True}, "did you mean 'system-certs'?"),
    ({"completely-unrelated-thing": 1}, "unknown uv setting 'completely-unrelated-thing' (keys known to uv 0.13.8)"),
    ({"concurrent-downloads": "4"}, "uv setting 'concurrent-downloads' must be an integer, got a string '4'"),
    ({"concurrent-downloads": True}, "'concurrent-downloads' must be an integer, got a boolean"),
    ({"concurrent-downloads": 0}, "'concurrent-downloads' must be at least 1, got 0"),
    ({"system-certs": "yes"}, "'system-certs' must be a boolean, got a string 'yes'"),
    ({"allow-insecure-host": "localhost"}, "'allow-insecure-host' must be a list of strings, got a string"),
    ({"allow-insecure-host": ["localhost", 5]}, "'allow-insecure-host[1]' must be a string, got an integer"),
    ({"pip": {"index-urll": "x"}}, "pip: unknown key 'index-urll'; did you mean 'index-url'?"),
    ({"pip": {"no-build": "no"}}, "'pip.no-build' must be a boolean"),
    ({"pip": "x"}, "'pip' must be a dict (TOML table)"),
    ({"managed": True}, "uv setting 'managed' is not allowed in a uv.toml file"),
    ({"workspace": {"members": ["a"]}}, "'workspace' is not allowed in a uv.toml file"),
    ({"index": [CORP]}, None),
], ids=["typo", "underscores", "typo-2", "no-suggestion", "int-as-string", "bool-as-int", "minimum",
        "bool-as-string", "list-as-string", "list-item", "nested-typo", "nested-type", "table-type",
        "project-only", "project-only-2", "index-in-settings"])
def test_settings_checks(settings, fragment):
    if fragment is None:
        assert build_document(settings, []) == settings
        return
    with pytest.raises(ConfigError) as exc:
        build_document(settings, [])
    assert fragment in exc.value.msg


@pytest.mark.parametrize("indexes, fragment", [
    ([{"name": "corp", "urll": "https://x/simple"}], "indexes[0]: unknown index key 'urll'; did you mean 'url'?"),
    ([{"name": "corp"}], "indexes[0] has no url"),
    ([CORP, {"url": "https://x/simple", "default": "yes"}], "'indexes[1].default' must be a boolean"),
    (["https://x/simple"], "indexes[0] must be a dict"),
    ([{"url": "https://x/simple", "ignore-error-codes": [401, "403"]}], "indexes[0].ignore-error-codes[1]"),
])
def test_index_checks(indexes, fragment):
    with pytest.raises(ConfigError) as exc:
        build_document({}, indexes)
    assert fragment in exc.value.msg


def test_index_in_both_places_refused():
    with pytest.raises(ConfigError, match="not both"):
        build_document({"index": [CORP]}, [CORP])


def test_suggest():
    assert suggest("python-install-mirrors", ["python-install-mirror", "pypy-install-mirror"]) == "python-install-mirror"
    assert suggest("NATIVE_TLS", ["native-tls"]) == "native-tls"
    assert suggest("zzz", ["native-tls"]) is None


SECRET = "s3cr3t-Pa55"


def test_credentials_found_anywhere():
    document = {"pip": {"extra-index-url": ["https://u:%s@x/simple" % SECRET, "https://only-user@y/simple"]},
                "index": [{"name": "corp", "url": "https://bob:%s@pypi.example.com/simple" % SECRET}],
                "http-proxy": "http://proxy:%s@proxy:3128" % SECRET}
    assert [path for path, _secret in credentials(document)] == [
        "http-proxy", "index[0].url", "pip.extra-index-url[0]", "pip.extra-index-url[1]"]
    redacted = redact(document)
    assert SECRET not in repr(redacted) and "only-user" not in repr(redacted)
    assert redacted["index"][0]["url"] == "https://********@pypi.example.com/simple"
    assert redacted["pip"]["extra-index-url"][1] == "https://********@y/simple"
    assert SECRET in repr(document)  # the input is not changed


def test_no_credentials_no_problem():
    assert credentials_problem({"index": [CORP]}, 0o644) == (None, None)
    assert credentials({"index": [CORP], "allow-insecure-host": ["user@host"], "pip": {"index-url": "https://h/@x"}}) == []


@pytest.mark.parametrize("url, secret, shown", [
    ("https://%s@pypi.example.com/simple", "glpat-T0ken", "https://********@pypi.example.com/simple"),
    ("https://bob:%s@pypi.example.com/simple", "p@ss@word", "https://********@pypi.example.com/simple"),
    ("https://:%s@pypi.example.com/simple", "only-a-password", "https://********@pypi.example.com/simple"),
    ("https://pypi.example.com/simple?token=%s", "query-t0ken", "https://pypi.example.com/simple?token=********"),
], ids=["token-as-user", "raw-at-in-password", "empty-user", "query-token"])
def test_every_secret_shape_is_a_credential(url, secret, shown):
    """The collection's one policy (_secrets): any user info up to the last '@', query values."""
    document = {"index": [{"name": "corp", "url": url % secret}]}
    assert credentials(document) and credentials(document)[0][0] == "index[0].url"
    assert redact(document)["index"][0]["url"] == shown
    error, warning = credentials_problem(document, 0o644)
    assert warning is None and "other users can read (mode 0644)" in error and secret not in error
    assert "UV_INDEX_CORP_USERNAME" in error
    error, warning = credentials_problem(document, 0o600)
    assert error is None and "UV_INDEX_CORP_USERNAME" in warning


@pytest.mark.parametrize("mode, refused", [
    (0o644, True), (0o604, True), (0o666, True), (0o602, True), (0o600, False), (0o640, False), (0o400, False),
])
def test_password_mode_policy(mode, refused):
    document = {"index": [{"name": "corp.internal", "url": "https://bob:%s@pypi.example.com/simple" % SECRET}]}
    error, warning = credentials_problem(document, mode)
    text = error if refused else warning
    assert (error is not None) == refused and (warning is not None) != refused
    assert SECRET not in text
    assert "UV_INDEX_CORP_INTERNAL_USERNAME/UV_INDEX_CORP_INTERNAL_PASSWORD" in text
    assert ".netrc" in text and "keyring" in text
    if refused:
        assert "mode %04o" % mode in text and "0600 or 0640" in text


def test_password_outside_an_index_names_the_generic_variables():
    error, _warning = credentials_problem({"pip": {"index-url": "https://u:%s@x/simple" % SECRET}}, 0o644)
    assert "UV_INDEX_<NAME>_USERNAME" in error and SECRET not in error


def test_index_env_name():
    assert index_env_name("corp") == "UV_INDEX_CORP"
    assert index_env_name("my-corp.idx") == "UV_INDEX_MY_CORP_IDX"


def test_redact_text_keeps_everything_else():
    text = 'url = "https://bob:%s@h/simple"\nother = "https://h/@x"\nemail = "a@b.c"\n' % SECRET
    assert redact_text(text) == 'url = "https://********@h/simple"\nother = "https://h/@x"\nemail = "a@b.c"\n'


def test_messages_never_show_a_password():
    with pytest.raises(ConfigError) as exc:
        build_document({"index-url": ["https://bob:%s@x/simple" % SECRET]}, [])
    assert SECRET not in exc.value.msg and "********" in exc.value.msg
