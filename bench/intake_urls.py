"""Server-side parts of bench/intake.py: the application's URLs plus the baseline, a bare
Django view that inserts one row; and the middleware that tells wrk which request a response
answers."""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from entraide.urls import urlpatterns as application_urls


def echo_bench_seq(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Copy the request's Bench-Seq header (its line in wrk's plan) onto the response: wrk's
    scripts cannot tell which connection a response came on."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if "Bench-Seq" in request.headers:
            response["Bench-Seq"] = request.headers["Bench-Seq"]
        return response

    return middleware


@csrf_exempt
@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    """One row per idempotency key, in one statement; a retried key inserts nothing and says
    so, as the API does (the same contract, without the application's work)."""
    key = request.headers["Idempotency-Key"]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_row (key, body) VALUES (%s, %s) "
            "ON CONFLICT (key) DO NOTHING RETURNING id",
            [key, request.body.decode()],
        )
        row = cursor.fetchone()
    if row is None:
        response = JsonResponse({"key": key}, status=201)
        response["Idempotent-Replayed"] = "true"
        return response
    return JsonResponse({"key": key, "id": row[0]}, status=201)


urlpatterns = [path("bench/insert/", insert), *application_urls]
