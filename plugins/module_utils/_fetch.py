# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP on the managed host: small GETs, probes and streamed downloads.

PRIVATE API: only for this collection's modules; names may change without notice.
This file touches the network (through ``fetch_url``) and ``module.tmpdir`` only;
it never writes to the install directory. What to ask for, and how to read the
answers, is decided in ``sources.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import socket
import time

from ansible.module_utils.urls import fetch_url

from ansible_collections.pyfleet.uv.plugins.module_utils.sources import redact_url

__all__ = ["CHUNK", "SMALL_LIMIT", "Fetcher", "Response"]

SMALL_LIMIT = 1024 * 1024
CHUNK = 64 * 1024


class Response(object):
    """What one request returned: status, body (small requests) and a short note."""

    def __init__(self, url, status, body=None, note=""):
        self.url = url
        self.status = status
        self.body = body
        self.note = note


def _retryable(status):
    return status == -1 or status >= 500 or status in (408, 429)


class Fetcher(object):
    """Requests through ``fetch_url`` with retries, and a log of what was asked.

    ``attempts`` lists ``(redacted URL, status)`` for every final answer, so that
    errors can show every URL tried.
    """

    def __init__(self, module, timeout=30, retries=3, headers=None, ca_path=None, delay=1.0, sleep=time.sleep):
        self.module = module
        self.timeout = timeout
        self.retries = retries
        self.headers = headers or {}
        self.ca_path = ca_path
        self.delay = delay
        self.sleep = sleep
        self.attempts = []

    def _open(self, url, accept=None):
        headers = dict(self.headers)
        if accept:
            headers["Accept"] = accept
        kwargs = dict(headers=headers, timeout=self.timeout, decompress=False)
        if self.ca_path:
            kwargs["ca_path"] = self.ca_path
        return fetch_url(self.module, url, **kwargs)

    def _open_ok(self, target, accept=None):
        """Open ``target``: ``(response, info, None)`` on HTTP 200, else ``(None, info, Response)``."""
        response, info = self._open(target, accept=accept)
        status = info.get("status", -1)
        if status != 200 or response is None:
            self._close(response)
            return None, info, Response(target, status, note=self._note(info))
        return response, info, None

    def _with_retries(self, url, action):
        """Run ``action(url)`` until it gives a non-retryable answer or tries run out."""
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(min(self.delay * (2 ** (attempt - 1)), 30))
            last = action(url)
            if not _retryable(last.status):
                break
        self.attempts.append((redact_url(url), last.status))
        return last

    def get_small(self, url, limit=SMALL_LIMIT):
        """GET a small text (a checksum file); the body is ``None`` unless status is 200."""
        def action(target):
            response, _info, failed = self._open_ok(target)
            if failed:
                return failed
            try:
                body = response.read(limit + 1)
            except (socket.timeout, socket.error, IOError, OSError) as exc:
                return Response(target, -1, note="read failed: %s" % exc)
            finally:
                self._close(response)
            if len(body) > limit:
                return Response(target, 200, note="larger than %d bytes" % limit)
            return Response(target, 200, body=body)
        return self._with_retries(url, action)

    def probe(self, url):
        """GET ``url`` but read no body: tells whether the mirror serves it."""
        def action(target):
            response, _info, failed = self._open_ok(target)
            if failed:
                return failed
            self._close(response)
            return Response(target, 200)
        return self._with_retries(url, action)

    def download(self, url, dest, max_bytes):
        """Stream ``url`` into the file ``dest`` while hashing it.

        Returns ``Response`` whose ``body`` is ``(sha256 hex, size)`` on success. A body
        shorter than its Content-Length, or a dropped connection, counts as a failure
        (status -1) and is retried.
        """
        def action(target):
            response, info, failed = self._open_ok(target)
            if failed:
                return failed
            expected = info.get("content-length")
            digest = hashlib.sha256()
            size = 0
            try:
                with open(dest, "wb") as handle:
                    while True:
                        chunk = response.read(CHUNK)
                        if not chunk:
                            break
                        size += len(chunk)
                        if size > max_bytes:
                            return Response(target, 200, note="larger than %d bytes, refused" % max_bytes)
                        digest.update(chunk)
                        handle.write(chunk)
            except (socket.timeout, socket.error, IOError, OSError) as exc:
                return Response(target, -1, note="download interrupted after %d bytes: %s" % (size, exc))
            finally:
                self._close(response)
            # http.client returns b"" without an error when the peer closes early, so
            # the byte count is the only proof that the whole body arrived.
            if expected is not None and str(expected).isdigit() and int(expected) != size:
                return Response(target, -1, note="short read: got %d of %s bytes" % (size, expected))
            return Response(target, 200, body=(digest.hexdigest(), size))
        return self._with_retries(url, action)

    def get_page(self, url, accept, make_parser, limit=64 * 1024 * 1024):
        """GET a page and feed it, chunk by chunk, to a parser made by ``make_parser(final_url, content_type)``.

        The parser's ``feed(bytes)`` takes the chunks as they arrive, so a large index
        page is never held whole. Returns ``Response`` whose ``body`` is the parser.
        """
        def action(target):
            response, info, failed = self._open_ok(target, accept=accept)
            if failed:
                return failed
            parser = make_parser(info.get("url") or target, info.get("content-type"))
            size = 0
            try:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        return Response(target, 200, note="larger than %d bytes, refused" % limit)
                    parser.feed(chunk)
            except (socket.timeout, socket.error, IOError, OSError) as exc:
                return Response(target, -1, note="read failed after %d bytes: %s" % (size, exc))
            finally:
                self._close(response)
            expected = info.get("content-length")
            if expected is not None and str(expected).isdigit() and int(expected) != size:
                return Response(target, -1, note="short read: got %d of %s bytes" % (size, expected))
            return Response(target, 200, body=parser)
        return self._with_retries(url, action)

    @staticmethod
    def _close(response):
        if response is not None:
            try:
                response.close()
            except Exception:  # pylint: disable=broad-except
                pass

    @staticmethod
    def _note(info):
        return str(info.get("msg", ""))[:300]

    def tried(self):
        """Every URL tried with its final status, one per line, for error messages."""
        return "; ".join("%s -> %s" % (url, "connection failed" if status == -1 else "HTTP %s" % status)
                         for url, status in self.attempts)
