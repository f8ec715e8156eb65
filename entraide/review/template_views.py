"""The operator's pages for the messages to applicants: the fund's eight messages (four kinds,
French and English), and the page to reword one, preview it and go back to the default."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from entraide.core.errors import DomainError
from entraide.core.forms import AccessibleForm, add_domain_error
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability
from entraide.review import messages, template_services
from entraide.review.models import MessageTemplate

LANGUAGE_NAMES = dict(settings.LANGUAGES)


class MessageTemplateForm(AccessibleForm):
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Text"), max_length=10000, widget=forms.Textarea(attrs={"rows": 16})
    )

    def __init__(self, *args: Any, kind: str, language: str, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["lang"] = language  # the message's, not the page's

    def clean_subject(self) -> str:
        return self._checked(self.cleaned_data["subject"])

    def clean_body(self) -> str:
        return self._checked(self.cleaned_data["body"])

    def _checked(self, text: str) -> str:
        problems = messages.placeholder_problems(text, self.kind)
        if problems:
            raise forms.ValidationError(problems)
        return text


@login_required
@require_safe
def message_templates(request: HttpRequest, slug: str) -> HttpResponse:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    custom = messages.custom_templates(fund)
    rows = [
        {
            "kind": kind,
            "kind_label": label,
            "language": language,
            "language_label": LANGUAGE_NAMES[language],
            "custom": custom.get((kind, language)),
        }
        for kind, label in MessageTemplate.Kind.choices
        for language in LANGUAGE_NAMES
    ]
    return render(request, "review/message_templates.html", {"fund": fund, "rows": rows})


def _message_of(request: HttpRequest, slug: str, kind: str, language: str) -> tuple[Fund, str]:
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    if kind not in MessageTemplate.Kind.values or language not in LANGUAGE_NAMES:
        raise Http404
    return fund, str(MessageTemplate.Kind(kind).label)


@login_required
@require_http_methods(["GET", "POST"])
def message_template_edit(
    request: HttpRequest, slug: str, kind: str, language: str
) -> HttpResponse:
    """Reword one message; "Preview" shows the typed text on a made-up application without
    saving it."""
    fund, kind_label = _message_of(request, slug, kind, language)
    custom = messages.custom_texts(fund, kind, language)
    subject, body = custom or messages.default_texts(kind, language)
    form = MessageTemplateForm(
        request.POST or None,
        kind=kind,
        language=language,
        initial={"subject": subject, "body": body},
    )
    if request.method == "POST" and form.is_valid():
        subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
        if "save" in request.POST:
            try:
                template_services.save_message_template(
                    actor=request.user,
                    fund=fund,
                    kind=kind,
                    language=language,
                    subject=subject,
                    body=body,
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                flash.success(request, _("The message was saved."))
                return redirect("message_templates", slug=fund.slug)
    preview = None
    if not form.is_bound or form.is_valid():
        preview = messages.render_texts(subject, body, messages.sample_values(fund, language))
    return render(
        request,
        "review/message_template_edit.html",
        {
            "fund": fund,
            "kind": kind,
            "kind_label": kind_label,
            "language": language,
            "language_label": LANGUAGE_NAMES[language],
            "form": form,
            "custom": custom is not None,
            "placeholders": messages.placeholders_for(kind),
            "preview": preview,
        },
    )


@login_required
@require_POST
def message_template_reset(
    request: HttpRequest, slug: str, kind: str, language: str
) -> HttpResponse:
    fund, _kind_label = _message_of(request, slug, kind, language)
    template_services.reset_message_template(
        actor=request.user, fund=fund, kind=kind, language=language
    )
    flash.success(request, _("The message is back to the platform's wording."))
    return redirect("message_template_edit", slug=fund.slug, kind=kind, language=language)
