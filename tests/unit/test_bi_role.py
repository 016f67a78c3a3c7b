"""The read-only BI role's settings (soleflipper/bi/role.py): name, password, SCRAM verifier,
connection details. What the role may read is tested on a warehouse in
tests/integration/test_bi_warehouse.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import stat

import pytest

from pipelines.cli import main
from soleflipper.bi.role import (
    MART_SCHEMAS,
    BiConnection,
    bi_connection_details,
    bi_password,
    bi_role_name,
    password_file,
    scram_verifier,
    verifier_matches,
)
from soleflipper.settings import Settings


def test_scram_verifier_matches_the_rfc_7677_example_exchange():
    """The verifier's StoredKey/ServerKey must check the RFC's client proof and produce its server
    signature: the keys PostgreSQL uses when a client logs in with the password."""
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    verifier = scram_verifier("pencil", salt, 4096)
    assert verifier.startswith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$")
    stored_key, server_key = (base64.b64decode(part) for part in verifier.split("$")[2].split(":"))
    auth_message = (b"n=user,r=rOprNGfwEbeRWgbNEkqO,"
                    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
                    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
    proof = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    client_signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    client_key = bytes(a ^ b for a, b in zip(proof, client_signature, strict=True))
    assert hashlib.sha256(client_key).digest() == stored_key
    assert base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha256).digest()) == (
        b"6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    assert verifier_matches(verifier, "pencil") and not verifier_matches(verifier, "pencil2")
    assert not verifier_matches("md5abc", "pencil")
    assert scram_verifier("pencil") != scram_verifier("pencil")  # a new salt each time


def test_role_name_from_the_environment():
    assert bi_role_name({}) == "soleflipper_bi"
    assert bi_role_name({"SOLEFLIPPER_BI_ROLE": " metabase_reader "}) == "metabase_reader"
    assert bi_role_name({"SOLEFLIPPER_BI_ROLE": ""}) == "soleflipper_bi"


def test_password_from_the_environment_else_generated_once_into_a_0600_file(tmp_path):
    settings = Settings(home=tmp_path)
    assert bi_password(settings, {"SOLEFLIPPER_BI_PASSWORD": "from-env"}) == "from-env"
    assert not password_file(settings).exists()
    first = bi_password(settings, {})
    path = password_file(settings)
    assert path == tmp_path / "secrets" / "bi_password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 32 and path.read_text() == first + "\n"
    assert bi_password(settings, {}) == first  # kept
    path.write_text("")
    with pytest.raises(RuntimeError, match="bi_password is empty: delete it"):
        bi_password(settings, {})


def test_connection_details_use_the_warehouse_server_and_hide_the_password(tmp_path):
    settings = Settings(home=tmp_path, database_url="postgresql://owner:ownerpw@db.example:6543/warehouse")
    details = bi_connection_details(settings, {"SOLEFLIPPER_BI_ROLE": "bi", "SOLEFLIPPER_BI_PASSWORD": "p@ss/1"})
    assert details == BiConnection(host="db.example", port=6543, dbname="warehouse", user="bi", password="p@ss/1")
    assert "p@ss" not in repr(details)
    assert details.url() == "postgresql://bi:p%40ss%2F1@db.example:6543/warehouse"
    assert details.metabase_details() == {"host": "db.example", "port": 6543, "dbname": "warehouse", "user": "bi",
                                          "password": "p@ss/1", "ssl": False}


def test_db_url_bi_prints_the_read_only_url(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOLEFLIPPER_HOME", str(tmp_path))
    monkeypatch.setenv("SOLEFLIPPER_DATABASE_URL", "postgresql://owner@127.0.0.1:5432/wh")
    monkeypatch.setenv("SOLEFLIPPER_BI_PASSWORD", "s3cret")
    monkeypatch.delenv("SOLEFLIPPER_BI_ROLE", raising=False)
    assert main(["db-url", "--bi"]) == 0
    assert capsys.readouterr().out == "postgresql://soleflipper_bi:s3cret@127.0.0.1:5432/wh\n"


def test_dbt_grants_select_on_every_mart_and_seed_to_the_bi_role_and_nothing_else():
    from soleflipper.bi.dashboards import load_manifest

    grants = {}
    for node in load_manifest()["nodes"].values():
        if node["resource_type"] in ("model", "seed"):
            grants.setdefault(node["schema"], set()).add(repr(node["config"].get("grants")))
    assert grants == {
        "staging": {"{}"},
        **{schema: {"{'select': ['soleflipper_bi']}"} for schema in MART_SCHEMAS},
    }
