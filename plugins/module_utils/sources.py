# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a uv artifact comes from: release mirrors and package indexes.

Pure: no I/O. Functions take text (templates, checksum files, index pages) and
return data, so the module on the host and the action plugins on the controller
share every decision; each side hands in its own transport. Runs on Python 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover - Python 2 is not supported on targets
    from urlparse import urlsplit, urlunsplit  # type: ignore

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, MirrorError

__all__ = [
    "DEFAULT_MIRROR",
    "checksum_url",
    "parse_checksum_file",
    "parse_checksum_option",
    "redact_url",
    "render_url",
    "url_password",
    "validate_template",
]

DEFAULT_MIRROR = "https://github.com/astral-sh/uv/releases/download/{version}/{artifact}"

# GitHub serves the newest release of every asset at releases/latest/download/<asset>;
# there is no "latest" tag under releases/download/. Any template shaped like GitHub's
# (GitHub Enterprise, or a proxy that mimics it) gets the same treatment.
_GITHUB_VERSIONED = "/releases/download/{version}/"
_GITHUB_LATEST = "/releases/latest/download/"

_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
_KNOWN_PLACEHOLDERS = ("version", "target", "artifact")
_HEX_RE = re.compile(r"^[0-9a-fA-F]{64}$")
# "<hex>  <name>" (coreutils text mode, uv's own jobs) or "<hex> *<name>" (binary
# mode, cargo-dist); the name may carry a leading "./".
_SUM_LINE_RE = re.compile(r"^([0-9a-fA-F]{64})\s+\*?(\S.*?)\s*$")



def _check_scheme(url, what):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MirrorError(
            "%s %r is not an http:// or https:// URL; give a full URL such as "
            "https://mirror.example.com/uv/{version}/ or http://127.0.0.1:8080/" % (what, redact_url(url))
        )


def validate_template(template):
    """Check a ``mirror_url`` template; raise ``MirrorError`` saying what to fix."""
    _check_scheme(template.replace("{", "").replace("}", ""), "mirror_url")
    unknown = [name for name in _PLACEHOLDER_RE.findall(template) if name not in _KNOWN_PLACEHOLDERS]
    if unknown:
        raise MirrorError(
            "mirror_url has unknown placeholder(s) %s; only {version}, {target} and {artifact} are replaced"
            % ", ".join("{%s}" % name for name in unknown)
        )


def render_url(template, version, target, artifact):
    """Fill a ``mirror_url`` template for one artifact.

    ``{version}``, ``{target}`` and ``{artifact}`` are replaced; a template without
    ``{artifact}`` is a directory and gets ``/<artifact>`` appended. For
    ``version="latest"`` a GitHub-shaped template uses ``releases/latest/download``;
    other templates get the word ``latest`` in place of ``{version}`` (a mirror that
    keeps a ``latest`` alias), and flat templates without ``{version}`` are taken to
    always hold the current archives.
    """
    validate_template(template)
    url = template
    if version == "latest" and _GITHUB_VERSIONED in url:
        url = url.replace(_GITHUB_VERSIONED, _GITHUB_LATEST)
    url = url.replace("{version}", version).replace("{target}", target)
    if "{artifact}" in url:
        url = url.replace("{artifact}", artifact)
    else:
        parts = urlsplit(url)
        path = parts.path if parts.path.endswith("/") else parts.path + "/"
        url = urlunsplit((parts.scheme, parts.netloc, path + artifact, parts.query, parts.fragment))
    return url


def checksum_url(archive_url):
    """The ``<archive>.sha256`` sidecar URL beside an archive URL (query kept as is)."""
    parts = urlsplit(archive_url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path + ".sha256", parts.query, parts.fragment))


def redact_url(url):
    """The URL without credentials: user info and query values are masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "********@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        query = "&".join(
            (item.split("=", 1)[0] + "=********") if "=" in item else item for item in query.split("&")
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_password(url):
    """The password embedded in a URL's user info, if any (to add to no_log values)."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def parse_checksum_file(text, artifact):
    """Find the sha256 of ``artifact`` in a sidecar or ``sha256.sum`` text.

    Accepts ``<hex>  <name>``, ``<hex> *<name>`` and a bare ``<hex>``. Returns the
    lower-case hex digest, or ``None`` when the text lists other files only. Raises
    ``ChecksumError`` when the text is not a checksum file at all.
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise ChecksumError("the checksum file is empty")
    if len(lines) == 1 and _HEX_RE.match(lines[0]):
        return lines[0].lower()
    found = None
    for line in lines:
        match = _SUM_LINE_RE.match(line)
        if not match:
            raise ChecksumError("the checksum file has a line that is not '<sha256>  <name>': %r" % line[:120])
        name = match.group(2)
        if name.startswith("./"):
            name = name[2:]
        if os.path.basename(name) == artifact:
            found = match.group(1).lower()
    return found


def parse_checksum_option(value):
    """Split the ``checksum`` option: returns ``(kind, data)``.

    ``kind`` is ``"sidecar"`` (empty value), ``"hex"`` or ``"url"``.
    """
    if not value:
        return "sidecar", None
    algorithm, sep, rest = value.partition(":")
    if not sep or algorithm.lower() != "sha256" or not rest:
        raise ChecksumError(
            "checksum must be 'sha256:<64 hex digits>' or 'sha256:<URL of a checksum file>', got %r" % value
        )
    if _HEX_RE.match(rest):
        return "hex", rest.lower()
    if rest.startswith("http://") or rest.startswith("https://"):
        return "url", rest
    raise ChecksumError(
        "checksum %r is neither 64 hex digits nor an http(s) URL after 'sha256:'" % value
    )


