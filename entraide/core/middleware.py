from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.defaults import permission_denied

from entraide.core.errors import DomainError, NotFound, PermissionDenied


class DomainErrorMiddleware:
    """A refusal raised by a service or a permission check becomes a 400, 403 or 404 page,
    never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        if isinstance(exception, NotFound):
            raise Http404(str(exception.message)) from exception
        if isinstance(exception, DomainError):
            # A refusal that the view did not expect: say why, as a client error.
            return render(request, "400.html", {"message": exception.message}, status=400)
        return None
