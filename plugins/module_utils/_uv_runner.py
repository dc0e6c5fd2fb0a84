# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way this collection's modules run uv on a host.

PRIVATE API: only for this collection's modules; names may change without notice.

- **Which uv**: ``uv_path``, else the uv that ``uv_install`` recorded (its receipt beside
  ``uv`` in its default ``install_dir``, ``/usr/local/bin``), else the first ``uv`` on PATH.
- **Which version**: ``uv --version`` is read once and parsed by ``_probe.parse_uv_version``
  (the collection's one parser); uv older than ``MIN_UV`` is refused by name, and flags that
  only newer releases know are switched on from ``FEATURES``.
- **Which environment**: every call gets an explicit one (``uv_environment``). ``HOME`` and the
  XDG user directories point at a private empty directory, so the calling user's
  ``~/.config/uv/uv.toml``, ``~/.netrc`` and cache are never read; every ``UV_*`` variable and
  ``NETRC`` of the connection are dropped, and its proxy variables unless the caller keeps them.
  The system configuration (``$XDG_CONFIG_DIRS/uv/uv.toml`` or ``/etc/uv/uv.toml``, written by
  ``uv_config``) still applies: uv's ``--no-config`` (and ``UV_NO_CONFIG``) would ignore it too,
  so neither is used (checked with uv 0.13.8).
  ``UV_PYTHON_INSTALL_DIR`` names the Pythons ``uv_python`` installed; no colour, no progress.
  ``TMPDIR`` is ``<home>/tmp``: uv's ``$TMPDIR/uv-<hash>.lock`` (``uv sync``, mode 0666) stays out of
  the shared ``/tmp``, where any user could hold it; the modules serialise their own runs.
- **No secret on the command line**: uv's index options (``--index-url``, ``--extra-index-url``,
  ``--find-links``, ``--default-index``, ``--index``, whoever built them) are taken out of the arguments of each
  call and given to uv in the variables it reads for them (``index_environment``): a command line is
  readable by every user of the host (``ps``, ``/proc/<pid>/cmdline``), an environment only by its
  user and root. ``commands`` shows them as ``VAR=value`` before the command.
- **Failures** become one message (``failure_message``): uv's own ``error:`` line and the
  ``Caused by:``/``cause:``/``hint:`` lines after it (uv 0.5 prints resolver failures as
  ``x``/``-->`` diagnostics: those lines count too), never the progress lines before them, then
  the command (secrets masked). The whole output stays in ``stderr``.

This file only enters the payload of the modules that run uv, and imports only leaves
(``_errors``, ``_probe``, ``_secrets``, ``tools``): none of ``uv_install``'s ELF, target or staging code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._probe import find_uv, parse_uv_version
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import redact_text, url_secrets
from ansible_collections.pyfleet.uv.plugins.module_utils.tools import UV

__all__ = [
    "finish",
    "DEFAULT_INSTALL_DIR",
    "FEATURES",
    "MIN_UV",
    "UvRunError",
    "UvRunner",
    "error_lines",
    "failure_message",
    "index_environment",
    "locate_uv",
    "uv_environment",
    "version_tuple",
]

# uv_install's default install_dir: where its receipt says which uv it put there.
DEFAULT_INSTALL_DIR = "/usr/local/bin"
# The oldest uv the modules run: the first with ``--managed-python``, ``uv python list
# --output-format json`` and the warning before ``uv venv`` replaces a directory.
MIN_UV = (0, 8, 0)
# Flags that only newer uv releases take: name -> first version that has it (none today:
# uv_venv builds each environment under a new name, so it never needs ``--clear``, whose
# refusal without it came in 0.10.0).
FEATURES = {}

# Variables never passed on from the connection's environment: uv's own settings (the task's
# options and the system uv.toml decide) and the file of credentials uv would read.
_DROP_PREFIXES = ("UV_",)
_DROP_NAMES = ("NETRC", "VIRTUAL_ENV", "CONDA_PREFIX")  # an active environment would become uv's Python
# Dropped unless the caller passes the connection's proxy on (``use_proxy``); either case.
_PROXIES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
# The first line of a uv failure: anyhow's "error:" (every uv) or miette's "x" (resolver
# failures before 0.6: "  × No solution found when resolving dependencies:").
_ERROR_STARTS = ("error:", "\u00d7 ", "x ")
_LIMIT = 3000
# uv's index options and the variables it reads when the option is not on the command line (clap's
# ``env``; the same in uv 0.8.0 and 0.13.9), with the character uv splits a list on (checked with both:
# UV_EXTRA_INDEX_URL and UV_INDEX on blanks, UV_FIND_LINKS on commas; None: one value; uv 0.5.11 knows
# UV_INDEX too).
_INDEX_ENV = (
    (("--index-url", "-i"), "UV_INDEX_URL", None),
    (("--default-index",), "UV_DEFAULT_INDEX", None),
    (("--extra-index-url",), "UV_EXTRA_INDEX_URL", " "),
    (("--index",), "UV_INDEX", " "),
    (("--find-links", "-f"), "UV_FIND_LINKS", ","),
)
# uv's short options that take no value (``-q``, ``-v``, ``--no-cache``, ``--upgrade``): one may come before
# ``-i``/``-f`` in one word.
_SHORT_FLAGS = "qvnU"
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-.+]?[A-Za-z0-9.+-]*)?$")


class UvRunError(UvError):
    """uv could not be found or started, is too old, or failed; the message quotes uv."""


def version_tuple(version):
    """``(major, minor, patch)`` of a version string such as ``0.13.8`` or ``0.9.0rc1``, or ``None``."""
    match = _VERSION.match((version or "").strip())
    return tuple(int(p) for p in match.groups()) if match else None


def _index_option(args, at):
    """``(row of _INDEX_ENV, value, words, kept)`` when ``args[at]`` starts an index option, else ``None``.

    clap's spellings: ``--name value``, ``--name=value``, ``-i value``, ``-ivalue``, ``-i=value``, and
    ``-i`` at the end of a cluster of flags (``-qi value``, ``-qivalue``); ``kept`` is what stays of the
    word (``-q``), or ``None``."""
    arg = args[at]
    for row, (names, _var, _sep) in enumerate(_INDEX_ENV):
        if arg in names and at + 1 < len(args):
            return row, args[at + 1], 2, None
        name, equals, value = arg.partition("=")
        if equals and name in names and name.startswith("--"):
            return row, value, 1, None
    if not arg.startswith("-") or arg.startswith("--"):
        return None
    for position in range(1, len(arg)):
        letter = arg[position]
        row = [n for n, (names, _var, _sep) in enumerate(_INDEX_ENV) if "-" + letter in names]
        kept = arg[:position] if position > 1 else None
        if row and position + 1 < len(arg):
            rest = arg[position + 1:]
            return row[0], rest[1:] if rest.startswith("=") else rest, 1, kept
        if row and at + 1 < len(args):
            return row[0], args[at + 1], 2, kept
        if letter not in _SHORT_FLAGS:
            return None
    return None


def index_environment(args):
    """``(args, env)``: ``args`` without uv's index options, and the variables that carry them instead.

    An option keeps its order of values (uv tries extra indexes in that order). One that its variable
    cannot carry (given twice where uv takes one value, or a value holding the character uv splits the
    variable on) stays on the command line if it holds no secret, and is refused if it does.
    """
    found = {}
    at = 0
    while at < len(args):
        if args[at] == "--":
            break
        option = _index_option(args, at)
        if option is None:
            at += 1
            continue
        found.setdefault(option[0], []).append((at, option[1], option[2], option[3]))
        at += option[2]
    env, moved, kept = {}, set(), {}
    for row, items in found.items():
        names, var, sep = _INDEX_ENV[row]
        values = [value for _at, value, _words, _kept in items]
        if (sep is None and len(values) > 1) or any(not v or (sep and sep in v) for v in values):
            if any(url_secrets(v) for v in values):
                raise UvRunError("%s %s: uv reads this option from %s, which cannot carry %s; it is not put on "
                                 "uv's command line either, where every user of the host could read its credentials"
                                 % (names[0], ", ".join(redact_text(v) for v in values), var,
                                    "a second value" if sep is None else "a value holding %r" % sep))
            continue
        env[var] = (sep or "").join(values)
        for at, _value, words, flags in items:
            moved.update(range(at, at + words))
            if flags:
                kept[at] = flags
    return [kept.get(n, a) for n, a in enumerate(args) if n not in moved or n in kept], env


def locate_uv(uv_path=None, path_env=None, install_dir=None):
    """``(path, how)`` of the uv to run; ``UvRunError`` if there is none.

    ``uv_path`` must be an executable file. Otherwise the uv that ``uv_install`` recorded
    in ``install_dir`` (a receipt beside it; ``DEFAULT_INSTALL_DIR``, read at each call, when
    not given), else the first ``uv`` on ``path_env``.
    """
    install_dir = install_dir or DEFAULT_INSTALL_DIR
    if uv_path:
        if not os.path.isfile(uv_path) or not os.access(uv_path, os.X_OK):
            raise UvRunError("uv_path %s is not an executable file" % uv_path)
        return uv_path, "uv_path"
    candidate = os.path.join(install_dir, "uv")
    if os.path.isfile(os.path.join(install_dir, UV.receipt)) and os.access(candidate, os.X_OK):
        return candidate, "recorded by uv_install"
    found = find_uv(None, path_env)
    if found:
        return found, "PATH"
    raise UvRunError("no uv to run: none recorded by uv_install in %s and none on PATH; install uv with "
                     "pyfleet.uv.uv_install first, or set uv_path" % install_dir)


def uv_environment(base, home, python_install_dir=None, extra=None, use_proxy=True):
    """The whole environment of one uv call (a new dict; ``base`` is not changed).

    ``home`` is an empty private directory that stands for the user's home and XDG user
    directories; ``extra`` (e.g. ``UV_PYTHON_DOWNLOADS``) is set last; ``use_proxy=False``
    drops the proxy variables (``https_proxy``, ``NO_PROXY``, ... in either case).
    """
    env = dict((k, v) for k, v in base.items() if not k.startswith(_DROP_PREFIXES) and k not in _DROP_NAMES
               and (use_proxy or k.lower() not in _PROXIES))
    env.update(
        HOME=home,
        XDG_CONFIG_HOME=os.path.join(home, ".config"),
        XDG_CACHE_HOME=os.path.join(home, ".cache"),
        XDG_DATA_HOME=os.path.join(home, ".local", "share"),
        XDG_BIN_HOME=os.path.join(home, ".local", "bin"),
        TMPDIR=os.path.join(home, "tmp"),
        UV_NO_PROGRESS="1",
        NO_COLOR="1",
        LC_ALL="C",
        LANG="C",
    )
    if python_install_dir:
        env["UV_PYTHON_INSTALL_DIR"] = python_install_dir
    env.update(extra or {})
    return env


def error_lines(text):
    """uv's error block in ``text``: from its first ``error:`` (or miette ``x``) line to the end.

    Progress and status lines before it ("Downloading ...", "Using Python ...") are left out;
    ``warning:`` lines anywhere are left out too. Empty when uv printed no error line.
    """
    lines = (text or "").splitlines()
    for index, line in enumerate(lines):
        if line.lstrip().startswith(_ERROR_STARTS):
            return [ln.rstrip() for ln in lines[index:] if ln.strip() and not ln.startswith("warning:")]
    return []


def failure_message(what, argv, rc, out, err):
    """The message of a failed uv call: uv's own error lines first, then the command and exit code."""
    block = error_lines(err) or error_lines(out)
    if not block:
        block = [ln for ln in (err or out or "").strip().splitlines()[-8:] if ln.strip()] or ["(no output)"]
    text = redact_text("\n".join(block))  # masked before it is cut: a cut URL would no longer be recognised
    if len(text) > _LIMIT:
        text = text[:_LIMIT] + " [...]"
    return "%s\n%s failed (uv exit %s): %s" % (text, what, rc, redact_text(" ".join(argv)))


class UvRunner(object):
    """Runs one uv with one explicit environment; remembers the commands it ran.

    ``module`` is the ``AnsibleModule`` (its ``run_command``); ``home`` an empty private
    directory; ``umask`` the umask of each call (``0o022`` by default, so what uv creates
    is readable by every user whatever the connection's umask); ``cwd`` the working
    directory (uv reads a project's uv.toml/pyproject.toml found from there: ``/`` has none);
    ``use_proxy`` keeps the connection's proxy variables; ``name`` is who needs ``min_version``
    (``MIN_UV`` unless the module needs less), in messages.
    """

    def __init__(self, module, uv, home, python_install_dir=None, extra_env=None, umask=0o022, cwd="/",
                 use_proxy=True, name="this module", min_version=MIN_UV):
        self.module = module
        self.uv = uv
        self.env = uv_environment(os.environ, home, python_install_dir, extra_env, use_proxy)
        if not os.path.isdir(self.env["TMPDIR"]):
            os.makedirs(self.env["TMPDIR"], 0o700)
        self.umask = umask
        self.cwd = cwd
        self.name = name
        self.min_version = min_version
        self.commands = []
        self._version = None

    def raw(self, argv, env=None):
        """``(rc, stdout, stderr)`` of ``argv`` in this environment (plus ``env``); ``rc`` is ``None`` if it
        could not start. ``commands`` records it as ``VAR=value ... argv``."""
        env = env or {}
        self.commands.append(["%s=%s" % item for item in sorted(env.items())] + list(argv))
        saved = dict(os.environ)
        umask = os.umask(self.umask)
        try:
            os.environ.clear()
            os.environ.update(self.env)
            os.environ.update(env)
            return self.module.run_command(list(argv), cwd=self.cwd, errors="surrogate_then_replace",
                                           handle_exceptions=False)
        except (IOError, OSError) as exc:
            return None, "", "%s: %s" % (argv[0], exc.strerror or exc)
        finally:
            os.umask(umask)
            os.environ.clear()
            os.environ.update(saved)

    def version(self):
        """The uv version as ``(major, minor, patch)``, read once; refuses uv older than ``min_version``."""
        if self._version is None:
            rc, out, err = self.raw([self.uv, "--version"])
            parsed = parse_uv_version(out) if rc == 0 else None
            numbers = version_tuple(parsed["version"]) if parsed else None
            if numbers is None:
                raise UvRunError("%s is not a working uv: `%s --version` gave exit %s: %s"
                                 % (self.uv, self.uv, rc, (err or out or "no output").strip()[:500]))
            if numbers < self.min_version:
                raise UvRunError("uv %s (%s) is too old for %s, which needs uv %s or newer; install a newer uv "
                                 "with pyfleet.uv.uv_install, or point uv_path at one"
                                 % (parsed["version"], self.uv, self.name, ".".join(str(p) for p in self.min_version)))
            self._version = numbers
        return self._version

    def version_string(self):
        return ".".join(str(p) for p in self.version())

    def supports(self, feature):
        """Whether this uv has ``feature`` (a name in ``FEATURES``)."""
        return self.version() >= FEATURES[feature]

    def run(self, args, what=None, check=True, env=None):
        """Run ``uv --color never <args>``: ``(rc, stdout, stderr)``; ``UvRunError`` on failure when ``check``.
        ``env``: variables of this call only (e.g. ``VIRTUAL_ENV``)."""
        self.version()
        args, index_env = index_environment(list(args))
        env = dict(env or {}, **index_env)
        for arg in args:
            # Every word, an option's own value in the next word included (``--constraint URL``).
            if url_secrets(arg):
                raise UvRunError("%s: this argument would carry URL credentials on uv's command line, where every "
                                 "user of the host can read them; give index credentials in the index options or the "
                                 "system uv.toml, and a requirement URL with credentials as a package name (it goes "
                                 "to uv in a private file)" % redact_text(arg))
        rc, out, err = self.raw([self.uv, "--color", "never"] + args, env)
        if check and rc != 0:
            what = what or "uv " + " ".join(args[:2])
            if rc is None:
                raise UvRunError(redact_text("%s: uv (%s) could not be started: %s" % (what, self.uv, err)))
            raise UvRunError(failure_message(what, self.commands[-1], rc, out, err), uv_rc=rc, stderr=redact_text(err))
        return rc, out, err


def finish(module, task, commands):
    """Runs ``task.run()`` and ends the module: ``exit_json`` with its result, or ``fail_json`` with what the
    task had reached (``task.result``), the commands it ran (``commands()``, credentials masked) and uv's
    whole output in ``stderr`` (``msg`` starts with uv's cause, see ``failure_message``)."""
    try:
        result = task.run()
    except UvError as exc:
        failed = dict(task.result)
        failed["cmd"] = commands()
        if exc.details.get("stderr"):
            failed["stderr"] = exc.details["stderr"]
        failed["msg"] = exc.msg
        module.fail_json(**failed)
    module.exit_json(**result)
