# -*- coding: utf-8 -*-
# Copyright (c) pyfleet.uv contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_toml_read: the one TOML reader of the host side (uv_facts and uv_tool read uv's receipts with it)."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.pyfleet.uv.plugins.module_utils import _toml_read
from ansible_collections.pyfleet.uv.plugins.module_utils.environments import _uv_tool

sys.path.insert(0, os.path.dirname(__file__))
from test__uv_tool import RECEIPT_0138, RECEIPT_MORE  # noqa: E402  pylint: disable=wrong-import-position


@pytest.mark.parametrize("text", [RECEIPT_0138, RECEIPT_MORE], ids=["uv-0.13.8", "more"])
def test_the_reader_of_uv_tool_too(text):
    assert _uv_tool.parse_toml is _toml_read.parse_toml
    data = _toml_read.parse_toml(text)
    assert isinstance(data["tool"]["requirements"], list) and data["tool"]["requirements"]


@pytest.mark.parametrize("text", ["[tool\n", "a = \n", 'a = "open\n', "a = 1 b\n"])
def test_broken_names_the_line(text):
    with pytest.raises(ValueError, match="on line [12]"):
        _toml_read.parse_toml(text)
