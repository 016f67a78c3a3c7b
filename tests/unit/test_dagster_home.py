"""DAGSTER_HOME links the committed dagster.yaml: one instance config, no hidden copy."""

from __future__ import annotations

import dataclasses
import os

from pipelines.cli import prepare_environment
from soleflipper.settings import PROJECT_ROOT, load_settings


def test_dagster_home_links_the_committed_instance_config(tmp_path, monkeypatch):
    for name in ("DAGSTER_HOME", "SOLEFLIPPER_DAGSTER_STORAGE_URL", "PATH"):  # restored afterwards
        monkeypatch.setenv(name, os.environ.get(name, ""))
    settings = dataclasses.replace(load_settings(), home=tmp_path)
    old_copy = tmp_path / "dagster_home" / "dagster.yaml"
    old_copy.parent.mkdir(parents=True)
    old_copy.write_text("storage: {}\n")  # a copy left by an older version is replaced
    for _ in range(2):  # and a second call keeps the link
        prepare_environment(settings, start_database=False)
        link = tmp_path / "dagster_home" / "dagster.yaml"
        assert link.is_symlink() and link.resolve() == (PROJECT_ROOT / "dagster.yaml").resolve()
        assert os.environ["DAGSTER_HOME"] == str(tmp_path / "dagster_home")
