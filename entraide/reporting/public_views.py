"""What the reporting shows beyond the funds' staff, every figure suppressed whoever asks: the
donor's report of a programme (a PDF, made to be passed on), and a fund's public statistics page
(no account needed; only when the fund publishes it) with its settings for those who manage the
fund."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from entraide.core.dates import format_moment
from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.forms import add_domain_error
from entraide.funds import selectors as fund_selectors
from entraide.funds.models import Fund
from entraide.funds.permissions import Capability
from entraide.funds.window import zone_name
from entraide.programmes import selectors as programme_selectors
from entraide.reporting import donor_report, public_statistics
from entraide.reporting.public_forms import PublicStatisticsForm
from entraide.reporting.statistics import K
from entraide.reporting.views import pdf_response


@login_required
@require_safe
def programme_donor_report(request: HttpRequest, slug: str) -> HttpResponse:
    """The donor's report of the programme as a PDF (``?language=fr|en``, the page's language by
    default), for anyone who reads the programme. Each download is audited."""
    programme = programme_selectors.programme_for_reader(request.user, slug)
    language = donor_report.language_of(request.GET.get("language"))
    content = donor_report.download_donor_report(
        actor=request.user, programme=programme, language=language
    )
    return pdf_response(content, f"{programme.slug}-donor-report-{language}.pdf")


def _render_statistics(request: HttpRequest, fund: Fund, *, preview: bool) -> HttpResponse:
    figures = public_statistics.public_figures(fund)
    return render(
        request,
        "reporting/public_statistics.html",
        {
            "fund": fund,
            "figures": figures,
            "as_of": format_moment(figures.as_of, fund.time_zone),
            "zone": zone_name(fund.time_zone),
            "k": K,
            "preview": preview,
        },
    )


@require_safe
def fund_statistics_public(request: HttpRequest, slug: str) -> HttpResponse:
    """The fund's statistics for anyone, when it publishes them (else, and for a crew relief
    fund, 404); kept by shared caches as long as by the server's."""
    fund = fund_selectors.public_fund(slug)
    if not public_statistics.is_published(fund):
        raise Http404()
    response = _render_statistics(request, fund, preview=False)
    patch_cache_control(response, public=True, max_age=public_statistics.CACHE_SECONDS)
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def public_statistics_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Whether the fund publishes its statistics; ``?preview`` shows the page as the public
    would read it, published or not."""
    fund = fund_selectors.fund_for_staff(request.user, slug, Capability.MANAGE_FUND)
    if request.method != "POST" and "preview" in request.GET:
        response = _render_statistics(request, fund, preview=True)
        response["Cache-Control"] = "private, no-store"
        return response
    current = public_statistics.settings_of(fund)
    form = PublicStatisticsForm(
        request.POST if request.method == "POST" else None,
        initial={"published": current.published},
    )
    if request.method == "POST" and form.is_valid():
        try:
            public_statistics.save_public_statistics_settings(
                actor=request.user, fund=fund, published=form.cleaned_data["published"]
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("The statistics are published.")
                if form.cleaned_data["published"]
                else _("The statistics are not published."),
            )
            return redirect("public_statistics_settings", slug=fund.slug)
    return render(
        request,
        "reporting/public_statistics_settings.html",
        {"fund": fund, "form": form, "public_statistics": current},
    )
