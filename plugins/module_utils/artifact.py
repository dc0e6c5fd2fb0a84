# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One downloadable build (``Artifact``) and the hygiene of source URLs.

Pure: no I/O; runs on Python 3.6. Shared by the release mirrors, the package index
pages, the host and the controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported on targets
    from urlparse import urlsplit  # type: ignore

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_url

__all__ = ["SHA256_RE", "Artifact", "check_scheme", "redact_url", "url_password"]

# A sha256 digest as hex, the way sidecars, index pages and the checksum option write it.
SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")


def check_scheme(url, what):
    """Raise ``MirrorError`` unless ``url`` is an absolute http(s) URL; ``what`` names the option."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MirrorError(
            "%s %r is not an http:// or https:// URL; give a full URL such as "
            "https://mirror.example.com/uv/{version}/ or http://127.0.0.1:8080/" % (what, redact_url(url))
        )


def url_password(url):
    """The password of a URL's user info, or the token given as its user, if any.

    Kept for callers of this module; register every secret with ``_secrets.url_secrets``.
    """
    try:
        parts = urlsplit(url)
        return parts.password or parts.username or None
    except ValueError:
        return None


class Artifact(object):
    """One downloadable build of a tool: where it is and how to check it.

    ``fmt`` is ``"tar.gz"`` (a release archive) or ``"wheel"``. ``sha256`` is the
    expected digest when the source states it (index hashes, an explicit checksum);
    otherwise ``checksum_url`` says where to read it (a sidecar or a ``sha256.sum``),
    and ``checksum_list`` whether that file lists several archives.
    """

    __slots__ = ("source", "target", "version", "name", "url", "fmt", "sha256", "checksum_url",
                 "checksum_list", "yanked")

    def __init__(self, source, target, version, name, url, fmt, sha256=None, checksum_url=None,
                 checksum_list=False, yanked=False):
        self.source = source
        self.target = target
        self.version = version
        self.name = name
        self.url = url
        self.fmt = fmt
        self.sha256 = sha256
        self.checksum_url = checksum_url
        self.checksum_list = checksum_list
        self.yanked = yanked

    def as_dict(self):
        """The artifact as plain data (URLs redacted), for results and the controller."""
        return dict(source=self.source, target=self.target, version=self.version, name=self.name,
                    url=redact_url(self.url), fmt=self.fmt, sha256=self.sha256,
                    checksum_url=redact_url(self.checksum_url) if self.checksum_url else None,
                    yanked=self.yanked)

    def __repr__(self):
        return "Artifact(%s)" % ", ".join("%s=%r" % (k, getattr(self, k)) for k in self.__slots__)
