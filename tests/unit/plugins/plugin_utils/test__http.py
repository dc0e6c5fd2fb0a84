# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's HTTP errors never print a URL's query string or user info (issue 33 item 2).

Real failures, no mocks: a refused connection on loopback, a name that does not resolve
(``.invalid`` never does), and a TLS server on loopback with a certificate nobody trusts.
"""

from __future__ import annotations

import http.server
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
from ansible_collections.pyfleet.uv.plugins.plugin_utils._http import ControllerFetcher
from ansible_collections.pyfleet.uv.plugins.plugin_utils._source import ControllerSource

SAS = "sig=sas-s3cret-value&se=2030-01-01"
SECRETS = ("sas-s3cret-value", "user-s3cret-value")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def tls_url(tmp_path_factory):
    """An https:// server on loopback whose self-signed certificate is not trusted."""
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed for the TLS case")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "k.pem", "-out", "c.pem",
                    "-days", "2", "-subj", "/CN=127.0.0.1"], cwd=str(d), check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(d / "c.pem"), str(d / "k.pem"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


def urls(tls):
    user = "://tok:user-s3cret-value@"
    return {
        "connect": "http://127.0.0.1:%d/uv/uv.tar.gz?%s" % (free_port(), SAS),
        "dns": "http://mirror.pyfleet-test.invalid/uv/uv.tar.gz?%s" % SAS,
        "tls": tls + "/uv/uv.tar.gz?%s" % SAS,
        "connect-user": ("http://127.0.0.1:%d/uv/uv.tar.gz?%s" % (free_port(), SAS)).replace("://", user),
    }


@pytest.mark.parametrize("case", ["connect", "dns", "tls", "connect-user"])
def test_request_errors_never_quote_the_url(case, tls_url):
    url = urls(tls_url)[case]
    fetcher = ControllerFetcher(dict(use_proxy=False, timeout=5), retries=0, sleep=lambda _s: None)
    answer = fetcher.get_small(url)
    assert answer.status == -1
    text = answer.note + " " + fetcher.tried()
    assert [s for s in SECRETS if s in text] == [], text
    assert "sig=********" in answer.note, answer.note  # the redacted URL is named
    if case == "tls":
        assert "CERTIFICATE_VERIFY_FAILED" in answer.note or "certificate" in answer.note.lower(), answer.note


def test_source_error_message_never_quotes_the_query(tls_url):
    """The task's msg as the action plugin builds it: MirrorError from the shared source logic."""
    mirror = "http://127.0.0.1:%d/uv/{version}/?%s" % (free_port(), SAS)
    source = ControllerSource(dict(mirror_url=mirror, download_retries=0, timeout=5, use_proxy=False),
                              "/nonexistent-cache-never-written", lambda _w: None)
    with pytest.raises(MirrorError) as info:
        list(source.locate("0.5.0", ["x86_64-unknown-linux-gnu"]))
    assert [s for s in SECRETS if s in info.value.msg] == [], info.value.msg
