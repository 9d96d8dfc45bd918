"""Reading a CSV pack: Arrow's fast reader and pandas' reader give the same text columns, and
anything Arrow refuses is read (or refused with a line number) by pandas."""

from __future__ import annotations

import pytest

from api.orchestrator.submission import parse
from api.orchestrator.submission.fields import ASSET_FIELDS
from api.orchestrator.submission.problems import ProblemCollector

HEADER = ",".join(ASSET_FIELDS)
ROWS = [
    'L-1,B-1,100000,90000,650,36,2024-01-15,2027-01-15,C-1;C-2,manufacturing,east',
    '"L,2","B ""quoted""",5,0,0,1,2024-02-01,2024-03-01,,"retail, online",west',
    'L-3,Bé-ünïcode,7,7,1,12,2024-03-01,2025-03-01,"C-9",logistics,"multi\nline"',
]


def read(path, monkeypatch, *, arrow: bool):
    if not arrow:
        monkeypatch.setattr(parse, "_arrow_columns", lambda *_args: None)
    problems = ProblemCollector(10)
    columns, count = parse.read_csv(path, problems, 1_000)
    return columns, count, problems


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["plain", "bom"])
def test_arrow_and_pandas_read_the_same_columns(tmp_path, monkeypatch, newline, bom):
    path = tmp_path / "pack.csv"
    path.write_text(bom + newline.join([HEADER, *ROWS]) + newline, encoding="utf-8", newline="")
    calls = []
    real = parse._arrow_columns
    monkeypatch.setattr(parse, "_arrow_columns", lambda *args: calls.append(1) or real(*args))

    fast, fast_count, fast_problems = read(path, monkeypatch, arrow=True)
    assert calls == [1] and fast is not None
    slow, slow_count, slow_problems = read(path, monkeypatch, arrow=False)

    assert fast_count == slow_count == 3 and not fast_problems and not slow_problems
    assert {name: values.to_pylist() for name, values in fast.items()} == {n: v.to_pylist() for n, v in slow.items()}
    assert fast["loan_id"].to_pylist() == ["L-1", "L,2", "L-3"]
    assert fast["borrower_id"][1].as_py() == 'B "quoted"' and fast["region"][2].as_py() == "multi\nline"


def test_a_row_arrow_refuses_is_read_by_pandas_which_names_the_line(tmp_path):
    path = tmp_path / "pack.csv"
    path.write_text("\n".join([HEADER, ROWS[0], ROWS[0] + ",one,too,many"]) + "\n", encoding="utf-8")
    assert parse._arrow_columns(path, list(ASSET_FIELDS), 1_000) is None
    problems = ProblemCollector(10)
    _, count = parse.read_csv(path, problems, 1_000)
    assert count == 0 and problems
    refusal = problems.refusal("csv", line_offset=1).details
    assert "malformed CSV" in str(refusal) and "line 3" in str(refusal)
