# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Unpack a tool's release archive (tar.gz) while it downloads: ``TarStream``.

PRIVATE API: only for this collection's modules; names may change without notice.
The rules for what an archive may hold (members, sizes, names) are ``_archive``'s; this
file adds the pipeline that applies them to a download in flight (one thread inflates,
one reads the tar stream), so that download, hashing, decompression and writing overlap.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import queue
import tarfile
import threading
import zlib

from ansible_collections.pyfleet.uv.plugins.module_utils.install._archive import (
    _MAX_RECORD,
    _TAR_ERRORS,
    _extract_members,
    _not_readable,
    _os_error,
    _record_refused,
)
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ArchiveError
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import UV, get_tool

__all__ = ["TarStream"]

# Chunks waiting between the stages (64 KiB downloaded, up to 256 KiB inflated): the
# download never runs more than a few MB ahead of the unpacking.
_QUEUE_CHUNKS = 32
# What one decompression step may produce, and the tar reader's read size.
_PIECE = 256 * 1024
_END = None
_ABORT = object()


class _Aborted(Exception):
    """The download gave up (it is retried or failed): stop unpacking."""


class _QueueReader(object):
    """A forward-only file over the chunks that ``TarStream.write`` queues.

    ``tarfile`` reads it in plain ``r:`` mode (headers with ``read``, padding skipped with
    a forward ``seek``, ``tell``); the members' data is taken with ``read_some``, which
    hands over whole inflated pieces: the bytes are not copied again on their way to
    the file, so the unpacking holds the GIL as little as possible while zlib inflates.
    """

    def __init__(self, chunks):
        self.chunks = chunks
        self.pending = b""
        self.ended = False
        self.position = 0

    def _next(self):
        item = self.chunks.get()
        if item is _ABORT:
            self.ended = True
            raise _Aborted()
        if item is _END:
            self.ended = True
            return b""
        return item

    def read_some(self, size):
        """Up to ``size`` bytes (``b""`` at the end): a whole queued piece when it fits."""
        while not self.pending and not self.ended:
            self.pending = self._next()
        if len(self.pending) <= size:
            data, self.pending = self.pending, b""
        else:
            data, self.pending = self.pending[:size], self.pending[size:]
        self.position += len(data)
        return data

    def read(self, size=-1):
        """``size`` bytes, fewer only at the end of the stream (``-1``: all that is left).

        tarfile reads only header records this way, at the size they claim: more than
        ``_MAX_RECORD`` bytes is refused (see there) before any of it is read.
        """
        parts = []
        unbounded = size is None or size < 0
        if not unbounded and size > _MAX_RECORD:
            raise _record_refused(size)
        left = _MAX_RECORD + 1 if unbounded else size
        while left > 0:
            data = self.read_some(min(left, _PIECE))
            if not data:
                break
            parts.append(data)
            left -= len(data)
        if unbounded and left <= 0:
            raise _record_refused("over %d" % _MAX_RECORD)
        return b"".join(parts)

    def tell(self):
        return self.position

    def seek(self, offset, whence=0):
        """Skip forward to ``offset``; the stream cannot go back (a hostile archive may ask)."""
        if whence == 1:
            offset += self.position
        elif whence != 0:
            raise OSError("the download can only be read forward")
        if offset < self.position:
            raise OSError("the download can only be read forward (asked for offset %d at %d)"
                          % (offset, self.position))
        while self.position < offset and self.read_some(offset - self.position):
            pass
        return self.position

    def copy_member(self, member, dest):
        """Write ``member``'s data, read straight from this stream (at its data offset), to ``dest``."""
        self.seek(member.offset_data)
        written = 0
        with open(dest, "wb") as handle:
            while written < member.size:
                chunk = self.read_some(min(_PIECE, member.size - written))
                if not chunk:
                    break
                handle.write(chunk)
                written += len(chunk)
        os.chmod(dest, 0o755)
        return written

    def drain(self):
        """Take every chunk until the end, so that the writer never waits on a full queue."""
        self.pending = b""
        while not self.ended:
            try:
                self._next()
            except _Aborted:
                pass


class TarStream(object):
    """Unpacks a release archive (tar.gz) of ``tool`` into ``staging_dir`` while it downloads.

    A download sink for ``_fetch.Fetcher.download``: ``write`` queues each chunk (the
    download has already hashed it); one thread gunzips, another reads the tar stream and
    writes the members, with the same rules as ``extract`` (only the tool's binaries in
    ``<tool>-<target>/``, regular members, size caps). Download and hashing, decompression, and writing
    thus overlap (zlib, hashlib and file writes release the GIL). ``staging_dir`` must be a
    fresh private folder that the caller removes unless the download's sha256 matches: this
    only unpacks, the caller verifies. What the archive holds is judged only after the whole
    body was hashed: an archive error is kept in ``error`` (the caller reports a checksum
    mismatch first), while a failed write (full disk) raises ``InstallError`` from
    ``write``/``close`` at once. ``close()`` returns this object, with ``found``
    (``{"uv": path, "uvx": path}``) or ``error``.
    """

    def __init__(self, target, staging_dir, length=None, tool=UV):
        self.target = target
        self.tool = get_tool(tool)
        self.staging_dir = staging_dir
        self.length = length
        self.found = None
        self.error = None
        self.fatal = None
        self.finished = False
        # Cleared when the tar reader is done (or failed): the rest is only drained, never
        # inflated, so that nothing after the archive's end (a gzip bomb) costs CPU.
        self.inflating = True
        self.inflate_error = None
        self.chunks = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self.plain = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self.threads = []
        try:
            for work, name in ((self._inflate, "pyfleet-uv-gunzip"), (self._unpack, "pyfleet-uv-untar")):
                thread = threading.Thread(target=work, name=name)
                thread.daemon = True
                thread.start()
                self.threads.append(thread)
        except BaseException:
            # A thread that started must not wait forever for chunks that never come.
            self.finished = True
            self.chunks.put(_ABORT)
            self._join()
            raise

    def _inflate(self):
        """Gunzip the queued chunks into ``plain``; always drains ``chunks`` and ends ``plain``."""
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        end = _END
        try:
            while True:
                item = self.chunks.get()
                if item is _END or item is _ABORT:
                    end = item
                    if item is _END and self.inflating and self.inflate_error is None and not inflater.eof:
                        self.inflate_error = "the gzip stream ends early"
                    return
                if not self.inflating or self.inflate_error is not None or inflater.eof:
                    continue
                try:
                    # At most _PIECE bytes per call: a small chunk of a gzip bomb cannot
                    # blow up in memory at once.
                    data = inflater.decompress(item, _PIECE)
                    while data:
                        self.plain.put(data)
                        if not inflater.unconsumed_tail or not self.inflating:
                            break
                        data = inflater.decompress(inflater.unconsumed_tail, _PIECE)
                except zlib.error as exc:
                    self.inflate_error = str(exc)
                except Exception as exc:  # pylint: disable=broad-except
                    # MemoryError above all: the thread goes on draining ``chunks`` (the
                    # download must never wait on a queue nobody reads) and ends ``plain``.
                    self.inflate_error = "gunzip failed (%s: %s)" % (type(exc).__name__, exc)
        finally:
            self.plain.put(end)

    def _unpack(self):
        reader = _QueueReader(self.plain)
        try:
            with tarfile.open(fileobj=reader, mode="r:") as tar:
                self.found = _extract_members(tar, self.target, self.staging_dir, reader, self.tool)
        except _Aborted:
            pass
        except ArchiveError as exc:
            self.error = exc
        except (IOError, OSError) as exc:
            problem = _os_error(exc, self.staging_dir, 3 * self.length if self.length else None, "tar.gz")
            if isinstance(problem, ArchiveError):
                self.error = problem
            else:
                self.fatal = problem
        except _TAR_ERRORS as exc:
            self.error = _not_readable("tar.gz", exc)
        except Exception as exc:  # pylint: disable=broad-except
            self.error = ArchiveError("unpacking the download failed (%s: %s)" % (type(exc).__name__, exc))
        finally:
            self.inflating = False
            reader.drain()

    def write(self, chunk):
        if self.fatal is not None:
            raise self.fatal
        self.chunks.put(chunk)

    def _join(self):
        for thread in self.threads:
            thread.join()

    def close(self):
        """Wait for the unpacking to finish; raises ``InstallError`` if writing failed."""
        self.chunks.put(_END)
        self._join()
        self.finished = True
        if self.fatal is not None:
            self._remove()
            raise self.fatal
        if self.inflate_error is not None:
            # Not gzip, or corrupt: whatever the tar reader made of the bytes it got.
            self.error = _not_readable("tar.gz", self.inflate_error)
        if self.error is not None:
            self.found = None
            self._remove()
        return self

    def abort(self):
        """Stop unpacking and remove what was written (the download is retried or failed)."""
        if not self.finished:
            self.finished = True
            self.chunks.put(_ABORT)
            self._join()
        self._remove()

    def _remove(self):
        for name in self.tool.binaries:
            try:
                os.unlink(os.path.join(self.staging_dir, name))
            except OSError:
                pass
