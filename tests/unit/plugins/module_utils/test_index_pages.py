# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# Recorded pages of real servers (fixtures/index/SOURCES.md) and a padded page written
# at test time by fixtures/index/make_padded.py.

import importlib.util
import json as _json
import os

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils.index_pages import IndexPageParser, project_url

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


def test_project_url():
    assert project_url("http://127.0.0.1:1/simple") == project_url("http://127.0.0.1:1/simple/") == \
        "http://127.0.0.1:1/simple/uv/"
