# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils.release_mirrors import (
    DEFAULT_MIRROR,
    checksum_url,
    parse_checksum_file,
    parse_checksum_option,
    render_url,
)

T = "x86_64-unknown-linux-gnu"
A = "uv-%s.tar.gz" % T
HEX = "16c1ebc01461bad1f1c1b96b607f17fd45df2553d76396ee911b242f9af6d9e3"


@pytest.mark.parametrize(
    "template, version, expected",
    [
        (DEFAULT_MIRROR, "0.5.11", "https://github.com/astral-sh/uv/releases/download/0.5.11/" + A),
        (DEFAULT_MIRROR, "latest", "https://github.com/astral-sh/uv/releases/latest/download/" + A),
        ("https://ghe.example.com/astral-sh/uv/releases/download/{version}/{artifact}", "latest",
         "https://ghe.example.com/astral-sh/uv/releases/latest/download/" + A),
        ("http://127.0.0.1:8080/uv/{version}/", "0.5.11", "http://127.0.0.1:8080/uv/0.5.11/" + A),
        ("http://127.0.0.1:8080/uv/{version}", "0.5.11", "http://127.0.0.1:8080/uv/0.5.11/" + A),
        ("http://127.0.0.1:8080/uv/{version}/", "latest", "http://127.0.0.1:8080/uv/latest/" + A),
        ("https://s3.example.com/bucket/uv/", "latest", "https://s3.example.com/bucket/uv/" + A),
        ("https://s3.example.com/bucket/uv", "0.13.8", "https://s3.example.com/bucket/uv/" + A),
        ("https://m.example.com/{target}/v{version}", "0.13.8", "https://m.example.com/%s/v0.13.8/%s" % (T, A)),
        ("https://m.example.com/uv/?token=abc", "0.13.8", "https://m.example.com/uv/%s?token=abc" % A),
    ],
)
def test_render_url(template, version, expected):
    assert render_url(template, version, T, A) == expected


@pytest.mark.parametrize(
    "template, fragment",
    [
        ("mirror.example.com/uv/", "not an http:// or https:// URL"),
        ("ftp://mirror.example.com/uv/", "not an http:// or https:// URL"),
        ("http:///uv/", "not an http:// or https:// URL"),
        ("https://m.example.com/{tag}/{artifact}", "unknown placeholder(s) {tag}"),
    ],
)
def test_render_url_rejects(template, fragment):
    with pytest.raises(MirrorError) as info:
        render_url(template, "0.5.11", T, A)
    assert fragment in info.value.msg


def test_checksum_url_keeps_query_after_the_path():
    assert checksum_url("https://m/uv/%s?sig=1" % A) == "https://m/uv/%s.sha256?sig=1" % A


@pytest.mark.parametrize(
    "text",
    [
        "%s  %s\n" % (HEX, A),  # uv's own jobs
        "%s *%s\n" % (HEX, A),  # cargo-dist
        "%s\n" % HEX,  # bare
        HEX.upper(),
        "%s  ./%s" % (HEX, A),
        "%s  uv-aarch64-unknown-linux-gnu.tar.gz\n%s  %s\n%s  uv-x86_64-unknown-linux-musl.tar.gz\n" % (
            "1" * 64, HEX, A, "2" * 64),  # a release's sha256.sum
    ],
    ids=["two-spaces", "star", "bare", "upper", "dot-slash", "sha256.sum"],
)
def test_parse_checksum_file(text, ):
    assert parse_checksum_file(text, A) == HEX


def test_parse_checksum_file_other_names_only():
    assert parse_checksum_file("%s  uv-other.tar.gz\n" % HEX, A) is None


@pytest.mark.parametrize("text", ["", "   \n", "<html>Not Found</html>", "%s" % HEX[:-1], "deadbeef  " + A])
def test_parse_checksum_file_malformed(text):
    with pytest.raises(ChecksumError):
        parse_checksum_file(text, A)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, ("sidecar", None)),
        ("", ("sidecar", None)),
        ("sha256:" + HEX, ("hex", HEX)),
        ("SHA256:" + HEX.upper(), ("hex", HEX)),
        ("sha256:https://m/uv/sha256.sum", ("url", "https://m/uv/sha256.sum")),
    ],
)
def test_parse_checksum_option(value, expected):
    assert parse_checksum_option(value) == expected


@pytest.mark.parametrize("value", [HEX, "md5:abc", "sha256:", "sha256:xyz", "sha256:ftp://m/sum"])
def test_parse_checksum_option_rejects(value):
    with pytest.raises(ChecksumError) as info:
        parse_checksum_option(value)
    assert "sha256:" in info.value.msg


# -- BSD-style checksum lines (recorded outputs in fixtures/checksums/) --------------------


CHECKSUM_FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "checksums")
GNU_SHA = "e1ab39b101a42eeb61eb11f8400770dc34943711284549617078f70e670a3882"
MUSL_SHA = "fdb0008ffc2153e8c70326c9fc3936b455835cc3fe701156bf7b4ab74b686497"


@pytest.mark.parametrize(
    "fixture", ["sha256sum-tag.sha256", "sha256sum-tag.sum", "shasum-tag.sha256", "openssl3-dgst.sha256",
                "openssl3-dgst.sum"],
)
def test_parse_checksum_file_bsd_recorded(fixture):
    with open(os.path.join(CHECKSUM_FIXTURES, fixture)) as handle:
        text = handle.read()
    assert parse_checksum_file(text, A) == GNU_SHA
    expected_musl = MUSL_SHA if fixture.endswith(".sum") else None
    assert parse_checksum_file(text, "uv-x86_64-unknown-linux-musl.tar.gz") == expected_musl


@pytest.mark.parametrize(
    "text",
    [
        "SHA256(%s)= %s\n" % (A, HEX),  # OpenSSL 1.x
        "SHA256 (./%s) = %s\n" % (A, HEX.upper()),  # sha256sum --tag ./name
        "\\SHA256 (%s) = %s\n" % (A, HEX),  # coreutils escaped-name marker
        "SHA512 (%s) = %s\nSHA256 (%s) = %s\n" % (A, "ab" * 64, A, HEX),  # other algorithms are skipped
        "%s  uv-other.tar.gz\nSHA256 (%s) = %s\n" % ("1" * 64, A, HEX),  # mixed styles in one list
    ],
    ids=["openssl1", "dot-slash-upper", "escaped", "sha512-skipped", "mixed"],
)
def test_parse_checksum_file_bsd_variants(text):
    assert parse_checksum_file(text, A) == HEX


@pytest.mark.parametrize(
    "text",
    ["SHA256 (%s) = %s\n" % (A, HEX[:-1]), "SHA256 %s = %s\n" % (A, HEX), "SHA256 () = %s\n" % HEX],
    ids=["short-digest", "no-parens", "empty-name"],
)
def test_parse_checksum_file_bsd_malformed(text):
    with pytest.raises(ChecksumError):
        parse_checksum_file(text, A)
