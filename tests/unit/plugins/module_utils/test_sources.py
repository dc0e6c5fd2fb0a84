# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils.sources import (
    DEFAULT_MIRROR,
    checksum_url,
    parse_checksum_file,
    parse_checksum_option,
    redact_url,
    render_url,
    url_password,
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

import os  # noqa: E402  pylint: disable=wrong-import-position

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


# -- package index pages ------------------------------------------------------------
# Recorded pages of real servers (fixtures/index/SOURCES.md) and a padded page written
# at test time by fixtures/index/make_padded.py.

import importlib.util  # noqa: E402
import json as _json  # noqa: E402

from ansible_collections.pyfleet.uv.plugins.module_utils.sources import (  # noqa: E402
    IndexPageParser,
    check_version_option,
    is_specifier,
    parse_wheel_name,
    project_url,
    target_build,
    version_key,
    wheel_build,
)

INDEX_FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "index")
with open(os.path.join(INDEX_FIXTURES, "pages.json")) as _handle:
    _RECORDED = _json.load(_handle)
PAGES = _RECORDED["pages"]
REAL_SHA = _RECORDED["sha256"]
GNU, MUSL = "x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"
AGNU, AMUSL = "aarch64-unknown-linux-gnu", "aarch64-unknown-linux-musl"


def parse_fixture(name, want=None, chunk=997):
    meta = PAGES[name]
    parser = IndexPageParser(meta["page_url"], meta["content_type"], want=want)
    with open(os.path.join(INDEX_FIXTURES, name), "rb") as handle:
        data = handle.read()
    for start in range(0, len(data), chunk):  # odd chunk sizes cut tags, keys and UTF-8
        parser.feed(data[start:start + chunk])
    return parser.close()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_recorded_pages_pinned(name):
    page = parse_fixture(name, want="0.13.8")
    assert page.selected == "0.13.8"
    assert page.dialect == ("json" if name.endswith(".json") else "html")
    gnu = page.artifact(GNU)
    assert gnu.name == "uv-0.13.8-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    assert gnu.sha256 == REAL_SHA[gnu.name] and gnu.fmt == "wheel" and not gnu.yanked
    assert gnu.url.startswith(("http://", "https://")) and gnu.url.endswith("/" + gnu.name)
    assert "#" not in gnu.url
    musl = page.artifact(MUSL)
    assert musl.name == "uv-0.13.8-py3-none-musllinux_1_1_x86_64.whl" and musl.sha256 == REAL_SHA[musl.name]
    if any("aarch64" in f.filename for f in page.files):
        assert page.artifact(AGNU).name == "uv-0.13.8-py3-none-manylinux_2_28_aarch64.whl"
        assert "musllinux_1_1_aarch64" in page.artifact(AMUSL).name


@pytest.mark.parametrize("name, latest", [("pypiserver.html", "0.13.8"), ("devpi-root-dev.json", "0.13.8"),
                                          ("devpi-root-dev.html", "0.13.8"), ("artifactory-absolute.html", "0.13.9")])
def test_recorded_pages_latest_without_yanks(name, latest):
    page = parse_fixture(name)
    assert page.selected == page.latest() == latest
    assert set(page.versions) >= {"0.5.11", "0.13.8"}
    assert not any(page.versions.values())


@pytest.mark.parametrize("name", ["devpi-mirror-yanked.json", "devpi-mirror-yanked.html", "static-yanked.html",
                                  "static-yanked.json"])
def test_recorded_pages_latest_skips_yanked(name):
    page = parse_fixture(name)
    assert page.versions["0.13.9"] is True
    assert page.selected == "0.13.8"
    pinned = parse_fixture(name, want="0.13.9")
    assert pinned.selected == "0.13.9" and pinned.artifact(GNU).yanked


def _origin_of(name):
    url = PAGES[name]["page_url"]
    return url[:url.index("/", len("http://"))]


def test_relative_urls_resolve_against_the_page():
    page = parse_fixture("pypiserver.html", want="0.13.8")  # root-relative /packages/...
    assert page.artifact(GNU).url == _origin_of("pypiserver.html") + "/packages/" + page.artifact(GNU).name
    page = parse_fixture("static-yanked.html", want="0.13.8")  # ../../packages/uv/<version>/...
    assert page.artifact(GNU).url.startswith(_origin_of("static-yanked.html") + "/yanked/packages/uv/0.13.8/")
    page = parse_fixture("devpi-root-dev.json", want="0.13.8")  # ../../+f/...
    assert page.artifact(GNU).url.startswith(_origin_of("devpi-root-dev.json") + "/root/dev/+f/")
    page = parse_fixture("artifactory-absolute.html", want="0.13.8")
    assert page.artifact(GNU).url.startswith("https://artifactory.example.com/artifactory/api/pypi/")


def test_unknown_version_selects_nothing():
    page = parse_fixture("devpi-root-dev.json", want="9.9.9")
    assert page.selected is None and page.artifact(GNU) is None


def _padded(tmp_path):
    spec = importlib.util.spec_from_file_location("make_padded", os.path.join(INDEX_FIXTURES, "make_padded.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_padded(str(tmp_path))


@pytest.mark.parametrize("dialect, content_type", [("json", "application/vnd.pypi.simple.v1+json"),
                                                   ("html", "text/html"), ("json", None), ("html", "")])
def test_padded_page_streams(tmp_path, dialect, content_type):
    expected = _padded(tmp_path)
    parser = IndexPageParser(expected["page_url"], content_type)
    with open(expected[dialect], "rb") as handle:
        for chunk in iter(lambda: handle.read(65536), b""):
            parser.feed(chunk)
    page = parser.close()
    assert len(page.versions) == expected["versions"]
    assert page.selected == expected["latest"]
    # Only the selected release's wheels are kept, whatever the page's length.
    assert {f.version for f in page.files} == {expected["latest"]}
    wanted = expected["wheels"][expected["latest"]]["x86_64-gnu"]
    artifact = page.artifact(GNU)
    assert (artifact.name, artifact.sha256, artifact.url) == (wanted["filename"], wanted["sha256"], wanted["url"])
    assert {v for v, yanked in page.versions.items() if yanked} == set(expected["yanked"])


def test_json_page_without_files_is_refused():
    parser = IndexPageParser("http://127.0.0.1:1/simple/uv/", "application/vnd.pypi.simple.v1+json")
    parser.feed(b'{"meta": {"api-version": "1.0"}, "name": "uv"}')
    with pytest.raises(MirrorError, match="without a 'files' list"):
        parser.close()


def test_truncated_json_page_is_refused():
    parser = IndexPageParser("http://127.0.0.1:1/simple/uv/", "application/vnd.pypi.simple.v1+json")
    parser.feed(b'{"files": [{"filename": "uv-0.13.8-py3-none-musllinux_1_1_x86_64.whl", "url": "x"},')
    with pytest.raises(MirrorError, match="truncated"):
        parser.close()


@pytest.mark.parametrize(
    "tags, build",
    [
        ("manylinux_2_17_x86_64.manylinux2014_x86_64", ("x86_64", "gnu")),
        ("musllinux_1_1_x86_64", ("x86_64", "musl")),
        ("manylinux_2_28_aarch64", ("aarch64", "gnu")),
        ("manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64", ("aarch64", "musl")),
        ("linux_armv6l", ("armv6l", "musl")),
        ("manylinux_2_17_armv7l.manylinux2014_armv7l", ("armv7l", "gnu")),
        ("manylinux_2_31_riscv64", ("riscv64", "gnu")),
        ("manylinux_2_17_ppc64le.manylinux2014_ppc64le", ("ppc64le", "gnu")),
        ("macosx_11_0_arm64", None),
        ("win_amd64", None),
        ("manylinux_2_17_x86_64.manylinux_2_17_i686", None),
    ],
)
def test_wheel_build(tags, build):
    assert wheel_build(tags.split(".")) == build


@pytest.mark.parametrize(
    "target, build",
    [(GNU, ("x86_64", "gnu")), (AMUSL, ("aarch64", "musl")), ("armv7-unknown-linux-gnueabihf", ("armv7l", "gnu")),
     ("arm-unknown-linux-musleabihf", ("armv6l", "musl")), ("powerpc64le-unknown-linux-gnu", ("ppc64le", "gnu")),
     ("riscv64gc-unknown-linux-gnu", ("riscv64", "gnu")), ("i686-unknown-linux-musl", ("i686", "musl"))],
)
def test_target_build_matches_wheel_build(target, build):
    assert target_build(target) == build


def test_parse_wheel_name_and_versions():
    assert parse_wheel_name("uv-0.13.9-py3-none-musllinux_1_1_x86_64.whl") == ("0.13.9", ["musllinux_1_1_x86_64"])
    assert parse_wheel_name("uv_build-0.13.9-py3-none-any.whl") is None
    assert parse_wheel_name("uv-0.13.9.tar.gz") is None
    assert version_key("0.13.10") > version_key("0.13.9") > version_key("0.2.0")
    assert version_key("0.14.0a1") is None
    assert project_url("http://127.0.0.1:1/simple") == project_url("http://127.0.0.1:1/simple/") == \
        "http://127.0.0.1:1/simple/uv/"


@pytest.mark.parametrize("value", ["latest", "0.13.8", " 0.13.8 "])
def test_check_version_option_accepts(value):
    assert check_version_option(value) == value.strip()


@pytest.mark.parametrize("value", [">=0.13,<0.14", "~=0.13.0", "==0.13.*"])
def test_specifiers_are_for_the_controller(value):
    assert is_specifier(value)
    assert check_version_option(value, allow_specifier=True) == value
    with pytest.raises(MirrorError, match="resolves those on the controller"):
        check_version_option(value)


@pytest.mark.parametrize("value, fragment", [("v0.13.8", "without the leading 'v'"), ("0.13", "X.Y.Z"),
                                             ("newest", "X.Y.Z"), (">=", "X.Y.Z")])
def test_check_version_option_rejects(value, fragment):
    with pytest.raises(MirrorError, match=fragment):
        check_version_option(value, allow_specifier=True)


# -- compressed tag sets ----------------------------------------------------------------
# The wheel spec (and packaging.tags.parse_tag) expand dots in each of the three parts.

from ansible_collections.pyfleet.uv.plugins.module_utils.sources import (  # noqa: E402
    expand_tag_set,
    wheel_metadata_platforms,
)


@pytest.mark.parametrize(
    "tag_set, tags",
    [
        ("py3-none-musllinux_1_1_x86_64", [("py3", "none", "musllinux_1_1_x86_64")]),
        ("py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64",
         [("py3", "none", "manylinux_2_17_x86_64"), ("py3", "none", "manylinux2014_x86_64")]),
        ("py2.py3-none-any", [("py2", "none", "any"), ("py3", "none", "any")]),
        ("cp311-abi3.none-linux_x86_64", [("cp311", "abi3", "linux_x86_64"), ("cp311", "none", "linux_x86_64")]),
        ("py2.py3-abi3.none-a.b", [("py2", "abi3", "a"), ("py2", "abi3", "b"), ("py2", "none", "a"), ("py2", "none", "b"),
                                   ("py3", "abi3", "a"), ("py3", "abi3", "b"), ("py3", "none", "a"), ("py3", "none", "b")]),
        ("  PY3-None-Manylinux2014_X86_64 ", [("py3", "none", "manylinux2014_x86_64")]),
        ("py3-none-linux_armv6l.linux_armv6l", [("py3", "none", "linux_armv6l")]),
        ("py3-none", []),
        ("py3-none-any-extra", []),
        ("py3-none-a..b", []),
        ("py3--any", []),
        ("", []),
        (None, []),
    ],
    ids=["one", "two-platforms", "two-interpreters", "two-abis", "all-three", "case-and-space", "duplicate",
         "two-parts", "four-parts", "empty-platform", "empty-abi", "empty", "none"],
)
def test_expand_tag_set(tag_set, tags):
    assert expand_tag_set(tag_set) == tags


def test_expand_tag_set_is_packagings_parse_tag():
    """Same set as pypa/packaging's parse_tag (installed with ansible-core on the controller)."""
    tags = pytest.importorskip("packaging.tags")
    for tag_set in ("py3-none-manylinux_2_17_aarch64.manylinux2014_aarch64.musllinux_1_1_aarch64",
                    "py2.py3-abi3.none-manylinux1_x86_64.linux_x86_64", "py3-none-any"):
        assert set(expand_tag_set(tag_set)) == {(t.interpreter, t.abi, t.platform) for t in tags.parse_tag(tag_set)}


@pytest.mark.parametrize(
    "filename, parsed",
    [
        ("uv-0.5.11-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
         ("0.5.11", ["manylinux_2_17_x86_64", "manylinux2014_x86_64"])),
        ("uv-0.5.11-1-py3-none-musllinux_1_1_x86_64.whl", ("0.5.11", ["musllinux_1_1_x86_64"])),
        ("uv-0.5.11-py2.py3-none-linux_armv6l.whl", ("0.5.11", ["linux_armv6l"])),
        ("uv-0.5.11-py3-abi3.none-manylinux_2_28_aarch64.whl", ("0.5.11", ["manylinux_2_28_aarch64"])),
        ("uv-0.5.11-cp312-cp312-manylinux_2_28_aarch64.whl", None),
        ("uv-0.5.11-py3-none.whl", None),
    ],
    ids=["compressed-platform", "build-tag", "compressed-interpreter", "compressed-abi", "not-py3-none", "two-parts"],
)
def test_parse_wheel_name_expands_compressed_tags(filename, parsed):
    assert parse_wheel_name(filename) == parsed


def test_wheel_metadata_platforms():
    compressed = "Wheel-Version: 1.0\nGenerator: maturin (1.7.4)\nRoot-Is-Purelib: false\n" \
                 "Tag: py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64\n"
    assert wheel_metadata_platforms(compressed) == ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    one_per_line = "Wheel-Version: 1.0\r\ntag: py3-none-manylinux_2_17_aarch64\r\nTag:py3-none-musllinux_1_1_aarch64\r\n"
    assert wheel_metadata_platforms(one_per_line) == ["manylinux_2_17_aarch64", "musllinux_1_1_aarch64"]
    assert wheel_metadata_platforms("Wheel-Version: 1.0\nTag: cp312-cp312-manylinux_2_28_aarch64\n") == []
    assert wheel_metadata_platforms("Generator: Tag: py3-none-any\n") == []
    assert wheel_metadata_platforms("") == []


# -- recorded wheels of real uv releases (fixtures/wheels/SOURCES.md) --------------------------

WHEEL_FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "wheels")
# e_machine of the recorded uv binaries -> the architecture in wheel tags (EM_ARM is both
# ARM wheels; the tags tell armv6l from armv7l).
_EM_WHEEL_ARCH = {62: ("x86_64",), 183: ("aarch64",), 3: ("i686",), 40: ("armv7l", "armv6l")}


def _recorded_wheels():
    with open(os.path.join(WHEEL_FIXTURES, "elf.txt")) as handle:
        facts = dict(line.rstrip("\n").split(" ", 1) for line in handle if line.strip() and not line.startswith("#"))
    names = sorted(n[:-len(".WHEEL")] for n in os.listdir(WHEEL_FIXTURES) if n.endswith(".whl.WHEEL"))
    assert sorted(facts) == names, "elf.txt and the .WHEEL files must name the same wheels"
    return [(name, facts[name]) for name in names]


RECORDED_WHEELS = _recorded_wheels()


@pytest.mark.parametrize("name, elf", RECORDED_WHEELS, ids=[n for n, _e in RECORDED_WHEELS])
def test_recorded_wheel_name_and_metadata_give_the_build_of_its_uv(name, elf):
    """File name, WHEEL tags and the uv binary inside (its recorded ELF header) tell one build.

    The expected family follows DESIGN's rule, from the name alone: any musllinux tag or
    linux_armv6l means the static musl build; and the binary agrees (static = musl, glibc's
    ld-linux* = gnu).
    """
    with open(os.path.join(WHEEL_FIXTURES, name + ".WHEEL")) as handle:
        metadata = handle.read()
    _bits, _order, machine, interpreter = elf.split(" ")
    platforms = name.split("-")[-1][:-len(".whl")].split(".")
    family = "musl" if any(p.startswith("musllinux") or p == "linux_armv6l" for p in platforms) else "gnu"
    assert family == ("musl" if interpreter == "static" else "gnu" if "/ld-linux" in interpreter else None)
    assert parse_wheel_name(name)[1] == wheel_metadata_platforms(metadata) == platforms
    by_name = wheel_build(parse_wheel_name(name)[1])
    by_metadata = wheel_build(wheel_metadata_platforms(metadata))
    assert by_name == by_metadata
    assert by_name[1] == family and by_name[0] in _EM_WHEEL_ARCH[int(machine)]


def test_recorded_wheels_cover_both_tag_styles_and_the_range():
    versions = set()
    compressed = per_line = 0
    for name, _elf in RECORDED_WHEELS:
        versions.add(tuple(int(x) for x in name.split("-")[1].split(".")))
        with open(os.path.join(WHEEL_FIXTURES, name + ".WHEEL")) as handle:
            lines = [line for line in handle.read().splitlines() if line.startswith("Tag:")]
        if "." in name.split("-")[-1][:-len(".whl")]:
            if len(lines) == 1:
                compressed += 1
            else:
                per_line += 1
    assert compressed and per_line
    assert min(versions) < (0, 2) and max(versions) >= (0, 13) and len(versions) >= 6
