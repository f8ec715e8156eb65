from django.urls import path

from entraide.reporting import dashboard_views, export_views

urlpatterns = [
    # Dashboards (dashboard_views)
    path("staff/funds/<slug:slug>/reports/", dashboard_views.fund_reports, name="fund_reports"),
    path(
        "staff/programmes/<slug:slug>/reports/",
        dashboard_views.programme_reports,
        name="programme_reports",
    ),
    # Exports (export_views)
    path("staff/funds/<slug:slug>/exports/", export_views.export_start, name="export_start"),
    path(
        "staff/funds/<slug:slug>/exports/<str:task_id>/",
        export_views.export_status,
        name="export_status",
    ),
    path(
        "staff/funds/<slug:slug>/exports/<str:task_id>/download/",
        export_views.export_download,
        name="export_download",
    ),
]
