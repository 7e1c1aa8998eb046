"""Settings, read from one place.

Each setting comes from the first of these that sets it: the command line,
an environment variable ``PERSONSVC_<NAME>``, a key in the TOML config file,
the default below.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_FILE = Path("config/personsvc.toml")
ENV_PREFIX = "PERSONSVC_"


class ConfigError(ValueError):
    """A setting has an invalid value; the message names the setting and its source."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"must be 0 or more, got {value}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(f"must be a TCP port from 0 to 65535, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"must be greater than 0, got {value}")
    return value


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {text!r}")
        return text

    return parse


def _optional_str(text: str) -> str | None:
    return text or None


TOKEN_PATTERN = re.compile(r"[\x21-\x2b\x2d-\x7e]{16,256}")


def _tokens(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of bearer tokens; the error never repeats a token."""
    tokens = tuple(token.strip() for token in text.split(",") if token.strip())
    for position, token in enumerate(tokens, start=1):
        if not TOKEN_PATTERN.fullmatch(token):
            raise ValueError(
                f"token {position} of {len(tokens)} is invalid: a token is 16 to 256 visible ASCII characters "
                "without commas (for example from: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
    return tokens


@dataclasses.dataclass(frozen=True)
class Option:
    """One setting: its name, parser, default and help text (with the unit)."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    metavar: str = ""

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env_var(self) -> str:
        return ENV_PREFIX + self.name.upper()


OPTIONS: tuple[Option, ...] = (
    Option(
        "api_tokens",
        _tokens,
        (),
        "comma-separated bearer tokens with full access; when any token is set, "
        "every request but /healthz, /readyz, /docs and /openapi.json needs one",
        "TOKENS",
    ),
    Option(
        "read_only_tokens",
        _tokens,
        (),
        "comma-separated bearer tokens that may only read (GET, HEAD and OPTIONS)",
        "TOKENS",
    ),
    Option(
        "api_tokens_file",
        _optional_str,
        None,
        "file of bearer tokens, one per line; a line 'read-only TOKEN' adds a read-only token, '#' starts a comment",
        "FILE",
    ),
    Option("host", str, "127.0.0.1", "address to listen on", "ADDRESS"),
    Option("port", _port, 8080, "TCP port to listen on (0 picks a free port)", "PORT"),
    Option(
        "processes",
        _non_negative_int,
        1,
        "number of server processes sharing the port; 0 starts one per CPU core",
        "COUNT",
    ),
    Option(
        "redis_url",
        _optional_str,
        None,
        "URL of an existing Redis, such as redis://localhost:6379/0; "
        "when unset, an embedded redis-server is started",
        "URL",
    ),
    Option(
        "data_dir",
        str,
        "./var",
        "directory for the embedded Redis's append-only file and log",
        "DIR",
    ),
    Option(
        "redis_fsync",
        _choice("always", "everysec", "no"),
        "everysec",
        "appendfsync policy of the embedded Redis: always, everysec or no",
        "POLICY",
    ),
    Option(
        "redis_timeout",
        _positive_float,
        1.0,
        "seconds to wait for Redis to connect or reply before answering 503",
        "SECONDS",
    ),
    Option(
        "max_body_size",
        _positive_int,
        16 * 1024 * 1024,
        "largest accepted request body, in bytes",
        "BYTES",
    ),
    Option(
        "max_header_size",
        _positive_int,
        65536,
        "largest request line plus headers, in bytes; larger is a 431",
        "BYTES",
    ),
    Option(
        "max_connections",
        _positive_int,
        1000,
        "maximum number of open client connections per process; more get a 503",
        "COUNT",
    ),
    Option(
        "idle_timeout",
        _positive_float,
        60.0,
        "seconds a connection may wait for its next request's headers before it is closed",
        "SECONDS",
    ),
    Option(
        "body_timeout",
        _positive_float,
        60.0,
        "seconds a request body may take to arrive before the connection is closed",
        "SECONDS",
    ),
    Option(
        "max_bulk_size",
        _positive_int,
        10_000,
        "maximum number of persons in one bulk create (a JSON array); more is a 413",
        "COUNT",
    ),
    Option(
        "stream_batch_size",
        _positive_int,
        500,
        "persons fetched from Redis per round trip while streaming read-all",
        "COUNT",
    ),
    Option(
        "shutdown_timeout",
        _positive_float,
        10.0,
        "seconds that in-flight requests may take to finish after SIGTERM",
        "SECONDS",
    ),
    Option(
        "log_format",
        _choice("text", "json"),
        "text",
        "format of log lines: text (readable) or json (one object per line)",
        "FORMAT",
    ),
    Option(
        "log_level",
        _choice("debug", "info", "warning", "error"),
        "info",
        "lowest level of log lines written to standard error",
        "LEVEL",
    ),
)

OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}
# Settings whose values never appear in messages.
SECRET_OPTIONS = frozenset({"api_tokens", "read_only_tokens"})


@dataclasses.dataclass(frozen=True)
class Settings:
    api_tokens: tuple[str, ...] = ()
    read_only_tokens: tuple[str, ...] = ()
    api_tokens_file: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    processes: int = 1
    redis_url: str | None = None
    data_dir: str = "./var"
    redis_fsync: str = "everysec"
    redis_timeout: float = 1.0
    max_body_size: int = 16 * 1024 * 1024
    max_header_size: int = 65536
    max_connections: int = 1000
    idle_timeout: float = 60.0
    body_timeout: float = 60.0
    max_bulk_size: int = 10_000
    stream_batch_size: int = 500
    shutdown_timeout: float = 10.0
    log_format: str = "text"
    log_level: str = "info"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        # Keep tokens out of tracebacks and debug output.
        shown = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        for name in ("api_tokens", "read_only_tokens"):
            shown[name] = f"<{len(shown[name])} tokens>"
        return "Settings(" + ", ".join(f"{name}={value!r}" for name, value in shown.items()) + ")"


def read_token_file(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (full-access tokens, read-only tokens) from a token file."""
    full: list[str] = []
    read_only: list[str] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the token file {path}: {error.__class__.__name__}") from None
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        kind, _, rest = line.partition(" ")
        target, token = (read_only, rest.strip()) if kind == "read-only" else (full, line)
        try:
            target += _tokens(token)
        except ValueError:
            raise ConfigError(
                f"{path}, line {number}: invalid token; a token is 16 to 256 visible ASCII characters without commas"
            ) from None
    return tuple(full), tuple(read_only)


def _parse_value(option: Option, raw: Any, source: str) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        shown = "a value of another type" if option.name in SECRET_OPTIONS else repr(raw)
        raise ConfigError(f"{source}: {option.name} must be a string or number, got {shown}")
    try:
        return option.parse(str(raw))
    except ValueError as error:
        raise ConfigError(f"{source}: invalid value for {option.name}: {error}") from None


def read_config_file(path: Path) -> dict[str, Any]:
    """Read the ``[personsvc]`` table of a TOML file, rejecting unknown keys."""
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    stray = sorted(set(document) - {"personsvc"})
    if stray:
        raise ConfigError(f"{path}: unknown top-level key(s) {', '.join(stray)}; put settings under [personsvc]")
    table = document.get("personsvc", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [personsvc] must be a table")
    unknown = sorted(set(table) - set(OPTIONS_BY_NAME))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; "
            f"known settings are {', '.join(OPTIONS_BY_NAME)}"
        )
    return {name: _parse_value(OPTIONS_BY_NAME[name], raw, str(path)) for name, raw in table.items()}


def add_setting_arguments(parser: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
    """Add --config and one flag per setting (or per setting in ``names``); each flag defaults to None (unset)."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help=f"TOML config file (env PERSONSVC_CONFIG; default: {DEFAULT_CONFIG_FILE} if it exists)",
    )
    for option in OPTIONS:
        if names is not None and option.name not in names:
            continue
        default = "unset" if option.default in (None, ()) else option.default
        aliases = ["--api-token"] if option.name == "api_tokens" else []
        parser.add_argument(
            option.flag,
            *aliases,
            dest=option.name,
            metavar=option.metavar or None,
            default=None,
            help=f"{option.help} (env {option.env_var}; default: {default})",
        )


def build_parser(prog: str = "run.py") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Serve versioned person records from Redis over HTTP.",
        epilog=(
            "Each option can also be set as an environment variable PERSONSVC_<NAME> "
            "(for example PERSONSVC_REDIS_URL) or as a key under [personsvc] in the "
            "config file. The command line wins over the environment, which wins over "
            "the file."
        ),
    )
    add_setting_arguments(parser)
    return parser


def settings_from_arguments(arguments: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """Merge defaults, the config file, the environment and parsed flags into Settings.

    Raises ConfigError for a bad value, naming the setting and where it came from.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {option.name: option.default for option in OPTIONS}

    config_path = arguments.config or environ.get(ENV_PREFIX + "CONFIG")
    if config_path:
        path = Path(config_path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        values.update(read_config_file(path))
    elif DEFAULT_CONFIG_FILE.is_file():
        values.update(read_config_file(DEFAULT_CONFIG_FILE))

    known = {option.env_var for option in OPTIONS} | {ENV_PREFIX + "CONFIG"}
    unknown = sorted(name for name in environ if name.startswith(ENV_PREFIX) and name not in known)
    if unknown:
        raise ConfigError(f"unknown environment variable(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for option in OPTIONS:
        if option.env_var in environ:
            values[option.name] = _parse_value(option, environ[option.env_var], option.env_var)

    for option in OPTIONS:
        raw = getattr(arguments, option.name, None)
        if raw is not None:
            values[option.name] = _parse_value(option, raw, option.flag)

    if values["api_tokens_file"]:
        full, read_only = read_token_file(Path(values["api_tokens_file"]))
        values["api_tokens"] = tuple(values["api_tokens"]) + full
        values["read_only_tokens"] = tuple(values["read_only_tokens"]) + read_only
    return Settings(**values)


def load_settings(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    prog: str = "run.py",
) -> Settings:
    """Parse ``argv`` as run.py's command line and return the merged Settings.

    Raises ConfigError for a bad value, or SystemExit from argparse for bad flags.
    """
    arguments = build_parser(prog).parse_args(argv)
    return settings_from_arguments(arguments, environ)
