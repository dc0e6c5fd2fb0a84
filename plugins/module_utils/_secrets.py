# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one secret policy of the collection: what in a URL is secret, how it is masked.

PRIVATE API: only for this collection's plugins; names may change without notice.
Pure code, standard library only, valid on Python 3.6 (it runs on managed hosts).

The rules, as uv and the WHATWG URL standard parse a URL:

- The user info of a URL, of any shape (``user:password@``, ``TOKEN@``, ``:password@``),
  is secret. It ends at the *last* ``@`` of the authority (the authority ends at the
  first ``/``, ``?`` or ``#`` after ``//``), so a raw ``@`` in a password stays inside it.
- Every query value is secret (Azure SAS, S3 presigned URLs, ``?token=``): shown masked,
  and values of ``MIN_QUERY_SECRET`` characters or more are registered as ``no_log``
  values (shorter ones, such as ``v=1``, would mask unrelated text everywhere).
- Both the raw and the percent-decoded form of every secret are registered, since either
  may be printed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import unquote, urlsplit, urlunsplit
except ImportError:  # pragma: no cover - Python 2 is not supported on targets
    from urllib import unquote  # type: ignore
    from urlparse import urlsplit, urlunsplit  # type: ignore

__all__ = ["MASK", "MIN_QUERY_SECRET", "masking_module_class", "redact_text", "redact_url",
           "register_secrets", "url_secrets", "values_secrets"]

MASK = "********"
MIN_QUERY_SECRET = 4
# scheme://userinfo@ in free text: greedy up to the last "@" before the authority ends. Quotes
# and backslashes are legal in user info (uv accepts them), so only a blank ends it here;
# an option value that is one URL is split by urlsplit instead, which takes any character.
URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)([^/?#\s]*)@")
# A query in free text: ?a=b&c=d up to the next blank or quote.
URL_QUERY = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>?#]*\?)([^\s\"'<>#]*)")
WHOLE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _mask_query(query):
    return "&".join((item.split("=", 1)[0] + "=" + MASK) if "=" in item else item for item in query.split("&"))


def redact_url(url):
    """``url`` without its secrets: user info and query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = _mask_query(parts.query) if parts.query else parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text):
    """``text`` (an error message, a uv.toml file) with every URL's user info and query values masked."""
    if not text:
        return text

    def userinfo(match):
        return "%s%s@" % (match.group(1), MASK)

    def query(match):
        return match.group(1) + _mask_query(match.group(2))

    return URL_QUERY.sub(query, URL_USERINFO.sub(userinfo, text))


def _forms(value):
    """``value`` as it may be printed: raw, percent-decoded, and escaped as TOML or JSON strings do."""
    forms = []
    for form in (value, unquote(value)):
        for shown in (form, form.replace("\\", "\\\\").replace('"', '\\"')):
            if shown not in forms:
                forms.append(shown)
    return forms


def _userinfo_secrets(info, found):
    user, _colon, password = info.partition(":")
    if password:
        found.extend(_forms(info))
        found.extend(_forms(password))
    elif len(user) >= MIN_QUERY_SECRET:
        # A token given as the user (https://TOKEN@host/). Shorter user names are masked in
        # every URL shown but not registered: "x" would mask every x of the result.
        found.extend(_forms(user))


def url_secrets(url):
    """The secret strings of ``url`` (to register as ``no_log`` values), raw, percent-decoded and escaped.

    ``url`` is one URL (split as uv and WHATWG split it: the user info ends at the last ``@``
    of the authority, whatever characters it holds) or a text with URLs in it.
    """
    found = []
    if not isinstance(url, str) or "://" not in url:
        return found
    if WHOLE_URL.match(url) and "\n" not in url.strip():
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            parts = None
        if parts is not None and "@" in parts.netloc:
            _userinfo_secrets(parts.netloc.rpartition("@")[0], found)
        queries = [parts.query] if parts is not None and parts.query else []
    else:
        for match in URL_USERINFO.finditer(url):
            if match.group(2):
                _userinfo_secrets(match.group(2), found)
        queries = [match.group(2) for match in URL_QUERY.finditer(url)]
    for query in queries:
        for item in query.split("&"):
            _name, equals, value = item.partition("=")
            if equals and len(value) >= MIN_QUERY_SECRET:
                found.extend(_forms(value))
    seen = set()
    return [s for s in found if s and not (s in seen or seen.add(s))]


def values_secrets(value):
    """The URL secrets of every string inside ``value`` (strings, lists and dicts, nested)."""
    if isinstance(value, str):
        return url_secrets(value)
    found = []
    if isinstance(value, dict):
        for key in value:
            found.extend(values_secrets(key))
            found.extend(values_secrets(value[key]))
    elif isinstance(value, (list, tuple)):
        for item in value:
            found.extend(values_secrets(item))
    return found


def register_secrets(no_log_values, params, names):
    """Add the URL secrets of the options ``names`` in ``params`` to the set ``no_log_values``."""
    for name in names:
        for secret in values_secrets((params or {}).get(name)):
            no_log_values.add(secret)


def masking_module_class(base, names):
    """A subclass of ``base`` (an ``AnsibleModule``) that masks the URL secrets of the options
    ``names`` as soon as the parameters are read, before the argument spec is checked: a
    failure of the spec itself (two exclusive options, a wrong type) then returns them masked
    in ``invocation``, at any verbosity."""

    class MaskingModule(base):
        def _load_params(self):
            super(MaskingModule, self)._load_params()
            register_secrets(self.no_log_values, self.params, names)

    MaskingModule.__name__ = base.__name__
    return MaskingModule
