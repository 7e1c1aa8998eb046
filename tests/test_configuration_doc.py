"""docs/configuration.md lists every setting exactly as personsvc.config.OPTIONS defines it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from personsvc.config import OPTIONS, Option

ROOT = Path(__file__).resolve().parent.parent
DOC_NAME = "docs/configuration.md"
DOC = ROOT / DOC_NAME
COLUMNS = ("config-file key", "flag", "environment variable", "default", "unit", "meaning")
# A settings row starts with its config-file key in backticks: | `port` | ...
ROW_KEY = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|")


def read_rows() -> list[list[str]]:
    """Return the cells of every table row whose first cell is a key in backticks, in file order."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not ROW_KEY.match(line):
            continue
        # Split on | but not on \|, which Markdown shows as a literal bar.
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip("|"))]
        rows.append(cells)
    return rows


def rows_by_key() -> dict[str, list[str]]:
    return {cells[0].strip("`"): cells for cells in read_rows()}


def expected_cells(option: Option) -> dict[str, str]:
    default = "unset" if option.default in (None, ()) else f"`{option.default}`"
    return {
        "config-file key": f"`{option.name}`",
        "flag": f"`{option.flag}`",
        "environment variable": f"`{option.env_var}`",
        "default": default,
    }


def expected_row(option: Option) -> str:
    cells = expected_cells(option)
    return "| " + " | ".join([*cells.values(), "UNIT", "MEANING"]) + " |"


def test_doc_has_no_duplicate_rows():
    keys = [cells[0] for cells in read_rows()]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicated, f"{DOC_NAME} has more than one row for {duplicated}; keep one row per setting"


def test_doc_has_no_extra_rows():
    extra = sorted(set(rows_by_key()) - {option.name for option in OPTIONS})
    assert not extra, (
        f"{DOC_NAME} has rows for {extra}, which are not in personsvc.config.OPTIONS; "
        "remove those rows or correct their config-file key"
    )


def test_doc_rows_follow_option_order():
    documented = [key for key in rows_by_key() if key in {option.name for option in OPTIONS}]
    expected = [option.name for option in OPTIONS if option.name in documented]
    assert documented == expected, f"order the rows of {DOC_NAME} as OPTIONS and --help do: {expected}"


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.name)
def test_doc_row_matches_option(option):
    rows = rows_by_key()
    assert option.name in rows, f"{DOC_NAME} has no row for {option.name}; add one to the table: {expected_row(option)}"

    cells = rows[option.name]
    assert len(cells) == len(COLUMNS), (
        f"{DOC_NAME}, row {option.name}: expected {len(COLUMNS)} cells ({', '.join(COLUMNS)}), got {len(cells)}"
    )

    documented = dict(zip(COLUMNS, cells))
    for column, expected in expected_cells(option).items():
        assert documented[column] == expected, (
            f"{DOC_NAME}, row {option.name}: the {column} cell is {documented[column]!r}, "
            f"but OPTIONS gives {expected!r}; change the cell to {expected}"
        )
    assert documented["unit"], f"{DOC_NAME}, row {option.name}: the unit cell is empty"
    assert documented["meaning"], f"{DOC_NAME}, row {option.name}: the meaning cell is empty"
