# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one credential policy (``_credentials``), tested once from both sides.

Every case runs with the host's ``_fetch.Fetcher`` and with the controller's
``_http.ControllerFetcher`` against real loopback servers that record the headers they
receive: credentials go to every URL on the origin of the source they were given for
(``mirror_url``/``index_url``), and to no other origin.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import threading

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._credentials import Credentials, same_origin, split_user_info
from ansible_collections.pyfleet.uv.plugins.module_utils.install._fetch import Fetcher
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import TOOLS

PW = "pw-s3cret-value"
TOKEN = "tok-s3cret-value"
COOKIE = "session=cookie-s3cret-value"
GITLAB = "glpat-s3cret-value"
NETRC_PW = "netrc-s3cret-value"
CKSUM_PW = "cksum-s3cret-value"
ALL = (PW, TOKEN, COOKIE, GITLAB, NETRC_PW, CKSUM_PW)
BODY = b"x" * 5000
CREDS = dict(url_username="fleet", url_password=PW, force_basic_auth=True,
             headers={"X-Mirror-Token": TOKEN, "Cookie": COOKIE})


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers from ``server.routes`` (path -> ``(status, headers, body)``, or ``("auth", value)``:
    200 with ``Authorization: value``, else a ``401`` Basic challenge); records every request."""

    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        return

    def do_GET(self):  # noqa: N802
        self.server.seen.append((self.path, dict(self.headers.items())))
        route = self.server.routes.get(self.path, (404, {}, b"not here"))
        if route[0] == "auth":
            if self.headers.get("Authorization") == route[1]:
                route = (200, {}, BODY)
            else:
                route = (401, {"WWW-Authenticate": 'Basic realm="test"'}, b"")
        status, headers, body = route
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.routes, server.seen = {}, []
    server.url = "http://127.0.0.1:%d" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class FakeModule:
    """What the host's Fetcher reads from an AnsibleModule."""

    def __init__(self, **params):
        self.params = dict(validate_certs=True, use_proxy=False, url_username=None, url_password=None,
                           force_basic_auth=False, client_cert=None, client_key=None, http_agent="ansible-httpget",
                           mirror_url=None, index_url=None, headers=None)
        self.params.update(params)


def host_fetcher(**options):
    return Fetcher(FakeModule(**options), timeout=5, retries=0, headers=options.get("headers"), sleep=lambda _s: None)


def controller_fetcher(**options):
    from ansible_collections.pyfleet.uv.plugins.plugin_utils._http import ControllerFetcher
    options.setdefault("use_proxy", False)
    return ControllerFetcher(dict(options, timeout=5), retries=0, sleep=lambda _s: None)


@pytest.fixture(params=["host", "controller"])
def side(request):
    """Makes a fetcher of one side from the task's URL options."""
    return host_fetcher if request.param == "host" else controller_fetcher


def leaked(headers):
    """The secrets found in recorded request headers (raw or inside a basic auth value)."""
    text = repr(headers)
    for value in headers.values():
        if value.startswith("Basic "):
            text += base64.b64decode(value[6:]).decode("utf-8", "replace")
    return [secret for secret in ALL if secret in text]


# -- the pure policy ---------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("https://u:p%40ss@h/x", ("https://h/x", ("u", "p@ss"))),
    ("https://TOKEN@h:8443/x?q=1", ("https://h:8443/x?q=1", ("TOKEN", ""))),
    ("https://a@b:c@h/x", ("https://h/x", ("a@b", "c"))),  # the last "@" ends the user info
    ("https://h/x", ("https://h/x", None)),
], ids=["password", "token-as-user", "raw-at", "none"])
def test_split_user_info(url, expected):
    assert split_user_info(url) == expected


@pytest.mark.parametrize("url, headers, challenge, netrc", [
    ("https://idx.example/files/uv.whl", {"X-T": "t", "Authorization": basic("__token__", "g")}, None, False),
    ("https://idx.example:8443/files/uv.whl", {}, None, False),
    ("http://idx.example/files/uv.whl", {}, None, False),
    ("https://cdn.example/uv.whl", {}, None, False),
    ("https://c:k@cdn.example/sha256.sum", {"Authorization": basic("c", "k")}, None, False),
], ids=["same-origin", "other-port", "other-scheme", "other-host", "own-user-info"])
def test_grant_of_index_user_info(url, headers, challenge, netrc):
    creds = Credentials("https://__token__:g@idx.example/simple/", headers={"X-T": "t"})
    bare, grant = creds.grant(url)
    assert "@" not in bare
    assert (grant.headers, grant.challenge, grant.netrc) == (headers, challenge, netrc)


def test_grant_follows_fetch_url_for_url_username():
    creds = Credentials("https://m.example/{version}/", "fleet", PW)
    assert creds.grant("https://m.example/x")[1].challenge == ("fleet", PW)
    assert "Authorization" not in creds.grant("https://m.example/x")[1].headers
    forced = Credentials("https://m.example/{version}/", "fleet", PW, force_basic_auth=True)
    assert forced.grant("https://m.example/x")[1].headers == {"Authorization": basic("fleet", PW)}
    # netrc only where nothing else gives a user, and only on the source's origin.
    assert Credentials("https://m.example/").grant("https://m.example/x")[1].netrc
    assert not Credentials("https://m.example/").grant("https://o.example/x")[1].netrc
    assert not forced.grant("https://m.example/x")[1].netrc


def test_default_source_is_every_tools_default_mirror():
    creds = Credentials.from_options({})
    for tool in TOOLS.values():
        assert same_origin(creds.source, tool.default_mirror.replace("{", "").replace("}", ""))


# -- both sides against real servers ------------------------------------------

def test_checksum_url_on_another_origin_gets_nothing(side):
    """Issue 33 item 1: the mirror's credentials never reach a checksum host elsewhere."""
    with serve() as mirror, serve() as other:
        mirror.routes["/0.5.0/uv.tar.gz.sha256"] = (200, {}, b"a" * 64)
        other.routes["/sha256.sum"] = (200, {}, b"a" * 64)
        fetcher = side(mirror_url=mirror.url + "/{version}/", **CREDS)
        assert fetcher.get_small(mirror.url + "/0.5.0/uv.tar.gz.sha256").status == 200
        assert fetcher.get_small(other.url + "/sha256.sum").status == 200
        sent = mirror.seen[0][1]
        assert sent["Authorization"] == basic("fleet", PW) and sent["X-Mirror-Token"] == TOKEN
        assert leaked(other.seen[0][1]) == [] and "Authorization" not in other.seen[0][1]


def test_basic_auth_waits_for_a_challenge_without_force_basic_auth(side):
    """As fetch_url: url_username/url_password answer a 401 challenge, and are not sent before."""
    with serve() as mirror:
        mirror.routes["/open"] = (200, {}, BODY)
        mirror.routes["/locked"] = ("auth", basic("fleet", PW))
        fetcher = side(mirror_url=mirror.url + "/", url_username="fleet", url_password=PW)
        assert fetcher.get_small(mirror.url + "/open").status == 200
        assert fetcher.get_small(mirror.url + "/locked").status == 200
        seen = [(path, headers.get("Authorization")) for path, headers in mirror.seen]
        assert seen == [("/open", None), ("/locked", None), ("/locked", basic("fleet", PW))]


def test_index_user_info_reaches_absolute_file_links_on_its_host(side, tmp_path):
    """Issue 33 item 6: GitLab's token in the index URL's user info, wheels linked absolutely."""
    with serve() as index:
        token = basic("__token__", GITLAB)
        index.routes["/api/packages/pypi/files/abc/uv-0.5.0-py3-none-linux_x86_64.whl"] = ("auth", token)
        index_url = index.url.replace("://", "://__token__:%s@" % GITLAB) + "/api/packages/pypi/simple/"
        fetcher = side(index_url=index_url)
        answer = fetcher.download(index.url + "/api/packages/pypi/files/abc/uv-0.5.0-py3-none-linux_x86_64.whl",
                                  str(tmp_path / "uv.whl"), 10 ** 6)
        assert answer.status == 200, answer.note
        assert index.seen[0][1]["Authorization"] == token
        assert GITLAB not in fetcher.tried()


def test_index_credentials_stay_off_file_links_on_other_hosts(side, tmp_path):
    """Issue 33 item 7 (uv_mirror_check probes the files' own URLs) and the install's downloads."""
    with serve() as index, serve() as cdn:
        cdn.routes["/uv.whl"] = (200, {}, BODY)
        index_url = index.url.replace("://", "://__token__:%s@" % GITLAB) + "/simple/"
        fetcher = side(index_url=index_url, **CREDS)
        assert fetcher.probe(cdn.url + "/uv.whl").status == 200
        assert fetcher.download(cdn.url + "/uv.whl", str(tmp_path / "uv.whl"), 10 ** 6).status == 200
        for _path, headers in cdn.seen:
            assert leaked(headers) == [] and "Authorization" not in headers, headers


def test_redirects_keep_credentials_on_the_origin_and_drop_them_elsewhere(side, tmp_path, monkeypatch):
    """A redirect to another origin gets nothing, ~/.netrc included; back on the source's origin, all again."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netuser password %s\n" % NETRC_PW)
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with serve() as mirror, serve() as other:
        mirror.routes["/a"] = (301, {"Location": "/b"}, b"")
        mirror.routes["/b"] = (302, {"Location": other.url + "/c?X-Amz-Signature=abc"}, b"")
        other.routes["/c?X-Amz-Signature=abc"] = (307, {"Location": mirror.url + "/d"}, b"")
        mirror.routes["/d"] = (200, {}, BODY)
        # use_proxy=True: the controller's requests would read ~/.netrc itself if let.
        fetcher = side(mirror_url=mirror.url + "/", use_proxy=True)
        answer = fetcher.get_small(mirror.url + "/a")
        assert answer.status == 200 and answer.body == BODY
        netrc_auth = basic("netuser", NETRC_PW)
        assert [h.get("Authorization") for _p, h in mirror.seen] == [netrc_auth] * 3
        assert leaked(other.seen[0][1]) == [] and "Authorization" not in other.seen[0][1]
        mirror.seen[:], other.seen[:] = [], []
        fetcher = side(mirror_url=mirror.url + "/", **CREDS)
        assert fetcher.get_small(mirror.url + "/a").status == 200
        assert [h.get("X-Mirror-Token") for _p, h in mirror.seen] == [TOKEN] * 3
        assert leaked(other.seen[0][1]) == []


def test_a_urls_own_user_info_goes_to_its_origin_only(side):
    """checksum=sha256:https://user:pw@host/sha256.sum: that user info is for that host, and only it;
    the mirror's url_username and headers do not go there."""
    with serve() as mirror, serve() as sums, serve() as elsewhere:
        sums.routes["/sha256.sum"] = (302, {"Location": "/moved.sum"}, b"")
        sums.routes["/moved.sum"] = (302, {"Location": elsewhere.url + "/sha256.sum"}, b"")
        elsewhere.routes["/sha256.sum"] = (200, {}, b"a" * 64)
        fetcher = side(mirror_url=mirror.url + "/", **CREDS)
        url = sums.url.replace("://", "://sums:%s@" % CKSUM_PW) + "/sha256.sum"
        answer = fetcher.get_small(url)
        assert answer.status == 200
        assert [h.get("Authorization") for _p, h in sums.seen] == [basic("sums", CKSUM_PW)] * 2
        assert all("X-Mirror-Token" not in h for _p, h in sums.seen)
        assert leaked(elsewhere.seen[0][1]) == []
        assert CKSUM_PW not in fetcher.tried()


def test_environment_netrc_is_not_read_for_other_origins_by_default(side, tmp_path, monkeypatch):
    """No source option at all: the credentials belong to the default mirror's origin (GitHub)."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netuser password %s\n" % NETRC_PW)
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with serve() as other:
        other.routes["/x"] = (200, {}, b"ok")
        assert side(use_proxy=True, **CREDS).get_small(other.url + "/x").status == 200
        assert leaked(other.seen[0][1]) == []
