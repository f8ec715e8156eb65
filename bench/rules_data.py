"""Synthetic evidence and applicants for the rules benchmarks, generated with DuckDB SQL into
Parquet (and applicants.jsonl): no real person, no downloaded data.

People have NIR-like keys (sex, year and month of birth, department, commune, order, and the
mod-97 key of a real NIR); employers have SIRETs valid for python-stdnum. Evidence covers more
people than apply (as the fund's records do): applicants are the first ``applicants`` people.
"""

# ruff: noqa: S608  (SQL built from integers and fixed text only)

from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pyarrow as pa

from entraide.demo.synthetic import AUDIOVISUAL_EMPLOYERS, make_siret

EMPLOYERS = 5_000
PERFORMING_ARTS = (("90.01Z", "3090"), ("90.02Z", "3090"))


def _h(row: str, salt: int, modulo: int) -> str:
    """A pseudo-random integer in [0, modulo) from a row number (DuckDB's hash, salted)."""
    return f"CAST(hash({row}, {salt}) % {modulo} AS INTEGER)"


def _employers(connection: duckdb.DuckDBPyConnection, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    sectors = AUDIOVISUAL_EMPLOYERS + PERFORMING_ARTS
    rows = [(index, make_siret(rng), *rng.choice(sectors)) for index in range(EMPLOYERS)]
    table = pa.table(
        {
            "e": pa.array([r[0] for r in rows], pa.int32()),
            "siret": [r[1] for r in rows],
            "naf": [r[2] for r in rows],
            "idcc": [r[3] for r in rows],
        }
    )
    connection.register("employers_arrow", table)
    connection.execute("CREATE TABLE employers AS SELECT * FROM employers_arrow")


def generate(
    directory: Path,
    *,
    applicants: int = 300_000,
    people: int | None = None,
    declarations: int = 10_000_000,
    rights: int = 500_000,
    benefits: int | None = None,
    cancellations: int | None = None,
    seed: int = 2020,
    threads: int = 2,
) -> dict[str, int]:
    """Write declarations/rights/benefits/cancellations.parquet and applicants.jsonl."""
    population = people or applicants + applicants // 6
    benefits = benefits if benefits is not None else population // 2
    cancellations = cancellations if cancellations is not None else population
    directory.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    connection.execute(f"SET threads = {int(threads)}")
    _employers(connection, seed)
    # Unique NIRs: commune and order encode the person's number; the rest looks random.
    connection.execute(
        f"""
        CREATE TABLE people AS
        SELECT p, nir, profession FROM (
            SELECT p,
                CAST((1 + p % 2) AS BIGINT) * 1000000000000
                + CAST(40 + {_h("p", 1, 60)} AS BIGINT) * 10000000000
                + CAST(1 + {_h("p", 2, 12)} AS BIGINT) * 100000000
                + CAST(CASE WHEN {_h("p", 3, 95)} + 1 = 20 THEN 75 ELSE {_h("p", 3, 95)} + 1 END
                       AS BIGINT) * 1000000
                + CAST(1 + (p // 999) % 990 AS BIGINT) * 1000
                + CAST(1 + p % 999 AS BIGINT) AS body,
                CAST(body AS VARCHAR) || lpad(CAST(97 - body % 97 AS VARCHAR), 2, '0') AS nir,
                CASE WHEN p % 3 = 0 THEN 'artist' ELSE 'technician' END AS profession
            FROM range({population}) AS t(p)
        )
        """
    )
    people_rows = "(SELECT p, nir, profession FROM people) AS who"
    connection.execute(
        f"""
        COPY (
            SELECT who.nir, e.siret, e.naf, e.idcc,
                CASE WHEN {_h("r", 13, 100)} < 80 THEN 'CDDU'
                     WHEN {_h("r", 13, 100)} < 95 THEN 'CDD' ELSE 'CDI' END AS contract_type,
                DATE '2019-01-01' + {_h("r", 14, 700)} AS start,
                DATE '2019-01-01' + {_h("r", 14, 700)} + {_h("r", 15, 10)} AS "end",
                CASE WHEN who.profession = 'technician'
                     THEN CAST(8 * (1 + {_h("r", 15, 10)}) AS DECIMAL(18,2)) END AS hours,
                CASE WHEN who.profession = 'artist' THEN 1 + {_h("r", 16, 3)} END AS cachets,
                CAST((1 + {_h("r", 15, 10)}) * (150 + {_h("r", 17, 250)}) AS DECIMAL(18,2))
                    AS gross_pay
            FROM range({declarations}) AS t(r)
            JOIN {people_rows} ON who.p = {_h("r", 11, population)}
            JOIN employers AS e ON e.e = {_h("r", 12, EMPLOYERS)}
        ) TO '{directory / "declarations.parquet"}' (FORMAT parquet)
        """
    )
    connection.execute(
        f"""
        COPY (
            SELECT who.nir,
                CASE WHEN {_h("r", 22, 100)} < 5 THEN 'general'
                     WHEN who.profession = 'artist' THEN '10' ELSE '8' END AS annex,
                DATE '2018-06-01' + {_h("r", 23, 900)} AS opened_on,
                DATE '2018-06-01' + {_h("r", 23, 900)} + 364 AS ends_on,
                CASE WHEN {_h("r", 24, 100)} < 2 THEN 'refused'
                     WHEN DATE '2018-06-01' + {_h("r", 23, 900)} + 364 < DATE '2020-11-20'
                     THEN 'ended' ELSE 'open' END AS status,
                CASE WHEN {_h("r", 25, 100)} = 0 THEN 'maternity'
                     WHEN {_h("r", 25, 100)} = 1 THEN 'illness'
                     WHEN {_h("r", 25, 100)} = 2 THEN 'adoption' ELSE '' END AS reason
            FROM range({rights}) AS t(r)
            JOIN {people_rows} ON who.p = {_h("r", 21, population)}
        ) TO '{directory / "rights.parquet"}' (FORMAT parquet)
        """
    )
    connection.execute(
        f"""
        COPY (
            SELECT who.nir,
                CASE {_h("r", 32, 3)} WHEN 0 THEN 'general' WHEN 1 THEN 'annex8'
                     ELSE 'annex10' END AS scheme,
                DATE '2019-06-01' + {_h("r", 33, 500)} AS "from",
                CASE WHEN {_h("r", 34, 3)} = 0 THEN NULL
                     ELSE DATE '2019-06-01' + {_h("r", 33, 500)} + {_h("r", 35, 300)} END AS "to"
            FROM range({benefits}) AS t(r)
            JOIN {people_rows} ON who.p = {_h("r", 31, population)}
        ) TO '{directory / "benefits.parquet"}' (FORMAT parquet)
        """
    )
    connection.execute(
        f"""
        COPY (
            SELECT who.nir, e.siret,
                DATE '2020-03-01' + {_h("r", 43, 200)} AS date,
                1 + {_h("r", 44, 2)} AS cachets,
                DATE '2019-12-01' + {_h("r", 45, 300)} AS signed_on
            FROM range({cancellations}) AS t(r)
            JOIN {people_rows} ON who.p = {_h("r", 41, population)}
            JOIN employers AS e ON e.e = {_h("r", 42, EMPLOYERS)}
        ) TO '{directory / "cancellations.parquet"}' (FORMAT parquet)
        """
    )
    connection.execute(
        f"""
        COPY (
            SELECT 'A-' || lpad(CAST(p + 1 AS VARCHAR), 7, '0') AS ref, nir, profession,
                CASE WHEN p % 20 = 0 THEN 'BE' ELSE 'FR' END AS residence_country,
                CAST(CAST(4000 + {_h("p", 51, 2800000)} / 100.0 AS DECIMAL(18,2)) AS VARCHAR)
                    AS annual_resources,
                {{'works_mostly_abroad': p % 7 = 0}} AS declared
            FROM people WHERE p < {applicants} ORDER BY p
        ) TO '{directory / "applicants.jsonl"}' (FORMAT json)
        """
    )
    connection.close()
    return {
        "applicants": applicants,
        "people": population,
        "declarations": declarations,
        "rights": rights,
        "benefits": benefits,
        "cancellations": cancellations,
    }
