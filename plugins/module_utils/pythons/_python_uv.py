# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv's ``python`` commands on a host: list, install, verify, undo; run by the collection's one uv runner.

PRIVATE API: only for this collection's modules; names may change without notice.
``_uv_runner.UvRunner`` finds uv, refuses one older than 0.8.0 and gives each call its explicit
environment; ``python_settings`` adds uv_python's variables. A failed uv call becomes a
``PythonError`` whose message starts with uv's ``error:`` and cause lines (a hash mismatch with both
values, a 404 with its URL), then the command; ``stderr`` holds uv's whole output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.pyfleet.uv.plugins.module_utils.pythons._python import PythonError, best, parse_list, version_tuple
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import UvRunError

__all__ = ["VERIFY_CODE", "UvPython", "python_settings"]

VERIFY_CODE = "import sys, ssl, sqlite3; print(sys.version)"
_REMOTE_JSON_REFUSED = "Remote Python downloads JSON is not yet supported"


def python_settings(bin_dir=None, mirror=None, downloads_json=None, pypy_mirror=False):
    """uv_python's variables for the runner's environment (the install dir is the runner's own).

    Downloads only when asked (``manual``); ``pypy_mirror`` points uv's PyPy mirror at ``mirror`` too.
    """
    env = {"UV_PYTHON_DOWNLOADS": "manual"}
    for name, value in (("UV_PYTHON_BIN_DIR", bin_dir), ("UV_PYTHON_INSTALL_MIRROR", mirror),
                        ("UV_PYTHON_DOWNLOADS_JSON_URL", downloads_json),
                        ("UV_PYPY_INSTALL_MIRROR", mirror if pypy_mirror else None)):
        if value:
            env[name] = value
    return env


class UvPython(object):
    """uv's ``python`` commands through one ``UvRunner`` (``runner.commands`` lists what ran)."""

    def __init__(self, runner):
        self.runner = runner
        self.env = runner.env

    def _call(self, args, what):
        try:
            return self.runner.run(args, what)[1]
        except UvRunError as exc:
            msg = exc.msg
            if _REMOTE_JSON_REFUSED in msg:
                msg += ("\nthis uv reads python_downloads_json_url only from a local path: install a newer uv "
                        "with pyfleet.uv.uv_install, or use download_on=controller")
            raise PythonError(msg, **exc.details)

    def installed(self, request=None):
        """The managed Pythons in the install dir (matching ``request``), read offline."""
        args = ["python", "list", "--only-installed", "--managed-python", "--output-format", "json", "--no-config"]
        return parse_list(self._call(args + ([request] if request else []), "listing the installed Pythons"))

    def downloads(self, request):
        """The downloads uv offers for ``request`` on this host, newest first (reads the downloads JSON)."""
        args = ["python", "list", "--only-downloads", "--show-urls", "--output-format", "json", request]
        entries = parse_list(self._call(args, "listing the downloads for %s" % request))
        entries.sort(key=lambda e: version_tuple(e["version"]), reverse=True)
        return entries

    def install(self, requests, bin_dir=None, default=False):
        args = ["python", "install"] + ([] if bin_dir else ["--no-bin"]) + (["--default"] if default else [])
        self._call(args + list(requests), "uv python install %s" % " ".join(requests))

    def uninstall(self, keys):
        self._call(["python", "uninstall"] + list(keys), "uv python uninstall %s" % " ".join(keys))

    def verify(self, path):
        """Run the interpreter once: ``(ok, sys.version or the reason it failed)``."""
        rc, out, err = self.runner.raw([path, "-c", VERIFY_CODE])
        if rc == 0 and out.strip():
            return True, out.strip().splitlines()[0]
        text = (err or out).strip()[-800:]
        if rc is None:
            return False, "%s cannot be started: %s" % (path, text)
        return False, "%s -c '%s' failed (exit %s): %s" % (path, VERIFY_CODE, rc, text)

    def install_steps(self, work, bin_dir, warn):
        """Install (or relink) each step's Python, then run each once; on any failure remove what appeared.

        Each step gets the ``entry`` uv lists and the ``sys_version`` its interpreter printed.
        """
        before = set(e["key"] for e in self.installed())
        try:
            for step in work:
                # A planned key installs exactly what was planned; a plain request lets uv choose.
                self.install([step["entry"]["key"] if step["entry"] else step["request"]], bin_dir, step["default"])
        except PythonError as exc:
            left = self.undo(before, warn)
            hint = ""
            if "Hash mismatch" in exc.msg and self.env.get("UV_PYTHON_INSTALL_MIRROR") \
                    and not self.env.get("UV_PYTHON_DOWNLOADS_JSON_URL"):
                hint = ("; without a downloads JSON uv checks each archive against the sha256 built into uv, so "
                        "the mirror must hold the unmodified python-build-standalone release assets")
            raise PythonError("%s%s%s" % (exc.msg, "; removed what uv left half-installed: %s" % ", ".join(left)
                                          if left else "; nothing was installed", hint), **exc.details)
        failures = []
        for step in work:
            entry = best(self.installed(step["request"]), step["entry"] if step["action"] == "install" else None)
            if entry is None:
                failures.append("uv reported success, but lists no Python for %s" % step["request"])
                continue
            ok, detail = self.verify(entry["path"])
            if not ok:
                failures.append(detail)
            step["entry"], step["sys_version"] = entry, detail
        if failures:
            left = self.undo(before, warn)
            raise PythonError("the installed Python does not run here: %s; %s" % (
                "; ".join(failures), "removed again: %s" % ", ".join(left) if left else "nothing was installed"))
        return work

    def undo(self, before, warn):
        """Uninstall what appeared since ``before`` (keys); returns their keys."""
        try:
            new = [e["key"] for e in self.installed() if e["key"] not in before]
        except PythonError:
            return []
        if new:
            try:
                self.uninstall(new)
            except PythonError as exc:
                warn("could not remove %s again: %s" % (", ".join(new), exc.msg))
        return new
