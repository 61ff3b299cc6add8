from django.urls import path

from . import views

urlpatterns = [
    path("organizations/new/", views.organization_new, name="onboarding-organization-new"),
    path("team/", views.team, name="onboarding-team"),
    path("team/members/<int:pk>/", views.membership_change, name="onboarding-membership"),
    path("team/invitations/<int:pk>/revoke/", views.invitation_revoke, name="onboarding-invitation-revoke"),
    path("invitations/<str:token>/", views.invitation_accept, name="onboarding-accept"),
    path("historical-load/complete/", views.historical_load_complete, name="onboarding-historical-complete"),
]
