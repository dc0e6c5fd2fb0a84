# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils._errors import MirrorError
from ansible_collections.pyfleet.uv.plugins.module_utils.version_options import (
    check_version_option,
    is_specifier,
    version_key,
)


def test_version_key():
    assert version_key("0.13.10") > version_key("0.13.9") > version_key("0.2.0")
    assert version_key("0.14.0a1") is None


@pytest.mark.parametrize("value", ["latest", "0.13.8", " 0.13.8 "])
def test_check_version_option_accepts(value):
    assert check_version_option(value) == value.strip()


@pytest.mark.parametrize("value", [">=0.13,<0.14", "~=0.13.0", "==0.13.*"])
def test_specifiers_are_for_the_controller(value):
    assert is_specifier(value)
    assert check_version_option(value, allow_specifier=True) == value
    with pytest.raises(MirrorError, match="resolves those on the controller"):
        check_version_option(value)


@pytest.mark.parametrize("value, fragment", [("v0.13.8", "without the leading 'v'"), ("0.13", "X.Y.Z"),
                                             ("newest", "X.Y.Z"), (">=", "X.Y.Z")])
def test_check_version_option_rejects(value, fragment):
    with pytest.raises(MirrorError, match=fragment):
        check_version_option(value, allow_specifier=True)
