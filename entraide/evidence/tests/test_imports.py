from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.fr import nir as stdnum_nir
from stdnum.fr import siret as stdnum_siret

from entraide.accounts.tests.factories import UserFactory
from entraide.audit.models import AuditEvent
from entraide.core.crypto import blind_index
from entraide.core.errors import PermissionDenied
from entraide.demo.synthetic import make_nir, make_siret
from entraide.evidence import imports
from entraide.evidence.models import (
    BenefitRecord,
    CancellationRecord,
    EmployerDeclaration,
    EvidenceBatch,
    RightsRecord,
)
from entraide.evidence.services import load_evidence_batch
from entraide.evidence.tests.factories import EmployerDeclarationFactory
from entraide.rules import loaders

pytestmark = pytest.mark.django_db(transaction=True)

RNG = random.Random(6)
NIR = make_nir(RNG, dt.date(1985, 3, 2), 1)
OTHER_NIR = make_nir(RNG, dt.date(1990, 7, 14), 2)
SIRET = make_siret(RNG)
INDEX, OTHER_INDEX = blind_index("nir", NIR), blind_index("nir", OTHER_NIR)
HEADER = "nir,siret,naf,idcc,contract_type,start,end,hours,cachets,gross_pay"


@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path):
    settings.EXPORTS_DIR = tmp_path / "exports"


@pytest.fixture(autouse=True)
def english():
    """Messages are in the active language (the site's default is French)."""
    with translation.override("en"):
        yield


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def declaration(**values: str) -> str:
    row = {
        "nir": NIR,
        "siret": SIRET,
        "naf": "59.11A",
        "idcc": "2642",
        "contract_type": "CDDU",
        "start": "2024-01-02",
        "end": "2024-01-05",
        "hours": "40",
        "cachets": "",
        "gross_pay": "1000.50",
    }
    row.update(values)
    return ",".join(row[name] for name in HEADER.split(","))


def report_rows(batch: EvidenceBatch) -> list[tuple[int, str, str]]:
    with open(batch.error_report, encoding="utf-8", newline="") as handle:
        return [(int(r["line"]), r["column"], r["code"]) for r in csv.DictReader(handle)]


def run_import(kind: str, path: Path, **kwargs: object) -> EvidenceBatch:
    return imports.import_evidence_file(actor=None, kind=kind, path=path, **kwargs)


def test_every_defect_is_reported_with_its_line_and_the_good_rows_import(tmp_path):
    bad_siret = SIRET[:-1] + str((int(SIRET[-1]) + 1) % 10)
    bad_key = NIR[:-2] + f"{int(NIR[-2:]) % 97 + 1:02d}"
    lines = [
        HEADER + ",comment",
        declaration() + ",x",  # 2: good
        declaration(nir="1234") + ",x",  # 3
        declaration(nir=bad_key) + ",x",  # 4
        declaration(siret="1234567890123") + ",x",  # 5
        declaration(siret=bad_siret) + ",x",  # 6
        declaration(naf="5911A") + ",x",  # 7
        declaration(idcc="26420") + ",x",  # 8
        declaration(contract_type="Stage") + ",x",  # 9
        declaration(start="02/01/2024") + ",x",  # 10
        declaration(end="2024-02-30") + ",x",  # 11
        declaration(hours="-3") + ",x",  # 12
        declaration(gross_pay="12,5") + ",x",  # 13: a comma too many
        declaration(gross_pay="1e3") + ",x",  # 14
        declaration(cachets="1.5") + ",x",  # 15
        declaration(start="2024-03-10", end="2024-03-01") + ",x",  # 16
        declaration(naf="") + ",x",  # 17
        "1,2,3",  # 18: too few values
        declaration(hours="123456") + ",x",  # 19
        declaration(nir=" " + NIR[:5] + " " + NIR[5:] + " ", start="2024-02-01", end="2024-02-01")
        + ",x",  # 20: good, spaces are not part of a NIR
        declaration(nir=OTHER_NIR, hours="", cachets="3", end="2024-01-02") + ",x",  # 21: good
    ]
    path = write(tmp_path / "declarations.csv", "\n".join(lines) + "\n")
    batch = run_import("declarations", path, source="operator upload")

    assert report_rows(batch) == [
        (3, "nir", "invalid_nir"),
        (4, "nir", "nir_key"),
        (5, "siret", "invalid_siret"),
        (6, "siret", "siret_checksum"),
        (7, "naf", "invalid_naf"),
        (8, "idcc", "invalid_idcc"),
        (9, "contract_type", "invalid_choice"),
        (10, "start", "invalid_date"),
        (11, "end", "invalid_date"),
        (12, "hours", "negative_number"),
        (13, "", "too_many_values"),
        (14, "gross_pay", "invalid_number"),
        (15, "cachets", "invalid_integer"),
        (16, "end", "end_before_start"),
        (17, "naf", "required"),
        (18, "", "too_few_values"),
        (19, "hours", "number_too_large"),
    ]
    with open(batch.error_report, encoding="utf-8") as handle:
        assert "The end is before the start." in handle.read()
    assert (batch.rows_read, batch.rows, batch.rows_rejected, batch.rows_duplicate) == (
        20,
        3,
        17,
        0,
    )
    assert batch.status == EvidenceBatch.Status.DONE
    assert batch.warnings == ["ignored column(s): comment"]
    assert (batch.period_start, batch.period_end) == (dt.date(2024, 1, 2), dt.date(2024, 2, 1))
    assert batch.source == "operator upload"
    assert batch.file_name == "declarations.csv"
    stored = EmployerDeclaration.objects.filter(batch=batch).order_by("start", "nir_index")
    assert [(d.nir_index, d.start, d.hours, d.cachets, d.gross_pay) for d in stored] == sorted(
        [
            (INDEX, dt.date(2024, 1, 2), Decimal("40.00"), None, Decimal("1000.50")),
            (OTHER_INDEX, dt.date(2024, 1, 2), None, 3, Decimal("1000.50")),
            (INDEX, dt.date(2024, 2, 1), Decimal("40.00"), None, Decimal("1000.50")),
        ],
        key=lambda r: (r[1], r[0]),
    )
    event = AuditEvent.objects.get(action="evidence.batch_imported")
    assert event.object_id == str(batch.pk)
    assert event.changes["rejected"] == 17


def test_a_multi_line_quoted_value_is_one_line(tmp_path):
    text = "\n".join(
        [
            HEADER,
            declaration(naf='"59.11A\nB"'),  # 2: one record, bad NAF
            "1,2",  # 3: too few values
            declaration(idcc="x"),  # 4
        ]
    )
    batch = run_import("declarations", write(tmp_path / "d.csv", text))
    assert report_rows(batch) == [
        (2, "naf", "invalid_naf"),
        (3, "", "too_few_values"),
        (4, "idcc", "invalid_idcc"),
    ]


def test_parquet_rows_are_validated_and_numbered_as_csv_lines(tmp_path):
    table = pa.table(
        {
            "nir": [NIR, NIR, "bad"],
            "scheme": ["annex8", "annex9", "general"],
            "from": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 1, 1)],
            "to": [None, dt.date(2024, 2, 1), None],
        }
    )
    path = tmp_path / "benefits.parquet"
    pq.write_table(table, path)
    batch = run_import("benefits", path)
    assert report_rows(batch) == [(3, "scheme", "invalid_choice"), (4, "nir", "invalid_nir")]
    assert list(BenefitRecord.objects.values_list("nir_index", "scheme", "start", "end")) == [
        (INDEX, "annex8", dt.date(2024, 1, 1), None)
    ]
    assert batch.error_report.endswith(f"batch-{batch.pk}-errors.csv")


def test_rights_and_cancellations_import(tmp_path):
    rights = write(
        tmp_path / "rights.csv",
        "nir,annex,opened_on,ends_on,status\n"
        f"{NIR},8,2023-02-01,2024-01-31,ended\n"
        f"{NIR},9,2023-02-01,2024-01-31,ended\n"
        f"{NIR},10,2023-02-01,2022-01-31,open\n",
    )
    batch = run_import("rights", rights)
    assert report_rows(batch) == [
        (3, "annex", "invalid_choice"),
        (4, "ends_on", "end_before_start"),
    ]
    assert RightsRecord.objects.get().reason == ""
    cancellations = write(
        tmp_path / "cancellations.csv",
        f"nir,siret,date\n{NIR},{SIRET},2024-04-10\n{NIR},,2024-04-11\n",
    )
    batch = run_import("cancellations", cancellations)
    assert batch.error_report == ""
    assert sorted(CancellationRecord.objects.values_list("siret", "cachets")) == [
        ("", 1),
        (SIRET, 1),
    ]


def test_reimporting_the_same_file_is_refused_and_changes_nothing(tmp_path):
    path = write(tmp_path / "d.csv", f"{HEADER}\n{declaration()}\n")
    first = run_import("declarations", path)
    with pytest.raises(imports.AlreadyImported) as refused:
        run_import("declarations", path)
    assert refused.value.batch == first
    assert str(first.pk) in str(refused.value.message)
    assert EmployerDeclaration.objects.count() == 1
    assert EvidenceBatch.objects.count() == 1


def test_rows_already_stored_or_repeated_count_as_duplicates(tmp_path):
    EmployerDeclarationFactory(
        nir=NIR,
        siret=SIRET,
        contract_type="CDDU",
        start=dt.date(2024, 1, 2),
        end=dt.date(2024, 1, 5),
    )
    text = "\n".join(
        [
            HEADER,
            declaration(),  # stored already
            declaration(start="2024-03-01", end="2024-03-02"),
            declaration(start="2024-03-01", end="2024-03-02", gross_pay="5"),  # same key
            declaration(contract_type="CDD"),
        ]
    )
    batch = run_import("declarations", write(tmp_path / "d.csv", text))
    assert (batch.rows, batch.rows_duplicate, batch.rows_rejected) == (2, 2, 0)
    assert EmployerDeclaration.objects.count() == 3
    # another file with rows already imported: only duplicates
    again = run_import("declarations", write(tmp_path / "e.csv", text + "\n"))
    assert (again.rows, again.rows_duplicate) == (0, 4)


def test_rollback_removes_exactly_the_batch_rows_and_allows_a_new_import(tmp_path):
    other = EmployerDeclarationFactory(nir=OTHER_NIR)
    path = write(
        tmp_path / "d.csv", f"{HEADER}\n{declaration()}\n{declaration(end='2024-01-09')}\n"
    )
    batch = run_import("declarations", path)
    assert EmployerDeclaration.objects.count() == 3

    imports.rollback_batch(actor=None, batch=batch)

    batch.refresh_from_db()
    assert batch.status == EvidenceBatch.Status.ROLLED_BACK
    assert list(EmployerDeclaration.objects.all()) == [other]
    event = AuditEvent.objects.get(action="evidence.batch_rolled_back")
    assert event.changes["deleted"] == 2
    with pytest.raises(imports.InvalidTransition):
        imports.rollback_batch(actor=None, batch=batch)
    again = run_import("declarations", path)
    assert again.rows == 2


def test_a_missing_required_column_refuses_the_file(tmp_path):
    path = write(tmp_path / "d.csv", "nir,siret,naf,idcc,start,end,gross_pay\n")
    with pytest.raises(imports.ImportFileError) as refused:
        run_import("declarations", path)
    assert "contract_type" in str(refused.value.message)
    assert EvidenceBatch.objects.count() == 0


def test_a_failure_while_storing_leaves_no_row_and_marks_the_batch_failed(tmp_path, monkeypatch):
    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    # fails after the rows were written, in the same transaction
    monkeypatch.setattr(imports, "_period", broken)
    path = write(tmp_path / "d.csv", f"{HEADER}\n{declaration()}\n")
    with pytest.raises(RuntimeError):
        run_import("declarations", path)
    batch = EvidenceBatch.objects.get()
    assert batch.status == EvidenceBatch.Status.FAILED
    assert EmployerDeclaration.objects.count() == 0
    monkeypatch.undo()
    assert run_import("declarations", path).rows == 1  # a failed import may run again


def test_an_actor_needs_the_permission_to_import_and_roll_back(tmp_path):
    path = write(tmp_path / "d.csv", f"{HEADER}\n{declaration()}\n")
    clerk = UserFactory()
    with pytest.raises(PermissionDenied):
        imports.import_evidence_file(actor=clerk, kind="declarations", path=path)
    clerk.user_permissions.add(Permission.objects.get(codename="add_evidencebatch"))
    clerk = type(clerk).objects.get(pk=clerk.pk)  # permissions are cached on the instance
    batch = imports.import_evidence_file(actor=clerk, kind="declarations", path=path)
    assert batch.loaded_by == clerk
    with pytest.raises(PermissionDenied):
        imports.rollback_batch(actor=clerk, batch=batch)


def test_import_and_rollback_commands(tmp_path):
    path = write(
        tmp_path / "d.csv", f"{HEADER},extra\n{declaration()},1\n{declaration(idcc='1')},2\n"
    )
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "evidence", "import", "declarations", str(path), "--source", "cli", stdout=out, stderr=err
    )
    summary = json.loads(out.getvalue())
    batch = EvidenceBatch.objects.get()
    assert summary == {
        "batch": batch.pk,
        "kind": "declarations",
        "status": "done",
        "read": 2,
        "imported": 1,
        "rejected": 1,
        "duplicates": 0,
        "period": ["2024-01-02", "2024-01-05"],
        "warnings": ["ignored column(s): extra"],
        "error_report": batch.error_report,
    }
    assert batch.source == "cli"
    with pytest.raises(CommandError, match=f"batch {batch.pk}"):
        call_command("evidence", "import", "declarations", str(path), stdout=io.StringIO())
    out = io.StringIO()
    call_command("evidence", "rollback", str(batch.pk), stdout=out)
    assert json.loads(out.getvalue()) == {"batch": batch.pk, "status": "rolled_back"}
    assert EmployerDeclaration.objects.count() == 0
    with pytest.raises(CommandError, match="Missing column"):
        call_command(
            "evidence", "import", "rights", str(path), stdout=io.StringIO(), stderr=io.StringIO()
        )


# -- NIRs: checked in clear, stored as their blind index -----------------------------------------


def test_no_nir_in_clear_is_stored_or_reported_only_its_blind_index(tmp_path):
    bad_key = NIR[:-2] + f"{int(NIR[-2:]) % 97 + 1:02d}"
    lines = [HEADER, declaration(), declaration(nir=bad_key), declaration(nir=OTHER_NIR.lower())]
    batch = run_import("declarations", write(tmp_path / "d.csv", "\n".join(lines) + "\n"))

    assert report_rows(batch) == [(3, "nir", "nir_key")]
    report = Path(batch.error_report).read_text(encoding="utf-8")
    assert bad_key not in report
    assert bad_key[-4:] not in report
    assert sorted(EmployerDeclaration.objects.values_list("nir_index", flat=True)) == sorted(
        [INDEX, OTHER_INDEX]
    )
    assert not EmployerDeclaration.objects.filter(nir_index__in=[NIR, OTHER_NIR]).exists()


def test_rows_loaded_with_a_nir_in_clear_keep_its_blind_index_only():
    batch = load_evidence_batch(
        actor=None,
        kind="benefits",
        source="test",
        rows=[{"nir": f" {NIR.lower()} ", "scheme": "general", "from": dt.date(2024, 1, 1)}],
    )
    assert list(BenefitRecord.objects.filter(batch=batch).values_list("nir_index", "start")) == [
        (INDEX, dt.date(2024, 1, 1))
    ]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=30))
def test_the_sql_blind_index_is_cryptos(values):
    duck = duckdb.connect()
    loaders.register_nir_index(duck)
    loaders.register_nir_index(duck)  # registering again changes nothing
    duck.register("given", pa.table({"v": pa.array(values, pa.string())}))
    rows = duck.execute(f"SELECT {loaders.NIR_INDEX_SQL}(v) FROM given").fetchall()  # noqa: S608
    assert [row[0] for row in rows] == [
        None if v is None else blind_index("nir", v) for v in values
    ]


# -- the SQL checks are stdnum's ---------------------------------------------------------------


def sql_problem(expression: str, value: str) -> str | None:
    compacted = imports.compact_sql("?")
    sql = f"SELECT CASE WHEN v IS NULL THEN 'required' ELSE {expression} END FROM (SELECT {compacted} AS v)"  # noqa: S608, E501
    return duckdb.execute(sql, [value]).fetchall()[0][0]


def nirs() -> st.SearchStrategy[str]:
    def with_key(body: str) -> str:
        number = int(body[:5] + body[5:7].replace("2A", "19").replace("2B", "18") + body[7:])
        return body + f"{97 - number % 97:02d}"

    digits = st.text("0123456789", min_size=1, max_size=1)
    department = st.one_of(
        st.text("0123456789", min_size=2, max_size=2), st.sampled_from(["2A", "2B", "2a"])
    )
    valid = st.tuples(
        st.text("0123456789", min_size=5, max_size=5),
        department,
        st.text("0123456789", min_size=6, max_size=6),
    ).map(lambda parts: with_key("".join(parts).upper()))
    near = st.tuples(valid, st.integers(0, 14), digits).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
    )
    noise = st.text("0123456789ABab .", max_size=18)
    return st.one_of(valid, near, noise, valid.map(lambda n: f" {n[:7]}.{n[7:]} "))


def sirets() -> st.SearchStrategy[str]:
    valid = st.integers(0, 2**32).map(lambda seed: make_siret(random.Random(seed)))
    la_poste = st.text("0123456789", min_size=5, max_size=5).map(lambda tail: "356000000" + tail)
    near = st.tuples(valid, st.integers(0, 13), st.text("0123456789", min_size=1, max_size=1)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
    )
    return st.one_of(
        valid, la_poste, near, st.just("35600000000048"), st.text("0123456789 .x", max_size=16)
    )


@settings(max_examples=400, deadline=None)
@given(nirs())
def test_the_sql_nir_check_is_stdnums(value):
    assert (sql_problem(imports.nir_problem_sql("v"), value) is None) == stdnum_nir.is_valid(value)


@settings(max_examples=400, deadline=None)
@given(sirets())
def test_the_sql_siret_check_is_stdnums(value):
    assert (sql_problem(imports.siret_problem_sql("v"), value) is None) == stdnum_siret.is_valid(
        value
    )


def test_the_pipe_to_postgresql_ends_when_duckdb_fails_or_the_reader_stops(tmp_path):
    duck = duckdb.connect()
    for name in "abc":
        (tmp_path / name).mkdir()
    with (
        pytest.raises(duckdb.CatalogException),
        imports._piped(duck, "SELECT * FROM nowhere", tmp_path / "a") as handle,
    ):
        assert handle.read() == b""
    duck.execute("CREATE TABLE numbers AS SELECT range AS n FROM range(300000)")

    def stop_reading_early() -> None:
        with imports._piped(duck, "SELECT n FROM numbers", tmp_path / "b") as handle:
            handle.read(10)
            raise RuntimeError("COPY failed")  # the rest is drained: DuckDB is not left blocked

    with pytest.raises(RuntimeError, match="COPY failed"):
        stop_reading_early()
    with imports._piped(duck, "SELECT n FROM numbers ORDER BY n", tmp_path / "c") as handle:
        assert handle.read().splitlines()[-1] == b"299999"


def test_a_date_before_year_one_is_a_rejected_line_not_a_failed_import(tmp_path):
    path = write(
        tmp_path / "d.csv", f"{HEADER}\n{declaration()}\n{declaration(start='0000-01-01')}\n"
    )
    batch = run_import("declarations", path)
    assert (batch.status, batch.rows, batch.rows_rejected) == (EvidenceBatch.Status.DONE, 1, 1)
    with open(batch.error_report, encoding="utf-8") as handle:
        assert "3,start,invalid_date" in handle.read()


def test_cancellations_without_an_employer_are_duplicates_when_imported_again(tmp_path):
    header = "nir,siret,date,cachets,signed_on"
    first = write(tmp_path / "a.csv", f"{header}\n{NIR},,2020-04-01,1,\n")
    again = write(tmp_path / "b.csv", f"{header}\n{NIR},,2020-04-01,2,\n{NIR},,2020-04-02,1,\n")
    run_import("cancellations", first)
    batch = run_import("cancellations", again)
    assert (batch.rows, batch.rows_duplicate) == (1, 1)
    assert CancellationRecord.objects.count() == 2
