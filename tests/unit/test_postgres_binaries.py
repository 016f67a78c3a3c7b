"""Which PostgreSQL binaries the local cluster runs: bundled first, then a system install."""

from __future__ import annotations

from pathlib import Path

import pytest

from resources import postgres


def _fake_install(root: Path) -> Path:
    root.mkdir(parents=True)
    for name in ("pg_ctl", "initdb"):
        (root / name).write_text("")
    return root


def test_bundled_binaries_win_when_they_have_the_version(monkeypatch, tmp_path):
    bundled = _fake_install(tmp_path / "bundled16")
    monkeypatch.setattr(postgres, "_bundled_bin_dirs", lambda: {16: bundled})
    monkeypatch.setattr(postgres, "_system_bin_dirs", lambda: {16: _fake_install(tmp_path / "sys16")})
    assert postgres._bin_dir(16) == bundled


def test_falls_back_to_a_system_install_when_nothing_is_bundled(monkeypatch, tmp_path):
    system15 = _fake_install(tmp_path / "sys15")
    monkeypatch.setattr(postgres, "_bundled_bin_dirs", dict)
    monkeypatch.setattr(postgres, "_system_bin_dirs", lambda: {15: system15})
    # asked for 16, only a system 15 exists: use it (15 is supported) rather than fail
    assert postgres._bin_dir(16) == system15


def test_no_binaries_anywhere_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(postgres, "_bundled_bin_dirs", dict)
    monkeypatch.setattr(postgres, "_system_bin_dirs", dict)
    with pytest.raises(ValueError, match="SOLEFLIPPER_DATABASE_URL"):
        postgres._bin_dir(16)


def test_system_installs_older_than_15_are_not_used(monkeypatch, tmp_path):
    monkeypatch.setattr(postgres, "_bundled_bin_dirs", dict)
    monkeypatch.setattr(postgres, "_system_bin_dirs", lambda: {13: _fake_install(tmp_path / "sys13")})
    with pytest.raises(ValueError):
        postgres._bin_dir(16)
