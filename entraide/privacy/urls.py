from django.urls import path

from entraide.privacy import views

urlpatterns = [
    path("funds/<slug:slug>/privacy/", views.privacy_notice, name="fund_privacy_notice"),
    path("me/data.zip", views.my_data, name="my_data_download"),
    path(
        "me/applications/<str:reference>/erasure/",
        views.application_erasure,
        name="application_erasure",
    ),
    path(
        "staff/funds/<slug:slug>/privacy/retention/",
        views.retention_policy,
        name="privacy_retention",
    ),
    path(
        "staff/funds/<slug:slug>/privacy/erasure-requests/",
        views.erasure_requests,
        name="privacy_erasure_requests",
    ),
    path(
        "staff/funds/<slug:slug>/privacy/erasure-requests/<str:reference>/",
        views.erasure_request,
        name="privacy_erasure_request",
    ),
    path("staff/privacy/register/", views.processing_register, name="privacy_register"),
    path(
        "staff/privacy/register.<str:file_format>",
        views.processing_register_download,
        name="privacy_register_download",
    ),
]
