# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The host's access to a source of a tool's builds: locate, check and download artifacts.

PRIVATE API: only for this collection's modules; names may change without notice.
What to ask and how to read the answers is decided in the pure source rooms
(``release_mirrors``, ``index_pages``, ``wheel_tags``; shared
with the controller); this file asks through a ``_fetch.Fetcher`` and keeps, per
target, notes of what the source said, for messages and the ``candidates`` result.
It writes only into the temp file it is given.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import (
    ArchiveError,
    ChecksumError,
    InstallError,
    MirrorError,
    UvError,
)
from ansible_collections.pyfleet.uv.plugins.module_utils.artifact import Artifact, redact_url
from ansible_collections.pyfleet.uv.plugins.module_utils.release_mirrors import ReleaseMirror, parse_checksum_file
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import UV, get_tool
from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import version_key

__all__ = ["LazyFetcher", "MAX_ARCHIVE_BYTES", "Notes", "SourceClient", "local_artifact", "nothing_installed",
           "status_text"]


def _index_pages():
    """The package index code (page parsing, ``html.parser``), imported only for an ``index_url``.

    Like ``_tool_install._archive``: the host compiles every module_util it imports from the
    AnsiballZ zip on each call, and a release mirror, ``src`` or ``state=absent`` never reads
    an index page.
    """
    from ansible_collections.pyfleet.uv.plugins.module_utils import index_pages  # pylint: disable=import-outside-toplevel
    return index_pages


# S3 answers 403 for a missing key when the reader may not list the bucket.
NOT_SERVED = (404, 410, 403)
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


def status_text(status):
    """``HTTP 404`` or ``connection failed`` for a status of ``Fetcher``."""
    return "connection failed" if status == -1 else "HTTP %s" % status


def _fetcher_class():
    """``_fetch.Fetcher``, imported with ansible's ``urls`` but without ``cryptography``.

    ``urls`` imports cryptography's x509 at import time for one purpose only: the TLS
    channel binding of GSSAPI authentication (``use_gssapi``), which this collection
    never asks for. Where cryptography is installed that import costs about 25 ms of a
    0.35 s install, so it is kept out while ``urls`` loads (``urls`` then records
    ``HAS_CRYPTOGRAPHY = False`` for the rest of the process, which only turns off that
    channel binding) and allowed again right after. A core whose import of cryptography
    is not guarded that way fails with ``ImportError``; the import is then repeated
    without the block.
    """
    block = "cryptography" not in sys.modules
    if block:
        sys.modules["cryptography"] = None  # "import cryptography" now raises ImportError
    try:
        from ansible_collections.pyfleet.uv.plugins.module_utils.install._fetch import Fetcher  # pylint: disable=import-outside-toplevel
    except ImportError:
        if not block:
            raise
        if sys.modules.get("cryptography", False) is None:
            del sys.modules["cryptography"]
        block = False
        from ansible_collections.pyfleet.uv.plugins.module_utils.install._fetch import Fetcher  # pylint: disable=import-outside-toplevel
    finally:
        if block and sys.modules.get("cryptography", False) is None:
            del sys.modules["cryptography"]
    return Fetcher


class LazyFetcher(object):
    """Stands in for a ``_fetch.Fetcher`` (same arguments) and makes it on first use.

    Importing the HTTP stack (ansible's ``urls`` with ``http.client``, ``email`` and
    ``ssl``) costs about 25 ms on a host (see ``_fetcher_class`` for cryptography); a
    pinned no-op, a ``src`` install and check mode with a pinned version make no request
    and skip it.
    """

    def __init__(self, *args, **kwargs):
        self._args = args
        self._kwargs = kwargs
        self._fetcher = None

    def __getattr__(self, name):
        # Only called for what this object lacks: everything a Fetcher offers.
        if name.startswith("_"):
            raise AttributeError(name)
        if self._fetcher is None:
            self._fetcher = _fetcher_class()(*self._args, **self._kwargs)
        return getattr(self._fetcher, name)


class Notes(object):
    """What was found out about each target, in order, for messages and results."""

    def __init__(self):
        self.by_target = {}

    def add(self, target, text):
        self.by_target.setdefault(target, []).append(text)

    def get(self, target):
        return self.by_target.get(target, [])

    def served(self, target):
        return any(note.startswith("served") for note in self.get(target))

    def passed_over(self, candidates, taken):
        """``target: why`` for each better candidate than ``taken`` that was tried."""
        better = candidates[:candidates.index(taken)] if taken in candidates else candidates
        return ["%s: %s" % (t, "; ".join(self.get(t))) for t in better if self.get(t)]

    def report(self, verdicts, taken=None):
        """The ``candidates`` result: every target with its decision and reason."""
        report = []
        for target, runs, reason in verdicts:
            notes = self.get(target)
            if not runs:
                decision = "excluded"
            elif target == taken:
                decision = "taken"
            elif notes:
                decision = "passed over"
            else:
                decision = "not tried"
            report.append(dict(target=target, decision=decision, reason="; ".join([reason] + notes)))
        return report


class SourceClient(object):
    """One source (a release mirror or a package index) as seen from the host.

    ``checksum`` is the parsed ``checksum`` option; ``warn`` takes warnings for the
    user; ``tool`` is the row of ``tools.TOOLS`` whose builds are wanted (its
    archives on a mirror, its project page on an index). An index page is asked for at
    most once per run.
    """

    def __init__(self, params, checksum, fetcher, notes, warn, tool=UV):
        self.tool = get_tool(tool)
        self.fetcher = fetcher
        self.notes = notes
        self.warn = warn
        self.checksum = checksum
        self.allow_missing = params["allow_missing_checksum"]
        self.index_url = params.get("index_url")
        if self.index_url:
            _index_pages().validate_index_url(self.index_url)
            self.kind = "index"
            self.mirror = None
        else:
            self.kind = "mirror"
            self.mirror = ReleaseMirror(params["mirror_url"] or self.tool.default_mirror, checksum, self.tool)
        self.page = None
        self.checksum_list = None

    def describe(self):
        if self.kind == "index":
            return "index %s" % redact_url(_index_pages().project_url(self.index_url, self.tool.name))
        return self.mirror.describe()

    # -- versions ----------------------------------------------------------

    def read_page(self, want):
        """The index's project page of the tool, parsed, keeping the wheels of ``want`` (``None``: the latest)."""
        return self._read_page(want)

    def _read_page(self, want):
        pages = _index_pages()
        url = pages.project_url(self.index_url, self.tool.name)
        project = self.tool.name
        answer = self.fetcher.get_page(url, pages.INDEX_ACCEPT, lambda final, ctype: pages.IndexPageParser(
            final, ctype, want=want, project=project))
        if answer.status in NOT_SERVED:
            raise MirrorError("the index has no %s project page: %s answered %s; check index_url (the simple "
                              "index base, e.g. https://pypi-proxy.example.com/simple/)"
                              % (project, redact_url(url), status_text(answer.status)))
        if answer.status != 200 or answer.body is None:
            raise MirrorError("the index failed: %s (%s %s)" % (self.fetcher.tried(), status_text(answer.status),
                                                                answer.note))
        return answer.body.close()

    def resolve(self, version):
        """The exact version to install for ``version``.

        An index is asked for its project page (once); a release mirror cannot list
        versions, so ``latest`` stays ``latest`` there and the mirror's own alias decides.
        """
        if self.kind != "index":
            return version
        want = None if version == "latest" else version
        if self.page is None or (want is not None and self.page.selected != want):
            # A page read for another version keeps only that version's wheels.
            self.page = self._read_page(want)
        page = self.page
        if version == "latest":
            if page.selected is None:
                raise MirrorError("the %s lists no %s wheel that is not yanked" % (self.describe(), self.tool.name))
            return page.selected
        if page.selected is None:
            newest = page.latest()
            raise MirrorError("the %s has no %s %s%s; check version" % (
                self.describe(), self.tool.name, version, " (newest there: %s)" % newest if newest else ""))
        if page.versions.get(version):
            reason = next((_index_pages().describe_yanked(f.yanked) for f in page.files if f.yanked), "yanked")
            self.warn("%s %s is %s on the %s; installing it because it was pinned exactly"
                      % (self.tool.name, version, reason, self.describe()))
        return version

    def latest_is_current(self, installed, receipt, candidates):
        """Whether ``installed`` is the source's latest: ``True``, ``False`` or ``None`` (unknown).

        An index answers from its project page (one request); a release mirror from
        the checksum sidecar of the installed target, compared with the receipt.
        """
        if self.kind == "index":
            latest = self.resolve("latest")
            return version_key(latest) == version_key(installed["version"])
        if not receipt or receipt.get("version") != installed["version"]:
            return None
        target = receipt.get("target")
        if target not in candidates or not receipt.get("sha256"):
            return None
        remote = self.expected_sha256(self.artifact("latest", target), probe_archive=False)
        if remote is None:
            return None
        return remote == receipt["sha256"]

    # -- artifacts ---------------------------------------------------------

    def artifact(self, version, target):
        """The ``Artifact`` of ``target`` for ``version``, or ``None`` (noted) if the source has none."""
        if self.kind != "index":
            return self.mirror.artifact(version, target)
        artifact = self.page.artifact(target)
        if artifact is None:
            self.notes.add(target, "not on the index: %s %s has %s" % (self.tool.name, self.page.selected,
                                                                       self.page.describe_selected()))
            return None
        name = artifact.name
        if os.path.basename(name) != name or "\\" in name or name.startswith(".") or any(c < " " for c in name):
            # The name becomes a file name in the host's temp folder and in the controller cache.
            raise MirrorError("the %s lists a %s file named %r, which is not a plain file name (it holds '/', "
                              "'\\' or a control character, or starts with '.'); refusing it: fix the index (%s)"
                              % (self.describe(), self.tool.name, name, redact_url(artifact.url)))
        kind, data = self.checksum
        if kind == "hex":
            artifact.sha256 = data
        elif kind == "url":
            artifact.sha256, artifact.checksum_url, artifact.checksum_list = None, data, True
        return artifact

    def expected_sha256(self, artifact, probe_archive=True):
        """The sha256 the artifact must have; ``None`` when it is not served (noted).

        ``""`` means: install unverified (``allow_missing_checksum``, warned). Raises
        ``ChecksumError`` when a served artifact has no usable checksum and the user did
        not opt out, and ``MirrorError`` when the source fails.
        """
        if artifact.sha256:
            return artifact.sha256
        if artifact.checksum_list:
            return self._from_list(artifact)
        if artifact.checksum_url:
            return self._from_sidecar(artifact, probe_archive)
        # An index that publishes no hash for this file.
        if self.allow_missing:
            self.warn("the index lists no sha256 for %s; installing it unverified because "
                      "allow_missing_checksum=true" % artifact.name)
            return ""
        raise ChecksumError(
            "the %s lists no sha256 for %s; use an index that publishes hashes, pass "
            "checksum=sha256:<hex>, or set allow_missing_checksum=true to install unverified"
            % (self.describe(), artifact.name))

    def _from_list(self, artifact):
        url = artifact.checksum_url
        if self.checksum_list is None:
            answer = self.fetcher.get_small(url)
            if answer.status != 200 or answer.body is None:
                raise MirrorError("cannot read the checksum file %s: %s %s" % (
                    redact_url(url), status_text(answer.status), answer.note))
            self.checksum_list = answer.body.decode("utf-8", "replace")
        try:
            digest = parse_checksum_file(self.checksum_list, artifact.name)
        except ChecksumError as exc:
            raise ChecksumError("%s (%s)" % (exc.msg, redact_url(url)))
        if digest is None:
            self.notes.add(artifact.target, "not listed in %s" % redact_url(url))
        return digest

    def _from_sidecar(self, artifact, probe_archive):
        sidecar = artifact.checksum_url
        answer = self.fetcher.get_small(sidecar)
        if answer.status == 200 and answer.body is not None:
            try:
                digest = parse_checksum_file(answer.body.decode("utf-8", "replace"), artifact.name)
            except ChecksumError as exc:
                raise ChecksumError("malformed checksum sidecar %s: %s" % (redact_url(sidecar), exc.msg))
            if digest is None:
                raise ChecksumError("the checksum sidecar %s lists no %s" % (redact_url(sidecar), artifact.name))
            return digest
        if answer.status not in NOT_SERVED:
            raise MirrorError("the mirror failed: %s (%s %s)" % (
                self.fetcher.tried(), status_text(answer.status), answer.note))
        if not probe_archive:
            return None
        probe = self.fetcher.probe(artifact.url)
        if probe.status in NOT_SERVED:
            self.notes.add(artifact.target, "not served (%s)" % status_text(probe.status))
            return None
        if probe.status != 200:
            raise MirrorError("the mirror failed: %s (%s)" % (self.fetcher.tried(), probe.note))
        if self.allow_missing:
            self.warn("%s has no checksum sidecar (%s); installing it unverified because "
                      "allow_missing_checksum=true" % (redact_url(artifact.url), status_text(answer.status)))
            return ""
        raise ChecksumError(
            "%s is served but its checksum sidecar %s is not (%s); publish the sidecar, pass "
            "checksum=sha256:<hex> or checksum=sha256:<URL of sha256.sum>, or set "
            "allow_missing_checksum=true to install unverified"
            % (redact_url(artifact.url), redact_url(sidecar), status_text(answer.status))
        )

    def locate(self, version, targets):
        """Yield ``(artifact, expected sha256)`` for each target the source has, best first.

        ``version`` is what ``resolve`` returned. Targets the source does not serve are
        skipped (and noted); the caller downloads lazily, so a served best target costs
        no request for the others.
        """
        for target in targets:
            artifact = self.artifact(version, target)
            if artifact is None:
                continue
            expected = self.expected_sha256(artifact)
            if expected is not None:
                yield artifact, expected

    def download(self, artifact, dest, retries, sink=None):
        """Download ``artifact`` into ``dest``: ``(sha256, size, what sink returned)``, or ``None`` if
        not served (noted). ``sink``: see ``_fetch.Fetcher.download``."""
        answer = self.fetcher.download(artifact.url, dest, MAX_ARCHIVE_BYTES, sink=sink)
        if answer.status in NOT_SERVED:
            self.notes.add(artifact.target, "not served (%s)" % status_text(answer.status))
            return None
        if answer.status != 200:
            raise MirrorError("downloading %s failed: %s after %d retries (%s)" % (
                redact_url(artifact.url), status_text(answer.status), retries, answer.note))
        if answer.body is None:
            raise ArchiveError("%s: %s" % (redact_url(artifact.url), answer.note))
        return answer.body + (answer.extra,)

    def tried(self):
        return self.fetcher.tried()


def local_artifact(params, checksum, verdicts, candidates, version, tool=UV):
    """The ``Artifact`` of ``src``, a file already on the host; its build is read from the file.

    Raises when the file is missing, cannot be verified (no ``checksum``, unless
    ``allow_missing_checksum``), or holds a build that does not run on this host.
    ``src_origin`` (set by the action plugin) names where it was downloaded from.
    """
    path = params["src"]
    if not os.path.isfile(path):
        raise InstallError("src %s does not exist on the host (or is not a file)" % path)
    if checksum[0] != "hex" and not params["allow_missing_checksum"]:
        raise ChecksumError("src %s needs checksum=sha256:<hex> to be verified, or "
                            "allow_missing_checksum=true to install it unverified" % path)
    # Imported here: only a src install reads an archive; every other path of the module (and
    # the no-op, the check mode and state=absent) leaves tarfile and zipfile unimported.
    from ansible_collections.pyfleet.uv.plugins.module_utils.install._archive import identify  # pylint: disable=import-outside-toplevel
    from ansible_collections.pyfleet.uv.plugins.module_utils.wheel_tags import target_build  # pylint: disable=import-outside-toplevel
    fmt, target, found_version, build = identify(path, tool)
    if target is None:
        target = next((t for t, _runs, _why in verdicts if build and target_build(t) == build), None)
    if target is None or target not in candidates:
        held = target or (" ".join(build) if build else "unknown")
        raise InstallError("src %s holds the %s build, which does not run on this host; builds that do: %s"
                           % (path, held, ", ".join(candidates)))
    origin = params.get("src_origin") or {}
    return Artifact(origin.get("source") or "src", target, found_version or version,
                    origin.get("name") or os.path.basename(path), origin.get("url") or path, fmt)


def nothing_installed(notes, candidates, described, tried):
    """The error when no candidate could be installed: none served, or none that runs here."""
    served = [t for t in candidates if notes.served(t)]
    if served:
        return InstallError("no build the %s serves runs on this host: %s; the previous install is untouched" % (
            described, "; ".join("%s: %s" % (t, " ".join(notes.get(t))) for t in served)), runs_here=False)
    return UvError("the %s serves none of the builds that run on this host (%s); tried: %s. Check the source and "
                   "version, or publish one of them" % (described, ", ".join(candidates), tried or "nothing"))
