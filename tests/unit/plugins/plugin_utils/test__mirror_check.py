# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SourceChecker: one target's artifact as uv_install would see it, through the controller source.

The controller source is the real one (run memo, artifact cache, SourceClient) over a
table of files instead of HTTP; each test counts the requests per URL.
"""

from __future__ import annotations

import collections
import hashlib

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils.install._artifacts import Notes, SourceClient
from ansible_collections.pyfleet.uv.plugins.module_utils.install._fetch import Response
from ansible_collections.pyfleet.uv.plugins.module_utils.release_mirrors import parse_checksum_option
from ansible_collections.pyfleet.uv.plugins.plugin_utils._cache import ArtifactCache, MemoFetcher, RunMemo
from ansible_collections.pyfleet.uv.plugins.plugin_utils._mirror_check import SourceChecker
from ansible_collections.pyfleet.uv.plugins.plugin_utils._source import ControllerSource, source_options

GNU, MUSL = "x86_64-unknown-linux-gnu", "x86_64-unknown-linux-musl"
BASE = "http://127.0.0.1:9/uv/0.13.8/"
ARCHIVE = {GNU: b"gnu archive bytes", MUSL: b"musl archive bytes"}
SHA = {t: hashlib.sha256(data).hexdigest() for t, data in ARCHIVE.items()}


def url(target, suffix=""):
    return "%suv-%s.tar.gz%s" % (BASE, target, suffix)


def sidecar(target, digest=None):
    return ("%s  uv-%s.tar.gz\n" % (digest or SHA[target], target)).encode()


class TableFetcher:
    """Answers from ``{url: bytes}`` (404 otherwise), counting each request."""

    def __init__(self, files):
        self.files = files
        self.attempts = []
        self.asked = collections.Counter()

    def _answer(self, target):
        self.asked[target] += 1
        status = 200 if target in self.files else 404
        self.attempts.append((target, status))
        return status

    def get_small(self, target, limit=1 << 20, accept=None):
        status = self._answer(target)
        return Response(target, status, body=self.files.get(target))

    def probe(self, target):
        return Response(target, self._answer(target))

    def get_page(self, target, accept, make_parser, limit=None):
        raise AssertionError("no index here")

    def download(self, target, dest, max_bytes, origin=None):
        status = self._answer(target)
        if status != 200:
            return Response(target, status)
        with open(dest, "wb") as handle:
            handle.write(self.files[target])
        data = self.files[target]
        return Response(target, 200, body=(hashlib.sha256(data).hexdigest(), len(data)))

    def tried(self):
        return "; ".join("%s -> %s" % item for item in self.attempts)


def controller_source(tmp_path, files, **options):
    """A real ControllerSource whose HTTP is ``TableFetcher``."""
    source = ControllerSource.__new__(ControllerSource)
    source.options = source_options(dict(mirror_url=BASE, **options))
    source.cache_dir = str(tmp_path)
    source.memo = RunMemo(str(tmp_path), run="test")
    source.http = TableFetcher(files)
    source.fetcher = MemoFetcher(source.http, source.memo)
    source.notes = Notes()
    source.warnings = []
    source.warn = source.warnings.append
    source.checksum = parse_checksum_option(source.options["checksum"])
    source.client = SourceClient(source.options, source.checksum, source.fetcher, source.notes, source.warn)
    source.cache = ArtifactCache(str(tmp_path))
    return source


def check(tmp_path, files, target=GNU, verify=False, **options):
    source = controller_source(tmp_path, files, **options)
    checker = SourceChecker(source, "0.13.8", verify=verify, allow_missing=source.options["allow_missing_checksum"])
    return checker(target), source.http.asked


ALL = {url(GNU): ARCHIVE[GNU], url(GNU, ".sha256"): sidecar(GNU),
       url(MUSL): ARCHIVE[MUSL], url(MUSL, ".sha256"): sidecar(MUSL)}


def test_served_with_a_sidecar(tmp_path):
    found, asked = check(tmp_path, ALL)
    assert (found.served, found.usable, found.checksum, found.sha256, found.verified, found.problem) == (
        True, True, "sidecar", SHA[GNU], None, None)
    assert found.url == url(GNU) and found.name == "uv-%s.tar.gz" % GNU
    assert found.note == "served; sha256 from the sidecar"
    # The sidecar, then one GET of the archive whose body is not read.
    assert asked == {url(GNU, ".sha256"): 1, url(GNU): 1}


def test_not_served(tmp_path):
    found, asked = check(tmp_path, {})
    assert (found.served, found.usable, found.checksum, found.sha256) == (False, False, None, None)
    assert found.note == "not served (HTTP 404)"
    assert found.publish == "uv-%s.tar.gz at %s" % (GNU, url(GNU))
    assert asked == {url(GNU, ".sha256"): 1, url(GNU): 1}


def test_served_without_a_checksum_is_a_problem_a_host_would_hit(tmp_path):
    found, asked = check(tmp_path, {url(GNU): ARCHIVE[GNU]})
    assert found.served and found.usable and found.checksum is None
    assert "checksum sidecar" in found.problem and "allow_missing_checksum" in found.problem
    assert asked == {url(GNU, ".sha256"): 1, url(GNU): 1}


def test_served_without_a_checksum_when_allowed(tmp_path):
    found, _asked = check(tmp_path, {url(GNU): ARCHIVE[GNU]}, allow_missing_checksum=True)
    assert found.served and found.usable and found.problem is None and found.checksum is None
    assert "no checksum published" in found.note


def test_verify_without_a_checksum_records_the_download(tmp_path):
    found, _asked = check(tmp_path, {url(GNU): ARCHIVE[GNU]}, allow_missing_checksum=True, verify=True)
    assert found.served and found.verified is None and found.sha256 == SHA[GNU]


def test_checksum_option_and_sha256_sum(tmp_path):
    found, asked = check(tmp_path, ALL, checksum="sha256:" + SHA[GNU])
    assert found.checksum == "option" and found.sha256 == SHA[GNU]
    assert asked == {url(GNU): 1}  # no sidecar asked

    sums = BASE + "sha256.sum"
    files = dict(ALL, **{sums: sidecar(MUSL)})  # lists the musl archive only
    found, asked = check(tmp_path / "b", files, checksum="sha256:" + sums)
    # uv_install passes over an archive its checksum file does not list: served, not usable.
    assert found.served and not found.usable and found.checksum is None
    assert found.note.startswith("served, but not listed in " + sums)
    assert found.publish == "the line of uv-%s.tar.gz in %s" % (GNU, sums)
    found, _asked = check(tmp_path / "c", files, target=MUSL, checksum="sha256:" + sums)
    assert found.usable and found.checksum == "sha256.sum" and found.sha256 == SHA[MUSL]


def test_verify_downloads_once_and_fills_the_cache(tmp_path):
    found, asked = check(tmp_path, ALL, verify=True)
    assert found.served and found.verified is True and found.problem is None
    assert asked == {url(GNU, ".sha256"): 1, url(GNU): 1}  # the download is the only GET of the archive
    assert (tmp_path / "sha256" / ("%s-uv-%s.tar.gz" % (SHA[GNU], GNU))).exists()
    # A later run with the archive cached: one probe (is it still served?) and no download.
    source = controller_source(tmp_path, ALL)
    source.memo = RunMemo(str(tmp_path), run="later")
    source.fetcher = MemoFetcher(source.http, source.memo)
    source.client = SourceClient(source.options, source.checksum, source.fetcher, source.notes, source.warn)
    found = SourceChecker(source, "0.13.8", verify=True)(GNU)
    assert found.verified is True
    assert source.http.asked == {url(GNU, ".sha256"): 1, url(GNU): 1}


def test_verify_finds_a_tampered_sidecar(tmp_path):
    wrong = "0" * 64
    files = dict(ALL, **{url(GNU, ".sha256"): sidecar(GNU, wrong)})
    found, asked = check(tmp_path, files, verify=True)
    assert found.served and found.usable and found.verified is False
    assert found.sha256 == wrong
    assert found.problem == "the download does not match the sha256 from the sidecar: expected %s, got %s" % (
        wrong, SHA[GNU])
    assert not list((tmp_path / "sha256").glob("*.tar.gz"))


def test_verify_of_an_archive_that_is_gone(tmp_path):
    files = {url(GNU, ".sha256"): sidecar(GNU)}  # the sidecar stayed behind
    found, _asked = check(tmp_path, files, verify=True)
    assert not found.served and not found.usable and found.note == "not served (HTTP 404)"


@pytest.mark.parametrize("verify", [False, True], ids=["probe", "verify"])
def test_each_url_once_per_run_whatever_the_number_of_checks(tmp_path, verify):
    source = controller_source(tmp_path, ALL)
    for _host in range(5):
        found = SourceChecker(source, "0.13.8", verify=verify)(GNU)
        assert found.served
    assert source.http.asked == {url(GNU, ".sha256"): 1, url(GNU): 1}
