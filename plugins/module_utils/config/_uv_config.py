# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""uv.toml as data: key checks against uv's own table, credentials, redaction, rendering.

PRIVATE API: only for this collection's modules; names may change without notice.
Pure code: no I/O. The file on the host is read and written by ``_config_file``.
What in a URL is secret, and how it is masked, is the collection's one policy in
``_secrets``: user info of any shape (``user:password@``, ``TOKEN@``) up to the last
``@``, and query values.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import re

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import UvError
from ansible_collections.pyfleet.uv.plugins.module_utils._secrets import MASK, redact_text, url_secrets
from ansible_collections.pyfleet.uv.plugins.module_utils.config._toml import TomlError, dumps
from ansible_collections.pyfleet.uv.plugins.module_utils.config._uv_settings import (
    INDEX_KEYS,
    PROJECT_ONLY,
    SETTINGS,
    UV_VERSION,
)

__all__ = [
    "ConfigError",
    "HEADER",
    "MASK",
    "build_document",
    "credentials",
    "credentials_problem",
    "index_env_name",
    "redact",
    "render",
]

HEADER = [
    "Managed by pyfleet.uv.uv_config: changes made here are overwritten.",
    "uv reads this file as its system configuration (see 'uv --help' for --no-config).",
]
TYPE_NAMES = {
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "a dict (TOML table)",
}


class ConfigError(UvError):
    """The wanted configuration is not one uv would take, or not one this module writes."""


def _type_of(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _accepts(spec_types, actual):
    return actual in spec_types or (actual == "integer" and "number" in spec_types)


def suggest(name, candidates):
    """The nearest of ``candidates`` to ``name`` (``python_downloads`` -> ``python-downloads``)."""
    hyphenated = str(name).replace("_", "-").lower()
    if hyphenated in candidates and hyphenated != name:
        return hyphenated
    matches = difflib.get_close_matches(hyphenated, sorted(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _unknown(what, name, candidates):
    near = suggest(name, candidates)
    hint = "; did you mean %r?" % near if near else ""
    return "unknown %s %r%s (keys known to uv %s)" % (what, name, hint, UV_VERSION)


def _describe(value):
    text = redact_text(repr(value))
    return text if len(text) <= 60 else text[:57] + "..."


def check_value(path, value, spec, what="uv setting"):
    """Raise ``ConfigError`` if ``value`` does not fit ``spec`` (see ``_uv_settings``)."""
    if value is None:
        return
    actual = _type_of(value)
    types = spec.get("type") or []
    if types and not _accepts(types, actual):
        wanted = " or ".join(TYPE_NAMES.get(kind, kind) for kind in types)
        if "array" in types and spec.get("items", {}).get("type") == ["string"]:
            wanted = wanted.replace("a list", "a list of strings")
        raise ConfigError("%s %r must be %s, got %s %s" % (
            what, path, wanted, TYPE_NAMES.get(actual, actual), _describe(value)))
    if actual == "integer" and spec.get("minimum") is not None and value < spec["minimum"]:
        raise ConfigError("%s %r must be at least %d, got %d" % (what, path, spec["minimum"], value))
    if actual == "array" and spec.get("items"):
        for index, item in enumerate(value):
            check_value("%s[%d]" % (path, index), item, spec["items"], what)
    if actual == "object" and spec.get("keys") is not None:
        for key in value:
            if key not in spec["keys"]:
                raise ConfigError("%s: %s" % (path, _unknown("key", key, spec["keys"])))
            check_value("%s.%s" % (path, key), value[key], spec["keys"][key], what)


def _drop_none(value):
    if isinstance(value, dict):
        return dict((k, _drop_none(v)) for k, v in value.items() if v is not None)
    if isinstance(value, (list, tuple)):
        return [_drop_none(item) for item in value]
    return value


def build_document(settings, indexes):
    """The uv.toml document for ``settings`` and ``indexes``, checked against uv's table.

    Keys set to ``None`` are left out. Raises ``ConfigError`` naming the first unknown
    key (with the nearest valid one), wrong type, or key uv refuses in a uv.toml.
    """
    settings = settings or {}
    document = {}
    for key in sorted(settings):
        if key not in SETTINGS:
            raise ConfigError(_unknown("uv setting", key, [k for k in SETTINGS if k not in PROJECT_ONLY]))
        if key in PROJECT_ONLY:
            raise ConfigError("uv setting %r is not allowed in a uv.toml file: uv takes it only from a project's "
                              "pyproject.toml ([tool.uv])" % key)
        if key == "index" and indexes:
            raise ConfigError("give the indexes either as the indexes option or as settings.index, not both")
        check_value(key, settings[key], SETTINGS[key])
        if settings[key] is not None:
            document[key] = _drop_none(settings[key])
    for position, index in enumerate(indexes or []):
        label = "indexes[%d]" % position
        if not isinstance(index, dict):
            raise ConfigError("%s must be a dict with at least url, got %s" % (label, _describe(index)))
        for key in index:
            if key not in INDEX_KEYS:
                raise ConfigError("%s: %s" % (label, _unknown("index key", key, INDEX_KEYS)))
            check_value("%s.%s" % (label, key), index[key], INDEX_KEYS[key], what="index key")
        if not index.get("url"):
            raise ConfigError("%s has no url: every [[index]] needs one" % label)
    if indexes:
        document["index"] = [_drop_none(index) for index in indexes]
    return document


def render(document):
    """The whole file: the header, then ``document`` as TOML."""
    try:
        return dumps(document, header=HEADER)
    except TomlError as exc:
        raise ConfigError("cannot write %s as TOML: %s" % (exc.path, exc))


def _strings(value, path=""):
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key in sorted(value):
            yield from _strings(value[key], "%s.%s" % (path, key) if path else key)
    elif isinstance(value, (list, tuple)):
        for position, item in enumerate(value):
            yield from _strings(item, "%s[%d]" % (path, position))


def credentials(document):
    """``[(path, secret)]`` of every string in ``document`` that holds a URL secret.

    A secret is what ``_secrets.url_secrets`` finds: the user info of a URL of any shape
    (``https://user:password@host``, ``https://TOKEN@host``) and its query values.
    """
    found = []
    for path, text in _strings(document):
        secrets = url_secrets(text)
        if secrets:
            found.append((path, secrets[0]))
    return found


def index_env_name(name):
    """The ``UV_INDEX_<NAME>`` prefix uv reads credentials from (upper case, ``-``/``.`` as ``_``)."""
    return "UV_INDEX_%s" % re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def credentials_problem(document, mode):
    """``(error, warning)`` about credentials in the file at permission bits ``mode``.

    A URL with credentials (a password, a token as the user, a query token) in a
    world-readable file is an error. With mode 0600 or 0640 (nothing for others) it is a
    warning. No credentials: ``(None, None)``. Neither text holds a secret.
    """
    found = credentials(document)
    if not found:
        return None, None
    paths = ", ".join(path for path, _secret in found)
    names = []
    for index in document.get("index") or []:
        if index.get("name") and url_secrets(index.get("url") or ""):
            names.append(index_env_name(index["name"]))
    env = (" and ".join("%s_USERNAME/%s_PASSWORD" % (n, n) for n in names)
           if names else "UV_INDEX_<NAME>_USERNAME and UV_INDEX_<NAME>_PASSWORD (for an index named <name>)")
    alternatives = ("keep the credentials out of the file: uv reads %s from the environment, a .netrc file, "
                    "or a keyring (keyring-provider = \"subprocess\")" % env)
    if mode is None or mode & 0o007:
        shown = "%04o" % mode if mode is not None else "unknown"
        return ("a URL with credentials (%s) would be written to a file other users can read (mode %s); %s, "
                "or give the file mode 0600 or 0640" % (paths, shown, alternatives)), None
    return None, "the file holds credentials (%s), readable by its owner%s; %s" % (
        paths, " and group" if mode & 0o070 else "", alternatives)


def redact(value):
    """A copy of ``value`` with every URL's user info and query values masked (``_secrets.redact_text``)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return dict((key, redact(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return copy.copy(value)
