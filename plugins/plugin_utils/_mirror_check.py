# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What pyfleet.uv.uv_mirror_check decides: which build each host would get, and what is missing.

PRIVATE API: only for this collection's action plugins; never shipped to hosts.
The decision is pure: ``fleet_candidates`` reads each host's ``ansible_facts.uv``,
``plan`` walks every host's candidates best first through a ``check(target)``
callable that is asked once per distinct target, and ``report`` turns the plan into
the task's result and message. ``SourceChecker`` is the one edge: it answers
``check(target)`` through a ``_source.ControllerSource`` (sidecars, probes, index
pages and downloads, each distinct URL asked once per run).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
from collections import OrderedDict

from ansible_collections.pyfleet.uv.plugins.module_utils.install._artifacts import NOT_SERVED, status_text
from ansible_collections.pyfleet.uv.plugins.module_utils._errors import ChecksumError, MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils.artifact import redact_url
from ansible_collections.pyfleet.uv.plugins.module_utils.targets import ARCHES

__all__ = ["ArtifactCheck", "Plan", "SourceChecker", "fleet_candidates", "known_targets", "plan", "report"]

# How many host names a message lists before it says "and N more".
_NAMES_SHOWN = 8


def known_targets():
    """Every uv Linux target triple the collection knows, sorted."""
    found = set()
    for arch in ARCHES.values():
        found.update(t for t in (arch.gnu, arch.musl) if t)
    return sorted(found)


def fleet_candidates(hostvars, hosts, tool="uv"):
    """Each host's candidate targets (best first) for ``tool`` from its ``ansible_facts.uv``.

    For ruff and ty the targets are ``ansible_facts.<tool>.targets`` when uv_facts
    gathered them (their gnu builds may need another glibc than uv's), else
    ``ansible_facts.uv.targets``.

    ``hostvars`` is Ansible's ``hostvars`` (any mapping of host name to its variables);
    ``hosts`` the host names to read, in order. Returns ``(candidates, without)``:
    an ``OrderedDict`` host -> list of targets, and ``[{host, reason}]`` for the hosts
    whose facts are missing or unusable (they are reported, never skipped silently).
    """
    candidates = OrderedDict()
    without = []
    for host in hosts:
        if host in candidates or any(item["host"] == host for item in without):
            continue
        try:
            variables = hostvars[host]
        except KeyError:
            variables = None
        if variables is None or (hasattr(hostvars, "__contains__") and host not in hostvars):
            without.append(dict(host=host, reason="not in the inventory"))
            continue
        try:
            facts = variables["ansible_facts"]
        except KeyError:
            facts = {}
        uv = facts.get("uv") if isinstance(facts, dict) or hasattr(facts, "get") else None
        if not uv:
            without.append(dict(host=host, reason="no ansible_facts.uv"))
            continue
        targets = uv.get("targets") if hasattr(uv, "get") else None
        own = facts.get(tool) if tool != "uv" else None
        if hasattr(own, "get") and own.get("targets"):
            targets = own["targets"]
        if not isinstance(targets, (list, tuple)) or not all(isinstance(t, str) for t in targets):
            without.append(dict(host=host, reason="ansible_facts.uv.targets is not a list of target triples"))
            continue
        candidates[host] = list(targets)
    return candidates, without


class ArtifactCheck(object):
    """What the source says about one target's artifact.

    ``served``: the artifact is there (``True``/``False``). ``usable``: a host that
    reaches this target takes it, as ``uv_install`` would (served, and not passed over
    because the checksum file given by ``checksum=sha256:<URL>`` does not list it).
    ``problem``: why a host that takes it would fail (no checksum published, a
    malformed checksum file, a download that does not match), else ``None``.
    ``checksum``: where the sha256 came from (``sidecar``, ``sha256.sum``, ``index``,
    ``option``) or ``None``; ``verified``: ``True``/``False`` after a download, else ``None``.
    ``publish``: what to publish where, for messages.
    """

    def __init__(self, target, name=None, url=None, served=False, usable=None, sha256=None, checksum=None,
                 verified=None, note="", problem=None, publish=None):
        self.target = target
        self.name = name
        self.url = url
        self.served = served
        self.usable = served if usable is None else usable
        self.sha256 = sha256
        self.checksum = checksum
        self.verified = verified
        self.note = note
        self.problem = problem
        self.publish = publish or (name or "the build of %s" % target)
        self.hosts = []

    def as_dict(self):
        """The ``artifacts`` entry of the result."""
        return dict(target=self.target, artifact=self.name, url=self.url, served=self.served, sha256=self.sha256,
                    checksum=self.checksum, verified=self.verified, hosts=list(self.hosts), note=self.note,
                    problem=self.problem)


class Plan(object):
    """The outcome of ``plan``: every artifact asked about, and each host's build."""

    def __init__(self):
        self.checks = OrderedDict()  # target -> ArtifactCheck, in the order they were asked
        self.hosts = OrderedDict()  # host -> {target, fallback, candidates}
        self.missing = OrderedDict()  # target -> hosts whose best candidate it is, not usable
        self.required = []  # explicit targets (the targets option)

    def no_build(self):
        """The hosts that would get no build at all."""
        return [host for host, item in self.hosts.items() if item["target"] is None]

    def fallbacks(self):
        """``{target taken: [hosts]}`` for the hosts that would not get their first candidate."""
        out = OrderedDict()
        for host, item in self.hosts.items():
            if item["fallback"]:
                out.setdefault(item["target"], []).append(host)
        return out

    def problems(self):
        """The artifacts that hosts (or the targets option) would take and fail on."""
        return [check for check in self.checks.values()
                if check.problem and check.usable and (check.hosts or check.target in self.required)]


def plan(candidates, check, required=()):
    """Walk each host's candidates best first; ``check(target)`` is called once per distinct target.

    ``candidates`` maps host -> targets best first (see ``fleet_candidates``). A host
    takes its first candidate whose check is ``usable``; it reaches (and asks about)
    only the candidates before that one, so a fleet whose best builds are served costs
    one check per distinct best target. ``required`` are targets checked on their own
    (the ``targets`` option), each one needed, with no fallback.
    """
    result = Plan()

    def ask(target):
        if target not in result.checks:
            result.checks[target] = check(target)
        return result.checks[target]

    for host, targets in candidates.items():
        taken = None
        for target in targets:
            found = ask(target)
            found.hosts.append(host)
            if found.usable:
                taken = target
                break
        result.hosts[host] = dict(target=taken, fallback=bool(taken) and taken != targets[0],
                                  candidates=list(targets))
        if targets and taken != targets[0]:
            result.missing.setdefault(targets[0], []).append(host)
    for target in required:
        if target in result.required:
            continue
        result.required.append(target)
        if not ask(target).usable:
            result.missing.setdefault(target, [])
    return result


def _count(number, word):
    return "%d %s%s" % (number, word, "" if number == 1 else "s")


def _names(hosts):
    shown = ", ".join(hosts[:_NAMES_SHOWN])
    if len(hosts) > _NAMES_SHOWN:
        shown += " and %d more" % (len(hosts) - _NAMES_SHOWN)
    return shown


def report(result, version, source, without=(), verify=False, tool="uv"):
    """The task's result from a ``Plan``: ``(fields, warnings, failed)``.

    ``fields`` holds ``version``, ``artifacts``, ``hosts``, ``missing``,
    ``without_facts`` and ``msg``. The task fails when a host has no usable facts,
    when a host would get no build at all, when an explicit target is not served, and
    when a build that some host would take is one it would fail on (no checksum, a
    checksum that does not match). Fallbacks are warnings.
    """
    checks = result.checks
    failures = []
    warnings = []
    advice = []
    no_build = result.no_build()
    fallbacks = result.fallbacks()
    missing = []
    for target, hosts in result.missing.items():
        found = checks[target]
        missing.append(dict(target=target, artifact=found.name, url=found.url, reason=found.note,
                            hosts=list(hosts)))
        if hosts:
            falling = OrderedDict()
            nothing = []
            for host in hosts:
                taken = result.hosts[host]["target"]
                if taken:
                    falling.setdefault(taken, []).append(host)
                else:
                    nothing.append(host)
            what = ["%s would fall back to %s" % (_count(len(names), "host"), taken)
                    for taken, names in falling.items()]
            if nothing:
                what.append("%s would get no build at all" % _count(len(nothing), "host"))
            line = "publish %s for %s (%s): %s need%s it (%s); %s" % (
                found.publish, version, found.note, _count(len(hosts), "host"), "s" if len(hosts) == 1 else "",
                _names(hosts), "; ".join(what))
        else:
            line = "publish %s for %s (%s): it is in targets" % (found.publish, version, found.note)
        advice.append(line)
    if no_build:
        failures.append("%s would get no %s %s build at all: %s" % (
            _count(len(no_build), "host"), tool, version, "; ".join(
                "%s (%s)" % (host, ", ".join(
                    "%s: %s" % (t, checks[t].note) for t in result.hosts[host]["candidates"])
                    or "no %s build runs there" % tool) for host in no_build[:_NAMES_SHOWN])
            + (" and %d more" % (len(no_build) - _NAMES_SHOWN) if len(no_build) > _NAMES_SHOWN else "")))
    unserved_required = [t for t in result.required if not checks[t].usable]
    if unserved_required:
        failures.append("%s of targets not served: %s" % (
            _count(len(unserved_required), "build"), ", ".join(unserved_required)))
    for found in result.problems():
        failures.append("%s: %s (%s)" % (found.name or found.target, found.problem,
                                         _names(found.hosts) if found.hosts else "in targets"))
    if without:
        failures.append("%s without usable uv facts: %s; run pyfleet.uv.uv_facts on them first (or pass "
                        "targets)" % (_count(len(without), "host"), ", ".join(
                            "%s (%s)" % (item["host"], item["reason"]) for item in without[:_NAMES_SHOWN])))
    if fallbacks:
        warnings.extend(line for line in advice if " would fall back to " in line)

    served = OrderedDict()
    for host, item in result.hosts.items():
        if item["target"]:
            served.setdefault(item["target"], []).append(host)
    summary = ", ".join("%s (%s)" % (target, _count(len(hosts), "host")) for target, hosts in served.items())
    if result.required:
        summary = ", ".join(t for t in result.required if checks[t].usable) + (
            "; " + summary if summary else "")
    taken = [c for c in checks.values() if c.usable and (c.hosts or c.target in result.required)]
    if verify and taken:
        states = [c.verified for c in taken]
        summary += "; %s" % ("every download matches its published sha256" if all(states)
                             else "%d of %d downloads verified" % (states.count(True), len(states)))
    failed = bool(failures)
    head = "the %s serves %s %s" % (source, tool, version)
    if summary:
        head += ": %s" % summary
    parts = failures + advice if failed else advice
    if failed:
        msg = "; ".join(parts)
        msg += ". %s" % head if summary else ""
    else:
        msg = head + ("; " + "; ".join(parts) if parts else "")
    fields = dict(
        version=version,
        artifacts=[c.as_dict() for c in checks.values()],
        hosts=dict((host, dict(item)) for host, item in result.hosts.items()),
        missing=missing,
        without_facts=[item["host"] for item in without],
        msg=msg,
    )
    return fields, warnings, failed


_GOT_RE = re.compile(r"got ([0-9a-f]{64})")


class SourceChecker(object):
    """Answers ``check(target)`` for ``plan`` through a ``ControllerSource``.

    Per artifact, as ``uv_install`` would see it: where its sha256 is published (a
    sidecar, the checksum file of ``checksum=sha256:<URL>``, the index, the option),
    whether it is served (one GET whose body is not read; with ``verify`` the download
    itself, into the controller cache), and with ``verify`` whether the download
    matches. Every URL goes through the run's memo, so each is asked once per run.
    """

    def __init__(self, source, version, verify=False, allow_missing=False):
        self.source = source
        self.client = source.client
        self.version = version
        self.verify = verify
        self.allow_missing = allow_missing
        self.checksum_kind = source.checksum[0]

    def _where(self, artifact):
        if self.checksum_kind == "hex":
            return "option"
        if self.checksum_kind == "url":
            return "sha256.sum"
        return "index" if artifact.source == "index" else "sidecar"

    def _notes(self, target):
        return "; ".join(self.source.notes.get(target))

    def _served(self, url):
        """``(served, note)``: from this run's download of ``url`` if there was one, else one probe."""
        def ask():
            answer = self.source.fetcher.probe(url)
            if answer.status == 200:
                return [True, "served"]
            if answer.status in NOT_SERVED:
                return [False, "not served (%s)" % status_text(answer.status)]
            raise MirrorError("the %s failed: %s answered %s %s; nothing can be decided about its builds" % (
                self.source.describe(), redact_url(url), status_text(answer.status), answer.note or ""))
        served, note = self.source.memo.get(["served", url], ask)
        return served, note

    def __call__(self, target):
        artifact = self.client.artifact(self.version, target)
        if artifact is None:
            publish = "a %s %s wheel for %s on the %s" % (self.source.tool.name, self.version, target,
                                                          self.source.describe())
            return ArtifactCheck(target, served=False, note=self._notes(target) or "not on the source",
                                 publish=publish)
        name, url = artifact.name, redact_url(artifact.url)
        where = self._where(artifact)
        publish = name
        if artifact.source != "index":
            publish = "%s at %s" % (name, url)
        problem = None
        try:
            expected = self.client.expected_sha256(artifact, probe_archive=True)
        except ChecksumError as exc:
            expected, problem = None, exc.msg
        if expected is None and problem is None and where == "sidecar":
            # The sidecar is not served and neither is the archive (expected_sha256 probed it).
            return ArtifactCheck(target, name, url, served=False, note=self._notes(target) or "not served",
                                 publish=publish)
        check = ArtifactCheck(target, name, url, served=False, sha256=expected or None,
                              checksum=where if expected else None, problem=problem, publish=publish)
        cached = bool(expected) and os.path.exists(self.source.cache.path(expected, name))
        if self.verify and expected is not None and problem is None and not cached:
            self._download(check, artifact, expected)
        else:
            check.served, check.note = self._served(artifact.url)
            if self.verify and check.served and expected is not None and problem is None:
                self._download(check, artifact, expected)  # a cached copy, verified again (no request)
        check.usable = check.served
        if check.served and expected is None and problem is None:
            # checksum=sha256:<URL> names a file that does not list this archive: uv_install
            # passes it over as if it were not served.
            check.usable = False
            check.note = "served, but %s" % (self._notes(target) or "no checksum is listed for it")
            check.publish = "the line of %s in %s" % (name, redact_url(artifact.checksum_url or ""))
        elif check.served and expected == "":
            check.note += "; no checksum published (allow_missing_checksum)"
        elif check.served and expected:
            check.note += "; sha256 from the %s" % where
        if check.served and problem:
            check.note += "; %s" % problem
        if getattr(artifact, "yanked", False):
            check.note += "; yanked"
        return check

    def _download(self, check, artifact, expected):
        try:
            path, sha256 = self.source.fetch(artifact, expected)
        except ChecksumError as exc:
            got = _GOT_RE.search(exc.msg)
            check.served, check.verified, check.note = True, False, "served"
            check.problem = "the download does not match the sha256 from the %s: expected %s, got %s" % (
                check.checksum, expected, got.group(1) if got else "another digest")
            return
        if path is None:
            check.served, check.note = False, self._notes(check.target) or "not served"
            return
        check.served, check.note = True, "served"
        # Later checks of this run that find the file in the cache need not ask again.
        self.source.memo.get(["served", artifact.url], lambda: [True, "served"])
        if expected:
            check.verified = sha256 == expected
        else:
            check.sha256 = sha256
            check.note += "; downloaded sha256 %s" % sha256
