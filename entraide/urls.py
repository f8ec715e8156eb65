from django.contrib import admin
from django.urls import include, path

from entraide.applications import views as portal
from entraide.funds import views as funds
from entraide.review import views as review

urlpatterns = [
    path("", portal.home, name="home"),
    path("funds/<slug:slug>/", portal.fund_page, name="fund_page"),
    path("funds/<slug:slug>/apply/", portal.apply, name="apply"),
    path("me/applications/", portal.my_applications, name="my_applications"),
    path("me/applications/<str:reference>/", portal.application_status, name="application_status"),
    path("staff/", funds.staff_home, name="staff_home"),
    path("staff/funds/new/", funds.fund_create, name="fund_create"),
    path("staff/funds/<slug:slug>/", review.fund_dashboard, name="fund_dashboard"),
    path("staff/funds/<slug:slug>/applications/", review.application_list, name="application_list"),
    path(
        "staff/funds/<slug:slug>/applications/<str:reference>/",
        review.application_detail,
        name="staff_application",
    ),
    path("staff/funds/<slug:slug>/exports/", review.export_start, name="export_start"),
    path(
        "staff/funds/<slug:slug>/exports/<str:task_id>/", review.export_status, name="export_status"
    ),
    path(
        "staff/funds/<slug:slug>/exports/<str:task_id>/download/",
        review.export_download,
        name="export_download",
    ),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
