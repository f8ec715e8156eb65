"""Benchmark: a payment batch's SEPA credit-transfer file at national scale (issue 8: 100,000
transfers written and validated against the ISO 20022 schema in ≤ 5 s).

100,000 synthetic transfers (Faker's fr_FR first and last names, valid French IBANs from
entraide/demo/synthetic.py, their banks' BICs from schwifty's registry with one transfer in ten
without, amounts to the cent, the default payment details) are made once, not measured. Then,
``--repeat`` times each, in this process:

- ``payments.files.build_sepa``: the pain.001 file written (SEPA text, checks, ``xmlfile``) and
  validated against the schema kept in the repository; its validation alone is timed again
  after (``validate_sepa`` on the same bytes), to show its share;
- the baseline: the same document built as a plain lxml element tree (no SEPA text, no checks)
  and serialised, then validated the same way;
- the product's path, once the others are done: ``payments.services.generate_payment_file``
  on a released batch of the same transfers in a new SQLite database (migrated here, in a
  scratch directory): the payments read from the database, the file written, validated and
  stored with its batch's new status (the file removed and the batch released again between
  runs);
- for reference, once: sepaxml 2.7 (``SepaTransfer``, batch mode, ``export(validate=False)``),
  which files.py does not use, then the same validation.

Reported: min, median and max seconds of each phase, transfers per second at the median, the
ratio of build_sepa to the baseline, whether every run wrote the same bytes, and each path's
peak resident memory (VmHWM, reset before each path through /proc/self/clear_refs, beside the
resident memory it started from: the transfers themselves).

    .venv/bin/python bench/payments.py [--count 100000] [--repeat 5]
        [--format pain.001.001.09] [--no-sepaxml] [--no-database]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.memory import memory_mib, reset_peak_memory  # noqa: E402 (after the path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "entraide.settings")

TARGET_SECONDS = 5.0
REMITTANCE = "Aide d'urgence Netflix × Audiens {reference}"
RELEASED_AT = dt.datetime(2020, 5, 4, 9, 30, tzinfo=dt.UTC)


def make_transfers(count: int, seed: int = 2020) -> list[Any]:
    """``count`` synthetic transfers, the same for the same seed."""
    from faker.providers.person.fr_FR import Provider
    from schwifty import IBAN

    from entraide.core.refs import ALPHABET
    from entraide.demo.synthetic import make_iban
    from entraide.payments.files import Transfer

    rng = random.Random(seed)  # noqa: S311 (synthetic data, not secrets)
    bics: dict[str, str] = {}  # bank code -> BIC: schwifty's registry, read once per bank
    references: set[str] = set()
    transfers = []
    for _ in range(count):
        while (
            reference := "A-"
            + "".join(rng.choices(ALPHABET, k=4))
            + "-"
            + "".join(rng.choices(ALPHABET, k=4))
        ) in references:
            pass
        references.add(reference)
        iban = make_iban(rng)
        bank = iban[4:9]
        if bank not in bics:
            bics[bank] = str(IBAN(iban).bic)
        # Most awards are the fund's standard amounts; some are set by hand, to the cent.
        amount = rng.choice(
            (Decimal("500.00"), Decimal("900.00"), Decimal(rng.randrange(100, 500_000)) / 100)
        )
        transfers.append(
            Transfer(
                end_to_end_id=f"{reference}-1",
                amount=amount,
                currency="EUR",
                creditor_name=f"{rng.choice(Provider.first_names)} "
                f"{rng.choice(Provider.last_names)}",
                iban=iban,
                bic="" if rng.random() < 0.1 else bics[bank],
                remittance=REMITTANCE.format(reference=reference),
            )
        )
    return transfers


def make_header(reference: str = "P-7K3M-9Q2F") -> Any:
    """The header of a synthetic batch released on ``RELEASED_AT``."""
    from entraide.payments.files import Debtor, FileHeader

    return FileHeader(
        message_id=reference,
        created_at=RELEASED_AT,
        execution_date=RELEASED_AT.date() + dt.timedelta(days=1),
        debtor=Debtor(
            name="Fonds d'urgence Netflix × Audiens",
            iban="FR7630006000011234567890189",
            bic="AGRIFRPP",
            initiating_party="Audiens",
            initiating_party_id="77567227200029",
        ),
        currency="EUR",
    )


def write_with_element_tree(header: Any, transfers: Sequence[Any], file_format: str) -> bytes:
    """The baseline: the same pain.001 document as a plain lxml tree, serialised at once, the
    values written as they are (no SEPA text, no checks)."""
    from lxml import etree

    legacy = file_format == "pain.001.001.03"
    bic_tag = "BIC" if legacy else "BICFI"
    total = sum((transfer.amount for transfer in transfers), Decimal(0))
    sub = etree.SubElement

    def text(parent: Any, path: str, value: str) -> Any:
        for tag in path.split("/"):
            parent = sub(parent, tag)
        parent.text = value
        return parent

    namespace = f"urn:iso:std:iso:20022:tech:xsd:{file_format}"
    # lxml-stubs type the prefixes as str; None is the default namespace's.
    document = etree.Element("Document", nsmap={None: namespace})  # type: ignore[dict-item]
    initiation = sub(document, "CstmrCdtTrfInitn")
    group = sub(initiation, "GrpHdr")
    text(group, "MsgId", header.message_id)
    text(group, "CreDtTm", header.created_at.isoformat(timespec="seconds"))
    text(group, "NbOfTxs", str(len(transfers)))
    text(group, "CtrlSum", f"{total:.2f}")
    party = sub(group, "InitgPty")
    text(party, "Nm", header.debtor.initiating_party)
    text(party, "Id/OrgId/Othr/Id", header.debtor.initiating_party_id)
    block = sub(initiation, "PmtInf")
    for path, value in (
        ("PmtInfId", header.message_id),
        ("PmtMtd", "TRF"),
        ("BtchBookg", "true"),
        ("NbOfTxs", str(len(transfers))),
        ("CtrlSum", f"{total:.2f}"),
        ("PmtTpInf/SvcLvl/Cd", "SEPA"),
        ("ReqdExctnDt" if legacy else "ReqdExctnDt/Dt", header.execution_date.isoformat()),
        ("Dbtr/Nm", header.debtor.name),
        ("DbtrAcct/Id/IBAN", header.debtor.iban),
        ("DbtrAgt/FinInstnId/" + bic_tag, header.debtor.bic),
        ("ChrgBr", "SLEV"),
    ):
        text(block, path, value)
    for transfer in transfers:
        transaction = sub(block, "CdtTrfTxInf")
        text(transaction, "PmtId/EndToEndId", transfer.end_to_end_id)
        text(transaction, "Amt/InstdAmt", f"{transfer.amount:.2f}").set("Ccy", transfer.currency)
        if transfer.bic:
            text(transaction, "CdtrAgt/FinInstnId/" + bic_tag, transfer.bic)
        text(transaction, "Cdtr/Nm", transfer.creditor_name)
        text(transaction, "CdtrAcct/Id/IBAN", transfer.iban)
        text(transaction, "RmtInf/Ustrd", transfer.remittance)
    return bytes(etree.tostring(document, xml_declaration=True, encoding="UTF-8"))


def write_with_sepaxml(header: Any, transfers: Sequence[Any], file_format: str) -> bytes:
    """The file as sepaxml writes it (its own MsgId, PmtInfId and CreDtTm): for reference."""
    from sepaxml import SepaTransfer

    debtor = header.debtor
    config = {
        "name": debtor.name,
        "IBAN": debtor.iban,
        "BIC": debtor.bic,
        "batch": True,
        "currency": header.currency,
    }
    sepa = SepaTransfer(config, schema=file_format, clean=True)
    for transfer in transfers:
        payment = {
            "name": transfer.creditor_name,
            "IBAN": transfer.iban,
            "amount": int(transfer.amount * 100),
            "execution_date": header.execution_date,
            "description": transfer.remittance,
            "endtoend_id": transfer.end_to_end_id,
        }
        if transfer.bic:
            payment["BIC"] = transfer.bic
        sepa.add_payment(payment)
    return bytes(sepa.export(validate=False))


# -- measuring --------------------------------------------------------------------------------


def timed(function: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


class Measured:
    """One measured path: its phases' seconds over the runs, and its memory."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.seconds: dict[str, list[float]] = {}
        self.digests: set[str] = set()
        self.size = 0
        self.start_mib = self.peak_mib = 0.0
        self.peak_reset = False

    def begin(self) -> None:
        self.peak_reset = reset_peak_memory()
        self.start_mib = memory_mib("VmRSS")

    def end(self) -> None:
        self.peak_mib = memory_mib("VmHWM")

    def add(self, phase: str, seconds: float) -> None:
        self.seconds.setdefault(phase, []).append(seconds)

    def output(self, xml: bytes) -> None:
        self.size = len(xml)
        self.digests.add(hashlib.sha256(xml).hexdigest())


def measure(options: argparse.Namespace, transfers: list[Any], header: Any) -> list[Measured]:
    from entraide.payments.files import build_sepa, validate_sepa

    file_format = options.format
    ours = Measured("build_sepa (written + validated)")
    ours.begin()
    for _ in range(options.repeat):
        seconds, xml = timed(build_sepa, header, transfers, file_format)
        ours.add("total", seconds)
        ours.output(xml)
        seconds, _none = timed(validate_sepa, xml, file_format)
        ours.add("of which validation", seconds)
        del xml
    ours.end()

    baseline = Measured("baseline: lxml element tree")
    baseline.begin()
    for _ in range(options.repeat):
        written, xml = timed(write_with_element_tree, header, transfers, file_format)
        validated, _none = timed(validate_sepa, xml, file_format)
        baseline.add("total", written + validated)
        baseline.add("of which validation", validated)
        baseline.output(xml)
        del xml
    baseline.end()
    paths = [ours, baseline]

    if options.sepaxml:
        sepaxml = Measured("reference: sepaxml 2.7, export(validate=False)")
        sepaxml.begin()
        written, xml = timed(write_with_sepaxml, header, transfers, file_format)
        validated, _none = timed(validate_sepa, xml, file_format)
        sepaxml.add("total", written + validated)
        sepaxml.add("of which validation", validated)
        sepaxml.output(xml)
        del xml
        sepaxml.end()
        paths.append(sepaxml)
    return paths


def store_batch(transfers: Sequence[Any], header: Any, file_format: str) -> int:
    """A fund, its payment settings and a released batch of ``transfers`` in the (new)
    database, written in bulk: the id of the batch."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from entraide.applications.models import Application
    from entraide.funds.models import Award, Fund
    from entraide.payments.models import Payment, PaymentBatch, PaymentSettings
    from entraide.payments.services import SETTINGS_FIELDS

    call_command("migrate", verbosity=0)
    users = get_user_model().objects
    preparer = users.create_user(email="finance@bench.invalid", password=None)
    releaser = users.create_user(email="treasurer@bench.invalid", password=None)
    total = sum((transfer.amount for transfer in transfers), Decimal(0))
    fund = Fund.objects.create(
        slug="bench",
        name="Bench fund",
        currency="EUR",
        budget=total,
        standard_amount=Decimal("500.00"),
        opens_on=RELEASED_AT.date() - dt.timedelta(days=30),
        closes_on=RELEASED_AT.date(),
    )
    debtor = header.debtor
    payment_settings = PaymentSettings.objects.create(
        fund=fund,
        file_format=file_format,
        debtor_name=debtor.name,
        debtor_iban=debtor.iban,
        debtor_bic=debtor.bic,
        initiating_party=debtor.initiating_party,
        initiating_party_id=debtor.initiating_party_id,
    )
    applications = Application.objects.bulk_create(
        (
            Application(
                reference=transfer.end_to_end_id,
                fund=fund,
                applicant=preparer,
                status=Application.Status.APPROVED,
                nir=f"{number:015d}",
                first_name="Bench",
                last_name=str(number),
                birth_date=dt.date(1980, 1, 1),
                email="applicant@bench.invalid",
                profession=Application.Profession.TECHNICIAN,
                iban=transfer.iban,
                bic=transfer.bic,
                account_holder=transfer.creditor_name,
                idempotency_key=str(number),
                submitted_at=RELEASED_AT,
                status_changed_at=RELEASED_AT,
            )
            for number, transfer in enumerate(transfers)
        ),
        batch_size=5000,
    )
    awards = Award.objects.bulk_create(
        (
            Award(
                application=application,
                fund=fund,
                nir=application.nir,
                amount=transfer.amount,
                currency="EUR",
                status=Award.Status.RESERVED,
                approved_by=preparer,
                queued_at=RELEASED_AT,
                created_at=RELEASED_AT,
                reserved_at=RELEASED_AT,
            )
            for application, transfer in zip(applications, transfers, strict=True)
        ),
        batch_size=5000,
    )
    batch = PaymentBatch.objects.create(
        reference=header.message_id,
        fund=fund,
        status=PaymentBatch.Status.RELEASED,
        file_format=file_format,
        currency="EUR",
        count=len(transfers),
        total=total,
        prepared_by=preparer,
        prepared_at=RELEASED_AT,
        released_by=releaser,
        released_at=header.created_at,
        execution_date=header.execution_date,
        # As release_payment_batch keeps them.
        file_settings={name: getattr(payment_settings, name) for name in SETTINGS_FIELDS},
    )
    Payment.objects.bulk_create(
        (
            Payment(
                batch=batch,
                award=award,
                fund=fund,
                end_to_end_id=transfer.end_to_end_id,
                amount=transfer.amount,
                currency="EUR",
                creditor_name=transfer.creditor_name,
                iban=transfer.iban,
                bic=transfer.bic,
                remittance=transfer.remittance,
            )
            for award, transfer in zip(awards, transfers, strict=True)
        ),
        batch_size=5000,
    )
    return batch.pk


def measure_service(options: argparse.Namespace, batch_id: int) -> Measured:
    from entraide.payments.models import PaymentBatch, PaymentFile
    from entraide.payments.services import generate_payment_file

    service = Measured("generate_payment_file (database → stored file)")
    service.begin()
    for _ in range(options.repeat):
        PaymentFile.objects.filter(batch_id=batch_id).delete()
        PaymentBatch.objects.filter(pk=batch_id).update(status=PaymentBatch.Status.RELEASED)
        seconds, stored = timed(generate_payment_file, batch_id)
        service.add("total", seconds)
        service.output(bytes(stored.content))
    service.end()
    return service


def report(paths: list[Measured], options: argparse.Namespace) -> None:
    ours, baseline = paths[0], paths[1]
    print(f"{'path / phase':<48} runs    min s    p50 s    max s   transfers/s")
    for path in paths:
        for phase, values in path.seconds.items():
            label = path.label if phase == "total" else f"  {phase}"
            median = statistics.median(values)
            print(
                f"{label:<48} {len(values):>4} {min(values):>8.2f} {median:>8.2f} "
                f"{max(values):>8.2f}   {options.count / median:>11,.0f}"
            )
        print(
            f"  {path.size / 1e6:,.1f} MB written; peak RSS {path.peak_mib:,.0f} MiB "
            f"(from {path.start_mib:,.0f} MiB"
            + ("" if path.peak_reset else ", peak not reset: the process's")
            + ")"
            + (
                f"; same bytes every run: {'yes' if len(path.digests) == 1 else 'NO'}"
                if len(path.seconds["total"]) > 1
                else ""
            )
        )
    base = statistics.median(baseline.seconds["total"])
    # The target is the product's: the service's path when measured, else the file's alone.
    judged = next((path for path in paths if path.label.startswith("generate")), ours)
    for path in {ours.label: ours, judged.label: judged}.values():
        ratio = statistics.median(path.seconds["total"]) / base
        print(f"ratio {path.label} / baseline (p50, both validated): {ratio:.2f}×")
    median = statistics.median(judged.seconds["total"])
    verdict = "met" if median <= TARGET_SECONDS else "MISSED"
    print(
        f"target ≤ {TARGET_SECONDS:.0f} s for {options.count:,} transfers written and validated "
        f"({judged.label}): {verdict} (p50 {median:.2f} s, "
        f"max {max(judged.seconds['total']):.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="transfers in the batch")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each path")
    parser.add_argument("--format", default="pain.001.001.09", help="pain.001.001.09 or .03")
    parser.add_argument(
        "--no-sepaxml", dest="sepaxml", action="store_false", help="skip the sepaxml reference"
    )
    parser.add_argument(
        "--no-database",
        dest="database",
        action="store_false",
        help="skip the service's path through a new SQLite database",
    )
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="entraide-bench-payments-"))
    os.environ["ENTRAIDE_VAR_DIR"] = str(scratch)
    os.environ.pop("DATABASE_URL", None)  # the embedded default: SQLite in the scratch folder
    import django

    django.setup()
    started = time.perf_counter()
    transfers = make_transfers(options.count)
    header = make_header()
    print(
        f"{options.format}, {options.count:,} synthetic transfers (made in "
        f"{time.perf_counter() - started:.1f} s, not measured); Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    try:
        paths = measure(options, transfers, header)
        if options.database:
            started = time.perf_counter()
            batch_id = store_batch(transfers, header, options.format)
            print(
                f"(a released batch of {options.count:,} payments stored in SQLite in "
                f"{time.perf_counter() - started:.1f} s, not measured)"
            )
            paths.append(measure_service(options, batch_id))
        report(paths, options)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
