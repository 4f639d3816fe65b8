"""docs/reproduction.md: every command in it names a real task, a model registered for the task's
family, and dataset parameters the task's dataset accepts; every row of its table has a
"published" cell, every result number in that cell carries its citation (a table number or a
file and line) in the same clause, and a cell without a number says why (issue 14, part 5)."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from musebench.datasets import DATASETS
from musebench.models import MODELS
from musebench.tasks import get_task

DOC = Path(__file__).parents[1] / "docs" / "reproduction.md"
COMMANDS = re.findall(r"`(musebench run [^`]+)`", DOC.read_text())

# A result number: a decimal (0.9455, 94.19, .79) or a percentage (42.8 %, 54%).
NUMBER = re.compile(r"(?<![\w.])(?:\d+\.\d+|\.\d+|\d+(?:\.\d+)?\s?%)(?![\w.])")
# Decimals that are identifiers, not results: arXiv ids (2111.03017) and versions (2.0.1).
NOT_A_RESULT = re.compile(r"\b\d{4}\.\d{4,5}(?:v\d+)?\b|\b\d+(?:\.\d+){2,}\b")
# A citation: "Table 2", "Tables 2 and 3", "line 131", "lines 9–13", "README.md:131".
CITATION = re.compile(r"\bTables? \d+|\blines? \d+|\b[\w./-]+\.\w+:\d+")
# What a cell without a number must say instead.
NO_NUMBER_REASON = re.compile(r"\bnot (?:published|found)\b", re.IGNORECASE)


def _table_rows() -> tuple[list[str], list[list[str]]]:
    """The header and the body rows of the table under "## The table"."""
    section = DOC.read_text().split("## The table", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if line.strip().startswith("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    header, body = cells[0], [row for row in cells[2:]]
    return header, body


HEADER, ROWS = _table_rows()


def _column(name: str) -> int:
    return HEADER.index(name)


def _results(text: str) -> list[str]:
    return NUMBER.findall(NOT_A_RESULT.sub(" ", text))


def test_the_doc_has_commands():
    assert len(COMMANDS) >= 12


@pytest.mark.parametrize("command", COMMANDS)
def test_command_names_a_real_task_model_and_dataset_parameters(command):
    argv = shlex.split(command)[2:]
    opts: dict[str, list[str]] = {}
    for flag, value in zip(argv[::2], argv[1::2]):
        opts.setdefault(flag, []).append(value)
    task = get_task(opts["--task"][0])
    model = opts["--model"][0]
    assert model in MODELS[task.family], f"{command}: no {task.family} model {model!r}"
    dataset_cls = DATASETS.get(task.dataset)
    for pair in opts.get("--dataset-param", []):
        key, value = pair.split("=", 1)
        choices = getattr(dataset_cls, "param_choices", {})
        assert key in getattr(dataset_cls, "default_params", {}), f"{command}: {task.dataset} has no parameter {key}"
        if key in choices:
            assert any(str(c).lower() == value.lower() for c in choices[key]), f"{command}: {key}={value}"
    if model == "predictions":
        assert "--param" in opts and any(p.startswith("path=") for p in opts["--param"])


def test_the_table_has_the_columns_and_rows():
    assert "published" in HEADER and "ours" in HEADER
    assert len(ROWS) >= 13
    for row in ROWS:
        assert len(row) == len(HEADER), f"row with {len(row)} cells, header has {len(HEADER)}: {row[0]}"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row[0][:40])
def test_every_published_number_is_cited(row):
    cell = row[_column("published")]
    assert cell, f"{row[0]}: empty published cell"
    assert cell.lower() not in {"see the paper", "see the papers"}, f"{row[0]}: published cell names no number"
    if not _results(cell):
        assert NO_NUMBER_REASON.search(cell), f"{row[0]}: no number and no reason: {cell!r}"
    for clause in cell.split(";"):
        if _results(clause):
            assert CITATION.search(clause), f"{row[0]}: uncited number(s) {_results(clause)} in {clause.strip()!r}"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row[0][:40])
def test_every_ours_cell_says_something(row):
    assert row[_column("ours")], f"{row[0]}: empty ours cell"


@pytest.mark.parametrize("clause, cited", [
    ("Onset F1 0.9455 (MT3 paper, Table 2)", True),
    ("Note Onset F1 0.9832 (README.md line 131)", True),
    ("Fno 95.2 (see the paper)", False),
    ("Acc 42.8 % in the text", False),
    ("arXiv 2404.09466: not found", None),
    ("transkun 2.0.1, ISMIR 2024", None),
])
def test_the_citation_rule_itself(clause, cited):
    if cited is None:
        assert not _results(clause)
    else:
        assert _results(clause)
        assert bool(CITATION.search(clause)) is cited
