# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the controller keeps: artifacts by sha256, and what one run has learned.

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
Action plugins run once per host in parallel forks, so everything here is shared
under ``flock`` and written to a temp name, then renamed:

- ``ArtifactCache``: ``<cache_dir>/sha256/<hex>-<file name>``, verified before each
  use; a file that no longer matches is dropped and fetched again.
- ``RunMemo``: ``<cache_dir>/runs/<run id>/``, the answers of one ``ansible-playbook``
  run (resolved versions, checksum files, index pages), so that each distinct URL is
  asked once per run whatever the fleet size. The run id is the process id and start
  time of the process that forked the workers (the ``ansible-playbook`` itself).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, disk_full
from ansible_collections.pyfleet.uv.plugins.module_utils._fetch import Response, describe_attempts

__all__ = ["ArtifactCache", "MemoFetcher", "RunMemo", "default_cache_dir", "file_lock", "run_id", "sha256_file"]

_RUN_MAX_AGE = 2 * 24 * 3600


def default_cache_dir():
    """``$XDG_CACHE_HOME/pyfleet-uv/artifacts`` (``~/.cache`` when unset), on the controller."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pyfleet-uv", "artifacts")


@contextlib.contextmanager
def file_lock(path, timeout=1800):
    """An exclusive ``flock`` on ``path`` (created if needed), held for the ``with`` block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError):
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def run_id(pid=None):
    """``<pid>-<start time>`` of the process that runs the play (the parent of this worker)."""
    pid = os.getppid() if pid is None else pid
    try:
        with open("/proc/%d/stat" % pid) as handle:
            # Field 22 is the start time; the command name (field 2) may hold spaces.
            start = handle.read().rsplit(")", 1)[1].split()[19]
    except (IOError, OSError, IndexError):
        start = "0"
    return "%d-%s" % (pid, start)


def _private_dir(path):
    # Forks make the same folders at the same moment: another fork's folder is fine.
    os.makedirs(path, 0o700, exist_ok=True)
    return path


def _write_atomic(path, data):
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.rename(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


class RunMemo(object):
    """Answers computed once per run and shared by all forks (see the module docstring)."""

    def __init__(self, cache_dir, run=None):
        self.root = _private_dir(os.path.join(cache_dir, "runs"))
        self.dir = os.path.join(self.root, run or run_id())
        if not os.path.isdir(self.dir):
            _private_dir(self.dir)
            self._prune()

    def _prune(self):
        """Drop what runs older than two days left (a run cannot know when it ends)."""
        now = time.time()
        for name in os.listdir(self.root):
            path = os.path.join(self.root, name)
            try:
                if now - os.stat(path).st_mtime > _RUN_MAX_AGE:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass

    def _path(self, key):
        return os.path.join(self.dir, hashlib.sha256(json.dumps(key).encode("utf-8")).hexdigest()[:32])

    def get(self, key, compute):
        """The JSON-able value for ``key``: computed by the first fork that asks, read by the others."""
        path = self._path(key)
        if os.path.exists(path + ".json"):
            with open(path + ".json") as handle:
                return json.load(handle)
        with file_lock(path + ".lock"):
            if os.path.exists(path + ".json"):
                with open(path + ".json") as handle:
                    return json.load(handle)
            value = compute()
            _write_atomic(path + ".json", json.dumps(value).encode("utf-8"))
            return value

    def body_path(self, key):
        """Where a large answer (an index page) for ``key`` is kept as raw bytes."""
        return self._path(key) + ".body"


class MemoFetcher(object):
    """A fetcher whose small GETs, probes and pages are asked once per run (``RunMemo``)."""

    def __init__(self, fetcher, memo):
        self.fetcher = fetcher
        self.memo = memo
        self.attempts = []

    def _answer(self, key, ask):
        value = self.memo.get(key, ask)
        self.attempts.extend(tuple(item) for item in value["attempts"])
        return value

    def _ask(self, call):
        before = len(self.fetcher.attempts)
        answer = call()
        asked = [list(item) for item in self.fetcher.attempts[before:]]
        del self.fetcher.attempts[before:]  # they are in the memo now, and come back through _answer
        return answer, asked

    def get_small(self, url, limit=1024 * 1024, accept=None):
        def ask():
            answer, attempts = self._ask(lambda: self.fetcher.get_small(url, limit=limit, accept=accept))
            body = base64.b64encode(answer.body).decode("ascii") if answer.body is not None else None
            return dict(status=answer.status, note=answer.note, body=body, attempts=attempts)
        value = self._answer(["small", url, accept], ask)
        body = base64.b64decode(value["body"]) if value["body"] is not None else None
        return Response(url, value["status"], body=body, note=value["note"])

    def probe(self, url):
        def ask():
            answer, attempts = self._ask(lambda: self.fetcher.probe(url))
            return dict(status=answer.status, note=answer.note, attempts=attempts)
        value = self._answer(["probe", url], ask)
        return Response(url, value["status"], note=value["note"])

    def get_page(self, url, accept, make_parser, limit=64 * 1024 * 1024):
        key = ["page", url, accept]
        body_path = self.memo.body_path(key)

        def ask():
            recorder = _Recorder(body_path + ".part")
            answer, attempts = self._ask(lambda: self.fetcher.get_page(url, accept, recorder.start, limit=limit))
            recorder.finish(answer.status == 200 and answer.body is not None, body_path)
            return dict(status=answer.status, note=answer.note, final=recorder.final,
                        content_type=recorder.content_type, attempts=attempts)
        value = self._answer(key, ask)
        if value["status"] != 200 or not os.path.exists(body_path):
            return Response(url, value["status"], note=value["note"])
        parser = make_parser(value["final"], value["content_type"])
        with open(body_path, "rb") as handle:
            for chunk in iter(lambda: handle.read(64 * 1024), b""):
                parser.feed(chunk)
        return Response(url, 200, body=parser)

    def download(self, url, dest, max_bytes, origin=None):
        return self.fetcher.download(url, dest, max_bytes, origin=origin)

    def tried(self):
        return describe_attempts(self.attempts + list(self.fetcher.attempts))


class _Recorder(object):
    """Stands in for a page parser: keeps the raw page on disk for every fork to replay."""

    def __init__(self, path):
        self.path = path
        self.handle = None
        self.final = None
        self.content_type = None

    def start(self, final_url, content_type):
        if self.handle is not None:
            self.handle.close()
        self.final, self.content_type = final_url, content_type
        self.handle = open(self.path, "wb")
        return self

    def feed(self, data):
        self.handle.write(data)

    def finish(self, ok, dest):
        if self.handle is not None:
            self.handle.close()
        if ok:
            os.rename(self.path, dest)
        elif os.path.exists(self.path):
            os.unlink(self.path)


class ArtifactCache(object):
    """Downloaded artifacts by sha256, one download per artifact for all forks and runs."""

    def __init__(self, cache_dir):
        self.dir = _private_dir(os.path.join(cache_dir, "sha256"))

    def path(self, sha256, name):
        return os.path.join(self.dir, "%s-%s" % (sha256, os.path.basename(name)))

    def fetch(self, artifact, expected, fetcher, max_bytes, warn, origin=None):
        """The cached file of ``artifact``: ``(path, sha256, downloaded)``.

        With ``expected`` (the published sha256) a cached file is used after it is
        verified again; a file that no longer matches is dropped and fetched again.
        ``(None, Response, True)`` is returned when the source does not serve the artifact.
        ``origin``: whose credentials apply to the download (an index page's URL).
        """
        lock_key = expected or hashlib.sha256(artifact.url.encode("utf-8")).hexdigest()
        with file_lock(os.path.join(self.dir, ".lock-%s" % lock_key[:32])):
            if expected:
                path = self.path(expected, artifact.name)
                if os.path.exists(path):
                    if sha256_file(path) == expected:
                        return path, expected, False
                    warn("the cached %s no longer matches its sha256 %s; it was dropped and is downloaded again"
                         % (path, expected))
                    os.unlink(path)
            fd, temp = tempfile.mkstemp(prefix=".download-", dir=self.dir)
            os.close(fd)
            try:
                answer = fetcher.download(artifact.url, temp, max_bytes, origin=origin)
                if answer.status != 200 or answer.body is None:
                    return None, answer, True
                actual = answer.body[0]
                if expected and actual != expected:
                    raise ChecksumError(
                        "checksum mismatch for %s downloaded on the controller: expected sha256 %s, got %s; "
                        "nothing was changed on any host" % (artifact.as_dict()["url"], expected, actual))
                path = self.path(actual, artifact.name)
                os.rename(temp, path)
                return path, actual, True
            except (IOError, OSError) as exc:
                full = disk_full(exc, self.dir, 64 * 1024 * 1024)
                if full:
                    raise full
                raise
            finally:
                if os.path.exists(temp):
                    os.unlink(temp)
