"""Settings: defaults < config file < environment < command line."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from personsvc.config import OPTIONS, ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "personsvc.toml"
    path.write_text('[personsvc]\nport = 9001\nhost = "0.0.0.0"\ndata_dir = "/srv/persons"\n')
    return path


def test_defaults_match_option_table():
    fields = {field.name: field.default for field in dataclasses.fields(Settings)}
    assert fields == {option.name: option.default for option in OPTIONS}


def test_defaults_without_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings([], environ={}) == Settings()


def test_config_file_overrides_defaults(config_file):
    settings = load_settings(["--config", str(config_file)], environ={})
    assert settings.port == 9001
    assert settings.host == "0.0.0.0"
    assert settings.redis_fsync == "everysec"


def test_environment_overrides_config_file(config_file):
    environ = {"PERSONSVC_PORT": "9002", "PERSONSVC_CONFIG": str(config_file)}
    settings = load_settings([], environ=environ)
    assert settings.port == 9002
    assert settings.data_dir == "/srv/persons"


def test_command_line_overrides_environment(config_file):
    environ = {"PERSONSVC_PORT": "9002", "PERSONSVC_REDIS_URL": "redis://a:6379/0"}
    settings = load_settings(["--config", str(config_file), "--port", "9003"], environ=environ)
    assert settings.port == 9003
    assert settings.redis_url == "redis://a:6379/0"


def test_default_config_file_is_read_from_working_directory(tmp_path, monkeypatch):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "personsvc.toml").write_text("[personsvc]\nport = 9100\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings([], environ={}).port == 9100


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--port", "70000"], {}, "--port"),
        (["--port", "eighty"], {}, "--port"),
        ([], {"PERSONSVC_REDIS_FSYNC": "sometimes"}, "PERSONSVC_REDIS_FSYNC"),
        ([], {"PERSONSVC_REDIS_TIMEOUT": "0"}, "PERSONSVC_REDIS_TIMEOUT"),
        ([], {"PERSONSVC_MAX_BODY_SIZE": "-5"}, "PERSONSVC_MAX_BODY_SIZE"),
        (["--config", "/nonexistent.toml"], {}, "does not exist"),
    ],
)
def test_invalid_setting_names_its_source(argv, environ, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(argv, environ=environ)


def test_unknown_config_key_is_rejected(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[personsvc]\nprot = 1\n")
    with pytest.raises(ConfigError, match="unknown setting.*prot"):
        load_settings(["--config", str(path)], environ={})


def test_invalid_toml_is_rejected(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[personsvc\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(["--config", str(path)], environ={})


def test_help_lists_every_setting_with_default():
    result = subprocess.run([sys.executable, "run.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for option in OPTIONS:
        assert option.flag in text
        assert option.env_var in text
        default = "unset" if option.default in (None, ()) else option.default
        assert f"default: {default})" in text


def test_bad_setting_exits_with_message():
    result = subprocess.run([sys.executable, "run.py", "--port", "x"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid value for port" in result.stderr
    assert "Traceback" not in result.stderr
