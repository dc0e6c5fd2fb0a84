# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv_venv's inputs, checked, as uv's arguments (a mixin of ``_venv_task.UvVenv``).

PRIVATE API: only for this collection's modules; names may change without notice.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shlex
import tempfile

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text, redact_url, url_secrets
from ansible_collections.pyfleet.uv.plugins.module_utils._uv_runner import index_environment
from ansible_collections.pyfleet.uv.plugins.module_utils.environments._venv import VenvError, index_args, with_version

__all__ = ["VenvInputs"]

# The options of a requirements file or of extra_args that name where packages come from.
_INDEX_OPTIONS = ("--index-url", "-i", "--default-index", "--index", "--extra-index-url", "--find-links", "-f", "--no-index")


class VenvInputs(object):
    """The checks of uv_venv's inputs and the arguments uv gets from them."""

    def requests(self):
        """The names (with ``version`` applied) and the requirement/constraint files, checked."""
        params = self.params
        names = [n.strip() for n in params["name"] if n and n.strip()]
        if params["version"]:
            if len(names) != 1:
                raise VenvError("version applies to exactly one package in name, got %d" % len(names))
            names = [with_version(names[0], params["version"])]
        for name in names:
            if name.startswith("-"):
                raise VenvError("%r in name is an option, not a requirement: put options in extra_args" % name)
        if params["editable"] and params["state"] == "absent":
            raise VenvError("editable applies to installing; remove an editable project by its package name "
                            "with state=absent and editable=false")
        if params["constraints"] and params["state"] == "absent":
            raise VenvError("constraints apply to installing; state=absent removes what name and requirements list: "
                            "leave constraints out")
        base = params["chdir"] or "/"
        files = {}
        for option in ("requirements", "constraints"):
            files[option] = []
            for given in params[option]:
                full = os.path.join(base, given)
                if not os.path.isfile(full):
                    raise VenvError("the %s file %s does not exist on the host%s" % (
                        option[:-1].replace("requirement", "requirements"), full,
                        "" if os.path.isabs(given) else " (relative paths start from chdir, %s)" % base))
                files[option].append(full)
        if params["state"] != "present" and not names and not files["requirements"]:
            raise VenvError("state=%s needs packages: give name or requirements" % params["state"])
        return names, files

    def index_args(self):
        return index_args(self.params, ("no_index", "offline", "require_hashes", "no_build"))

    def extra_args(self):
        out = []
        for item in self.params["extra_args"]:
            try:
                out += shlex.split(item)
            except ValueError as exc:
                raise VenvError("extra_args item %r cannot be split into arguments (%s): balance its quotes, or "
                                "give each argument as its own list item" % (redact_text(item), exc))
        return out

    def asked_where(self):
        """The indexes a request went to, for a "not found" message (credentials masked)."""
        params = self.params
        if params["no_index"]:
            where = "no index, find_links %s" % ", ".join(redact_url(u) for u in params["find_links"])
        elif params["index_url"]:
            where = "index_url %s" % redact_url(params["index_url"])
        else:
            where = self.indexes_given() or "the index of the system uv.toml, or uv's default index (no index_url given)"
        if params["extra_index_urls"] and not params["no_index"]:
            where += ", extra_index_urls %s" % ", ".join(redact_url(u) for u in params["extra_index_urls"])
        if params["find_links"] and not params["no_index"]:
            where += ", find_links %s" % ", ".join(redact_url(u) for u in params["find_links"])
        if params["offline"]:
            where += ("; offline=true: uv used no network, only find_links directories and a cache-dir that the "
                      "system uv.toml names (this task's own cache is private and starts empty); turn offline off, "
                      "or give find_links a directory that holds the files")
        return where

    def indexes_given(self):
        """Where the index options of extra_args and of the requirements files point (masked), or ``""``."""
        found = []
        try:
            _args, env = index_environment(self.extra_args())
        except UvError:
            env = {}
        if env:
            found.append("extra_args %s" % ", ".join(redact_text(v) for _k, v in sorted(env.items())))
        base = self.params["chdir"] or "/"
        for given in self.params["requirements"]:
            path = os.path.join(base, given)
            try:
                with open(path) as handle:
                    lines = [ln.strip() for ln in handle if ln.strip().split(" ", 1)[0].split("=", 1)[0] in _INDEX_OPTIONS]
            except (IOError, OSError, UnicodeDecodeError):
                continue
            if lines:
                found.append("the requirements file %s (%s)" % (path, "; ".join(redact_text(ln) for ln in lines)))
        return ", ".join(found)

    def hide_secrets(self, names):
        """``names`` (install or uninstall arguments) with those that carry URL credentials moved into a
        requirements file (mode 0600, in the module's private temporary directory) given as ``-r``: a command
        line is readable by every user of the host."""
        plain, secret = [], []
        at = 0
        while at < len(names):
            words = names[at:at + 2] if names[at] == "-e" and at + 1 < len(names) else names[at:at + 1]
            at += len(words)
            if url_secrets(words[-1]):
                secret.append(words)
            else:
                plain.extend(words)
        if not secret:
            return plain
        text = "".join(" ".join(words) + "\n" for words in secret)
        if text not in self.secret_files:
            handle, path = tempfile.mkstemp(prefix="uv-names-", suffix=".txt", dir=self.module.tmpdir)
            with os.fdopen(handle, "w") as out:
                out.write(text)
            self.secret_files[text] = path
        return plain + ["-r", self.secret_files[text]]
