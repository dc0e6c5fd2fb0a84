# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller cache: one download per artifact for all forks, verified before each use."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import multiprocessing
import os
import stat
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError
from ansible_collections.pyfleet.uv.plugins.module_utils.artifact import Artifact
from ansible_collections.pyfleet.uv.plugins.plugin_utils._cache import (
    ArtifactCache,
    CacheTrustError,
    MemoFetcher,
    RunMemo,
    default_cache_dir,
    run_id,
)

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


# -- the cache trusts no one but the controller's user -------------------------------------

NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="os.chown to another uid needs root")


def planted_cache(cache_dir):
    """What another user plants: an archive under the sha256 the mirror publishes, with other bytes."""
    os.makedirs(os.path.join(cache_dir, "sha256"), exist_ok=True)
    with open(os.path.join(cache_dir, "sha256", "%s-%s" % (SHA, NAME)), "wb") as handle:
        handle.write(b"planted")


def fetch(cache_dir, server):
    return ArtifactCache(cache_dir).fetch(artifact(server), SHA, ControllerFetcher({"timeout": 30}, retries=0),
                                          10 ** 8, lambda text: None)


@pytest.mark.parametrize("use", ["artifacts", "memo"])
@pytest.mark.parametrize("where", ["cache", "subfolder"])
def test_world_writable_cache_is_refused(server, tmp_path, use, where):
    cache_dir = str(tmp_path / "shared-cache")
    os.makedirs(os.path.join(cache_dir, "sha256"))
    os.makedirs(os.path.join(cache_dir, "runs"))
    bad = cache_dir if where == "cache" else os.path.join(cache_dir, "sha256" if use == "artifacts" else "runs")
    os.chmod(bad, 0o777)
    with pytest.raises(CacheTrustError) as info:
        if use == "artifacts":
            fetch(cache_dir, server)
        else:
            RunMemo(cache_dir, run="r1")
    msg = info.value.msg
    assert bad in msg and "writable by every user (mode 0777)" in msg, msg
    assert "chmod -R go-w %s" % cache_dir in msg and "controller_cache_dir" in msg
    assert server.stats.requests == 0


@NEEDS_ROOT
@pytest.mark.parametrize("what", ["cache", "sha256", "entry", "lock", "parent"])
def test_cache_owned_by_another_user_is_refused(server, tmp_path, what):
    parent = tmp_path / "parent"
    parent.mkdir()
    cache_dir = str(parent / "cache")
    planted_cache(cache_dir)
    os.chmod(cache_dir, 0o700)
    os.chmod(os.path.join(cache_dir, "sha256"), 0o700)
    target = {"cache": cache_dir, "sha256": os.path.join(cache_dir, "sha256"),
              "entry": os.path.join(cache_dir, "sha256", "%s-%s" % (SHA, NAME)),
              "lock": os.path.join(cache_dir, "sha256", ".lock-%s" % SHA[:32]), "parent": str(parent)}[what]
    if what == "lock":
        with open(target, "w"):
            pass
    os.chown(target, 65534, 65534)
    with pytest.raises(CacheTrustError) as info:
        fetch(cache_dir, server)
    msg = info.value.msg
    assert target in msg and "uid 65534" in msg, msg
    if what != "parent":
        assert "chown -R %d %s" % (os.geteuid(), cache_dir) in msg


def test_default_cache_is_private_under_any_umask(tmp_path, monkeypatch, server):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    old = os.umask(0o002)
    try:
        path, sha, _new = fetch(default_cache_dir(), server)
        memo = RunMemo(default_cache_dir(), run="r2")
        MemoFetcher(ControllerFetcher({"timeout": 30}, retries=0), memo).get_small(server.url + "/" + NAME + ".sha256")
    finally:
        os.umask(old)
    assert sha == SHA
    for folder in ("xdg", "xdg/pyfleet-uv", "xdg/pyfleet-uv/artifacts", "xdg/pyfleet-uv/artifacts/sha256",
                   "xdg/pyfleet-uv/artifacts/runs", "xdg/pyfleet-uv/artifacts/runs/r2"):
        assert (tmp_path / folder).stat().st_mode & 0o777 == 0o700, folder
    for root, _dirs, files in os.walk(str(tmp_path / "xdg")):
        for name in files:
            assert os.stat(os.path.join(root, name)).st_mode & 0o077 == 0, name
    # A second use of the same cache (every later fork and run) accepts what it made.
    assert fetch(default_cache_dir(), server)[0] == path


@NEEDS_ROOT
def test_planted_memo_answer_is_refused(tmp_path):
    """A checksum answer that another user put in the run's memo is never used."""
    cache_dir = str(tmp_path / "cache")
    memo = RunMemo(cache_dir, run="r3")
    key = ["small", "http://127.0.0.1:9/uv.tar.gz.sha256", None]
    path = memo._path(key) + ".json"
    with open(path, "w") as handle:
        handle.write('{"status": 200, "note": "", "body": "cGxhbnRlZA==", "attempts": []}')
    os.chmod(path, 0o600)
    os.chown(path, 65534, 65534)
    with pytest.raises(CacheTrustError) as info:
        memo.get(key, lambda: pytest.fail("asked instead of refusing"))
    assert path in info.value.msg and "uid 65534" in info.value.msg


def nfs_like_flock(real):
    """fcntl.flock as NFS grants it: an exclusive lock only on a descriptor open for writing (flock(2))."""
    def flock(fd, operation):
        if operation & fcntl.LOCK_EX and stat.S_ISREG(os.fstat(fd).st_mode) and \
                fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
            raise OSError(errno.EBADF, "Bad file descriptor")
        return real(fd, operation)
    return flock


@pytest.mark.parametrize("lock", ["nfs", "none"])
def test_a_download_works_where_locks_are_scarce(server, tmp_path, monkeypatch, lock):
    """A cache on NFS (exclusive flock only for writers) or on a file system without flock: the download
    works and leaves no .download-* behind (review of issue 31: a read-only descriptor failed every download)."""
    import ansible_collections.pyfleet.uv.plugins.plugin_utils._cache as cache_mod  # pylint: disable=import-outside-toplevel
    cache = ArtifactCache(str(tmp_path / "cache"))
    real = fcntl.flock
    if lock == "nfs":
        monkeypatch.setattr(cache_mod.fcntl, "flock", nfs_like_flock(real))
    else:
        def no_flock(fd, operation):
            if os.path.basename(os.readlink("/proc/self/fd/%d" % fd)).startswith(".download-"):
                raise OSError(errno.ENOLCK, "No locks available")
            return real(fd, operation)
        monkeypatch.setattr(cache_mod.fcntl, "flock", no_flock)
    fetcher = ControllerFetcher({"timeout": 60}, retries=0)
    path, sha, new = cache.fetch(artifact(server), SHA, fetcher, 10 ** 8, lambda text: None)
    assert new and sha == SHA and os.path.isfile(path)
    assert [n for n in os.listdir(cache.dir) if n.startswith(".download-")] == []
