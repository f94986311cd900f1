"""Environment variables are read in one place, and a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxgate.config import Paths, chunk_size, resolve_workdir
from taxgate.errors import ConfigError
from taxgate.settings import ServiceSettings, load_settings
from tests.conftest import taxgate


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TAXGATE_CHUNK_SIZE", "abc"),
        ("TAXGATE_CHUNK_SIZE", "0"),
        ("TAXGATE_CHUNK_SIZE", "2.5"),
        ("TAXGATE_SERVICE_RATE_BURST", "lots"),
        ("TAXGATE_SERVICE_MAX_ATTEMPTS", "-1"),
        ("TAXGATE_SERVICE_WORKER", "maybe"),
        ("TAXGATE_SPARK_MASTER", "http://evil.example/;rm"),
        ("TAXGATE_SPARK_MASTER", "local[two]"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as e:
        load_settings()
    assert f"`{name}`" in str(e.value) and value not in str(e.value).split("`")[2]


def test_values_apply_and_blanks_keep_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAXGATE_CHUNK_SIZE", "17")
    monkeypatch.setenv("TAXGATE_SERVICE_WORKER", "no")
    monkeypatch.setenv("TAXGATE_SERVICE_RATE_BURST", "")
    monkeypatch.setenv("TAXGATE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TAXGATE_DATABASE_URL", "sqlite:///elsewhere.sqlite")
    assert chunk_size() == 17
    svc = ServiceSettings.from_env()
    assert svc.worker is False and svc.rate_burst == ServiceSettings().rate_burst
    assert resolve_workdir(None) == (tmp_path / "home").resolve()
    assert Paths(tmp_path).database_url == "sqlite:///elsewhere.sqlite"
    monkeypatch.delenv("TAXGATE_DATABASE_URL")
    assert Paths(tmp_path).database_url == f"sqlite:///{tmp_path / 'taxgate.sqlite'}"


def test_the_command_line_refuses_a_bad_chunk_size(tmp_path: Path) -> None:
    env = {"TAXGATE_CHUNK_SIZE": "abc", "COLUMNS": "200"}
    got = taxgate("audit", "verify", "--workdir", tmp_path, check=False, env=env)
    assert got.returncode == 1 and "`TAXGATE_CHUNK_SIZE`" in got.stderr


@pytest.mark.parametrize(
    "url",
    ["local", "local[2]", "local[*]", "spark://10.0.0.5:7077", "yarn", "k8s://https://k:6443"],
)
def test_spark_master_accepts_master_urls(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("TAXGATE_SPARK_MASTER", url)
    assert load_settings().spark_master == url
