"""``entraide rules validate`` and ``entraide rules evaluate`` on small generated files."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command

from entraide.core.crypto import blind_index
from entraide.demo.synthetic import make_declarations, make_people, make_rights
from entraide.rules import loaders

RULES = Path(__file__).resolve().parents[3] / "rulesets" / "netflix-audiens.yaml"
COLUMNS = {
    "declarations": [
        "nir",
        "siret",
        "naf",
        "idcc",
        "contract_type",
        "start",
        "end",
        "hours",
        "cachets",
        "gross_pay",
    ],
    "rights": ["nir", "annex", "opened_on", "ends_on", "status", "reason"],
    "benefits": ["nir", "scheme", "from", "to"],
    "cancellations": ["nir", "siret", "date", "cachets", "signed_on"],
}


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: "" if value is None else value for key, value in row.items()})


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """40 synthetic applicants, their declarations and rights, some benefits."""
    rng = random.Random(7)
    people = make_people(40, seed=7)
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    declarations: list[dict[str, Any]] = []
    rights: list[dict[str, Any]] = []
    benefits: list[dict[str, Any]] = []
    for person in people:
        declarations += make_declarations(rng, person.nir, person.profession)
        rights += make_rights(rng, person.nir, person.profession)
        if rng.random() < 0.3:
            end = rng.choice([None, dt.date(2020, 4, 19), dt.date(2020, 4, 20)])
            benefits.append(
                {"nir": person.nir, "scheme": "general", "from": "2020-01-01", "to": end}
            )
    write_csv(evidence / "declarations.csv", COLUMNS["declarations"], declarations)
    write_csv(evidence / "rights.csv", COLUMNS["rights"], rights)
    write_csv(evidence / "benefits.csv", COLUMNS["benefits"], benefits)
    # no cancellations.csv: an absent file is an empty table
    applicants = tmp_path / "applicants.jsonl"
    lines = [
        json.dumps(
            {
                "ref": f"A-{index:04d}",
                "nir": person.nir,
                "first_name": person.first_name,
                "profession": person.profession,
                # exactly the ceiling for one of them
                "annual_resources": "15000.00" if index == 3 else str(person.annual_resources),
                "declared": {"works_mostly_abroad": False},
            }
        )
        for index, person in enumerate(people)
    ]
    applicants.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"evidence": evidence, "applicants": applicants, "root": tmp_path}


def run(*args: Any) -> str:
    out = io.StringIO()
    call_command("rules", *map(str, args), stdout=out)
    return out.getvalue()


def evaluate(files: dict[str, Path], *extra: Any) -> list[dict[str, Any]]:
    output = run(
        "evaluate",
        "--rules",
        RULES,
        "--evidence",
        files["evidence"],
        "--applicants",
        files["applicants"],
        "--at",
        "2020-04-20",
        *extra,
    )
    return [json.loads(line) for line in output.splitlines()]


def test_validate_says_valid() -> None:
    assert run("validate", RULES).strip() == "valid"


def test_validate_lists_each_problem_with_its_path(tmp_path: Path) -> None:
    text = RULES.read_text(encoding="utf-8")
    text = text.replace("test: days_sep_feb >= min_days", "test: days_sep_feb >= nobody")
    text = text.replace("exclusions: [receives_benefits]", "exclusions: [receives]")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 problems"):
        call_command("rules", "validate", str(broken), stdout=out)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("criteria[3].test: ") and "nobody" in line for line in lines)
    assert any(line.startswith("exclusions[0]: ") for line in lines)


def test_both_engines_write_the_same_decisions(files: dict[str, Path]) -> None:
    batch = evaluate(files)
    single = evaluate(files, "--engine", "single")
    assert batch == single
    assert [d["ref"] for d in batch] == [f"A-{i:04d}" for i in range(40)]
    assert {d["eligible"] for d in batch} == {True, False}
    decision = batch[0]
    assert set(decision) == {"ref", "eligible", "amount", "currency", "rule_set", "criteria"}
    assert decision["rule_set"] == {"name": "netflix-audiens", "version": "2020-04-15"}
    assert {c["id"] for c in decision["criteria"]} >= {"sector_worker", "worked_12_days"}
    assert {d["amount"] for d in batch if not d["eligible"]} == {"0.00"}
    assert {d["amount"] for d in batch if d["eligible"]} <= {"500.00", "900.00"}


def test_parquet_evidence_gives_the_same_decisions(files: dict[str, Path]) -> None:
    from_csv = evaluate(files)
    for name in ("declarations", "rights"):
        source = files["evidence"] / f"{name}.csv"
        duckdb.sql(
            f"COPY (SELECT * FROM read_csv('{source}', all_varchar = true)) "  # noqa: S608
            f"TO '{source.with_suffix('.parquet')}' (FORMAT parquet)"
        )
        source.unlink()
    assert evaluate(files) == from_csv


def test_a_bad_applicant_line_is_reported_and_skipped(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    lines = files["applicants"].read_text(encoding="utf-8").splitlines()
    lines[1] = "{not json"
    lines[2] = json.dumps({"ref": "A-0002", "annual_resources": "a lot"})
    lines[4] = json.dumps({"nir": "1"})
    files["applicants"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    for engine in ("batch", "single"):
        refs = [d["ref"] for d in evaluate(files, "--engine", engine)]
        skipped = {"A-0001", "A-0002", "A-0004"}
        assert refs == [f"A-{i:04d}" for i in range(40) if f"A-{i:04d}" not in skipped]
        errors = capsys.readouterr().err
        assert "applicants.jsonl line 2: not JSON" in errors
        assert "applicants.jsonl line 3: annual_resources: an amount was expected" in errors
        assert "applicants.jsonl line 5: no ref" in errors


def test_a_bad_evidence_row_is_reported_with_its_line(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = files["evidence"] / "declarations.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    # line 3 of the file: a start date that does not exist; line 4: ends before it starts
    third, fourth = lines[2].split(","), lines[3].split(",")
    third[5], fourth[6] = "2019-02-30", "2019-01-01"
    lines[2], lines[3] = ",".join(third), ",".join(fourth)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    decisions = evaluate(files)
    assert len(decisions) == 40
    errors = capsys.readouterr().err
    assert "declarations.csv line 3: start: not a date (YYYY-MM-DD)" in errors
    assert "declarations.csv line 4: the contract ends before it starts" in errors


def test_explanations_follow_the_language(files: dict[str, Path]) -> None:
    french = evaluate(files)
    english = evaluate(files, "--lang", "en")
    assert [d["eligible"] for d in french] == [d["eligible"] for d in english]
    explanation = {c["id"]: c["explanation"] for c in english[0]["criteria"]}
    assert explanation["worked_12_days"].startswith("You worked ")
    assert explanation["worked_12_days"].endswith("12 are required.")
    assert "Vous avez travaillé" in french[0]["criteria"][3]["explanation"]


def test_the_evaluation_date_decides_who_still_receives_benefits(
    files: dict[str, Path],
) -> None:
    def receiving(decisions: list[dict[str, Any]]) -> int:
        return sum(
            c["passed"] for d in decisions for c in d["criteria"] if c["id"] == "receives_benefits"
        )

    # benefits that end on 20 April are still paid on the 20th, not on the 21st
    assert receiving(evaluate(files)) > receiving(evaluate(files, "--at", "2020-04-21"))


def test_the_loaded_tables_hold_the_blind_index_of_each_nir_never_the_nir(tmp_path: Path) -> None:
    nir = "185037512345678"
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    right = {"annex": "8", "opened_on": "2020-01-01", "ends_on": "2020-12-31", "status": "open"}
    write_csv(
        evidence / "rights.csv",
        COLUMNS["rights"],
        [{"nir": f" {nir[:7]} {nir[7:]}", **right}, {"nir": "", **right}],
    )
    pq.write_table(
        pa.table(
            {"nir": [nir.lower(), None], "scheme": ["general"] * 2, "from": ["2020-01-01"] * 2}
        ),
        evidence / "benefits.parquet",
    )
    connection = loaders.connect()
    problems: list[str] = []

    counts = loaders.load_evidence(connection, evidence, problems.append)

    index = blind_index("nir", nir)
    assert (counts["rights"], counts["benefits"]) == (1, 1)
    assert connection.execute(
        "SELECT nir FROM rights UNION ALL SELECT nir FROM benefits"
    ).fetchall() == [
        (index,),
        (index,),
    ]
    assert problems == [
        "rights.csv line 3: no nir",
        "benefits.parquet row 2: a value of the wrong type, a missing value or end < start",
    ]
    assert loaders.index_nir(f"{nir[:5]} {nir[5:].lower()}") == index
    assert loaders.index_nir("  ") is None
    assert loaders.index_nir(None) is None
    # no table DuckDB keeps holds a NIR in clear
    tables = [
        name for (name,) in connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    ]
    assert sorted(tables) == ["benefits", "cancellations", "declarations", "rights"]
