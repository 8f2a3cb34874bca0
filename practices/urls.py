from django.urls import path

from practices import views

app_name = "practices"

urlpatterns = [
    path("", views.practice_list, name="list"),
    path("moderation/", views.moderation_queue, name="moderation"),
    path("new/", views.practice_create, name="create"),
    path("similar/", views.similar_practices, name="similar"),
    path("exports/", views.export_start, name="export_start"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
    path("exports/<int:pk>/download/", views.export_download, name="export_download"),
    path("<int:pk>/", views.practice_detail, name="detail"),
    path("<int:pk>/edit/", views.practice_edit, name="edit"),
    path("<int:pk>/translations/<str:language>/", views.practice_translate, name="translate"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.practice_attachment, name="attachment"),
    path("<int:pk>/<slug:move>/", views.practice_move, name="move"),
]
