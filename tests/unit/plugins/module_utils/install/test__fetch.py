# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The host-side HTTP client against real loopback servers: redirects, credentials, full disks."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import os
import subprocess
import tempfile
import threading

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import DiskFullError
from ansible_collections.pyfleet.uv.plugins.module_utils.install._fetch import MAX_REDIRECTS, Fetcher, same_origin

SECRET_PW = "pw-s3cret-value"
SECRET_TOKEN = "tok-s3cret-value"
SECRET_COOKIE = "session=cookie-s3cret-value"
BODY = b"x" * 200000


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers from ``server.routes``: path -> ``(status, headers, body)``; records every request."""

    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        return

    def do_GET(self):  # noqa: N802
        self.server.seen.append((self.path, dict(self.headers.items())))
        status, headers, body = self.server.routes.get(self.path, (404, {}, b"not here"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.routes = {}
    server.seen = []
    server.url = "http://127.0.0.1:%d" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class FakeModule:
    """What the Fetcher reads from an AnsibleModule."""

    tmpdir = tempfile.gettempdir()

    def __init__(self, **params):
        self.params = dict(validate_certs=True, use_proxy=False, url_username=None, url_password=None,
                           force_basic_auth=False, client_cert=None, client_key=None, http_agent="ansible-httpget")
        self.params.update(params)

    def fail_json(self, **result):
        raise AssertionError("fail_json called: %r" % result)


def fetcher(retries=0, **params):
    headers = params.pop("headers", None)
    return Fetcher(FakeModule(**params), timeout=5, retries=retries, headers=headers, sleep=lambda _s: None)


def secrets_in(headers):
    text = repr(headers)
    return [s for s in (SECRET_PW, SECRET_TOKEN, SECRET_COOKIE, base64.b64encode(b"fleet:" + SECRET_PW.encode()).decode())
            if s in text]


CREDS = dict(url_username="fleet", url_password=SECRET_PW, force_basic_auth=True,
             headers={"X-Mirror-Token": SECRET_TOKEN, "Cookie": SECRET_COOKIE,
                      "Proxy-Authorization": "Basic " + SECRET_TOKEN})


def test_cross_origin_redirect_drops_every_credential():
    with serve() as first, serve() as second:
        first.routes["/uv.tar.gz"] = (302, {"Location": second.url + "/bucket/uv.tar.gz?X-Amz-Signature=abc"}, b"")
        second.routes["/bucket/uv.tar.gz?X-Amz-Signature=abc"] = (200, {}, BODY)
        answer = fetcher(mirror_url=first.url + "/", **CREDS).get_small(first.url + "/uv.tar.gz")
        assert answer.status == 200 and answer.body == BODY
        # The configured origin got everything, the other origin nothing.
        sent = first.seen[0][1]
        assert sent["Authorization"].startswith("Basic ") and sent["X-Mirror-Token"] == SECRET_TOKEN
        assert sent["Cookie"] == SECRET_COOKIE
        got = second.seen[0][1]
        assert secrets_in(got) == [], got
        assert not {"Authorization", "Cookie", "Proxy-Authorization", "X-Mirror-Token"} & set(got)


def test_same_origin_redirect_keeps_credentials():
    with serve() as server:
        server.routes["/a/uv.tar.gz"] = (301, {"Location": "../b/uv.tar.gz"}, b"")
        server.routes["/b/uv.tar.gz"] = (200, {}, BODY)
        f = fetcher(mirror_url=server.url + "/", **CREDS)
        answer = f.get_small(server.url + "/a/uv.tar.gz")
        assert answer.status == 200 and answer.body == BODY
        assert [path for path, _h in server.seen] == ["/a/uv.tar.gz", "/b/uv.tar.gz"]
        kept = server.seen[1][1]
        assert kept["X-Mirror-Token"] == SECRET_TOKEN and kept["Authorization"].startswith("Basic ")
        assert f.tried() == "%s/a/uv.tar.gz -> HTTP 301; %s/b/uv.tar.gz -> HTTP 200" % (server.url, server.url)


def test_other_port_is_another_origin():
    with serve() as server:
        assert same_origin(server.url + "/a", server.url.replace("127.0.0.1", "127.0.0.1") + "/b")
        assert not same_origin(server.url + "/a", "http://127.0.0.1:1/a")
        assert not same_origin("http://h/a", "https://h/a")
        assert same_origin("http://h/a", "http://H:80/b")


def test_credentials_not_sent_back_after_leaving_the_origin_then_returning():
    with serve() as first, serve() as second:
        first.routes["/start"] = (302, {"Location": second.url + "/hop"}, b"")
        second.routes["/hop"] = (307, {"Location": first.url + "/end"}, b"")
        first.routes["/end"] = (200, {}, b"ok")
        answer = fetcher(mirror_url=first.url + "/", **CREDS).get_small(first.url + "/start")
        assert answer.status == 200
        assert secrets_in(second.seen[0][1]) == []
        # Back at the configured origin (as curl does): its own credentials again.
        assert first.seen[1][1].get("X-Mirror-Token") == SECRET_TOKEN


def test_redirect_to_file_url_is_refused_without_retry():
    with serve() as server:
        server.routes["/uv.tar.gz"] = (302, {"Location": "file:///etc/passwd"}, b"")
        f = fetcher(retries=3)
        answer = f.get_small(server.url + "/uv.tar.gz")
        assert answer.status == 302 and answer.body is None
        assert "refused" in answer.note and "file:///etc/passwd" in answer.note
        assert len(server.seen) == 1
        assert f.tried() == "%s/uv.tar.gz -> HTTP 302" % server.url


def test_redirect_loop_stops():
    with serve() as server:
        server.routes["/loop"] = (302, {"Location": "/loop"}, b"")
        f = fetcher(retries=2)
        answer = f.probe(server.url + "/loop")
        assert answer.status == 302 and "more than %d redirects" % MAX_REDIRECTS in answer.note
        assert len(server.seen) == MAX_REDIRECTS + 1  # no retries of a loop


def test_redirect_chain_in_tried_is_redacted():
    with serve() as first, serve() as second:
        first.routes["/a"] = (302, {"Location": second.url + "/b?sig=SECRETSIG"}, b"")
        f = fetcher()
        answer = f.probe(first.url + "/a")
        assert answer.status == 404
        assert f.tried() == "%s/a -> HTTP 302; %s/b?sig=******** -> HTTP 404" % (first.url, second.url)


def test_download_follows_redirect_and_hashes():
    with serve() as first, serve() as second, tempfile.TemporaryDirectory() as tmp:
        first.routes["/uv.tar.gz"] = (308, {"Location": second.url + "/uv.tar.gz"}, b"")
        second.routes["/uv.tar.gz"] = (200, {}, BODY)
        dest = os.path.join(tmp, "uv.tar.gz")
        answer = fetcher(**CREDS).download(first.url + "/uv.tar.gz", dest, 10 ** 7)
        assert answer.body == (hashlib.sha256(BODY).hexdigest(), len(BODY))
        assert secrets_in(second.seen[0][1]) == []


def test_server_error_is_still_retried():
    with serve() as server:
        server.routes["/x"] = (503, {}, b"busy")
        f = fetcher(retries=2)
        assert f.probe(server.url + "/x").status == 503
        assert len(server.seen) == 3


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 64 KiB tmpfs: what a full ``module.tmpdir`` looks like (needs root)."""
    mount = tmp_path / "small"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % proc.stderr.decode(errors="replace").strip())
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_download_into_a_full_disk_is_not_a_connection_failure(small_tmpfs):
    with serve() as server:
        server.routes["/uv.tar.gz"] = (200, {}, BODY)
        dest = str(small_tmpfs / "uv.tar.gz")
        f = fetcher(retries=3)
        with pytest.raises(DiskFullError) as info:
            f.download(server.url + "/uv.tar.gz", dest, 10 ** 7)
        assert "no space left on device in %s (needs about 1 MB)" % small_tmpfs in info.value.msg
        assert len(server.seen) == 1, "a full disk must not be retried"
        assert os.listdir(str(small_tmpfs)) == [], "the partial download was left behind"
