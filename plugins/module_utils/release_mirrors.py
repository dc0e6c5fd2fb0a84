# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Release mirrors: ``mirror_url`` templates, checksum files and the archives they serve.

Pure: no I/O; runs on Python 3.6. A release mirror is laid out like a tool's GitHub
releases (``<tool>-<target>.tar.gz`` beside a ``.sha256`` sidecar, a ``sha256.sum``
per release); the tool's row in ``tools.TOOLS`` names the archives.
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
from ansible_collections.pyfleet.uv.plugins.module_utils.artifact import SHA256_RE, Artifact, check_scheme, redact_url
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import UV, get_tool

__all__ = [
    "DEFAULT_MIRROR",
    "ReleaseMirror",
    "artifact_name_for",
    "checksum_url",
    "parse_checksum_file",
    "parse_checksum_option",
    "render_url",
    "validate_template",
]

# uv's GitHub releases; every tool's is ``tools.Tool.default_mirror``.
DEFAULT_MIRROR = UV.default_mirror

# GitHub serves the newest release of every asset at releases/latest/download/<asset>;
# there is no "latest" tag under releases/download/. Any template shaped like GitHub's
# (GitHub Enterprise, or a proxy that mimics it) gets the same treatment.
_GITHUB_VERSIONED = "/releases/download/{version}/"
_GITHUB_LATEST = "/releases/latest/download/"

_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
_KNOWN_PLACEHOLDERS = ("version", "target", "artifact")
# "<hex>  <name>" (coreutils text mode, uv's own jobs) or "<hex> *<name>" (binary
# mode, cargo-dist); the name may carry a leading "./".
_SUM_LINE_RE = re.compile(r"^([0-9a-fA-F]{64})\s+\*?(\S.*?)\s*$")
# BSD style, "<ALGO> (<name>) = <hex>": "SHA256 (name) = hex" from `sha256sum --tag`,
# `shasum --tag` and BSD's sha256; "SHA2-256(name)= hex" from `openssl dgst -sha256`
# (OpenSSL 3), "SHA256(name)= hex" from OpenSSL 1.x. coreutils puts a backslash in
# front of a line whose name it had to escape. Lines of other algorithms are skipped.
_BSD_LINE_RE = re.compile(r"^\\?([A-Za-z0-9-]+) ?\((.+)\) ?= ?([0-9a-fA-F]+)$")
_BSD_SHA256 = ("SHA256", "SHA2-256")


def validate_template(template):
    """Check a ``mirror_url`` template; raise ``MirrorError`` saying what to fix."""
    check_scheme(template.replace("{", "").replace("}", ""), "mirror_url")
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


def parse_checksum_file(text, artifact):
    """Find the sha256 of ``artifact`` in a sidecar or ``sha256.sum`` text.

    Accepts ``<hex>  <name>``, ``<hex> *<name>``, the BSD style ``SHA256 (<name>) = <hex>``
    (also OpenSSL's ``SHA2-256(<name>)= <hex>``) and a bare ``<hex>``. Returns the
    lower-case hex digest, or ``None`` when the text lists other files only. Raises
    ``ChecksumError`` when the text is not a checksum file at all.
    """
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        raise ChecksumError("the checksum file is empty")
    if len(lines) == 1 and SHA256_RE.match(lines[0]):
        return lines[0].lower()
    found = None
    for line in lines:
        match = _SUM_LINE_RE.match(line)
        if match:
            digest, name = match.group(1), match.group(2)
        else:
            bsd = _BSD_LINE_RE.match(line)
            if not bsd:
                raise ChecksumError("the checksum file has a line that is neither '<sha256>  <name>' nor "
                                    "'SHA256 (<name>) = <sha256>': %r" % line[:120])
            if bsd.group(1).upper() not in _BSD_SHA256:
                continue
            name, digest = bsd.group(2), bsd.group(3)
            if not SHA256_RE.match(digest):
                raise ChecksumError("the checksum file has a SHA256 line whose digest is not 64 hex digits: %r"
                                    % line[:120])
        if name.startswith("./"):
            name = name[2:]
        if os.path.basename(name) == artifact:
            found = digest.lower()
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
    if SHA256_RE.match(rest):
        return "hex", rest.lower()
    if rest.startswith("http://") or rest.startswith("https://"):
        return "url", rest
    raise ChecksumError(
        "checksum %r is neither 64 hex digits nor an http(s) URL after 'sha256:'" % value
    )


def artifact_name_for(target, tool=UV):
    """``<tool>-<target>.tar.gz``, the release archive name (see ``targets.artifact_name``)."""
    return get_tool(tool).archive(target)


class ReleaseMirror(object):
    """A mirror laid out like a tool's GitHub releases (see ``render_url``).

    ``checksum`` is the parsed ``checksum`` option (see ``parse_checksum_option``);
    ``tool`` the row of ``tools.TOOLS`` whose archives it serves.
    A release mirror cannot list its versions: ``latest`` is asked of the mirror itself.
    """

    kind = "mirror"

    def __init__(self, template, checksum=("sidecar", None), tool=UV):
        validate_template(template)
        self.template = template
        self.checksum = checksum
        self.tool = get_tool(tool)

    def describe(self):
        return "mirror %s" % redact_url(self.template)

    def artifact(self, version, target):
        """The ``Artifact`` of ``target`` for ``version`` (``latest`` allowed)."""
        name = self.tool.archive(target)
        url = render_url(self.template, version, target, name)
        kind, data = self.checksum
        if kind == "hex":
            return Artifact(self.kind, target, version, name, url, "tar.gz", sha256=data)
        if kind == "url":
            return Artifact(self.kind, target, version, name, url, "tar.gz", checksum_url=data, checksum_list=True)
        return Artifact(self.kind, target, version, name, url, "tar.gz", checksum_url=checksum_url(url))
