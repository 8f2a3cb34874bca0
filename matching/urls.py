from django.urls import path

from matching import views

app_name = "matching"
urlpatterns = [
    path("recompute/", views.recompute, name="recompute"),
    path("recompute/<int:run_id>/stop/", views.stop, name="stop"),
    path("<int:pk>/dismiss/<int:candidate_pk>/", views.dismiss, name="dismiss"),
    path("<int:pk>/undo/<int:candidate_pk>/", views.undo, name="undo"),
]
