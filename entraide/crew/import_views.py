"""The rosters of a programme's crew relief: the files imported and the productions (with the
form to import a roster), one import's lines refused, one production's crew.

Crew lists are personal data: the programme's managers (and the fund operators) read them; its
donor is refused (403), as anyone else who may read the programme, and those who may not read
it get 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from entraide.core.errors import DomainError, PermissionDenied
from entraide.core.files import clean_file_name
from entraide.core.forms import add_domain_error
from entraide.crew import selectors, services
from entraide.crew.forms import RosterFileForm
from entraide.crew.models import RosterImport
from entraide.programmes.models import Programme


def _render_rosters(
    request: HttpRequest,
    programme: Programme,
    form: RosterFileForm | None = None,
    earlier: RosterImport | None = None,
) -> HttpResponse:
    size = settings.BACKOFFICE_PAGE_SIZE
    imports = Paginator(selectors.roster_imports(programme), size)
    productions = Paginator(selectors.productions_with_crew_count(programme), size)
    # Two lists, two page parameters: the productions' is "page", as pagination.html writes.
    imports_page = imports.get_page(request.GET.get("imports"))
    productions_page = productions.get_page(request.GET.get("page"))
    return render(
        request,
        "crew/roster_list.html",
        {
            "programme": programme,
            "form": form or RosterFileForm(),
            "earlier": earlier,
            "imports": imports_page,
            "page": productions_page,
            # Each list's pages keep the other list's page.
            "imports_query": f"page={productions_page.number}",
            "query": f"imports={imports_page.number}",
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def roster_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The rosters imported and the productions; a roster uploaded is imported at once and its
    page shown."""
    programme = selectors.programme_for_crew_staff(request.user, slug)
    if request.method != "POST":
        return _render_rosters(request, programme)
    form = RosterFileForm(request.POST, request.FILES)
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            done = services.import_roster(
                actor=request.user,
                programme=programme,
                file_name=clean_file_name(uploaded.name),
                content=uploaded.read(),
            )
        except PermissionDenied:
            raise
        except DomainError as error:
            add_domain_error(form, error)
            form.describe_fields()
            earlier = (
                error.roster_import if isinstance(error, services.RosterAlreadyImported) else None
            )
            return _render_rosters(request, programme, form, earlier)
        messages.success(
            request,
            _("%(file)s is imported: %(kept)s of %(rows)s lines kept.")
            % {"file": done.file_name, "kept": done.accepted, "rows": done.rows},
        )
        return redirect("crew_roster", slug=programme.slug, import_id=done.pk)
    return _render_rosters(request, programme, form)


@login_required
@require_safe
def roster_detail(request: HttpRequest, slug: str, import_id: int) -> HttpResponse:
    """What one import kept, and each line it refused with its column and reason."""
    programme = selectors.programme_for_crew_staff(request.user, slug)
    roster_import = selectors.roster_import_of(programme, import_id)
    problems = Paginator(roster_import.problems, settings.BACKOFFICE_PAGE_SIZE)
    listed_lines = len({problem["line"] for problem in roster_import.problems})
    return render(
        request,
        "crew/roster_detail.html",
        {
            "programme": programme,
            "roster_import": roster_import,
            "productions": selectors.productions_of_roster(roster_import),
            "page": problems.get_page(request.GET.get("page")),
            "unlisted": roster_import.rows - roster_import.accepted - listed_lines,
        },
    )


@login_required
@require_safe
def production_detail(request: HttpRequest, slug: str, production_id: int) -> HttpResponse:
    """A production and its crew, by name (bank accounts by their last characters)."""
    programme = selectors.programme_for_crew_staff(request.user, slug)
    production = selectors.production_of(programme, production_id)
    crew = Paginator(selectors.crew_of(production), settings.BACKOFFICE_PAGE_SIZE)
    return render(
        request,
        "crew/production_detail.html",
        {
            "programme": programme,
            "production": production,
            "page": crew.get_page(request.GET.get("page")),
        },
    )
