from django.urls import path

from . import views

urlpatterns = [
    path("", views.ScoringHomeView.as_view(), name="scoring-home"),
    path("models/<int:pk>/", views.ModelDetailView.as_view(), name="scoring-model"),
    path("models/<int:pk>/promote/", views.promote, name="scoring-promote"),
    path("expert/publish/", views.publish_expert, name="scoring-publish-expert"),
    path("run/", views.run_now, name="scoring-run"),
    path("train/", views.train_start, name="scoring-train"),
    path("train/<int:pk>/", views.training_status, name="scoring-training-status"),
    path("promotions/<int:pk>/", views.promotion_decide, name="scoring-promotion-decide"),
]
