# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where credentials go: the one rule that the host's and the controller's fetchers follow.

PRIVATE API: only for this collection's plugins; names may change without notice.
Pure code, standard library only, valid on Python 3.6 (it runs on managed hosts).

Credentials belong to the source they were given for, the ``index_url`` or ``mirror_url``
(uv's GitHub releases when neither is set), and go to every URL on that source's origin
(scheme, host and port) and to no other:

- ``url_username``/``url_password`` as ansible's ``fetch_url`` sends them: in answer to a
  ``401`` Basic challenge, or with the first request when ``force_basic_auth`` is set;
- user info in the source URL (``https://__token__:TOKEN@gitlab.example.com/...``), sent
  with the first request, as uv and pip send it (an index's absolute file links on the
  same host get it too, though they carry no user info);
- the ``headers`` option (``Authorization``, cookies, tokens);
- a ``~/.netrc`` entry for the host, when none of the above gives a user.

A URL's own user info (a ``checksum: sha256:https://user:pw@host/sha256.sum``) is sent to
that URL's origin only. A redirect to another origin gets none of them, and neither does a
``checksum`` URL, a wheel link or a redirect target on another origin. The fetchers hand
``grant`` each URL they ask, hop by hop, and send what it returns, nothing else.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["DEFAULT_SOURCE", "Credentials", "Grant", "origin", "same_origin", "split_user_info"]

# Every tool's default mirror (``tools.Tool.default_mirror``) is a GitHub releases URL.
DEFAULT_SOURCE = "https://github.com/"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url):
    """``(scheme, host, port)`` of ``url``, the port made explicit; ``None`` if unparsable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def same_origin(first, second):
    """Whether two URLs share scheme, host and port (the rule for sending credentials)."""
    found = origin(first)
    return found is not None and found == origin(second)


def split_user_info(url):
    """``(url without user info, (user, password) or None)``; both parts percent-decoded.

    The user info ends at the last ``@`` of the authority, as ``_secrets`` reads it.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url, None
    if "@" not in parts.netloc:
        return url, None
    info, host = parts.netloc.rsplit("@", 1)
    user, _colon, password = info.partition(":")
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), (unquote(user), unquote(password))


def basic_header(user, password):
    """The ``Authorization`` value of HTTP Basic authentication."""
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")


class Grant(object):
    """What may go with one request: ``headers`` to send as they are (``Authorization``
    included when it is sent at once), ``challenge``, a ``(user, password)`` to answer a
    ``401`` Basic challenge with (else ``None``), and ``netrc``: whether a ``~/.netrc`` entry
    for the host may be sent."""

    __slots__ = ("headers", "challenge", "netrc")

    def __init__(self, headers=None, challenge=None, netrc=False):
        self.headers = headers or {}
        self.challenge = challenge
        self.netrc = netrc


class Credentials(object):
    """The credentials of one source (see the module docstring for the rule)."""

    def __init__(self, source, username=None, password=None, force_basic_auth=False, headers=None):
        self.source, self.user_info = split_user_info(source or DEFAULT_SOURCE)
        self.basic = (username, password or "") if username else None
        self.force = bool(force_basic_auth)
        self.headers = dict(headers or {})

    @classmethod
    def from_options(cls, options, headers=None):
        """The credentials of a module's or task's URL options (``headers``: the option, if not in ``options``)."""
        return cls(options.get("index_url") or options.get("mirror_url"), options.get("url_username"),
                   options.get("url_password"), options.get("force_basic_auth"),
                   options.get("headers") if headers is None else headers)

    def grant(self, url, asked=None):
        """``(url without user info, Grant)`` for a request to ``url``.

        ``asked`` is the URL first asked when ``url`` is a redirect's target: its user info
        still applies on its own origin.
        """
        bare, own = split_user_info(url)
        if own is None and asked is not None and same_origin(asked, bare):
            own = split_user_info(asked)[1]
        grant = Grant()
        basic, at_once = None, True
        if same_origin(self.source, bare):
            grant.headers.update(self.headers)
            if self.basic:
                basic, at_once = self.basic, self.force
            elif self.user_info:
                basic = self.user_info
        if own:
            basic, at_once = own, True
        if basic is None:
            grant.netrc = same_origin(self.source, bare)
        elif at_once:
            grant.headers["Authorization"] = basic_header(*basic)
        else:
            grant.challenge = basic
        return bare, grant
