# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep the YAML examples of the docs site honest (the docs stage of hacking/suite, hacking/suite/docs.py).

Every ``.. code-block:: yaml`` (or ``yaml+jinja``) in ``docs/docsite/rst/*.rst`` must be
preceded by a marker comment that says how it is tested; a block without one fails (in
Markdown files given with ``--markdown``, such as README.md, the marker is an HTML comment,
``<!-- pyfleet-example: run -->``, above a ```` ```yaml ```` fence)::

    .. pyfleet-example: run
    .. pyfleet-example: run-once <why a second run must change something>
    .. pyfleet-example: syntax <why it cannot run here>
    .. pyfleet-example: yaml <what the block is>

- ``yaml``: the block must parse as YAML (a ``requirements.yml``, an inventory).
- ``syntax``: plays, or a task list (wrapped in a play), pass
  ``ansible-playbook --syntax-check`` with the collection installed, so every module
  name resolves, and every option given to a ``pyfleet.uv`` module is one it documents.
- ``run``: the same checks, then the block really runs with ``ansible-playbook`` against
  the loopback mirror and package index the suite serves: the example host names
  (``SUBSTITUTIONS``) are replaced by loopback URLs, ``/usr/local/bin`` by a scratch
  directory (also given as ``install_dir`` through ``module_defaults`` to ``uv_install``,
  ``ruff_install``, ``ty_install`` and ``uv_facts``), ``/etc/uv/`` by another (uv_config's
  default ``path`` points there through ``module_defaults``, so a run never writes this
  machine's /etc/uv), every play runs on ``localhost`` (which is in every group the examples
  name), ``become`` is off (``ansible_become=false``) and the controller cache is a scratch
  ``XDG_CACHE_HOME``. uv_python's ``install_dir`` (``/opt/uv/python``) is a scratch
  directory and its ``uv_path`` the scratch ``bin`` (``module_defaults``); a uv_python
  or uv_venv example that does not install uv itself finds there a copy of the config's ``uv``.
  uv_venv gets the same ``uv_path`` and ``python_install_dir``, and ``index_url`` the loopback
  package index of tests/utils/venvindex.py (``venv_index``), which the guide's
  ``https://pypi.internal.example.com/simple/`` also becomes; ``/opt/app`` is a scratch directory.
  uv_tool gets uv_venv's ``uv_path``, ``python_install_dir`` and ``index_url``, a scratch ``tool_dir``
  (which uv_facts reports) and the scratch ``bin`` as ``bin_dir``.
  A ``run`` block that still names a URL outside loopback fails before anything runs. It
  must succeed, and a second run must report no change
  (``run-once``: one run, for examples such as a task in check mode that reports the
  same change every time).

Every ``ansible-playbook`` runs with ``http_proxy``/``https_proxy`` pointing at a tripwire
on 127.0.0.1 (``Tripwire``) and only loopback exempted: a connection to it means that
something tried to leave the machine, and fails the check.

    python hacking/docs_examples.py check --rst docs/docsite/rst --config config.json

``config.json``: ``ansible_bin`` (the directory with ``ansible-playbook``), ``collections``
(a collections path holding pyfleet.uv), ``python`` (the managed hosts' interpreter),
``mirror`` (the base URL of ``tests/utils/uvmirror.py serve``), ``index`` and
``index_auth`` (a simple index, plain and behind Basic auth), ``index_username``,
``index_password``; ``venv_index`` (a simple index holding tests/utils/venvindex.py's packages,
for the environments guide); for the Python guide, ``pbs`` (the base URL of tests/utils/pbs.py's
CPython archives, served with its ``docs.json``) and ``uv`` (a uv binary). Run it with a
Python that has PyYAML (any ansible-core venv).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

MARKER = re.compile(r"^\.\. pyfleet-example:\s*(run-once|run|syntax|yaml)(?:\s+(.*))?$")
CODE_BLOCK = re.compile(r"^\.\. code-block::\s*(\S+)\s*$")
# The same in Markdown (README.md, the Galaxy page): an HTML comment above a fence.
MD_MARKER = re.compile(r"^<!--\s*pyfleet-example:\s*(run-once|run|syntax|yaml)(?:\s+(.*?))?\s*-->\s*$")
MD_FENCE = re.compile(r"^```\s*(\S*)\s*$")
YAML_LANGUAGES = ("yaml", "yaml+jinja")
# The collection's modules, whose options are checked against ansible-doc.
MODULES = ("pyfleet.uv.uv_install", "pyfleet.uv.ruff_install", "pyfleet.uv.ty_install", "pyfleet.uv.uv_facts",
           "pyfleet.uv.uv_mirror_check", "pyfleet.uv.uv_config", "pyfleet.uv.uv_python", "pyfleet.uv.uv_venv",
           "pyfleet.uv.uv_tool")
# The modules that take install_dir, which a run example gets pointed at its scratch directory.
INSTALL_DIR_MODULES = ("pyfleet.uv.uv_install", "pyfleet.uv.ruff_install", "pyfleet.uv.ty_install",
                       "pyfleet.uv.uv_facts")
# Inventory groups the examples may name; localhost is in all of them.
GROUPS = ("fleet", "rhel8", "dmz", "arm64", "app_servers")


def substitutions(config: dict, scratch: str) -> list:
    """Example URL prefixes and paths of the guides -> what serves them on loopback (first match wins)."""
    mirror = config["mirror"].rstrip("/")
    pbs = []
    if config.get("pbs"):
        # guide_python_rhel8.rst: the curated downloads JSON and the archives it names (pbs.py's docs set).
        pbs = [("https://mirror.example.com/pbs/downloads.json", config["pbs"].rstrip("/") + "/docs.json"),
               ("https://mirror.example.com/pbs/", config["pbs"].rstrip("/") + "/")]
    return pbs + [
        ("https://mirror.example.com/uv-current/", mirror + "/flat/"),
        ("https://mirror.example.com/uv-gnu/", mirror + "/flat-gnu/"),
        ("https://mirror.example.com/uv/", mirror + "/versioned/"),
        # ruff's and ty's layouts are under <mirror>/<tool>/ (tests/utils/uvmirror.py).
        ("https://mirror.example.com/ruff/", mirror + "/ruff/versioned/"),
        ("https://mirror.example.com/ty/", mirror + "/ty/versioned/"),
        ("https://artifacts.example.com/github/", mirror + "/github/"),
        ("https://github.com/astral-sh/uv/releases/", mirror + "/github/astral-sh/uv/releases/"),
        ("https://pypi-proxy.example.com/simple/", config["index"]),
        # guide_venv.rst's package index: tests/utils/venvindex.py's (six, python-dateutil, ...).
        ("https://pypi.internal.example.com/simple/", config.get("venv_index") or config["index"]),
        ("https://artifactory.example.com/artifactory/api/pypi/pypi-remote/simple/", config["index_auth"]),
        ("https://artifactory.example.com/api/pypi/pypi-remote/simple/", config["index_auth"]),
        # uv_config's settings only name this mirror (nothing is fetched from it in the runs).
        ("https://mirror.example.com/python/", mirror + "/python/"),
        ("/usr/local/bin", os.path.join(scratch, "bin")),
        ("/etc/uv/", os.path.join(scratch, "etc-uv") + "/"),
        ("/opt/tools/bin", os.path.join(scratch, "opt-tools-bin")),
        ("/srv/ansible/uv-cache", os.path.join(scratch, "srv-uv-cache")),
        ("/opt/uv/python", os.path.join(scratch, "opt-uv-python")),
        ("/opt/app", os.path.join(scratch, "opt-app")),  # guide_venv.rst's environments and files
    ]


class Example:
    """One YAML code block of a guide, with how it is to be tested."""

    def __init__(self, path: str, line: int, mode: str, reason: str, text: str) -> None:
        self.path, self.line, self.mode, self.reason, self.text = path, line, mode, reason, text

    @property
    def where(self) -> str:
        return "%s:%d" % (os.path.basename(self.path), self.line)


def extract(path: str) -> list:
    """The YAML code blocks of one RST file, each with its marker; raises ValueError for an unmarked one."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    examples, marker = [], None
    index = 0
    while index < len(lines):
        line = lines[index]
        found = MARKER.match(line)
        if found:
            marker = (found.group(1), (found.group(2) or "").strip(), index + 1)
            index += 1
            continue
        block = CODE_BLOCK.match(line)
        if block and block.group(1).lower() in YAML_LANGUAGES:
            if marker is None:
                raise ValueError("%s:%d: a YAML code block without a '.. pyfleet-example:' marker"
                                 % (path, index + 1))
            if marker[0] != "run" and not marker[1]:
                raise ValueError("%s:%d: '.. pyfleet-example: %s' needs a reason" % (path, marker[2], marker[0]))
            start, body = index + 1, []
            index += 1
            while index < len(lines) and (not lines[index].strip() or lines[index].startswith((" ", "\t"))):
                if lines[index].strip().startswith(":") and not body:
                    index += 1  # a directive option such as :caption:
                    continue
                body.append(lines[index])
                index += 1
            while body and not body[-1].strip():
                body.pop()
            indent = min(len(b) - len(b.lstrip()) for b in body if b.strip())
            examples.append(Example(path, start, marker[0], marker[1], "\n".join(b[indent:] for b in body) + "\n"))
            marker = None
            continue
        if line.strip():
            marker = None  # a marker applies to the code block right below it only
        index += 1
    return examples


def extract_markdown(path: str) -> list:
    """The YAML fences of a Markdown file, each with its ``<!-- pyfleet-example: ... -->`` marker."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    examples, marker, index = [], None, 0
    while index < len(lines):
        line = lines[index]
        found = MD_MARKER.match(line)
        fence = MD_FENCE.match(line)
        if found:
            marker = (found.group(1), (found.group(2) or "").strip(), index + 1)
        elif fence and fence.group(1):
            body, start = [], index + 2
            index += 1
            while index < len(lines) and not MD_FENCE.match(lines[index]):
                body.append(lines[index])
                index += 1
            if fence.group(1).lower() in YAML_LANGUAGES:
                if marker is None:
                    raise ValueError("%s:%d: a YAML fence without a '<!-- pyfleet-example: ... -->' marker"
                                     % (path, start - 1))
                if marker[0] != "run" and not marker[1]:
                    raise ValueError("%s:%d: 'pyfleet-example: %s' needs a reason" % (path, marker[2], marker[0]))
                examples.append(Example(path, start, marker[0], marker[1], "\n".join(body) + "\n"))
            marker = None
        elif line.strip():
            marker = None  # a marker applies to the fence right below it only
        index += 1
    return examples


def collect(rst_dir: str, markdown=()) -> list:
    """Every example of the guides in ``rst_dir`` and of the Markdown files ``markdown``."""
    examples = []
    for name in sorted(os.listdir(rst_dir)):
        if name.endswith(".rst"):
            examples.extend(extract(os.path.join(rst_dir, name)))
    for path in markdown:
        examples.extend(extract_markdown(path))
    return examples


class Tripwire:
    """A TCP listener on 127.0.0.1 that counts connections: the proxy that nothing may use."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.hits += 1
            conn.close()

    def env(self) -> dict:
        """Proxy variables that send anything not on loopback to the tripwire."""
        proxy = "http://127.0.0.1:%d" % self.port
        return {"http_proxy": proxy, "https_proxy": proxy, "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy,
                "ALL_PROXY": proxy, "all_proxy": proxy, "no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}

    def __enter__(self) -> "Tripwire":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self._thread.join(timeout=5)
        self.sock.close()


def as_plays(example: Example) -> list:
    """The example as a list of plays; a task list is wrapped in one play on all hosts."""
    import yaml  # pylint: disable=import-outside-toplevel

    data = yaml.safe_load(example.text)
    if not isinstance(data, list) or not data or not all(isinstance(item, dict) for item in data):
        raise ValueError("%s: neither plays nor tasks" % example.where)
    if all("hosts" in item or "import_playbook" in item for item in data):
        return data
    if any("hosts" in item for item in data):
        raise ValueError("%s: mixes plays and tasks" % example.where)
    return [{"name": "Example from %s" % example.where, "hosts": "all", "gather_facts": False, "tasks": data}]


def module_options(ansible_bin: str, env: dict) -> dict:
    """``{module FQCN: set of option names and aliases}`` from ansible-doc."""
    out = subprocess.run([os.path.join(ansible_bin, "ansible-doc"), "--json", "-t", "module"] + list(MODULES),
                         env=env, capture_output=True, text=True, check=True).stdout
    options = {}
    for name, doc in json.loads(out).items():
        opts = doc["doc"].get("options") or {}
        options[name] = set(opts) | {a for o in opts.values() for a in o.get("aliases") or []}
    return options


def _tasks(item: dict):
    """Every task below a play or block, blocks included."""
    for key in ("pre_tasks", "tasks", "post_tasks", "handlers", "block", "rescue", "always"):
        for task in item.get(key) or []:
            if isinstance(task, dict):
                yield task
                yield from _tasks(task)


def check_options(example: Example, plays: list, options: dict) -> list:
    """Options given to pyfleet.uv modules that the module does not document."""
    problems = []
    for play in plays:
        short = "pyfleet.uv" in (play.get("collections") or [])
        for task in _tasks(play):
            for key, args in task.items():
                name = key if key in options else ("pyfleet.uv." + key if short else None)
                if name not in options:
                    continue
                if args is None:
                    args = {}
                if not isinstance(args, dict):
                    problems.append("%s: %s takes its options as a mapping" % (example.where, key))
                    continue
                unknown = sorted(set(args) - options[name])
                if unknown:
                    problems.append("%s: %s has no option %s" % (example.where, key, ", ".join(unknown)))
    return problems


def runnable(example: Example, plays: list, subs: list, bindir: str, venv_index: str | None = None) -> list:
    """The plays of a ``run`` example, rewritten for the loopback servers (see the module docstring)."""
    import yaml  # pylint: disable=import-outside-toplevel

    text = yaml.safe_dump(plays, sort_keys=False, width=1000)
    for old, new in subs:
        text = text.replace(old, new)
    leaks = sorted(set(re.findall(r"https?://(?!127\.0\.0\.1[:/])[^\s'\"]+", text)))
    if leaks:
        raise ValueError("%s: a run example names URLs that are not served on loopback: %s (add a "
                         "substitution, or mark it 'syntax' with a reason)" % (example.where, ", ".join(leaks)))
    plays = yaml.safe_load(text)
    for play in plays:
        if "hosts" not in play:
            continue
        defaults = play.setdefault("module_defaults", {})
        for name in INSTALL_DIR_MODULES:
            defaults.setdefault(name, {}).setdefault("install_dir", bindir)
        # uv_config's default path is this machine's own /etc/uv/uv.toml: never in a test run.
        defaults.setdefault("pyfleet.uv.uv_config", {}).setdefault(
            "path", os.path.join(os.path.dirname(bindir), "etc-uv", "uv.toml"))
        # uv_python's Pythons never go to this machine's /opt/uv/python; its uv is the scratch one.
        python = defaults.setdefault("pyfleet.uv.uv_python", {})
        python.setdefault("install_dir", os.path.join(os.path.dirname(bindir), "opt-uv-python"))
        python.setdefault("uv_path", os.path.join(bindir, "uv"))
        # uv_venv: the same uv and Pythons; without index_url, the loopback package index (never this
        # machine's /etc/uv/uv.toml index or the public one).
        venv = defaults.setdefault("pyfleet.uv.uv_venv", {})
        venv.setdefault("uv_path", os.path.join(bindir, "uv"))
        venv.setdefault("python_install_dir", os.path.join(os.path.dirname(bindir), "opt-uv-python"))
        if venv_index:
            venv.setdefault("index_url", venv_index)
        # uv_tool: the same uv, Pythons and index; its tools under a scratch /opt/uv/tools, its executables in
        # the scratch bin (never this machine's /usr/local/bin), where uv_facts looks for them too.
        tool = defaults.setdefault("pyfleet.uv.uv_tool", {})
        for key in ("uv_path", "python_install_dir", "index_url"):
            if key in venv:
                tool.setdefault(key, venv[key])
        tool.setdefault("tool_dir", os.path.join(os.path.dirname(bindir), "opt-uv-tools"))
        tool.setdefault("bin_dir", bindir)
        defaults["pyfleet.uv.uv_facts"].setdefault("tool_dir", tool["tool_dir"])
    return plays


def uses(plays: list, module: str) -> bool:
    """Whether an example has a task of ``module`` (``uv_python``: by its FQCN or short name)."""
    return any(key in ("pyfleet.uv." + module, module) for play in plays for task in _tasks(play) for key in task)


def inventory(python: str) -> dict:
    host = {"ansible_connection": "local", "ansible_python_interpreter": python, "ansible_become": False}
    return {"all": {"hosts": {"localhost": host},
                    "children": {group: {"hosts": {"localhost": {}}} for group in GROUPS}}}


def playbook(ansible_bin: str, args: list, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([os.path.join(ansible_bin, "ansible-playbook")] + args, env=env,
                          capture_output=True, text=True, check=False)


def check_syntax(ansible_bin: str, inv_file: str, examples: list) -> list:
    """``ansible-playbook --syntax-check`` of the ``syntax`` examples ``[(example, path, env)]`` in one run;
    when it fails, each one alone, so that the failure names its example. Returns the failures."""
    if not examples:
        return []
    out = playbook(ansible_bin, ["--syntax-check", "-i", inv_file] + [path for _e, path, _env in examples], examples[0][2])
    failures = []
    for example, path, env in examples:
        if out.returncode:
            alone = playbook(ansible_bin, ["--syntax-check", "-i", inv_file, path], env)
            if alone.returncode:
                print("FAIL syntax  %s" % example.where, flush=True)
                failures.append("%s: ansible-playbook --syntax-check failed:\n%s" % (
                    example.where, (alone.stdout + alone.stderr)[-3000:]))
                continue
        print("ok   syntax  %s (%s)" % (example.where, example.reason), flush=True)
    return failures


def check(rst_dir: str, config: dict, markdown=()) -> int:
    """Check every example; print one line per example and the failures; return the number of failures."""
    import yaml  # pylint: disable=import-outside-toplevel

    examples = collect(rst_dir, markdown)
    if not examples:
        raise SystemExit("no YAML examples found in %s" % rst_dir)
    failures = []
    counts = {"run": 0, "run-once": 0, "syntax": 0, "yaml": 0}
    syntax = []
    with tempfile.TemporaryDirectory(prefix="uv-docs-examples-") as top, Tripwire() as tripwire:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
        base_env.update(tripwire.env())
        base_env.update({"ANSIBLE_COLLECTIONS_PATH": config["collections"], "ANSIBLE_NOCOLOR": "1",
                         "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_HOST_KEY_CHECKING": "False",
                         "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_LOCALHOST_WARNING": "False",
                         "ANSIBLE_DEPRECATION_WARNINGS": "False"})
        options = module_options(config["ansible_bin"], base_env)
        inv_file = os.path.join(top, "inventory.json")
        with open(inv_file, "w") as handle:
            json.dump(inventory(config["python"]), handle)
        extra = {"artifactory_user": config["index_username"], "vault_artifactory_password": config["index_password"]}
        extra_file = os.path.join(top, "extra.json")
        with open(extra_file, "w") as handle:
            json.dump(extra, handle)
        for number, example in enumerate(examples):
            started = time.time()
            counts[example.mode] += 1
            try:
                if example.mode == "yaml":
                    yaml.safe_load(example.text)
                    print("ok   yaml    %s (%s)" % (example.where, example.reason), flush=True)
                    continue
                plays = as_plays(example)
                failures.extend(check_options(example, plays, options))
                scratch = os.path.join(top, "example-%02d" % number)
                os.makedirs(scratch)
                env = dict(base_env, XDG_CACHE_HOME=os.path.join(scratch, "cache"),
                           XDG_CONFIG_HOME=os.path.join(scratch, "config"), HOME=os.path.join(scratch, "home"))
                os.makedirs(env["HOME"])
                if example.mode.startswith("run"):
                    plays = runnable(example, plays, substitutions(config, scratch), os.path.join(scratch, "bin"),
                                     config.get("venv_index"))
                    if config.get("uv") and any(uses(plays, m) for m in ("uv_python", "uv_venv", "uv_tool")) \
                            and not uses(plays, "uv_install"):
                        os.makedirs(os.path.join(scratch, "bin"), exist_ok=True)
                        shutil.copy(config["uv"], os.path.join(scratch, "bin", "uv"))
                path = os.path.join(scratch, "example.yml")
                with open(path, "w") as handle:
                    yaml.safe_dump(plays, handle, sort_keys=False, width=1000)
                if example.mode == "syntax":
                    # checked together below: one ansible-playbook for all of them (each start costs a second)
                    syntax.append((example, path, env))
                    continue
                # a run example is not syntax-checked first: its run fails, with the same message, when the syntax is wrong
                changed = []
                for attempt in ("first", "second")[:2 if example.mode == "run" else 1]:
                    out = playbook(config["ansible_bin"], ["-i", inv_file, path, "-e", "@" + extra_file], env)
                    recap = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+).*failed=(\d+)", out.stdout)
                    if out.returncode or not recap:
                        raise ValueError("%s: the %s run failed (exit %d):\n%s" % (
                            example.where, attempt, out.returncode, (out.stdout + out.stderr)[-4000:]))
                    changed.append(recap.group(2))
                    if attempt == "second" and recap.group(2) != "0":
                        raise ValueError("%s: the second run changed %s task(s):\n%s" % (
                            example.where, recap.group(2), out.stdout[-4000:]))
                print("ok   %-7s %s (%.1f s; changed=%s)"
                      % (example.mode, example.where, time.time() - started, " then ".join(changed)), flush=True)
            except (ValueError, yaml.YAMLError) as exc:
                print("FAIL %-7s %s" % (example.mode, example.where), flush=True)
                failures.append(str(exc))
        failures.extend(check_syntax(config["ansible_bin"], inv_file, syntax))
        if tripwire.hits:
            failures.append("%d connection(s) to the proxy tripwire: an example tried to reach the network"
                            % tripwire.hits)
    print("%d examples: %d run twice, %d run once, %d syntax-checked, %d parsed; %d failure(s)"
          % (len(examples), counts["run"], counts["run-once"], counts["syntax"], counts["yaml"], len(failures)))
    for failure in failures:
        print("\n" + failure)
    return len(failures)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    do_check = sub.add_parser("check", help="check every YAML example of the guides")
    do_check.add_argument("--rst", required=True, help="docs/docsite/rst of the collection")
    do_check.add_argument("--config", required=True, help="JSON file, see the module docstring")
    do_check.add_argument("--markdown", action="append", default=[], help="a Markdown file to check too (README.md)")
    do_list = sub.add_parser("list", help="list the examples and their markers")
    do_list.add_argument("--rst", required=True)
    do_list.add_argument("--markdown", action="append", default=[])
    args = parser.parse_args(argv)
    if args.command == "list":
        for example in collect(args.rst, args.markdown):
            print("%-7s %s %s" % (example.mode, example.where, example.reason))
        return 0
    with open(args.config) as handle:
        config = json.load(handle)
    return 1 if check(args.rst, config, args.markdown) else 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
