"""DAGSTER_HOME is the checkout holding the committed dagster.yaml: one instance config, and no
copy or link of it under the git-ignored .soleflipper/."""

from __future__ import annotations

import dataclasses
import os

import yaml

from pipelines.cli import prepare_environment
from soleflipper.settings import PROJECT_ROOT, load_settings


def test_dagster_home_is_the_checkout_and_local_storage_goes_under_the_state_folder(tmp_path, monkeypatch):
    for name in ("DAGSTER_HOME", "SOLEFLIPPER_DAGSTER_STORAGE_URL", "SOLEFLIPPER_DAGSTER_STORAGE_DIR", "PATH"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # restored afterwards
    settings = dataclasses.replace(load_settings(), home=tmp_path)
    old_copy = tmp_path / "dagster_home" / "dagster.yaml"
    old_copy.parent.mkdir(parents=True)
    old_copy.write_text("storage: {}\n")  # a copy (or link) left by an older version is removed
    for _ in range(2):
        prepare_environment(settings, start_database=False)
        assert os.environ["DAGSTER_HOME"] == str(PROJECT_ROOT)
        assert os.environ["SOLEFLIPPER_DAGSTER_STORAGE_DIR"] == str(tmp_path / "dagster_home")
        assert not old_copy.exists() and not old_copy.is_symlink()
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    for section in ("local_artifact_storage", "compute_logs"):
        assert config[section]["config"]["base_dir"] == {"env": "SOLEFLIPPER_DAGSTER_STORAGE_DIR"}
