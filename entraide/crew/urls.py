from django.urls import path

from entraide.crew import import_views, relief_views

urlpatterns = [
    # Rosters (import_views)
    path(
        "staff/programmes/<slug:slug>/crew/rosters/",
        import_views.roster_list,
        name="crew_rosters",
    ),
    path(
        "staff/programmes/<slug:slug>/crew/rosters/<int:import_id>/",
        import_views.roster_detail,
        name="crew_roster",
    ),
    path(
        "staff/programmes/<slug:slug>/crew/productions/<int:production_id>/",
        import_views.production_detail,
        name="crew_production",
    ),
    # Relief runs and settings (relief_views)
    path(
        "staff/programmes/<slug:slug>/crew/settings/",
        relief_views.crew_settings,
        name="crew_settings",
    ),
    path("staff/programmes/<slug:slug>/crew/runs/", relief_views.crew_runs, name="crew_runs"),
    path(
        "staff/programmes/<slug:slug>/crew/runs/<str:reference>/",
        relief_views.crew_run,
        name="crew_run",
    ),
    path(
        "staff/programmes/<slug:slug>/crew/runs/<str:reference>/approve/",
        relief_views.crew_run_approve,
        name="crew_run_approve",
    ),
    path(
        "staff/programmes/<slug:slug>/crew/runs/<str:reference>/reject/",
        relief_views.crew_run_reject,
        name="crew_run_reject",
    ),
    path(
        "staff/programmes/<slug:slug>/crew/runs/<str:reference>/payouts/<int:payout_id>/exclude/",
        relief_views.crew_payout_exclude,
        name="crew_payout_exclude",
    ),
    path(
        "staff/programmes/<slug:slug>/crew/runs/<str:reference>/payouts/<int:payout_id>/include/",
        relief_views.crew_payout_include,
        name="crew_payout_include",
    ),
]
