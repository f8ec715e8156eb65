"""The rule editor: the draft in forms and in YAML, validated on save, errors on their field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from entraide.funds.models import Fund, FundRole
from entraide.funds.tests.factories import FundFactory, FundRoleFactory
from entraide.rules import services
from entraide.rules.document import build, load, read_source
from entraide.rules.editor import dump_source, parse_path, path_text, starter_source
from entraide.rules.forms import RuleEditorForm
from entraide.rules.models import RuleSetVersion
from entraide.rules.tests.factories import NETFLIX_AUDIENS, SIMPLE_RULES, RuleSetVersionFactory

pytestmark = pytest.mark.django_db


def admin_of(fund: Fund) -> Any:
    return FundRoleFactory.create(fund=fund, role=FundRole.Role.OPERATOR_ADMIN).user


def draft_of(fund: Fund, source: str = SIMPLE_RULES) -> RuleSetVersion:
    return services.save_draft(actor=admin_of(fund), fund=fund, source=source)


def edit_url(version: RuleSetVersion) -> str:
    return reverse(
        "rule_draft_edit", kwargs={"slug": version.rule_set.fund.slug, "number": version.number}
    )


def form_data(form: RuleEditorForm, **changes: str) -> dict[str, str]:
    """What the browser sends back for the form as shown, with some fields changed."""
    data = {"mode": "fields"}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else str(value)
    for name, value in changes.items():
        assert name in data, name
        data[name] = value
    return data


def logged_in_admin(client: Client, fund: Fund) -> None:
    client.force_login(admin_of(fund))


# --------------------------------------------------------------------------------------------
# Paths and YAML
# --------------------------------------------------------------------------------------------


def test_paths_read_and_write_as_validation_problems_name_them() -> None:
    for text in ("criteria[2].test", "amount.components[0].tiers.steps[1].up_to", "currency"):
        assert path_text(parse_path(text)) == text
    assert parse_path("evidence.days.window.from") == ("evidence", "days", "window", "from")


def test_a_document_written_back_to_yaml_keeps_its_meaning_and_its_header_comments() -> None:
    data = read_source(NETFLIX_AUDIENS)

    source = dump_source(data, NETFLIX_AUDIENS)

    assert source.startswith("# Fund A of DESIGN.md: the Netflix × Audiens emergency fund")
    assert read_source(source) == data
    assert load(source) == load(NETFLIX_AUDIENS)


def test_the_starting_document_of_a_fund_is_valid_and_in_its_currency() -> None:
    fund = FundFactory.create(slug="9-lives", currency="GBP", name="Theatre crews' fund")

    document = load(starter_source(fund))

    assert (document.id, document.currency) == ("fund-9-lives", "GBP")
    assert document.effective_from == fund.opens_on
    assert document.components[0].flat == fund.standard_amount


# --------------------------------------------------------------------------------------------
# The form
# --------------------------------------------------------------------------------------------


def test_the_form_has_a_field_for_each_value_that_operators_change_most() -> None:
    with translation.override("en"):
        form = RuleEditorForm(document=read_source(NETFLIX_AUDIENS))

    paths = {path_text(path) for path in form.paths.values()}

    assert {
        "effective_from",
        "parameters.min_days",
        "parameters.resources_ceiling",
        "evidence.days_sep_feb.window.from",
        "evidence.days_sep_feb.window.to",
        "evidence.rights_ended_2020.ended.to",
        "evidence.benefits_now.at",
        "criteria[3].test",
        "criteria[3].label.fr",
        "criteria[3].label.en",
        "criteria[3].explanation.fail.en",
        "amount.components[0].tiers.steps[0].up_to",
        "amount.components[0].tiers.steps[0].amount",
        "amount.components[0].tiers.otherwise",
    } <= paths
    legends = [group.legend for group in form.groups]
    assert legends[:2] == ["The rules", "Parameters: thresholds, amounts and dates"]


def test_per_unit_and_range_components_have_their_own_fields() -> None:
    data = read_source(SIMPLE_RULES)
    data["amount"]["components"] = [
        {"id": "dates", "per_unit": {"units": "annual_resources", "rate": 100, "cap": 5}},
        {"id": "need", "range": {"min": 200, "max": 800, "default": 400}},
        {"id": "base", "flat": 1000},
    ]
    build(data)
    form = RuleEditorForm(document=data)

    paths = {path_text(path) for path in form.paths.values()}

    assert {
        "amount.components[0].per_unit.rate",
        "amount.components[0].per_unit.cap",
        "amount.components[1].range.min",
        "amount.components[1].range.max",
        "amount.components[1].range.default",
        "amount.components[2].flat",
    } <= paths
    changed = RuleEditorForm(
        form_data(form, amount__components__0__per_unit__cap=""), document=data
    )
    assert changed.is_valid(), changed.errors
    assert "cap" not in changed.updated_document()["amount"]["components"][0]["per_unit"]


# --------------------------------------------------------------------------------------------
# Through the editor's page
# --------------------------------------------------------------------------------------------


def test_editing_a_threshold_in_the_form_saves_it_in_the_draft(client: Client) -> None:
    fund = FundFactory.create()
    draft = draft_of(fund, NETFLIX_AUDIENS)
    logged_in_admin(client, fund)
    page = client.get(edit_url(draft))
    form = page.context["editor"]

    response = client.post(
        edit_url(draft),
        form_data(
            form,
            parameters__min_days="10",
            evidence__days_sep_feb__window__from="2019-10-01",
            criteria__5__label__en="Annual resources of at most €16,000",
            amount__components__0__tiers__steps__0__up_to="16000",
            effective_from="2020-05-01",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == edit_url(draft)
    draft.refresh_from_db()
    assert draft.document["parameters"]["min_days"] == 10
    assert draft.document["evidence"]["days_sep_feb"]["window"]["from"] == "2019-10-01"
    assert draft.document["criteria"][5]["label"]["en"] == "Annual resources of at most €16,000"
    assert draft.document["amount"]["components"][0]["tiers"]["steps"][0]["up_to"] == 16000
    assert draft.effective_from == dt.date(2020, 5, 1)
    assert draft.source.startswith("# Fund A of DESIGN.md")
    document = load(draft.source)
    assert document.parameters["min_days"] == 10
    # What the form did not show is unchanged.
    assert document.eligibility == load(NETFLIX_AUDIENS).eligibility
    assert "The draft was saved" in client.get(response["Location"]).content.decode()


def test_an_invalid_test_keeps_what_was_typed_and_shows_the_path_next_to_the_field(
    client: Client,
) -> None:
    fund = FundFactory.create()
    draft = draft_of(fund)
    logged_in_admin(client, fund)
    form = client.get(edit_url(draft)).context["editor"]

    response = client.post(
        edit_url(draft),
        form_data(
            form,
            criteria__0__test="dayz >= min_days",
            parameters__min_days="15",
        ),
    )
    bad_date = client.post(
        edit_url(draft), form_data(form, evidence__days__window__to="2020-02-30")
    )

    assert response.status_code == bad_date.status_code == 200
    editor = response.context["editor"]
    assert editor.errors == {"criteria__0__test": ["criteria[0].test: unknown name 'dayz'"]}
    assert list(bad_date.context["editor"].errors) == ["evidence__days__window__to"]
    assert (
        bad_date.context["editor"]
        .errors["evidence__days__window__to"][0]
        .startswith("evidence.days.window.to: ")
    )
    html = response.content.decode()
    assert 'value="dayz &gt;= min_days"' in html
    assert 'value="15"' in html
    assert 'id="id_criteria__0__test_error"' in html
    assert 'aria-invalid="true"' in html
    assert "criteria[0].test: unknown name" in html
    assert 'class="error-summary"' in html
    draft.refresh_from_db()
    assert draft.document["parameters"]["min_days"] == 12
    assert draft.document["criteria"][0]["test"] == "days >= min_days"


def test_a_field_the_form_itself_refuses_is_shown_without_saving(client: Client) -> None:
    fund = FundFactory.create()
    draft = draft_of(fund)
    logged_in_admin(client, fund)
    form = client.get(edit_url(draft)).context["editor"]

    response = client.post(edit_url(draft), form_data(form, parameters__min_days="twelve"))

    assert response.status_code == 200
    assert "parameters__min_days" in response.context["editor"].errors
    assert 'value="twelve"' in response.content.decode()


def test_the_yaml_of_the_draft_can_be_replaced_and_its_problems_are_listed_with_paths(
    client: Client,
) -> None:
    fund = FundFactory.create()
    draft = draft_of(fund)
    logged_in_admin(client, fund)
    broken = SIMPLE_RULES.replace("eligibility: worked", "eligibility: worked_hard")

    refused = client.post(edit_url(draft), {"mode": "yaml", "source": broken})

    assert refused.status_code == 200
    assert refused.context["source_form"].errors["source"] == [
        "eligibility: unknown criterion 'worked_hard'"
    ]
    assert "eligibility: worked_hard" in refused.content.decode()
    not_yaml = client.post(edit_url(draft), {"mode": "yaml", "source": "a: [b"})
    assert "line" in not_yaml.context["source_form"].errors["source"][0]

    saved = client.post(
        edit_url(draft),
        {"mode": "yaml", "source": SIMPLE_RULES.replace("min_days: 12", "min_days: 20")},
    )

    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.document["parameters"]["min_days"] == 20


def test_a_published_version_is_not_edited_but_shown(client: Client) -> None:
    version = RuleSetVersionFactory.create()
    logged_in_admin(client, version.rule_set.fund)

    response = client.get(edit_url(version))

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "rule_version", kwargs={"slug": version.rule_set.fund.slug, "number": version.number}
    )


def test_a_new_draft_starts_from_the_latest_version_or_from_the_starter(client: Client) -> None:
    fund = FundFactory.create()
    logged_in_admin(client, fund)

    first = client.post(reverse("rule_draft_new", kwargs={"slug": fund.slug}))

    starter = RuleSetVersion.objects.get(rule_set__fund=fund)
    assert first["Location"] == edit_url(starter)
    assert starter.document["id"] == fund.slug
    services.publish_version(actor=admin_of(fund), version=starter)

    second = client.post(reverse("rule_draft_new", kwargs={"slug": fund.slug}))

    draft = RuleSetVersion.objects.get(rule_set__fund=fund, status="draft")
    assert (draft.number, draft.source) == (2, starter.source)
    assert second["Location"] == edit_url(draft)
    again = client.post(reverse("rule_draft_new", kwargs={"slug": fund.slug}))
    assert again["Location"] == edit_url(draft)
    assert RuleSetVersion.objects.filter(rule_set__fund=fund).count() == 2
