# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""HTTP on the controller, with ``requests``: the controller's transport for sources.

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
``ControllerFetcher`` answers the same calls as the host's ``module_utils.install._fetch.Fetcher``
(``get_small``, ``probe``, ``get_page``, ``download``, ``tried``), so that the shared
source logic in ``module_utils.install._artifacts`` runs unchanged on the controller.
``requests`` is imported lazily: a controller without it works in host mode.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import time

try:
    from urllib.parse import urljoin
except ImportError:  # pragma: no cover
    from urlparse import urljoin  # type: ignore

from ansible_collections.pyfleet.uv.plugins.module_utils._credentials import Credentials, basic_header
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError, disk_full
from ansible_collections.pyfleet.uv.plugins.module_utils.install._fetch import CHUNK, SMALL_LIMIT, Response, RetryLog
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text, redact_url

__all__ = ["ControllerFetcher", "load_requests"]

MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)


def load_requests():
    """The ``requests`` module, or a ``MirrorError`` that says how to get it."""
    try:
        import requests  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise MirrorError(
            "download_on=controller (and version specifiers) need the Python package 'requests' on the "
            "controller, in the Python that runs ansible: install it (pip install requests; see the "
            "collection's requirements.txt), or use download_on=host with an exact version")
    return requests


def _no_auth(request):
    """An ``auth`` for ``requests`` that adds nothing: it keeps ``requests`` from adding
    ``~/.netrc`` or URL credentials of its own (``_credentials`` decides what is sent)."""
    return request


def _failure(exc, url):
    """A ``requests`` exception as a note that never quotes the URL's secrets.

    The exception's text holds the whole URL (query string and all): it is not shown;
    the note names the redacted URL and the kind of failure, with the innermost reason,
    itself masked with ``redact_text``.
    """
    reason = exc
    for _depth in range(12):
        inner = getattr(reason, "reason", None)
        if not isinstance(inner, BaseException):
            inner = reason.__cause__ or reason.__context__
        if inner is None:
            break
        reason = inner
    detail = redact_text(str(reason or "")).replace(url, redact_url(url))
    return "%s for %s%s" % (type(exc).__name__, redact_url(url), ": %s" % detail[:200] if detail else "")


class ControllerFetcher(RetryLog):
    """GETs through one ``requests`` session with the task's URL options.

    Redirects are followed here, not by ``requests``, so that every hop is asked with
    what ``_credentials.Credentials.grant`` allows for it, as on the host: credentials
    (basic auth, URL user info, ``~/.netrc``, every user-supplied header) belong to the
    origin of the task's source and go nowhere else.
    """

    def __init__(self, options, retries=3, delay=1.0, sleep=time.sleep):
        requests = load_requests()
        self.requests = requests
        self.options = options
        self.timeout = options.get("timeout") or 30
        self.retries = retries
        self.delay = delay
        self.sleep = sleep
        self.attempts = []
        session = requests.Session()
        session.trust_env = bool(options.get("use_proxy", True))
        if options.get("ca_path"):
            session.verify = options["ca_path"]
        elif options.get("validate_certs") is False:
            session.verify = False
        if options.get("client_cert"):
            session.cert = (options["client_cert"], options["client_key"]) if options.get("client_key") \
                else options["client_cert"]
        session.headers["User-Agent"] = options.get("http_agent") or "ansible-httpget"
        self.session = session
        self.credentials = Credentials.from_options(options)

    def _get(self, url, grant, accept, stream):
        """One GET of ``url`` (without user info) with what ``grant`` allows, not following redirects."""
        headers = dict(grant.headers)
        if accept:
            headers["Accept"] = accept
        if grant.netrc and "Authorization" not in headers:
            # As ansible's open_url reads it: the entry for the host, sent at once.
            login = self.requests.utils.get_netrc_auth(url)
            if login and login[0] and login[1]:
                headers["Authorization"] = basic_header(*login)
        response = self.session.get(url, headers=headers, auth=_no_auth, stream=stream, timeout=self.timeout,
                                    allow_redirects=False)
        if response.status_code == 401 and grant.challenge and "basic" in response.headers.get(
                "WWW-Authenticate", "").lower():
            # url_username/url_password without force_basic_auth: sent only when asked for, as fetch_url does.
            response.close()
            headers["Authorization"] = basic_header(*grant.challenge)
            response = self.session.get(url, headers=headers, auth=_no_auth, stream=stream, timeout=self.timeout,
                                        allow_redirects=False)
        return response

    def _open(self, url, accept=None, stream=True):
        """GET ``url`` following redirects safely: ``(response or None, status, note, hops)``.

        Each hop is asked with what ``self.credentials`` grants it.
        """
        hops = []
        current = url
        for _hop in range(MAX_REDIRECTS + 1):
            bare, grant = self.credentials.grant(current, asked=url)
            try:
                response = self._get(bare, grant, accept, stream)
            except self.requests.exceptions.RequestException as exc:
                return None, -1, _failure(exc, bare), hops
            if response.status_code in _REDIRECTS and response.headers.get("Location"):
                hops.append((redact_url(current), response.status_code))
                response.close()
                current = urljoin(bare, response.headers["Location"])
                if not current.startswith(("http://", "https://")):
                    return None, -1, "redirected to a URL that is not http(s): %s" % redact_url(current), hops
                continue
            if response.status_code != 200:
                response.close()
                return None, response.status_code, response.reason or "", hops
            return response, 200, "", hops
        return None, -1, "more than %d redirects" % MAX_REDIRECTS, hops

    def get_small(self, url, limit=SMALL_LIMIT, accept=None):
        """GET a small text; ``body`` is bytes on HTTP 200, else ``None``."""
        def action(target):
            response, status, note, hops = self._open(target, accept=accept)
            if response is None:
                return Response(target, status, note=note, hops=hops)
            try:
                body = b""
                for chunk in response.iter_content(CHUNK):
                    body += chunk
                    if len(body) > limit:
                        return Response(target, 200, note="larger than %d bytes" % limit, hops=hops)
            except self.requests.exceptions.RequestException as exc:
                return Response(target, -1, note="read failed: %s" % _failure(exc, target), hops=hops)
            finally:
                response.close()
            return Response(target, 200, body=body, hops=hops)
        return self._with_retries(url, action)

    def probe(self, url):
        """Whether ``url`` is served (GET, no body read)."""
        def action(target):
            response, status, note, hops = self._open(target)
            if response is not None:
                response.close()
            return Response(target, status, note=note, hops=hops)
        return self._with_retries(url, action)

    def get_page(self, url, accept, make_parser, limit=64 * 1024 * 1024):
        """GET a page and feed it to ``make_parser(final_url, content_type)`` as it arrives."""
        def action(target):
            response, status, note, hops = self._open(target, accept=accept)
            if response is None:
                return Response(target, status, note=note, hops=hops)
            parser = make_parser(response.url, response.headers.get("Content-Type"))
            size = 0
            try:
                for chunk in response.raw.stream(CHUNK, decode_content=True):
                    size += len(chunk)
                    if size > limit:
                        return Response(target, 200, note="larger than %d bytes, refused" % limit, hops=hops)
                    parser.feed(chunk)
            except Exception as exc:  # pylint: disable=broad-except  # urllib3's read errors vary by version
                return Response(target, -1, note="read failed after %d bytes: %s" % (size, _failure(exc, target)),
                                hops=hops)
            finally:
                response.close()
            return Response(target, 200, body=parser, hops=hops)
        return self._with_retries(url, action)

    def download(self, url, dest, max_bytes, origin=None):  # pylint: disable=unused-argument
        """Stream ``url`` into ``dest`` while hashing: ``body`` is ``(sha256, size)`` on success.

        ``origin`` is accepted for the callers that still pass it and not used: the
        credentials follow the fetcher's source (``_credentials``), whatever is asked.
        """
        def action(target):
            response, status, note, hops = self._open(target)
            if response is None:
                return Response(target, status, note=note, hops=hops)
            expected = response.headers.get("Content-Length")
            digest = hashlib.sha256()
            size = 0
            try:
                with open(dest, "wb") as handle:
                    # decode_content=False: the bytes as served are what the checksum covers.
                    for chunk in response.raw.stream(CHUNK, decode_content=False):
                        size += len(chunk)
                        if size > max_bytes:
                            return Response(target, 200, note="larger than %d bytes, refused" % max_bytes, hops=hops)
                        digest.update(chunk)
                        handle.write(chunk)
            except (IOError, OSError) as exc:
                full = disk_full(exc, dest.rsplit("/", 1)[0], int(expected) if (expected or "").isdigit() else None)
                if full:
                    raise full
                return Response(target, -1, note="download interrupted after %d bytes: %s" % (size, _failure(exc, target)),
                                hops=hops)
            except Exception as exc:  # pylint: disable=broad-except
                return Response(target, -1, note="download interrupted after %d bytes: %s" % (size, _failure(exc, target)),
                                hops=hops)
            finally:
                response.close()
            if expected is not None and expected.isdigit() and int(expected) != size:
                return Response(target, -1, note="short read: got %d of %s bytes" % (size, expected), hops=hops)
            return Response(target, 200, body=(digest.hexdigest(), size), hops=hops)
        return self._with_retries(url, action)
