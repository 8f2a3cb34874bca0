from django.urls import path

from cities import views

app_name = "cities"

urlpatterns = [
    path("", views.city_list, name="list"),
    path("<int:pk>/", views.city_detail, name="detail"),
    path("<int:pk>/edit/", views.city_edit, name="edit"),
]
