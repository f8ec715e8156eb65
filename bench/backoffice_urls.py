"""Server-side part of bench/backoffice.py: the application's URLs plus the baseline, a bare
Django view that lists 50 applications."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.urls import path

from entraide.applications.models import Application
from entraide.urls import urlpatterns as application_urls

PAGE = Template(
    "<!DOCTYPE html><html><body><table>"
    "{% for a in applications %}<tr><td>{{ a.reference }}</td><td>{{ a.last_name }} "
    "{{ a.first_name }}</td><td>{{ a.submitted_at }}</td><td>{{ a.get_status_display }}</td>"
    "</tr>{% endfor %}</table></body></html>"
)


@login_required
def baseline(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.render(Context({"applications": Application.objects.all()[:50]})))


urlpatterns = [path("bench/baseline/", baseline), *application_urls]
