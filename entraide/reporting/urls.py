from django.urls import path  # noqa: F401

from entraide.reporting import dashboard_views, export_views

urlpatterns = [
    # Dashboards (dashboard_views)
    # Exports (export_views)
]
