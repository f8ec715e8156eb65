from django.urls import path  # noqa: F401

from entraide.crew import import_views, relief_views

urlpatterns = [
    # Rosters (import_views)
    # Relief runs and settings (relief_views)
]
