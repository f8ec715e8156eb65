"""The reasons a bank gives when a SEPA credit transfer is rejected or returned.

The codes are the ISO 20022 external status and return reason codes (ExternalStatusReason1Code,
ExternalReturnReason1Code) that banks put in a pain.002 status report or a camt.054
notification. Each comes with a short explanation for finance staff and whether new bank details
from the applicant would help: they do when the beneficiary's account is wrong, closed or
blocked, not when the amount, a duplicate or a technical problem on the fund's side is to blame.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy


@dataclass(frozen=True)
class Reason:
    code: str
    explanation: str | Promise
    needs_new_bank_details: bool


# The beneficiary's account is wrong, closed or blocked: the applicant can give other details.
_ACCOUNT_PROBLEMS: dict[str, str | Promise] = {
    "AC01": pgettext_lazy("bank reason", "The account number (IBAN) is wrong or does not exist."),
    "AC03": pgettext_lazy("bank reason", "The beneficiary's account number (IBAN) is not valid."),
    "AC04": pgettext_lazy("bank reason", "The beneficiary's account is closed."),
    "AC06": pgettext_lazy(
        "bank reason", "The beneficiary's account is blocked and cannot receive transfers."
    ),
    "AG01": pgettext_lazy(
        "bank reason",
        "This kind of account cannot receive the transfer (a savings account, for example).",
    ),
    "BE01": pgettext_lazy(
        "bank reason", "The beneficiary's name does not match the holder of the account."
    ),
    "CNOR": pgettext_lazy(
        "bank reason", "The beneficiary's bank cannot be reached for SEPA transfers under this BIC."
    ),
    "BE06": pgettext_lazy("bank reason", "The beneficiary's bank does not know the beneficiary."),
    "RC01": pgettext_lazy("bank reason", "The beneficiary's bank identifier (BIC) is wrong."),
}

# The amount, a duplicate, the file or the fund's side: other bank details would not help.
_OTHER_PROBLEMS: dict[str, str | Promise] = {
    "AC02": pgettext_lazy("bank reason", "The fund's account number in the file is not valid."),
    "AC13": pgettext_lazy(
        "bank reason", "The fund's account is not of a type allowed for this payment."
    ),
    "AG02": pgettext_lazy(
        "bank reason", "The bank does not accept the kind of operation given in the file."
    ),
    "AM01": pgettext_lazy("bank reason", "The amount is zero."),
    "AM02": pgettext_lazy(
        "bank reason", "The amount is above what the bank allows for one transfer."
    ),
    "AM03": pgettext_lazy("bank reason", "The bank does not accept this currency."),
    "AM04": pgettext_lazy("bank reason", "There was not enough money on the fund's account."),
    "AM05": pgettext_lazy("bank reason", "The transfer was already made: a duplicate."),
    "AM09": pgettext_lazy("bank reason", "The amount is not the amount that was expected."),
    "BE04": pgettext_lazy("bank reason", "The beneficiary's address is missing or incomplete."),
    "BE05": pgettext_lazy(
        "bank reason", "The bank does not recognise the fund as the sender of the file."
    ),
    "CURR": pgettext_lazy("bank reason", "The currency is not the right one."),
    "CUST": pgettext_lazy("bank reason", "Cancelled or refused at the request of the customer."),
    "DNOR": pgettext_lazy("bank reason", "The fund's bank cannot be reached for SEPA transfers."),
    "DT01": pgettext_lazy("bank reason", "A date in the file is not valid."),
    "DUPL": pgettext_lazy("bank reason", "The bank received the same transfer twice."),
    "ED05": pgettext_lazy("bank reason", "The settlement between the banks failed."),
    "FF01": pgettext_lazy("bank reason", "The file's format is not valid for the bank."),
    "FOCR": pgettext_lazy(
        "bank reason", "Returned after the fund asked for the transfer to be cancelled."
    ),
    "FRAD": pgettext_lazy("bank reason", "Stopped by the bank on suspicion of fraud."),
    "MD07": pgettext_lazy(
        "bank reason", "The beneficiary has died: ask how to proceed before paying anyone."
    ),
    "MS02": pgettext_lazy("bank reason", "Refused by the beneficiary, who gave no reason."),
    "MS03": pgettext_lazy(
        "bank reason", "Refused by a bank, which gave no reason: ask the fund's bank."
    ),
    "NARR": pgettext_lazy(
        "bank reason", "The reason is in the bank's explanation that comes with the code."
    ),
    "RF01": pgettext_lazy("bank reason", "The transfer's reference is not unique."),
    "RR01": pgettext_lazy(
        "bank reason", "Regulatory reason: the fund's account details are missing."
    ),
    "RR02": pgettext_lazy(
        "bank reason", "Regulatory reason: the fund's name or address is missing."
    ),
    "RR03": pgettext_lazy(
        "bank reason", "Regulatory reason: the beneficiary's name or address is missing."
    ),
    "RR04": pgettext_lazy("bank reason", "Regulatory reason, not detailed by the bank."),
    "TECH": pgettext_lazy("bank reason", "A technical problem at a bank."),
    "TM01": pgettext_lazy("bank reason", "The file reached the bank after its cut-off time."),
}

REASONS: dict[str, Reason] = {
    **{code: Reason(code, text, True) for code, text in _ACCOUNT_PROBLEMS.items()},
    **{code: Reason(code, text, False) for code, text in _OTHER_PROBLEMS.items()},
}


def _normalise(code: str) -> str:
    return code.strip().upper()


def explain(code: str) -> str:
    """The explanation of ``code`` for finance staff, in the current language."""
    normalised = _normalise(code)
    if not normalised:
        return gettext("The bank gave no reason code.")
    reason = REASONS.get(normalised)
    if reason is None:
        return gettext("Reason code %(code)s (not in our list)") % {"code": code.strip()}
    return str(reason.explanation)


def needs_new_bank_details(code: str) -> bool:
    """Whether asking the applicant for other bank details would let the transfer succeed
    (an unknown code: no, a person looks into it)."""
    reason = REASONS.get(_normalise(code))
    return reason is not None and reason.needs_new_bank_details
