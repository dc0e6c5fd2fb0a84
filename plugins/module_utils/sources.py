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

import codecs
import json
import os
import re

try:
    from urllib.parse import unquote, urljoin, urlsplit, urlunsplit
except ImportError:  # pragma: no cover - Python 2 is not supported on targets
    from urllib import unquote  # type: ignore
    from urlparse import urljoin, urlsplit, urlunsplit  # type: ignore

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, MirrorError

__all__ = [
    "INDEX_ACCEPT",
    "check_version_option",
    "is_specifier",
    "mirror_check_argument_spec",
    "source_argument_spec",
    "Artifact",
    "IndexPage",
    "IndexPageParser",
    "ReleaseMirror",
    "parse_wheel_name",
    "project_url",
    "target_build",
    "validate_index_url",
    "version_key",
    "wheel_build",
    "DEFAULT_MIRROR",
    "checksum_url",
    "expand_tag_set",
    "parse_checksum_file",
    "parse_checksum_option",
    "redact_url",
    "render_url",
    "url_password",
    "validate_template",
    "wheel_metadata_platforms",
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
# BSD style, "<ALGO> (<name>) = <hex>": "SHA256 (name) = hex" from `sha256sum --tag`,
# `shasum --tag` and BSD's sha256; "SHA2-256(name)= hex" from `openssl dgst -sha256`
# (OpenSSL 3), "SHA256(name)= hex" from OpenSSL 1.x. coreutils puts a backslash in
# front of a line whose name it had to escape. Lines of other algorithms are skipped.
_BSD_LINE_RE = re.compile(r"^\\?([A-Za-z0-9-]+) ?\((.+)\) ?= ?([0-9a-fA-F]+)$")
_BSD_SHA256 = ("SHA256", "SHA2-256")


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

    Accepts ``<hex>  <name>``, ``<hex> *<name>``, the BSD style ``SHA256 (<name>) = <hex>``
    (also OpenSSL's ``SHA2-256(<name>)= <hex>``) and a bare ``<hex>``. Returns the
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
            if not _HEX_RE.match(digest):
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
    if _HEX_RE.match(rest):
        return "hex", rest.lower()
    if rest.startswith("http://") or rest.startswith("https://"):
        return "url", rest
    raise ChecksumError(
        "checksum %r is neither 64 hex digits nor an http(s) URL after 'sha256:'" % value
    )


# -- artifacts -----------------------------------------------------------------

class Artifact(object):
    """One downloadable uv build: where it is and how to check it.

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


def artifact_name_for(target):
    """``uv-<target>.tar.gz``, the release archive name (see ``targets.artifact_name``)."""
    return "uv-%s.tar.gz" % target


class ReleaseMirror(object):
    """A mirror laid out like uv's GitHub releases (see ``render_url``).

    ``checksum`` is the parsed ``checksum`` option (see ``parse_checksum_option``).
    A release mirror cannot list its versions: ``latest`` is asked of the mirror itself.
    """

    kind = "mirror"

    def __init__(self, template, checksum=("sidecar", None)):
        validate_template(template)
        self.template = template
        self.checksum = checksum

    def describe(self):
        return "mirror %s" % redact_url(self.template)

    def artifact(self, version, target):
        """The ``Artifact`` of ``target`` for ``version`` (``latest`` allowed)."""
        name = artifact_name_for(target)
        url = render_url(self.template, version, target, name)
        kind, data = self.checksum
        if kind == "hex":
            return Artifact(self.kind, target, version, name, url, "tar.gz", sha256=data)
        if kind == "url":
            return Artifact(self.kind, target, version, name, url, "tar.gz", checksum_url=data, checksum_list=True)
        return Artifact(self.kind, target, version, name, url, "tar.gz", checksum_url=checksum_url(url))


# -- package indexes (PEP 503 HTML and PEP 691 JSON) ---------------------------

# What uv's own tooling sends: JSON preferred, HTML accepted.
INDEX_ACCEPT = ("application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
                "text/html;q=0.01")
PROJECT = "uv"

# uv-<version>[-<build tag>]-<python tag>-<abi tag>-<platform tag>.whl; each tag part may be
# a compressed set (see expand_tag_set).
_WHEEL_RE = re.compile(r"^uv-(?P<version>[0-9][0-9A-Za-z.!+_]*)-(?:\d[^-]*-)?"
                       r"(?P<tags>[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+)\.whl$")
# uv's wheels hold a program, not an extension module: their tags are py3-none-<platform>.
_PY3_RE = re.compile(r"^py3\d*$")
_PLAIN_VERSION_RE = re.compile(r"^\d+(?:\.\d+)*$")
# manylinux_2_17_x86_64, musllinux_1_1_aarch64: the architecture follows the third "_".
_PEP600_RE = re.compile(r"^(manylinux|musllinux)_\d+_\d+_(?P<arch>.+)$")
# manylinux1_x86_64, manylinux2010_i686, manylinux2014_aarch64 (the legacy aliases).
_LEGACY_RE = re.compile(r"^manylinux(?:1|2010|2014)_(?P<arch>.+)$")

# The first word of a uv target triple, mapped to the architecture of wheel tags.
_TARGET_TO_WHEEL_ARCH = {
    "x86_64": "x86_64",
    "aarch64": "aarch64",
    "i686": "i686",
    "armv7": "armv7l",
    "arm": "armv6l",
    "powerpc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64gc": "riscv64",
}


def version_key(version):
    """A sort key for plain X.Y.Z versions; ``None`` for anything else (pre-releases too)."""
    if not _PLAIN_VERSION_RE.match(version or ""):
        return None
    return tuple(int(part) for part in version.split("."))


def expand_tag_set(tag_set):
    """Every ``(interpreter, abi, platform)`` tag a compressed tag set stands for, lower case.

    The binary distribution format (PEP 425, PEP 427) lets a wheel's file name and each
    ``Tag:`` line of its ``.dist-info/WHEEL`` compress several tags into one: each of the
    three parts may list alternatives joined by dots, and the set is every combination.
    ``py2.py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64`` is four tags. uv's wheels
    built by maturin 1.9 and older (uv 0.8 and older, 0.5.11 among them) write one
    compressed ``Tag:`` line; later ones write one tag per line (recorded in the unit
    tests' fixtures/wheels). This is what ``packaging.tags.parse_tag`` does, in the
    order the parts are written and without duplicates. Anything that is not three
    non-empty dash-separated parts gives ``[]``.
    """
    parts = (tag_set or "").strip().lower().split("-")
    if len(parts) != 3:
        return []
    alternatives = [part.split(".") for part in parts]
    if any(not name for names in alternatives for name in names):
        return []
    tags = []
    for interpreter in alternatives[0]:
        for abi in alternatives[1]:
            for platform in alternatives[2]:
                tag = (interpreter, abi, platform)
                if tag not in tags:
                    tags.append(tag)
    return tags


def _py3_platforms(tags):
    """The platforms of the ``py3-none-<platform>`` tags among ``(interpreter, abi, platform)`` tags."""
    platforms = []
    for interpreter, abi, platform in tags:
        if _PY3_RE.match(interpreter) and abi == "none" and platform not in platforms:
            platforms.append(platform)
    return platforms


def parse_wheel_name(filename):
    """``(version, [platform tags])`` of a uv wheel file name, or ``None``.

    ``uv-0.13.9-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`` gives
    ``("0.13.9", ["manylinux_2_17_x86_64", "manylinux2014_x86_64"])``. The tag set is
    expanded as ``expand_tag_set`` says; only ``py3-none`` tags count (uv's wheels carry
    nothing else), and a name with none of them gives ``None``.
    """
    match = _WHEEL_RE.match(filename or "")
    if not match:
        return None
    platforms = _py3_platforms(expand_tag_set(match.group("tags")))
    if not platforms:
        return None
    return match.group("version"), platforms


def wheel_metadata_platforms(text):
    """The platform tags declared by the ``Tag:`` lines of a wheel's ``.dist-info/WHEEL`` text.

    Each line may hold a compressed tag set (``expand_tag_set``); only ``py3-none`` tags
    count, as in ``parse_wheel_name``. Returns ``[]`` when there are none.
    """
    tags = []
    for line in (text or "").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "tag":
            tags.extend(expand_tag_set(value))
    return _py3_platforms(tags)


def wheel_build(tags):
    """Which build a uv wheel holds, from its platform tags: ``(arch, "gnu"|"musl")`` or ``None``.

    uv's wheels for musl carry a ``musllinux_*`` tag (some also carry manylinux tags,
    because the static build runs on glibc too) and the ARMv6 wheel is
    ``linux_armv6l``; those hold the static musl build. A wheel with only
    ``manylinux_*`` tags holds the gnu build. Wheels for other systems give ``None``.
    """
    arches = set()
    musl = gnu = False
    for tag in tags:
        match = _PEP600_RE.match(tag) or _LEGACY_RE.match(tag)
        if match:
            arches.add(match.group("arch"))
            if tag.startswith("musllinux"):
                musl = True
            else:
                gnu = True
        elif tag == "linux_armv6l":
            arches.add("armv6l")
            musl = True
        else:
            return None
    if len(arches) != 1 or not (musl or gnu):
        return None
    return arches.pop(), "musl" if musl else "gnu"


def target_build(target):
    """The ``(wheel arch, family)`` a uv target triple corresponds to, or ``None``."""
    arch = _TARGET_TO_WHEEL_ARCH.get(target.split("-", 1)[0])
    if arch is None:
        return None
    return arch, "musl" if "-musl" in target else "gnu"


def project_url(index_url):
    """The project page of uv under a simple-index base URL (``<index_url>/uv/``)."""
    base = index_url if index_url.endswith("/") else index_url + "/"
    return base + PROJECT + "/"


def validate_index_url(index_url):
    """Check an ``index_url``; raise ``MirrorError`` saying what to fix."""
    _check_scheme(index_url, "index_url")
    if "{" in index_url:
        raise MirrorError("index_url is a plain URL of a simple index such as "
                          "https://pypi-proxy.example.com/simple/; it takes no {placeholders}")


class IndexFile(object):
    """One uv wheel listed on an index page."""

    __slots__ = ("filename", "url", "sha256", "yanked", "version", "tags", "build")

    def __init__(self, filename, url, sha256, yanked, version, tags, build):
        self.filename = filename
        self.url = url
        self.sha256 = sha256
        self.yanked = yanked
        self.version = version
        self.tags = tags
        self.build = build


class IndexPage(object):
    """What an index page says about uv: every version, and the wheels of one version.

    ``versions`` maps each version seen to ``True`` when every uv wheel of it is yanked.
    ``selected`` is the version whose wheels are kept in ``files``: the one asked for,
    or the newest plain version that is not yanked.
    """

    def __init__(self, url, dialect):
        self.url = url
        self.dialect = dialect
        self.versions = {}
        self.selected = None
        self.files = []

    def latest(self):
        """The newest plain X.Y.Z version that has a wheel which is not yanked, or ``None``."""
        best = None
        for version, yanked in self.versions.items():
            key = version_key(version)
            if key is None or yanked:
                continue
            if best is None or key > version_key(best):
                best = version
        return best

    def wheel_for(self, target):
        """The wheel of ``selected`` that holds ``target``'s build, or ``None``.

        A wheel that is not yanked is preferred over a yanked one.
        """
        want = target_build(target)
        found = [f for f in self.files if f.build == want]
        found.sort(key=lambda f: bool(f.yanked))
        return found[0] if found else None

    def artifact(self, target):
        """The ``Artifact`` of ``target`` in ``selected``, or ``None`` if the index has no such wheel."""
        wheel = self.wheel_for(target)
        if wheel is None:
            return None
        return Artifact("index", target, wheel.version, wheel.filename, wheel.url, "wheel",
                        sha256=wheel.sha256, yanked=wheel.yanked)

    def describe_selected(self):
        """The wheels of ``selected``, for messages: ``name (yanked)`` ..."""
        return ", ".join(f.filename + (" (yanked)" if f.yanked else "") for f in self.files) or "no uv wheels"


class IndexPageParser(object):
    """Parse a uv project page as it arrives, keeping only what is needed.

    Feed the body in chunks with ``feed(bytes)``, then call ``close()`` for the
    ``IndexPage``. ``content_type`` (the response's header) picks the dialect: PEP 691
    JSON or PEP 503 HTML; ``base_url`` is the page's final URL, against which relative
    file URLs are resolved. ``want`` is the version whose wheels to keep; ``None``
    keeps those of the newest non-yanked version seen so far, so that a page listing
    hundreds of releases never holds more than one release's files.
    """

    def __init__(self, base_url, content_type, want=None):
        self.page = IndexPage(base_url, _dialect(content_type))
        self.want = want
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._candidates = {}  # version -> its files, for want=None until it is known not yanked
        self._best = None  # version_key of the newest non-yanked version seen (want=None)
        if self.page.dialect == "json":
            self._impl = _JsonFilesScanner(self._add)
        elif self.page.dialect == "html":
            self._impl = _HtmlAnchors(self._add, base_url)
        else:
            self._impl = None
            self._sniff = ""

    def feed(self, data):
        """Take the next chunk of the body (bytes)."""
        text = self._decoder.decode(data)
        if self._impl is None:
            self._sniff += text
            stripped = self._sniff.lstrip()
            if not stripped:
                return
            if stripped.startswith("{"):
                self.page.dialect = "json"
                self._impl = _JsonFilesScanner(self._add)
            else:
                self.page.dialect = "html"
                self._impl = _HtmlAnchors(self._add, self.page.url)
            text, self._sniff = self._sniff, ""
        self._impl.feed(text)

    def close(self):
        """Finish parsing; returns the ``IndexPage``. Raises ``MirrorError`` on a broken page."""
        tail = self._decoder.decode(b"", True)
        if self._impl is None:
            raise MirrorError("the index page %s is empty" % redact_url(self.page.url))
        if tail:
            self._impl.feed(tail)
        self._impl.close()
        page = self.page
        if self.want is None:
            latest = page.latest()
            page.selected = latest
            page.files = self._candidates.get(latest, []) if latest else []
        else:
            page.selected = self.want if self.want in page.versions else None
            page.files = self._candidates.get(self.want, [])
        return page

    def _add(self, filename, url, sha256, yanked):
        parsed = parse_wheel_name(filename)
        if parsed is None:
            return  # the sdist, metadata files or other projects' files
        version, tags = parsed
        build = wheel_build(tags)
        if build is None:
            return  # macOS and Windows wheels
        versions = self.page.versions
        versions[version] = versions.get(version, True) and bool(yanked)
        item = IndexFile(filename, urljoin(self.page.url, url.split("#", 1)[0]), sha256, yanked, version, tags, build)
        if self.want is not None:
            if version == self.want:
                self._candidates.setdefault(version, []).append(item)
            return
        # Keep the files of the newest versions only: the newest seen so far, and any
        # newer one whose wheels are (so far) all yanked, since a later file may not be.
        key = version_key(version)
        if key is None:
            return
        if self._best is not None and key < self._best:
            return
        self._candidates.setdefault(version, []).append(item)
        if not yanked and (self._best is None or key > self._best):
            # A version only ever goes from yanked to not yanked, so the newest
            # non-yanked version only grows: older candidates can go.
            self._best = key
            for other in list(self._candidates):
                if version_key(other) < key:
                    del self._candidates[other]


def _dialect(content_type):
    value = (content_type or "").split(";", 1)[0].strip().lower()
    if value.endswith("json"):
        return "json"
    if "html" in value:
        return "html"
    return None


def _sha256_of(hashes):
    if isinstance(hashes, dict):
        value = hashes.get("sha256")
        if isinstance(value, str) and _HEX_RE.match(value):
            return value.lower()
    return None


class _JsonFilesScanner(object):
    """Streams the ``files`` array of a PEP 691 page, one file object at a time."""

    _KEY_RE = re.compile(r'"files"\s*:\s*\[')

    def __init__(self, add):
        self.add = add
        self.buf = ""
        self.state = "seek"  # seek -> files -> done
        self.decoder = json.JSONDecoder()
        self.seen_any = False

    def feed(self, text):
        self.buf += text
        while True:
            if self.state == "seek":
                match = self._KEY_RE.search(self.buf)
                if not match:
                    self.buf = self.buf[-32:]  # a key may be cut between chunks
                    return
                self.buf = self.buf[match.end():]
                self.state = "files"
                self.seen_any = True
            if self.state == "done":
                self.buf = ""
                return
            stripped = self.buf.lstrip(" \t\r\n,")
            if not stripped:
                self.buf = ""
                return
            if stripped[0] == "]":
                self.state = "done"
                continue
            try:
                obj, end = self.decoder.raw_decode(stripped)
            except ValueError:
                self.buf = stripped
                if len(self.buf) > 1024 * 1024:
                    raise MirrorError("the index page has a file entry over 1 MB long; it is not a PEP 691 page")
                return  # incomplete: wait for more
            self.buf = stripped[end:]
            if isinstance(obj, dict):
                filename = obj.get("filename")
                url = obj.get("url")
                if isinstance(filename, str) and isinstance(url, str):
                    yanked = obj.get("yanked") or False
                    self.add(filename, url, _sha256_of(obj.get("hashes")), yanked)

    def close(self):
        if not self.seen_any:
            raise MirrorError("the index answered JSON without a 'files' list; it is not a PEP 691 project page")
        if self.state != "done":
            raise MirrorError("the index's JSON page ended inside its 'files' list (truncated?)")


class _HtmlAnchors(object):
    """Collects ``<a href>`` of a PEP 503 page, with ``#sha256=`` and ``data-yanked``."""

    def __init__(self, add, base_url):
        # Imported here: only an HTML index page needs it (a release mirror, a JSON
        # index and the controller's version checks never do).
        from html.parser import HTMLParser  # pylint: disable=import-outside-toplevel
        self.parser = HTMLParser(convert_charrefs=True)
        self.parser.handle_starttag = self.handle_starttag  # handle_startendtag calls it too
        self.add = add
        self.base_url = base_url

    def feed(self, text):
        self.parser.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                self.base_url = urljoin(self.base_url, href)
            return
        if tag != "a":
            return
        attributes = dict(attrs)
        href = attributes.get("href")
        if not href:
            return
        path, _sep, fragment = href.partition("#")
        filename = unquote(path.rstrip("/").rsplit("/", 1)[-1])
        sha256 = None
        if fragment.startswith("sha256="):
            value = fragment[len("sha256="):]
            if _HEX_RE.match(value):
                sha256 = value.lower()
        yanked = False
        if "data-yanked" in attributes:
            yanked = attributes["data-yanked"] or True
        self.add(filename, urljoin(self.base_url, path), sha256, yanked)

    def close(self):
        self.parser.close()


def describe_yanked(yanked):
    """``yanked`` as words: the reason when the index gave one."""
    if yanked is True or not yanked:
        return "yanked" if yanked else ""
    return "yanked (%s)" % yanked


# -- options shared by the modules that read a source ---------------------------

_EXACT_RE = re.compile(r"^\d+\.\d+\.\d+$")
_SPECIFIER_RE = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*[0-9][0-9A-Za-z.*+!_-]*\s*$")


def is_specifier(version):
    """Whether ``version`` is a PEP 440 specifier set such as ``>=0.13,<0.14``."""
    clauses = (version or "").split(",")
    return bool(version) and all(_SPECIFIER_RE.match(clause) for clause in clauses)


def check_version_option(version, allow_specifier=False):
    """Validate the ``version`` option; returns it stripped. Raises ``MirrorError`` saying what to write.

    The module itself takes ``latest`` and exact ``X.Y.Z`` versions; specifier sets are
    resolved on the controller (``allow_specifier`` there) into one of those.
    """
    value = (version or "").strip()
    if value == "latest" or _EXACT_RE.match(value):
        return value
    if is_specifier(value):
        if allow_specifier:
            return value
        raise MirrorError(
            "version %r is a specifier set; the action plugin resolves those on the controller, so call "
            "the module by its full name pyfleet.uv.uv_install (or through the play's collections keyword), "
            "not through a module path, or pin an exact X.Y.Z" % value)
    hint = ""
    bare = value.lstrip("vV")
    if bare != value and _EXACT_RE.match(bare):
        hint = " (write %s, without the leading 'v')" % bare
    raise MirrorError("version must be 'latest', X.Y.Z such as 0.13.8, or a specifier set such as "
                      "'>=0.13,<0.14', got %r%s" % (version, hint))


def source_argument_spec():
    """The argument spec of the source and URL options (doc fragments ``source`` and ``url``)."""
    return dict(
        version=dict(type="str", default="latest"),
        mirror_url=dict(type="str"),
        index_url=dict(type="str"),
        checksum=dict(type="str"),
        allow_missing_checksum=dict(type="bool", default=False),
        timeout=dict(type="int", default=30),
        download_retries=dict(type="int", default=3),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        use_proxy=dict(type="bool", default=True),
        url_username=dict(type="str"),
        url_password=dict(type="str", no_log=True),
        force_basic_auth=dict(type="bool", default=False),
        headers=dict(type="dict", no_log=True),
        client_cert=dict(type="path"),
        client_key=dict(type="path"),
        http_agent=dict(type="str", default="ansible-httpget"),
    )


def mirror_check_argument_spec():
    """The argument spec of uv_mirror_check: the source options plus the fleet to check."""
    spec = source_argument_spec()
    spec.update(
        hosts=dict(type="list", elements="str"),
        targets=dict(type="list", elements="str"),
        verify=dict(type="bool", default=False),
        controller_cache_dir=dict(type="path"),
    )
    return spec
