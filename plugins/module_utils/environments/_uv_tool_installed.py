# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A tool environment's installed distributions read from its files, and whether they satisfy a request.

PRIVATE API: only for this collection's modules; names may change without notice.
Standard library only, Python 3.6; nothing runs uv or the environment's Python. The pinned no-op of
``uv_tool`` decides from these (uv's first command on an interpreter queries it, which costs about
a second with the task's empty private cache); whatever ``satisfied`` cannot prove is left to uv's
own dry run, so an answer here is never a guess:

- ``packages_on_disk`` lists ``site-packages/*.dist-info`` as ``uv pip list`` does (uv names a
  distribution by its normalized name and takes the version from the folder's name);
- ``satisfied`` is ``True`` only when every requirement, and every ``Requires-Dist`` they pull in
  (markers evaluated for the environment's Python from its ``pyvenv.cfg``, extras followed), is
  installed at a version its specifier allows; a URL, a pre-release, a local version or a marker on
  the machine or kernel gives ``None`` (ask uv).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
from email.parser import Parser

from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import normalize_name, read_pyvenv

__all__ = ["marker_environment", "packages_on_disk", "satisfied", "version_allows"]

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*\(?([^;()]*?)\)?\s*(?:;\s*(.*?))?\s*$")
_PLAIN = re.compile(r"^(?:(\d+)!)?(\d+(?:\.\d+)*)$")
_VERSION = re.compile(
    r"^v?(?:(\d+)!)?(\d+(?:\.\d+)*)"
    r"(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?"
    r"(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d*))?"
    r"(?:[-_.]?(dev)[-_.]?(\d*))?$")
_PRE = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"}
_CLAUSE = re.compile(r"^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$")
_TOKEN = re.compile(r"\s*(?:(\(|\))|('[^']*'|\"[^\"]*\")|(===|==|!=|~=|<=|>=|<|>|not\s+in\b|in\b|and\b|or\b)|([A-Za-z_.]+))")
_VERSION_VARS = ("python_version", "python_full_version", "implementation_version")
_UNKNOWN_VARS = ("platform_machine", "platform_release", "platform_version")


def _site_packages(environment):
    return sorted(set(os.path.realpath(p) for p in glob.glob(os.path.join(environment, "lib*", "python*", "site-packages"))))


def packages_on_disk(environment, requires=False):
    """``{normalized name: {"name", "version"}}`` of ``environment``'s ``*.dist-info`` folders, as
    ``parse_pip_list`` gives uv's list (``requires`` adds each one's ``Requires-Dist`` lines)."""
    out = {}
    for site in _site_packages(environment):
        # A name installed twice (two dist-info folders, or an egg-info beside one) is not satisfied for uv:
        # ``twice`` marks it, for ``satisfied`` (``requires``) only.
        for info in sorted(glob.glob(os.path.join(site, "*.egg-info"))) if requires else []:
            name = normalize_name(os.path.basename(info)[:-len(".egg-info")].partition("-")[0])
            out[name] = dict(name=name, version="", requires=None, twice=True)
        for info in sorted(glob.glob(os.path.join(site, "*.dist-info"))):
            name, _sep, version = os.path.basename(info)[:-len(".dist-info")].partition("-")
            entry = dict(name=normalize_name(name), version=version)
            if requires:
                try:
                    with open(os.path.join(info, "METADATA"), "rb") as handle:
                        head = handle.read().decode("utf-8", "replace").split("\n\n", 1)[0]
                    entry["requires"] = Parser().parsestr(head, headersonly=True).get_all("Requires-Dist") or []
                except (IOError, OSError):
                    entry["requires"] = None
            if requires and normalize_name(name) in out:
                entry["twice"] = True
            out[normalize_name(name)] = entry
    return out


def marker_environment(environment):
    """PEP 508 marker values of ``environment``'s Python from its ``pyvenv.cfg`` (``None`` when unknown)."""
    cfg = read_pyvenv(environment) or {}
    full = _PLAIN.match(cfg.get("version_info") or "")
    sites = _site_packages(environment)
    if not full or len(sites) != 1:
        return None
    release = full.group(2).split(".")
    series = "python%s" % ".".join(release[:2])
    if os.path.basename(os.path.dirname(sites[0])) != series:
        return None  # the environment's Python is not the one pyvenv.cfg names
    # uv links bin/python to the interpreter as it was given (/usr/bin/python3): an upgrade of the system
    # Python changes it underneath, and the packages under lib/pythonX.Y are then not seen. Proven only
    # when the interpreter the link leads to is named for the same series.
    if os.path.basename(os.path.realpath(os.path.join(environment, "bin", "python"))) != series:
        return None
    impl = (cfg.get("implementation") or "").strip()
    return dict(python_version=".".join(release[:2]), python_full_version=full.group(0), sys_platform="linux",
                os_name="posix", platform_system="Linux", platform_python_implementation=impl or None,
                implementation_name=impl.lower() or None, implementation_version=full.group(0) if impl == "CPython" else None)


def _parse(version):
    """A PEP 440 version as a key that sorts as PEP 440 orders versions (local versions apart), and
    its parts: ``(key, base, pre_or_dev, post)``; ``None`` when it is not one or has a local part."""
    match = _VERSION.match(version.strip().lower())
    if not match:
        return None
    epoch, release, pre, pre_n, post_dash, post, post_n, dev, dev_n = match.groups()
    parts = [int(p) for p in release.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    base = (int(epoch or 0), tuple(parts))
    post_v = int(post_dash or post_n or 0) if (post_dash or post) else None
    dev_v = int(dev_n or 0) if dev else None
    pre_v = (_PRE.get(pre, pre), int(pre_n or 0)) if pre else None
    if pre_v is None and post_v is None and dev_v is not None:
        pre_key = ("", -1)  # 1.0.dev0 sorts before 1.0a0
    else:
        pre_key = pre_v if pre_v is not None else ("z", 0)
    key = base + (pre_key, -1 if post_v is None else post_v, float("inf") if dev_v is None else dev_v)
    return key, base, pre_v is not None or dev_v is not None, post_v is not None


def _prefix(installed, spec):
    """Whether the parsed ``installed`` matches ``==spec.*`` (``spec`` a release, ``None`` otherwise)."""
    match = _PLAIN.match(spec)
    if not match:
        return None
    wanted = [int(p) for p in match.group(2).split(".")]
    release = list(installed[1][1]) + [0] * len(wanted)
    return installed[1][0] == int(match.group(1) or 0) and release[:len(wanted)] == wanted


def version_allows(version, specifier):
    """Whether ``version`` satisfies ``specifier`` (``>=1,!=1.2.*``): ``True``/``False``, or ``None``
    when this does not compare them (an installed pre-release, dev or local version; ``===``)."""
    installed = _parse(version)
    if installed is None or installed[2]:
        return None
    answer = True
    for clause in [c for c in re.sub(r"\s+", "", specifier or "").split(",") if c]:
        match = _CLAUSE.match(clause)
        if not match or match.group(1) == "===":
            return None
        op, spec = match.groups()
        if op in ("==", "!=") and spec.endswith(".*"):
            ok = _prefix(installed, spec[:-2])
            ok = ok if ok is None or op == "==" else not ok
        else:
            wanted = _parse(spec)
            if wanted is None:
                return None
            key, want = installed[0], wanted[0]
            if op == "~=":
                parts = _VERSION.match(spec.lower()).group(2).split(".")
                ok = None if len(parts) < 2 else key >= want and _prefix(installed, ".".join(parts[:-1]))
            else:
                post_of = installed[3] and not wanted[3] and installed[1] == wanted[1]
                if op == ">" and post_of and wanted[2]:
                    return None  # 1.0.post1 > 1.0rc1: uv says no, packaging yes
                ok = {"==": key == want, "!=": key != want, ">=": key >= want, "<=": key <= want, "<": key < want,
                      # PEP 440: >V does not match a post-release of V's release (unless V is a post-release).
                      ">": key > want and not post_of}[op]
        if ok is None:
            return None
        answer = answer and ok
    return answer


def _marker(text, values, extras):
    """A PEP 508 marker evaluated three-valued: ``True``, ``False`` or ``None`` (cannot tell)."""
    tokens, pos = [], 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        match = _TOKEN.match(text, pos)
        if not match:
            return None
        tokens.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
    tokens.append("")
    state = dict(at=0)

    def peek():
        return tokens[state["at"]]

    def take():
        state["at"] += 1
        return tokens[state["at"] - 1]

    def value(token):
        if token[:1] in ("'", '"'):
            return token[1:-1]
        if token in _UNKNOWN_VARS:
            return None  # the machine and kernel of a host may differ from what this process sees
        return values.get(token, KeyError)

    def clause():
        if peek() == "(":
            take()
            out = either()
            return out if take() == ")" else KeyError
        left, op, right = take(), re.sub(r"\s+", " ", take()), take()
        if "extra" in (left, right):
            other = right if left == "extra" else left
            if op not in ("==", "!=") or other[:1] not in ("'", '"'):
                return KeyError
            found = normalize_name(other[1:-1]) in extras
            return found if op == "==" else not found
        lvalue, rvalue = value(left), value(right)
        if lvalue is KeyError or rvalue is KeyError:
            return KeyError
        if lvalue is None or rvalue is None:
            return None
        if op in ("in", "not in"):
            if left in _VERSION_VARS or right in _VERSION_VARS:
                return None  # uv compares versions there, not text
            return (lvalue in rvalue) == (op == "in")
        if left in _VERSION_VARS or right in _VERSION_VARS:
            if left in _VERSION_VARS:
                return version_allows(lvalue, op + rvalue)
            reverse = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}
            return version_allows(rvalue, reverse.get(op, op) + lvalue) if op != "~=" else None
        if op in ("==", "!=", "==="):
            return (lvalue == rvalue) == (op != "!=")
        return None

    def chain(word, operand, decisive):
        """Three-valued ``and`` (``decisive`` False) or ``or`` (``decisive`` True) of ``operand``s joined by ``word``;
        ``KeyError`` (cannot parse) wins, then ``decisive``, then ``None`` (unknown)."""
        out = operand()
        while peek() == word:
            take()
            right = operand()
            out = KeyError if KeyError in (out, right) else (decisive if decisive in (out, right) else (
                None if None in (out, right) else not decisive))
        return out

    def either():
        return chain("or", lambda: chain("and", clause, False), True)

    try:
        out = either()
    except (IndexError, StopIteration):
        return None
    return None if out is KeyError or peek() != "" else out


def satisfied(requirements, installed, values):
    """``True`` when ``installed`` (``packages_on_disk(requires=True)``) satisfies every requirement
    and what each pulls in, for marker ``values`` (``marker_environment``); ``None`` when that is not
    proven here (something missing or at another version included): uv's dry run decides then."""
    if values is None:
        return None
    queue = [(r, frozenset()) for r in requirements]
    seen = set()
    while queue:
        text, parent_extras = queue.pop()
        match = _REQUIREMENT.match(text or "")
        if not match or "@" in (match.group(3) or ""):
            return None
        name, spec, marker = normalize_name(match.group(1)), match.group(3), match.group(4)
        applies = _marker(marker, values, parent_extras) if marker else True
        if applies is False:
            continue
        if applies is None:
            return None
        dist = installed.get(name)
        if (dist is None or dist.get("twice") or dist.get("requires") is None
                or version_allows(dist["version"], spec) is not True):
            return None
        extras = frozenset(normalize_name(e.strip()) for e in (match.group(2) or "").split(",") if e.strip())
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        queue.extend((r, extras) for r in dist["requires"])
    return True
