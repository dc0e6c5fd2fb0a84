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

What the cache holds is handed to every host, which runs it (as root): the cache trusts
no one but the controller's user. Its folders are created 0700; a folder, lock or entry
that another user owns or that group or other may write is refused (``CacheTrustError``)
before anything in it is read, and so is a parent of the cache folder that another user
owns or that every user may write without the sticky bit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, UvError, disk_full
from ansible_collections.pyfleet.uv.plugins.module_utils.install._fetch import Response, describe_attempts

__all__ = ["ArtifactCache", "CacheTrustError", "MemoFetcher", "RunMemo", "check_cache_path", "default_cache_dir",
           "file_lock", "hold", "open_cache_dir", "run_id", "sha256_file", "sweep_stale"]

_RUN_MAX_AGE = 2 * 24 * 3600


def default_cache_dir():
    """``$XDG_CACHE_HOME/pyfleet-uv/artifacts`` (``~/.cache`` when unset), on the controller."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pyfleet-uv", "artifacts")


class CacheTrustError(UvError):
    """A cache folder or file that another user could have written: nothing in it is used."""


def _fix(root):
    return ("fix it (chown -R %d %s; chmod -R go-w %s) or set controller_cache_dir to a folder only this user "
            "can write" % (os.geteuid(), root, root))


def check_cache_path(path, root, info=None):
    """Refuse ``path`` (a folder or file of the cache under ``root``) unless this user owns it and
    neither group nor other may write it; ``info``: its ``stat`` if already taken (an open file's)."""
    if info is None:
        try:
            info = os.lstat(path)
        except OSError as exc:
            raise CacheTrustError("cannot inspect the controller cache's %s: %s" % (path, exc.strerror or exc))
    euid = os.geteuid()
    kind = "folder" if stat.S_ISDIR(info.st_mode) else "file"
    if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        raise CacheTrustError("the controller cache's %s is not a regular file or folder; refused: %s"
                              % (path, _fix(root)))
    if info.st_uid != euid:
        raise CacheTrustError(
            "the controller cache %s %s is owned by uid %d, not by this user (uid %d): another user could plant "
            "artifacts and checksum answers there that every host would install; %s"
            % (kind, path, info.st_uid, euid, _fix(root)))
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise CacheTrustError(
            "the controller cache %s %s is writable by %s (mode %04o): another user could plant artifacts and "
            "checksum answers there that every host would install; %s"
            % (kind, path, "every user" if info.st_mode & stat.S_IWOTH else "its group", stat.S_IMODE(info.st_mode),
               _fix(root)))


def _check_parents(root):
    """The folders above the cache: another user who owns one, or may write one without the
    sticky bit (``/tmp`` has it), could rename the cache folder away and put another in its place."""
    euid = os.geteuid()
    head = os.path.dirname(os.path.abspath(root))
    while True:
        try:
            info = os.stat(head)
        except OSError:
            info = None
        if info is not None:
            if info.st_uid not in (0, euid):
                raise CacheTrustError(
                    "the controller cache %s is inside %s, which uid %d owns: that user could replace the cache; "
                    "set controller_cache_dir to a folder under one that only root or this user owns"
                    % (root, head, info.st_uid))
            if info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX:
                raise CacheTrustError(
                    "the controller cache %s is inside %s, which every user may write (mode %04o, no sticky bit): "
                    "anyone could replace the cache; chmod o-w %s or set controller_cache_dir elsewhere"
                    % (root, head, stat.S_IMODE(info.st_mode), head))
        parent = os.path.dirname(head)
        if parent == head:
            return
        head = parent


def _make_private(path, root):
    """Create the folder ``path`` 0700 (whatever the umask) if missing, then check it (``check_cache_path``)."""
    try:
        os.mkdir(path, 0o700)
        os.chmod(path, 0o700)
    except OSError as exc:
        # Forks make the same folders at the same moment: another fork's folder is fine.
        if exc.errno != errno.EEXIST:
            raise CacheTrustError("cannot create the controller cache folder %s: %s" % (path, exc.strerror or exc))
    check_cache_path(path, root, os.stat(path))
    return path


def open_cache_dir(cache_dir):
    """The cache folder ``cache_dir``, created 0700 with its missing parents, and checked.

    Raises ``CacheTrustError`` naming the folder and the fix when another user owns it or
    may write it (or owns, or may write without the sticky bit, a folder above it).
    """
    root = os.path.abspath(cache_dir)
    _check_parents(root)
    missing = []
    head = root
    while not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for folder in reversed(missing):
        if folder != root:
            try:
                os.mkdir(folder, 0o700)
                os.chmod(folder, 0o700)
            except OSError as exc:
                if exc.errno != errno.EEXIST:
                    raise CacheTrustError("cannot create %s for the controller cache %s: %s"
                                          % (folder, root, exc.strerror or exc))
    return _make_private(root, root)


@contextlib.contextmanager
def file_lock(path, timeout=1800, root=None):
    """An exclusive ``flock`` on ``path`` (created if needed), held for the ``with`` block.

    ``root``: the cache folder it belongs to; the lock file is then checked like the cache
    (``check_cache_path``): a lock another user planted could hold the forks back.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        if root is not None:
            check_cache_path(path, root, os.fstat(fd))
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


def hold(path):
    """An open descriptor of ``path`` (a file or a folder) with an exclusive ``flock`` on it: the mark of a
    running owner, which ``sweep_stale`` never removes. The lock goes with the process, however it ends
    (a killed run's debris is then free to sweep). Close it when the entry is gone or renamed. A file is
    opened for writing: NFS grants an exclusive ``flock`` only on a descriptor open for writing."""
    flags = os.O_RDONLY if os.path.isdir(path) else os.O_RDWR
    fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (IOError, OSError):
        os.close(fd)
        raise
    return fd


def mark_owned(path):
    """``hold`` for the owner of an entry it just made: the descriptor, or None where this file system
    cannot lock (the entry then carries no mark, and ``sweep_stale``, which must hold an entry to remove
    it, cannot remove it either). Close a descriptor with ``release``."""
    try:
        return hold(path)
    except (IOError, OSError):
        return None


def release(fd):
    if fd is not None:
        os.close(fd)


def sweep_stale(folder, prefix, min_age=60):
    """Remove the entries ``folder/<prefix>*`` that killed runs left: owned by this user, not links, older
    than ``min_age`` seconds (an entry just made is not held yet) and held by no one (``hold``); each is
    removed while this process holds it. Best effort: an entry that cannot be read or removed stays.
    Returns the names removed."""
    removed = []
    try:
        names = [name for name in os.listdir(folder) if name.startswith(prefix)]
    except (IOError, OSError):
        return removed
    now = time.time()
    for name in names:
        full = os.path.join(folder, name)
        try:
            info = os.lstat(full)
            if (stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid() or now - info.st_mtime < min_age
                    or not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode))):
                continue
            fd = hold(full)
        except (IOError, OSError):
            continue  # held by a running owner, or gone
        try:
            if stat.S_ISDIR(info.st_mode):
                shutil.rmtree(full, ignore_errors=True)
            else:
                os.unlink(full)
            removed.append(name)
        except (IOError, OSError):
            pass
        finally:
            os.close(fd)
    return removed


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
        self.cache_dir = open_cache_dir(cache_dir)
        self.root = _make_private(os.path.join(self.cache_dir, "runs"), self.cache_dir)
        self.dir = os.path.join(self.root, run or run_id())
        fresh = not os.path.isdir(self.dir)
        _make_private(self.dir, self.cache_dir)
        if fresh:
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

    def _read(self, path):
        """The JSON entry at ``path`` (checked like the cache), or ``None`` when there is none yet."""
        try:
            handle = open(path, "rb")
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise
        with handle:
            check_cache_path(path, self.cache_dir, os.fstat(handle.fileno()))
            return json.loads(handle.read().decode("utf-8"))

    def get(self, key, compute):
        """The JSON-able value for ``key``: computed by the first fork that asks, read by the others."""
        path = self._path(key)
        value = self._read(path + ".json")
        if value is not None:
            return value
        with file_lock(path + ".lock", root=self.cache_dir):
            value = self._read(path + ".json")
            if value is not None:
                return value
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
            check_cache_path(body_path, self.memo.cache_dir, os.fstat(handle.fileno()))
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
        # 0600 whatever the umask: the cache refuses what group or other may write.
        self.handle = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
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
        self.cache_dir = open_cache_dir(cache_dir)
        self.dir = _make_private(os.path.join(self.cache_dir, "sha256"), self.cache_dir)
        sweep_stale(self.dir, ".download-")  # the partial downloads of killed runs (each running one holds its own)

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
        with file_lock(os.path.join(self.dir, ".lock-%s" % lock_key[:32]), root=self.cache_dir):
            if expected:
                path = self.path(expected, artifact.name)
                if os.path.lexists(path):
                    check_cache_path(path, self.cache_dir)
                    if sha256_file(path) == expected:
                        return path, expected, False
                    warn("the cached %s no longer matches its sha256 %s; it was dropped and is downloaded again"
                         % (path, expected))
                    os.unlink(path)
            fd, temp = tempfile.mkstemp(prefix=".download-", dir=self.dir)
            os.close(fd)
            held = None
            try:
                held = mark_owned(temp)  # until it is renamed or removed: sweep_stale leaves it alone
                answer = fetcher.download(artifact.url, temp, max_bytes, origin=origin)
                if answer.status != 200 or answer.body is None:
                    return None, answer, True
                actual = answer.body[0]
                if expected and actual != expected:
                    raise ChecksumError(
                        "checksum mismatch for %s downloaded on the controller: expected sha256 %s, got %s; "
                        "nothing was changed on any host" % (artifact.as_dict()["url"], expected, actual),
                        expected=expected, actual=actual)
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
                release(held)
