from django.urls import path

from partnerships import views

app_name = "partnerships"

urlpatterns = [
    path("", views.agreement_list, name="list"),
    path("inbox/", views.inbox, name="inbox"),
    path("new/<int:partner_pk>/", views.agreement_create, name="create"),
    path("<int:pk>/", views.agreement_detail, name="detail"),
    path("<int:pk>/edit/", views.agreement_edit, name="edit"),
    path("<int:pk>/activities/", views.activity_create, name="activity"),
    path("<int:pk>/translations/<str:language>/", views.agreement_translate, name="translate"),
    path("<int:pk>/memorandum/", views.agreement_memorandum, name="memorandum"),
    path("<int:pk>/<slug:move>/", views.agreement_move, name="move"),
]
