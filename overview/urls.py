from django.urls import path

from overview import views

app_name = "overview"

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("map/data.json", views.map_data, name="map-data"),
]
