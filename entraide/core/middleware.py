from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import permission_denied

from entraide.core.errors import NotFound, PermissionDenied


class DomainErrorMiddleware:
    """A refusal raised by a service or a permission check becomes a 403 or 404 page, not a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        if isinstance(exception, NotFound):
            raise Http404(str(exception.message)) from exception
        return None
