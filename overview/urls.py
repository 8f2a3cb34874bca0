from django.urls import path

from overview import views

app_name = "overview"

urlpatterns = [
    path("map/", views.map_page, name="map"),
    path("map/data.json", views.map_data, name="map-data"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/<slug:name>.csv", views.dashboard_csv, name="dashboard-csv"),
]
