# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP on the managed host: small GETs, probes and streamed downloads.

PRIVATE API: only for this collection's modules; names may change without notice.
This file touches the network (through ansible's ``open_url``, the function under
``fetch_url``) and ``module.tmpdir`` only; it never writes to the install directory.
What to ask for, and how to read the answers, is decided in the pure rooms
(``release_mirrors.py``, ``index_pages.py``, ``wheel_tags.py``).

Redirects are followed here, not by urllib, so that every hop is asked with what
``_credentials.Credentials.grant`` allows for it: credentials belong to the origin of the
source they were given for, and a hop to another scheme, host or port gets none of them
(a presigned S3 URL behind an Artifactory or Nexus redirect would even refuse a request
that carries them). The controller's fetcher (``plugin_utils._http``) follows the same rule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import http.client
import os
import socket
import ssl
import time
import urllib.error

from urllib.parse import urljoin, urlsplit

from ansible.module_utils import urls as _urls
from ansible.module_utils.urls import open_url

from ansible_collections.pyfleet.uv.plugins.module_utils._credentials import Credentials, same_origin
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import InstallError, disk_full
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text, redact_url

__all__ = ["CHUNK", "MAX_REDIRECTS", "SMALL_LIMIT", "Fetcher", "Response", "RetryLog", "describe_attempts", "same_origin"]

SMALL_LIMIT = 1024 * 1024
CHUNK = 64 * 1024
MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)
# What a broken connection looks like while reading a body: socket errors are OSError
# on Python 3; http.client raises IncompleteRead and friends (HTTPException) itself.
_READ_ERRORS = (socket.timeout, socket.error, IOError, OSError, http.client.HTTPException)


def _takes_context():
    """Whether this ansible-core's ``Request.open`` accepts a ready TLS ``context`` (2.17 and later)."""
    try:
        code = _urls.Request.open.__code__
    except AttributeError:
        return False
    return "context" in code.co_varnames[:code.co_argcount] and hasattr(_urls, "make_context")


# Without a context of its own, ``Request.open`` builds a new TLS context (and loads every
# CA certificate) for each request, plain http:// ones included: about 30 ms apiece. Where
# the core allows it, one context is made per run, only when an https:// URL is asked.
_CONTEXT_ARG = _takes_context()


class Response(object):
    """What one request returned: status, body (small requests) and a short note.

    ``url`` is the URL finally answered (after redirects; it may hold user info, so
    pass it through ``redact_url`` before showing it). ``hops`` lists the redirects
    on the way as ``(redacted URL, status)``. ``retry`` is ``False`` for failures
    that no retry can fix (a refused redirect, a TLS certificate error).
    """

    def __init__(self, url, status, body=None, note="", hops=None, retry=None):
        self.url = url
        self.status = status
        self.body = body
        self.note = note
        self.hops = hops or []
        self.retry = retry
        self.extra = None


def _retryable(status):
    return status == -1 or status >= 500 or status in (408, 429)


def _url_problem(url):
    """Why ``url`` cannot be asked for (``open_url`` also speaks ftp and file), or ``None``."""
    try:
        parts = urlsplit(url)
        parts.port  # pylint: disable=pointless-statement  # raises ValueError on a bad port
    except ValueError as exc:
        return "not a valid URL (%s)" % exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "not an http:// or https:// URL"
    return None


def describe_attempts(attempts):
    """``URL -> HTTP 404; URL -> connection failed`` for a list of ``(redacted URL, status)``."""
    return "; ".join("%s -> %s" % (url, "connection failed" if status == -1 else "HTTP %s" % status)
                     for url, status in attempts)


class RetryLog(object):
    """Retries with a doubling pause, and the log of every URL asked.

    Shared by the host's ``Fetcher`` and the controller's fetcher; a subclass sets
    ``retries``, ``delay``, ``sleep`` and ``attempts`` (a list of ``(redacted URL, status)``).
    """

    def _with_retries(self, url, action):
        """Run ``action(url)`` until it gives a non-retryable answer or tries run out."""
        last = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(min(self.delay * (2 ** (attempt - 1)), 30))
            last = action(url)
            if last.retry is False or not _retryable(last.status):
                break
        self.attempts.extend(last.hops)
        self.attempts.append((redact_url(last.url), last.status))
        return last

    def tried(self):
        """Every URL tried with its final status, for error messages."""
        return describe_attempts(self.attempts)


class Fetcher(RetryLog):
    """Requests through ansible's ``open_url`` with retries, and a log of what was asked.

    ``attempts`` lists ``(redacted URL, status)`` for every redirect hop and every
    final answer, so that errors can show every URL tried. The URL options of the
    module (``validate_certs``, ``use_proxy``, ``url_username``, ``url_password``,
    ``force_basic_auth``, ``client_cert``, ``client_key``, ``http_agent``) and the
    source they are for (``index_url``, ``mirror_url``) are read from ``module.params``.
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
        self._contexts = {}
        self.credentials = Credentials.from_options(module.params, headers=self.headers)

    def _context(self, url):
        """The TLS context for ``url``: one per run for https (made as ``Request.open`` would make
        it), and an unloaded one that is never used for http (it refuses any certificate)."""
        https = urlsplit(url).scheme.lower() == "https"
        if https not in self._contexts:
            if https:
                params = self.module.params
                self._contexts[https] = _urls.make_context(
                    cafile=self.ca_path, validate_certs=params.get("validate_certs", True),
                    client_cert=params.get("client_cert"), client_key=params.get("client_key"))
            else:
                self._contexts[https] = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return self._contexts[https]

    # -- one request -------------------------------------------------------

    def _request(self, url, grant, accept=None):
        """One GET of ``url`` (without user info) with what ``grant`` allows, not following redirects.

        Returns ``(response or None, info)``. ``info`` holds ``status`` (-1 when no HTTP
        answer came), ``msg``, the lower-case response headers and, for errors no retry
        can fix, ``retry: False``. Never calls ``fail_json``, unlike ``fetch_url``.
        """
        params = self.module.params
        # A fresh dict: open_url may add to the one it is given.
        headers = dict(grant.headers)
        if accept:
            headers["Accept"] = accept
        kwargs = dict(
            headers=headers,
            method="GET",
            use_proxy=params.get("use_proxy", True),
            timeout=self.timeout,
            validate_certs=params.get("validate_certs", True),
            http_agent=params.get("http_agent"),
            follow_redirects="none",
            client_cert=params.get("client_cert"),
            client_key=params.get("client_key"),
            decompress=False,
            # A challenge is answered by urllib's basic and digest handlers, as fetch_url does.
            url_username=grant.challenge[0] if grant.challenge else None,
            url_password=grant.challenge[1] if grant.challenge else None,
            force_basic_auth=False,
            use_netrc=grant.netrc,
        )
        if self.ca_path:
            kwargs["ca_path"] = self.ca_path
        info = {"url": url, "status": -1}
        try:
            if _CONTEXT_ARG:
                response = _urls.Request().open(url=url, context=self._context(url), **kwargs)
            else:
                response = open_url(url, **kwargs)
        except urllib.error.HTTPError as exc:
            # With follow_redirects="none" a redirect arrives here too, Location included.
            info.update((key.lower(), value) for key, value in (exc.headers or {}).items())
            info.update(status=exc.code, msg="HTTP Error %s: %s" % (exc.code, exc.reason))
            self._close(exc)
            return None, info
        except urllib.error.URLError as exc:
            info.update(msg="Request failed: %s" % (exc.reason,))
            return None, info
        except (socket.timeout, socket.error, IOError, OSError, http.client.HTTPException) as exc:
            info.update(msg="Connection failure: %s" % (exc,))
            return None, info
        except Exception as exc:  # pylint: disable=broad-except
            # ansible's ConnectionError (TLS validation, proxy), ValueError from a bad URL,
            # MissingModuleError: no retry can fix these.
            info.update(msg="%s: %s" % (type(exc).__name__, exc), retry=False)
            return None, info
        info.update((key.lower(), value) for key, value in response.headers.items())
        info.update(status=response.getcode(), msg="OK")
        return response, info

    def _open(self, url, accept=None):
        """GET ``url``, following up to ``MAX_REDIRECTS`` redirects: ``(response, info, hops)``.

        Each hop is asked with what ``self.credentials`` grants it. ``info["url"]`` is
        the URL finally asked, not redacted.
        """
        hops = []
        current, previous = url, None
        for _hop in range(MAX_REDIRECTS + 1):
            problem = _url_problem(current)
            if problem:
                if previous is None:
                    return None, {"url": current, "status": -1, "msg": problem, "retry": False}, hops
                # Report the hop that redirected, as the final answer.
                return None, {"url": previous, "status": hops[-1][1], "retry": False,
                              "msg": "redirect to %s refused: %s" % (redact_url(current), problem)}, hops[:-1]
            bare, grant = self.credentials.grant(current, asked=url)
            response, info = self._request(bare, grant, accept=accept)
            if info["status"] not in _REDIRECTS:
                return response, info, hops
            self._close(response)
            location = info.get("location")
            if not location:
                info.update(msg="HTTP %s without a Location header" % info["status"], retry=False)
                return None, info, hops
            hops.append((redact_url(current), info["status"]))
            current, previous = urljoin(bare, location.strip()), current
        return None, {"url": previous, "status": hops[-1][1], "retry": False,
                      "msg": "more than %d redirects; stopped before %s" % (MAX_REDIRECTS, redact_url(current))
                      }, hops[:-1]

    def _open_ok(self, target, accept=None):
        """Open ``target``: ``(response, info, hops, None)`` on HTTP 200, else ``(None, info, hops, Response)``."""
        response, info, hops = self._open(target, accept=accept)
        status = info.get("status", -1)
        if status != 200 or response is None:
            self._close(response)
            return None, info, hops, Response(info.get("url", target), status, note=self._note(info), hops=hops,
                                              retry=info.get("retry"))
        return response, info, hops, None

    # -- what the module asks ----------------------------------------------

    def get_small(self, url, limit=SMALL_LIMIT, accept=None):
        """GET a small text (a checksum file); the body is ``None`` unless status is 200."""
        def action(target):
            response, info, hops, failed = self._open_ok(target, accept=accept)
            if failed:
                return failed
            final = info["url"]
            try:
                body = response.read(limit + 1)
            except _READ_ERRORS as exc:
                return Response(final, -1, note="read failed: %s" % exc, hops=hops)
            finally:
                self._close(response)
            if len(body) > limit:
                return Response(final, 200, note="larger than %d bytes" % limit, hops=hops)
            return Response(final, 200, body=body, hops=hops)
        return self._with_retries(url, action)

    def probe(self, url):
        """GET ``url`` but read no body: tells whether the mirror serves it."""
        def action(target):
            response, info, hops, failed = self._open_ok(target)
            if failed:
                return failed
            self._close(response)
            return Response(info["url"], 200, hops=hops)
        return self._with_retries(url, action)

    def download(self, url, dest, max_bytes, sink=None):
        """Stream ``url`` into the file ``dest`` (``None``: no file, only the ``sink``) while hashing it.

        Returns ``Response`` whose ``body`` is ``(sha256 hex, size)`` on success, and whose
        ``extra`` is what the ``sink`` returned. A body shorter than its Content-Length, or
        a dropped connection, counts as a failure (status -1) and is retried. A failed
        write to ``dest`` is not the network's fault: a full disk raises ``DiskFullError``
        (naming the directory and the size needed), any other write error ``InstallError``,
        at once and without retries, and ``dest`` is removed.

        ``sink(content_length)``, when given, makes a second consumer for each attempt: an
        object with ``write(chunk)``, ``close() -> result`` and ``abort()`` that gets every
        chunk after it was hashed and written (for example an extractor that unpacks while
        the bytes arrive). It may raise ``InstallError`` from ``write``/``close`` (no retry).
        """
        def action(target):
            response, info, hops, failed = self._open_ok(target)
            if failed:
                return failed
            final = info["url"]
            expected = info.get("content-length")
            expected = int(expected) if expected is not None and str(expected).isdigit() else None
            digest = hashlib.sha256()
            size = 0
            extra = None
            done = False
            handle = None
            try:
                try:
                    handle = open(dest, "wb") if dest is not None else None
                except (IOError, OSError) as exc:
                    raise self._write_error(exc, dest, expected)
                try:
                    extra = sink(expected) if sink else None
                    while True:
                        try:
                            chunk = response.read(CHUNK)
                        except _READ_ERRORS as exc:
                            return Response(final, -1, note="download interrupted after %d bytes: %s" % (size, exc),
                                            hops=hops)
                        if not chunk:
                            break
                        size += len(chunk)
                        if size > max_bytes:
                            return Response(final, 200, note="larger than %d bytes, refused" % max_bytes, hops=hops)
                        digest.update(chunk)
                        if handle is not None:
                            try:
                                handle.write(chunk)
                            except (IOError, OSError) as exc:
                                raise self._write_error(exc, dest, expected or size)
                        if extra is not None:
                            extra.write(chunk)
                    done = True
                finally:
                    try:
                        if handle is not None:
                            handle.close()
                    except (IOError, OSError) as exc:
                        # A buffered write may only fail when the buffer is flushed.
                        done = False
                        raise self._write_error(exc, dest, expected or size)
                    finally:
                        if extra is not None and not done:
                            extra.abort()
            except InstallError:
                self._remove(dest)
                raise
            finally:
                self._close(response)
            # http.client returns b"" without an error when the peer closes early, so
            # the byte count is the only proof that the whole body arrived.
            if expected is not None and expected != size:
                if extra is not None:
                    extra.abort()
                return Response(final, -1, note="short read: got %d of %s bytes" % (size, expected), hops=hops)
            if extra is not None:
                try:
                    extra = extra.close()
                except InstallError:
                    self._remove(dest)
                    raise
            answer = Response(final, 200, body=(digest.hexdigest(), size), hops=hops)
            answer.extra = extra
            return answer
        return self._with_retries(url, action)

    def get_page(self, url, accept, make_parser, limit=64 * 1024 * 1024):
        """GET a page and feed it, chunk by chunk, to a parser made by ``make_parser(final_url, content_type)``.

        The parser's ``feed(bytes)`` takes the chunks as they arrive, so a large index
        page is never held whole. Returns ``Response`` whose ``body`` is the parser.
        ``final_url`` is the URL answered after redirects (relative links resolve
        against it); it may hold user info, so redact it before showing it.
        """
        def action(target):
            response, info, hops, failed = self._open_ok(target, accept=accept)
            if failed:
                return failed
            final = info["url"]
            parser = make_parser(final, info.get("content-type"))
            size = 0
            try:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        return Response(final, 200, note="larger than %d bytes, refused" % limit, hops=hops)
                    parser.feed(chunk)
            except _READ_ERRORS as exc:
                return Response(final, -1, note="read failed after %d bytes: %s" % (size, exc), hops=hops)
            finally:
                self._close(response)
            expected = info.get("content-length")
            if expected is not None and str(expected).isdigit() and int(expected) != size:
                return Response(final, -1, note="short read: got %d of %s bytes" % (size, expected), hops=hops)
            return Response(final, 200, body=parser, hops=hops)
        return self._with_retries(url, action)

    # -- helpers -----------------------------------------------------------

    @staticmethod
    def _write_error(exc, dest, needed):
        directory = os.path.dirname(dest)
        full = disk_full(exc, directory, needed)
        if full is not None:
            return full
        return InstallError("cannot write the download to %s: %s; nothing was changed"
                            % (directory, getattr(exc, "strerror", None) or exc))

    @staticmethod
    def _remove(path):
        if path is None:
            return
        try:
            os.unlink(path)
        except OSError:
            pass

    @staticmethod
    def _close(response):
        if response is not None:
            try:
                response.close()
            except Exception:  # pylint: disable=broad-except
                pass

    @staticmethod
    def _note(info):
        return redact_text(str(info.get("msg", "")))[:300]
