"""files: an atomic write either replaces the file whole or leaves the old one."""

from __future__ import annotations

import pytest

from pipeline.core.files import replaced_atomically, write_atomic


def test_write_replaces_the_file_and_leaves_no_temporary_behind(tmp_path):
    target = tmp_path / "deep" / "digest.md"
    write_atomic(target, "first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["digest.md"]


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path):
    target = write_atomic(tmp_path / "feed.xml", "old")
    with pytest.raises(RuntimeError), replaced_atomically(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer crashed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["feed.xml"]
