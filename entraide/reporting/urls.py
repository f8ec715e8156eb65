from django.urls import path

from entraide.reporting import dashboard_views, export_views, public_views

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
    # Beyond the funds' staff: the donor's report, public statistics (public_views)
    path(
        "staff/programmes/<slug:slug>/reports/donor-report.pdf",
        public_views.programme_donor_report,
        name="programme_donor_report",
    ),
    path(
        "staff/funds/<slug:slug>/public-statistics/",
        public_views.public_statistics_settings,
        name="public_statistics_settings",
    ),
    path(
        "funds/<slug:slug>/statistics/",
        public_views.fund_statistics_public,
        name="fund_statistics_public",
    ),
]
