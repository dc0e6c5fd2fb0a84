# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller cache: one download per artifact for all forks, verified before each use."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError
from ansible_collections.pyfleet.uv.plugins.module_utils.sources import Artifact
from ansible_collections.pyfleet.uv.plugins.plugin_utils._cache import ArtifactCache, MemoFetcher, RunMemo, run_id

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "utils"))
import uvmirror  # noqa: E402  pylint: disable=wrong-import-position

requests = pytest.importorskip("requests")
from ansible_collections.pyfleet.uv.plugins.plugin_utils._http import ControllerFetcher  # noqa: E402

BODY = os.urandom(300000)
SHA = hashlib.sha256(BODY).hexdigest()
NAME = "uv-x86_64-unknown-linux-gnu.tar.gz"


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / NAME).write_bytes(BODY)
    (root / (NAME + ".sha256")).write_text("%s  %s\n" % (SHA, NAME))
    srv = uvmirror.MirrorServer(str(root)).start()
    yield srv
    srv.stop()


def artifact(server):
    return Artifact("mirror", "x86_64-unknown-linux-gnu", "0.13.8", NAME, server.url + "/" + NAME, "tar.gz")


def fetch_in_fork(args):
    cache_dir, url = args
    cache = ArtifactCache(cache_dir)
    fetcher = ControllerFetcher({"timeout": 60}, retries=0)
    item = Artifact("mirror", "x86_64-unknown-linux-gnu", "0.13.8", NAME, url, "tar.gz")
    path, sha, _new = cache.fetch(item, SHA, fetcher, 10 ** 8, lambda text: None)
    return path, sha


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_parallel_forks_download_once(server, tmp_path):
    cache_dir = str(tmp_path / "cache")
    ArtifactCache(cache_dir)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(6) as pool:
        results = pool.map(fetch_in_fork, [(cache_dir, server.url + "/" + NAME)] * 12)
    assert len(set(results)) == 1 and results[0][1] == SHA
    assert server.stats.paths.count("/" + NAME) == 1
    cached = sorted(n for n in os.listdir(os.path.join(cache_dir, "sha256")) if not n.startswith("."))
    assert cached == ["%s-%s" % (SHA, NAME)]


def test_corrupted_entry_is_dropped_and_fetched_again(server, tmp_path):
    cache = ArtifactCache(str(tmp_path / "cache"))
    fetcher = ControllerFetcher({"timeout": 60}, retries=0)
    warnings = []
    path, sha, new = cache.fetch(artifact(server), SHA, fetcher, 10 ** 8, warnings.append)
    assert new and sha == SHA
    with open(path, "r+b") as handle:
        handle.write(b"corrupt")
    path2, sha2, new2 = cache.fetch(artifact(server), SHA, fetcher, 10 ** 8, warnings.append)
    assert new2 and path2 == path and sha2 == SHA
    with open(path2, "rb") as handle:
        assert handle.read() == BODY
    assert "no longer matches" in warnings[0]
    assert server.stats.paths.count("/" + NAME) == 2


def test_mismatch_leaves_nothing(server, tmp_path):
    cache = ArtifactCache(str(tmp_path / "cache"))
    fetcher = ControllerFetcher({"timeout": 60}, retries=0)
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        cache.fetch(artifact(server), "0" * 64, fetcher, 10 ** 8, lambda text: None)
    assert [n for n in os.listdir(cache.dir) if not n.startswith(".lock")] == []


def test_not_served_is_reported(server, tmp_path):
    cache = ArtifactCache(str(tmp_path / "cache"))
    fetcher = ControllerFetcher({"timeout": 60}, retries=0)
    item = Artifact("mirror", "x", "0.13.8", "nothing.tar.gz", server.url + "/nothing.tar.gz", "tar.gz")
    path, answer, _new = cache.fetch(item, None, fetcher, 10 ** 8, lambda text: None)
    assert path is None and answer.status == 404


def test_run_memo_asks_each_url_once(server, tmp_path):
    memo = RunMemo(str(tmp_path / "cache"), run="test-run")
    first = MemoFetcher(ControllerFetcher({"timeout": 60}, retries=0), memo)
    second = MemoFetcher(ControllerFetcher({"timeout": 60}, retries=0), RunMemo(str(tmp_path / "cache"), run="test-run"))
    for fetcher in (first, second, first):
        answer = fetcher.get_small(server.url + "/" + NAME + ".sha256")
        assert answer.status == 200 and SHA.encode() in answer.body
        assert fetcher.probe(server.url + "/missing").status == 404
    assert server.stats.paths == ["/" + NAME + ".sha256", "/missing"]
    other_run = MemoFetcher(ControllerFetcher({"timeout": 60}, retries=0), RunMemo(str(tmp_path / "cache"), run="next"))
    other_run.get_small(server.url + "/" + NAME + ".sha256")
    assert len(server.stats.paths) == 3


def test_run_id_names_the_parent_process():
    assert run_id().startswith("%d-" % os.getppid())
    assert run_id(os.getpid()) != run_id(os.getppid()) or os.getpid() == os.getppid()
