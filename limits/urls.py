from django.urls import path

from . import views

urlpatterns = [
    path("", views.QueueView.as_view(), name="limits-queue"),
    path("requests/<int:pk>/decide/", views.DecideView.as_view(), name="limits-decide"),
    path("held/", views.HeldView.as_view(), name="limits-held"),
    path("reviews/", views.ReviewsView.as_view(), name="limits-reviews"),
    path("customers/<int:pk>/", views.CustomerCreditView.as_view(), name="limits-customer"),
    path("policy/", views.PolicyView.as_view(), name="limits-policy"),
]
