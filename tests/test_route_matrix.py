"""Every route the portal serves, every method, every persona: the answer is the expected one.

The routes come from the URL configuration itself, so a new page or endpoint without a row in
EXPECTED fails test_every_route_has_an_expectation. A row gives, for each method, the status
each persona gets (`everyone(...)` with exceptions). The objects in the URLs: Almaty (the
officer's city), an agreement Almaty → Bishkek that Almaty has proposed, and a practice of
Almaty submitted for moderation (with a file): neither is public yet.

Personas: visitor; the city's officer (Almaty); another city's officer (Ozersk, Russia); the
country's coordinator (Kazakhstan); another country's coordinator (Uzbekistan); the SCO
coordinator; a machine client's API key; staff; an inactive officer of Almaty (treated as a
visitor, since Django will not log them in).

Set MATRIX_DUMP=1 to print what each route answers now, in MATRIX's format, when adding rows;
then read each new row against PRODUCT.md before pasting it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework_api_key.models import APIKey

from accounts.models import User
from matching import services as matching_services
from partnerships.models import Agreement
from practices import services as practice_services
from practices.models import LibraryExport, Practice
from tests.factories import (
    AgreementFactory,
    CityFactory,
    CountryFactory,
    PracticeFactory,
    TopicFactory,
    UserFactory,
)
from tests.test_uploads import PNG_BYTES

PERSONAS = (
    "visitor",
    "officer",
    "other_officer",
    "coordinator",
    "other_coordinator",
    "sco",
    "api_key",
    "staff",
    "inactive",
)
METHODS = ("GET", "POST", "PATCH", "DELETE")


# What each persona gets, route by route.
# Columns: visitor, the city's officer, another city's officer, the country's coordinator,
# another country's coordinator, the SCO coordinator, an API key, staff, an inactive person.
# Reading guide: 302 on a page is "log in first" (or, after a form, "done, see the result");
# 401 is the API's "log in first"; 403 an API key writing, or a person who sees the object but
# may not change it; 404 out of sight (PRODUCT.md); 405 a method the route does not take;
# 409 a move or change the agreement's or practice's status does not allow; 400 a move or form
# missing its fields (sign and renew check their required fields before who may make them:
# nothing is revealed, the agreement is in sight already).
MATRIX = """
# route                        method  vis off oth crd ocr sco key stf ina
home                           GET     200 200 200 200 200 200 200 200 200
home                           POST    200 200 200 200 200 200 200 200 200
home                           PATCH   200 200 200 200 200 200 200 200 200
home                           DELETE  200 200 200 200 200 200 200 200 200
cities:list                    GET     200 200 200 200 200 200 200 200 200
cities:list                    POST    200 200 200 200 200 200 200 200 200
cities:list                    PATCH   200 200 200 200 200 200 200 200 200
cities:list                    DELETE  200 200 200 200 200 200 200 200 200
cities:detail                  GET     200 200 200 200 200 200 200 200 200
cities:detail                  POST    200 200 200 200 200 200 200 200 200
cities:detail                  PATCH   200 200 200 200 200 200 200 200 200
cities:detail                  DELETE  200 200 200 200 200 200 200 200 200
cities:edit                    GET     302 200 403 403 403 403 302 403 302
cities:edit                    POST    302 200 403 403 403 403 302 403 302
cities:edit                    PATCH   302 200 403 403 403 403 302 403 302
cities:edit                    DELETE  302 200 403 403 403 403 302 403 302
partnerships:list              GET     200 200 200 200 200 200 200 200 200
partnerships:list              POST    200 200 200 200 200 200 200 200 200
partnerships:list              PATCH   200 200 200 200 200 200 200 200 200
partnerships:list              DELETE  200 200 200 200 200 200 200 200 200
partnerships:inbox             GET     302 200 200 200 200 200 302 200 302
partnerships:inbox             POST    302 200 200 200 200 200 302 200 302
partnerships:inbox             PATCH   302 200 200 200 200 200 302 200 302
partnerships:inbox             DELETE  302 200 200 200 200 200 302 200 302
partnerships:create            GET     302 302 200 403 403 403 302 403 302
partnerships:create            POST    302 302 200 403 403 403 302 403 302
partnerships:create            PATCH   302 302 200 403 403 403 302 403 302
partnerships:create            DELETE  302 302 200 403 403 403 302 403 302
partnerships:detail            GET     404 200 404 200 404 200 404 200 404
partnerships:detail            POST    404 200 404 200 404 200 404 200 404
partnerships:detail            PATCH   404 200 404 200 404 200 404 200 404
partnerships:detail            DELETE  404 200 404 200 404 200 404 200 404
partnerships:edit              GET     302 200 404 403 404 403 302 403 302
partnerships:edit              POST    302 200 404 403 404 403 302 403 302
partnerships:edit              PATCH   302 200 404 403 404 403 302 403 302
partnerships:edit              DELETE  302 200 404 403 404 403 302 403 302
partnerships:activity          GET     302 405 405 405 405 405 302 405 302
partnerships:activity          POST    302 400 404 403 404 403 302 403 302
partnerships:activity          PATCH   302 405 405 405 405 405 302 405 302
partnerships:activity          DELETE  302 405 405 405 405 405 302 405 302
partnerships:translate         GET     302 200 404 403 404 403 302 403 302
partnerships:translate         POST    302 200 404 403 404 403 302 403 302
partnerships:translate         PATCH   302 200 404 403 404 403 302 403 302
partnerships:translate         DELETE  302 200 404 403 404 403 302 403 302
partnerships:memorandum        GET     404 404 404 404 404 404 404 404 404
partnerships:memorandum        POST    404 404 404 404 404 404 404 404 404
partnerships:memorandum        PATCH   404 404 404 404 404 404 404 404 404
partnerships:memorandum        DELETE  404 404 404 404 404 404 404 404 404
partnerships:move              GET     302 200 404 302 404 302 302 302 302
partnerships:move              POST    302 400 404 403 404 403 302 403 302
partnerships:move              PATCH   302 405 404 405 404 405 302 405 302
partnerships:move              DELETE  302 405 404 405 404 405 302 405 302
practices:list                 GET     200 200 200 200 200 200 200 200 200
practices:list                 POST    200 200 200 200 200 200 200 200 200
practices:list                 PATCH   200 200 200 200 200 200 200 200 200
practices:list                 DELETE  200 200 200 200 200 200 200 200 200
practices:moderation           GET     302 200 200 200 200 200 302 200 302
practices:moderation           POST    302 200 200 200 200 200 302 200 302
practices:moderation           PATCH   302 200 200 200 200 200 302 200 302
practices:moderation           DELETE  302 200 200 200 200 200 302 200 302
practices:create               GET     302 200 200 403 403 403 302 403 302
practices:create               POST    302 200 200 403 403 403 302 403 302
practices:create               PATCH   302 200 200 403 403 403 302 403 302
practices:create               DELETE  302 200 200 403 403 403 302 403 302
practices:similar              GET     302 200 200 200 200 200 302 200 302
practices:similar              POST    302 405 405 405 405 405 302 405 302
practices:similar              PATCH   302 405 405 405 405 405 302 405 302
practices:similar              DELETE  302 405 405 405 405 405 302 405 302
practices:export_start         GET     302 405 405 405 405 405 302 405 302
practices:export_start         POST    302 302 302 302 302 302 302 302 302
practices:export_start         PATCH   302 405 405 405 405 405 302 405 302
practices:export_start         DELETE  302 405 405 405 405 405 302 405 302
practices:export               GET     302 200 404 404 404 404 302 404 302
practices:export               POST    302 200 404 404 404 404 302 404 302
practices:export               PATCH   302 200 404 404 404 404 302 404 302
practices:export               DELETE  302 200 404 404 404 404 302 404 302
practices:export_download      GET     302 200 404 404 404 404 302 404 302
practices:export_download      POST    302 200 404 404 404 404 302 404 302
practices:export_download      PATCH   302 200 404 404 404 404 302 404 302
practices:export_download      DELETE  302 200 404 404 404 404 302 404 302
practices:detail               GET     404 200 404 200 404 200 404 200 404
practices:detail               POST    404 200 404 200 404 200 404 200 404
practices:detail               PATCH   404 200 404 200 404 200 404 200 404
practices:detail               DELETE  404 200 404 200 404 200 404 200 404
practices:edit                 GET     302 302 404 302 404 302 302 403 302
practices:edit                 POST    302 302 404 302 404 302 302 403 302
practices:edit                 PATCH   302 302 404 302 404 302 302 403 302
practices:edit                 DELETE  302 302 404 302 404 302 302 403 302
practices:translate            GET     302 200 404 403 404 403 302 403 302
practices:translate            POST    302 200 404 403 404 403 302 403 302
practices:translate            PATCH   302 200 404 403 404 403 302 403 302
practices:translate            DELETE  302 200 404 403 404 403 302 403 302
practices:attachment           GET     404 200 404 200 404 200 404 200 404
practices:attachment           POST    404 200 404 200 404 200 404 200 404
practices:attachment           PATCH   404 200 404 200 404 200 404 200 404
practices:attachment           DELETE  404 200 404 200 404 200 404 200 404
practices:move                 GET     302 405 405 405 405 405 302 405 302
practices:move                 POST    302 403 404 302 404 302 302 403 302
practices:move                 PATCH   302 405 405 405 405 405 302 405 302
practices:move                 DELETE  302 405 405 405 405 405 302 405 302
password_reset                 GET     200 200 200 200 200 200 200 200 200
password_reset                 POST    200 200 200 200 200 200 200 200 200
password_reset                 PATCH   405 405 405 405 405 405 405 405 405
password_reset                 DELETE  405 405 405 405 405 405 405 405 405
login                          GET     200 200 200 200 200 200 200 200 200
login                          POST    200 200 200 200 200 200 200 200 200
login                          PATCH   405 405 405 405 405 405 405 405 405
login                          DELETE  405 405 405 405 405 405 405 405 405
logout                         GET     405 405 405 405 405 405 405 405 405
logout                         POST    302 302 302 302 302 302 302 302 302
logout                         PATCH   405 405 405 405 405 405 405 405 405
logout                         DELETE  405 405 405 405 405 405 405 405 405
password_change                GET     302 200 200 200 200 200 302 200 302
password_change                POST    302 200 200 200 200 200 302 200 302
password_change                PATCH   302 405 405 405 405 405 302 405 302
password_change                DELETE  302 405 405 405 405 405 302 405 302
password_change_done           GET     302 200 200 200 200 200 302 200 302
password_change_done           POST    302 405 405 405 405 405 302 405 302
password_change_done           PATCH   302 405 405 405 405 405 302 405 302
password_change_done           DELETE  302 405 405 405 405 405 302 405 302
password_reset_done            GET     200 200 200 200 200 200 200 200 200
password_reset_done            POST    405 405 405 405 405 405 405 405 405
password_reset_done            PATCH   405 405 405 405 405 405 405 405 405
password_reset_done            DELETE  405 405 405 405 405 405 405 405 405
password_reset_confirm         GET     200 200 200 200 200 200 200 200 200
password_reset_confirm         POST    200 200 200 200 200 200 200 200 200
password_reset_confirm         PATCH   200 200 200 200 200 200 200 200 200
password_reset_confirm         DELETE  200 200 200 200 200 200 200 200 200
password_reset_complete        GET     200 200 200 200 200 200 200 200 200
password_reset_complete        POST    405 405 405 405 405 405 405 405 405
password_reset_complete        PATCH   405 405 405 405 405 405 405 405 405
password_reset_complete        DELETE  405 405 405 405 405 405 405 405 405
set_language                   GET     302 302 302 302 302 302 302 302 302
set_language                   POST    302 302 302 302 302 302 302 302 302
set_language                   PATCH   302 302 302 302 302 302 302 302 302
set_language                   DELETE  302 302 302 302 302 302 302 302 302
notifications:preferences      GET     302 200 200 200 200 200 302 200 302
notifications:preferences      POST    302 200 200 200 200 200 302 200 302
notifications:preferences      PATCH   302 200 200 200 200 200 302 200 302
notifications:preferences      DELETE  302 200 200 200 200 200 302 200 302
notifications:outbox           GET     302 404 404 404 404 404 302 200 302
notifications:outbox           POST    302 404 404 404 404 404 302 200 302
notifications:outbox           PATCH   302 404 404 404 404 404 302 200 302
notifications:outbox           DELETE  302 404 404 404 404 404 302 200 302
notifications:retry            GET     302 405 405 405 405 405 302 405 302
notifications:retry            POST    302 404 404 404 404 404 302 302 302
notifications:retry            PATCH   302 405 405 405 405 405 302 405 302
notifications:retry            DELETE  302 405 405 405 405 405 302 405 302
overview:map                   GET     200 200 200 200 200 200 200 200 200
overview:map                   POST    200 200 200 200 200 200 200 200 200
overview:map                   PATCH   200 200 200 200 200 200 200 200 200
overview:map                   DELETE  200 200 200 200 200 200 200 200 200
overview:map-data              GET     200 200 200 200 200 200 200 200 200
overview:map-data              POST    200 200 200 200 200 200 200 200 200
overview:map-data              PATCH   200 200 200 200 200 200 200 200 200
overview:map-data              DELETE  200 200 200 200 200 200 200 200 200
overview:dashboard             GET     200 200 200 200 200 200 200 200 200
overview:dashboard             POST    200 200 200 200 200 200 200 200 200
overview:dashboard             PATCH   200 200 200 200 200 200 200 200 200
overview:dashboard             DELETE  200 200 200 200 200 200 200 200 200
overview:dashboard-csv         GET     200 200 200 200 200 200 200 200 200
overview:dashboard-csv         POST    200 200 200 200 200 200 200 200 200
overview:dashboard-csv         PATCH   200 200 200 200 200 200 200 200 200
overview:dashboard-csv         DELETE  200 200 200 200 200 200 200 200 200
matching:recompute             GET     302 403 403 403 403 403 302 200 302
matching:recompute             POST    302 403 403 403 403 403 302 302 302
matching:recompute             PATCH   302 403 403 403 403 403 302 200 302
matching:recompute             DELETE  302 403 403 403 403 403 302 200 302
matching:stop                  GET     302 403 403 403 403 403 302 405 302
matching:stop                  POST    302 403 403 403 403 403 302 302 302
matching:stop                  PATCH   302 403 403 403 403 403 302 405 302
matching:stop                  DELETE  302 403 403 403 403 403 302 405 302
matching:dismiss               GET     302 405 405 405 405 405 302 405 302
matching:dismiss               POST    302 302 403 403 403 403 302 403 302
matching:dismiss               PATCH   302 405 405 405 405 405 302 405 302
matching:dismiss               DELETE  302 405 405 405 405 405 302 405 302
matching:undo                  GET     302 405 405 405 405 405 302 405 302
matching:undo                  POST    302 302 403 403 403 403 302 403 302
matching:undo                  PATCH   302 405 405 405 405 405 302 405 302
matching:undo                  DELETE  302 405 405 405 405 405 302 405 302
api:schema                     GET     200 200 200 200 200 200 200 200 200
api:schema                     POST    405 405 405 405 405 405 405 405 405
api:schema                     PATCH   405 405 405 405 405 405 405 405 405
api:schema                     DELETE  405 405 405 405 405 405 405 405 405
api:docs                       GET     200 200 200 200 200 200 200 200 200
api:docs                       POST    405 405 405 405 405 405 405 405 405
api:docs                       PATCH   405 405 405 405 405 405 405 405 405
api:docs                       DELETE  405 405 405 405 405 405 405 405 405
api:city-suggestions           GET     200 200 200 200 200 200 200 200 200
api:city-suggestions           POST    405 405 405 405 405 405 403 405 405
api:city-suggestions           PATCH   405 405 405 405 405 405 403 405 405
api:city-suggestions           DELETE  405 405 405 405 405 405 403 405 405
api:country-list               GET     200 200 200 200 200 200 200 200 200
api:country-list               POST    405 405 405 405 405 405 403 405 405
api:country-list               PATCH   405 405 405 405 405 405 403 405 405
api:country-list               DELETE  405 405 405 405 405 405 403 405 405
api:country-detail             GET     200 200 200 200 200 200 200 200 200
api:country-detail             POST    405 405 405 405 405 405 403 405 405
api:country-detail             PATCH   405 405 405 405 405 405 403 405 405
api:country-detail             DELETE  405 405 405 405 405 405 403 405 405
api:topic-list                 GET     200 200 200 200 200 200 200 200 200
api:topic-list                 POST    405 405 405 405 405 405 403 405 405
api:topic-list                 PATCH   405 405 405 405 405 405 403 405 405
api:topic-list                 DELETE  405 405 405 405 405 405 403 405 405
api:topic-detail               GET     200 200 200 200 200 200 200 200 200
api:topic-detail               POST    405 405 405 405 405 405 403 405 405
api:topic-detail               PATCH   405 405 405 405 405 405 403 405 405
api:topic-detail               DELETE  405 405 405 405 405 405 403 405 405
api:city-list                  GET     200 200 200 200 200 200 200 200 200
api:city-list                  POST    405 405 405 405 405 405 403 405 405
api:city-list                  PATCH   405 405 405 405 405 405 403 405 405
api:city-list                  DELETE  405 405 405 405 405 405 403 405 405
api:city-detail                GET     200 200 200 200 200 200 200 200 200
api:city-detail                POST    405 405 405 405 405 405 403 405 405
api:city-detail                PATCH   405 405 405 405 405 405 403 405 405
api:city-detail                DELETE  405 405 405 405 405 405 403 405 405
api:agreement-list             GET     200 200 200 200 200 200 200 200 200
api:agreement-list             POST    401 400 400 400 400 400 403 400 401
api:agreement-list             PATCH   401 405 405 405 405 405 403 405 401
api:agreement-list             DELETE  401 405 405 405 405 405 403 405 401
api:agreement-detail           GET     404 200 404 200 404 200 404 200 404
api:agreement-detail           POST    401 405 405 405 405 405 403 405 401
api:agreement-detail           PATCH   401 409 404 403 404 403 403 403 401
api:agreement-detail           DELETE  401 405 405 405 405 405 403 405 401
api:agreement-accept           GET     405 405 405 405 405 405 405 405 405
api:agreement-accept           POST    401 403 404 403 404 403 403 403 401
api:agreement-accept           PATCH   401 405 405 405 405 405 403 405 401
api:agreement-accept           DELETE  401 405 405 405 405 405 403 405 401
api:agreement-activities       GET     404 200 404 200 404 200 404 200 404
api:agreement-activities       POST    401 400 404 400 404 400 403 400 401
api:agreement-activities       PATCH   401 405 405 405 405 405 403 405 401
api:agreement-activities       DELETE  401 405 405 405 405 405 403 405 401
api:agreement-approve          GET     405 405 405 405 405 405 405 405 405
api:agreement-approve          POST    401 403 404 409 404 409 403 403 401
api:agreement-approve          PATCH   401 405 405 405 405 405 403 405 401
api:agreement-approve          DELETE  401 405 405 405 405 405 403 405 401
api:agreement-decline          GET     405 405 405 405 405 405 405 405 405
api:agreement-decline          POST    401 403 404 403 404 403 403 403 401
api:agreement-decline          PATCH   401 405 405 405 405 405 403 405 401
api:agreement-decline          DELETE  401 405 405 405 405 405 403 405 401
api:agreement-memorandum       GET     404 404 404 404 404 404 404 404 404
api:agreement-memorandum       POST    401 405 405 405 405 405 403 405 401
api:agreement-memorandum       PATCH   401 405 405 405 405 405 403 405 401
api:agreement-memorandum       DELETE  401 405 405 405 405 405 403 405 401
api:agreement-propose          GET     405 405 405 405 405 405 405 405 405
api:agreement-propose          POST    401 200 404 403 404 403 403 403 401
api:agreement-propose          PATCH   401 405 405 405 405 405 403 405 401
api:agreement-propose          DELETE  401 405 405 405 405 405 403 405 401
api:agreement-reject           GET     405 405 405 405 405 405 405 405 405
api:agreement-reject           POST    401 403 404 409 404 409 403 403 401
api:agreement-reject           PATCH   401 405 405 405 405 405 403 405 401
api:agreement-reject           DELETE  401 405 405 405 405 405 403 405 401
api:agreement-renew            GET     405 405 405 405 405 405 405 405 405
api:agreement-renew            POST    401 400 404 400 404 400 403 400 401
api:agreement-renew            PATCH   401 405 405 405 405 405 403 405 401
api:agreement-renew            DELETE  401 405 405 405 405 405 403 405 401
api:agreement-resume           GET     405 405 405 405 405 405 405 405 405
api:agreement-resume           POST    401 403 404 409 404 409 403 403 401
api:agreement-resume           PATCH   401 405 405 405 405 405 403 405 401
api:agreement-resume           DELETE  401 405 405 405 405 405 403 405 401
api:agreement-sign             GET     405 405 405 405 405 405 405 405 405
api:agreement-sign             POST    401 400 404 400 404 400 403 400 401
api:agreement-sign             PATCH   401 405 405 405 405 405 403 405 401
api:agreement-sign             DELETE  401 405 405 405 405 405 403 405 401
api:agreement-suspend          GET     405 405 405 405 405 405 405 405 405
api:agreement-suspend          POST    401 403 404 409 404 409 403 403 401
api:agreement-suspend          PATCH   401 405 405 405 405 405 403 405 401
api:agreement-suspend          DELETE  401 405 405 405 405 405 403 405 401
api:agreement-terminate        GET     405 405 405 405 405 405 405 405 405
api:agreement-terminate        POST    401 400 404 400 404 400 403 403 401
api:agreement-terminate        PATCH   401 405 405 405 405 405 403 405 401
api:agreement-terminate        DELETE  401 405 405 405 405 405 403 405 401
api:agreement-translations     GET     405 405 405 405 405 405 405 405 405
api:agreement-translations     POST    401 400 404 400 404 400 403 400 401
api:agreement-translations     PATCH   401 405 405 405 405 405 403 405 401
api:agreement-translations     DELETE  401 405 405 405 405 405 403 405 401
api:agreement-withdraw         GET     405 405 405 405 405 405 405 405 405
api:agreement-withdraw         POST    401 200 404 403 404 403 403 403 401
api:agreement-withdraw         PATCH   401 405 405 405 405 405 403 405 401
api:agreement-withdraw         DELETE  401 405 405 405 405 405 403 405 401
api:practice-list              GET     200 200 200 200 200 200 200 200 200
api:practice-list              POST    401 400 400 400 400 400 403 400 401
api:practice-list              PATCH   401 405 405 405 405 405 403 405 401
api:practice-list              DELETE  401 405 405 405 405 405 403 405 401
api:practice-deleted           GET     200 200 200 200 200 200 200 200 200
api:practice-deleted           POST    401 405 405 405 405 405 403 405 401
api:practice-deleted           PATCH   401 405 405 405 405 405 403 405 401
api:practice-deleted           DELETE  401 405 405 405 405 405 403 405 401
api:practice-export-csv        GET     200 200 200 200 200 200 200 200 200
api:practice-export-csv        POST    401 405 405 405 405 405 403 405 401
api:practice-export-csv        PATCH   401 405 405 405 405 405 403 405 401
api:practice-export-csv        DELETE  401 405 405 405 405 405 403 405 401
api:practice-export-json       GET     200 200 200 200 200 200 200 200 200
api:practice-export-json       POST    401 405 405 405 405 405 403 405 401
api:practice-export-json       PATCH   401 405 405 405 405 405 403 405 401
api:practice-export-json       DELETE  401 405 405 405 405 405 403 405 401
api:practice-detail            GET     404 200 404 200 404 200 404 200 404
api:practice-detail            POST    401 405 405 405 405 405 403 405 401
api:practice-detail            PATCH   401 409 404 409 404 409 403 403 401
api:practice-detail            DELETE  401 204 404 403 404 403 403 204 401
api:practice-archive           GET     405 405 405 405 405 405 405 405 405
api:practice-archive           POST    401 409 404 409 404 409 403 403 401
api:practice-archive           PATCH   401 405 405 405 405 405 403 405 401
api:practice-archive           DELETE  401 405 405 405 405 405 403 405 401
api:practice-attachment        GET     404 200 404 200 404 200 404 200 404
api:practice-attachment        POST    401 405 405 405 405 405 403 405 401
api:practice-attachment        PATCH   401 405 405 405 405 405 403 405 401
api:practice-attachment        DELETE  401 409 404 403 404 403 403 403 401
api:practice-attachments       GET     405 405 405 405 405 405 405 405 405
api:practice-attachments       POST    401 400 404 400 404 400 403 400 401
api:practice-attachments       PATCH   401 405 405 405 405 405 403 405 401
api:practice-attachments       DELETE  401 405 405 405 405 405 403 405 401
api:practice-publish           GET     405 405 405 405 405 405 405 405 405
api:practice-publish           POST    401 403 404 200 404 200 403 403 401
api:practice-publish           PATCH   401 405 405 405 405 405 403 405 401
api:practice-publish           DELETE  401 405 405 405 405 405 403 405 401
api:practice-return            GET     405 405 405 405 405 405 405 405 405
api:practice-return            POST    401 403 404 400 404 400 403 403 401
api:practice-return            PATCH   401 405 405 405 405 405 403 405 401
api:practice-return            DELETE  401 405 405 405 405 405 403 405 401
api:practice-submit            GET     405 405 405 405 405 405 405 405 405
api:practice-submit            POST    401 200 404 403 404 403 403 403 401
api:practice-submit            PATCH   401 405 405 405 405 405 403 405 401
api:practice-submit            DELETE  401 405 405 405 405 405 403 405 401
api:practice-translations      GET     405 405 405 405 405 405 405 405 405
api:practice-translations      POST    401 400 404 400 404 400 403 400 401
api:practice-translations      PATCH   401 405 405 405 405 405 403 405 401
api:practice-translations      DELETE  401 405 405 405 405 405 403 405 401
api:api-root                   GET     200 200 200 200 200 200 200 200 200
api:api-root                   POST    405 405 405 405 405 405 403 405 405
api:api-root                   PATCH   405 405 405 405 405 405 403 405 405
api:api-root                   DELETE  405 405 405 405 405 405 403 405 405
"""


def parse(matrix: str) -> dict[str, dict[str, dict[str, int]]]:
    expected: dict[str, dict[str, dict[str, int]]] = {}
    for line in matrix.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, method, *statuses = line.split()
        assert len(statuses) == len(PERSONAS), line
        expected.setdefault(name, {})[method] = dict(zip(PERSONAS, map(int, statuses), strict=True))
    return expected


EXPECTED = parse(MATRIX)


def routes() -> Iterator[tuple[str, str]]:
    """(name, pattern) of every URL pattern, namespaces included."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                yield namespace + (pattern.name or str(pattern.pattern)), prefix + str(pattern.pattern)

    yield from walk(get_resolver().url_patterns, "", "")


def is_admin(name: str) -> bool:
    return name.startswith("admin:")


def test_every_route_has_an_expectation() -> None:
    missing = sorted(
        f"{name} {method}"
        for name in {name for name, _pattern in routes() if not is_admin(name)}
        for method in METHODS
        if method not in EXPECTED.get(name, {})
    )
    assert missing == [], "add a row to EXPECTED for each new route and method"
    stale = sorted(set(EXPECTED) - {name for name, _pattern in routes()})
    assert stale == [], "these rows name routes that no longer exist"


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    kz = CountryFactory.create(code="KZ", name="Kazakhstan")
    kg = CountryFactory.create(code="KG", name="Kyrgyzstan")
    uz = CountryFactory.create(code="UZ", name="Uzbekistan")
    ru = CountryFactory.create(code="RU", name="Russia")
    almaty = CityFactory.create(name="Almaty", country=kz)
    bishkek = CityFactory.create(name="Bishkek", country=kg)
    ozersk = CityFactory.create(name="Ozersk", country=ru)
    agreement = AgreementFactory.create(initiator=almaty, partner=bishkek, status=Agreement.Status.PROPOSED)
    people = {
        "officer": UserFactory.create(username="m.officer", role=User.Role.OFFICER, city=almaty),
        "other_officer": UserFactory.create(username="m.other", role=User.Role.OFFICER, city=ozersk),
        "coordinator": UserFactory.create(username="m.coord", role=User.Role.NATIONAL_COORDINATOR, country=kz),
        "other_coordinator": UserFactory.create(
            username="m.other-coord", role=User.Role.NATIONAL_COORDINATOR, country=uz
        ),
        "sco": UserFactory.create(username="m.sco", role=User.Role.SCO_COORDINATOR),
        "staff": UserFactory.create(username="m.staff", is_staff=True, is_superuser=True),
        "inactive": UserFactory.create(username="m.inactive", role=User.Role.OFFICER, city=almaty, is_active=False),
    }
    _record, key = APIKey.objects.create_key(name="matrix")
    topic = TopicFactory.create(slug="waste-management", name="Waste management")
    # Submitted (with a file from its draft days), so not public: its city's officers, the
    # country's coordinators and the SCO see it.
    practice = PracticeFactory.create(city=almaty, author=people["officer"], topics=[topic])
    attachment = practice_services.add_attachment(
        practice=practice, by=people["officer"], upload=SimpleUploadedFile("plan.png", PNG_BYTES)
    )
    Practice.objects.filter(pk=practice.pk).update(status=Practice.Status.SUBMITTED)
    # The officer's finished export of the library: its page and file are theirs alone.
    export = LibraryExport(requested_by=people["officer"], status=LibraryExport.Status.DONE)
    export.file.save("practices.csv", ContentFile(b"id\n"))
    # A full recompute of suggestions still queued: staff may stop it.
    run = matching_services.create_run()
    return {
        "run": run,
        "topic": topic,
        "practice": practice,
        "attachment": attachment,
        "export": export,
        "city": almaty,
        "partner": bishkek,
        "agreement": agreement,
        "people": people,
        "key": key,
        "kz": kz,
    }


def client_for(persona: str, world: dict[str, Any]) -> Client:
    if persona == "api_key":
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world['key']}")
        return client
    client = APIClient()
    if persona in world["people"]:
        # force_login logs in even an inactive person; Django's ModelBackend would refuse them
        # at login, and AuthenticationMiddleware then sees no user: the same visitor either way.
        client.force_login(world["people"][persona])
    return client


ARGUMENTS = {
    "pk": lambda world: world["agreement"].pk,
    "partner_pk": lambda world: world["partner"].pk,
    "code": lambda world: "KZ",
    "move": lambda world: "withdraw",
    "uidb64": lambda world: "MQ",
    "token": lambda world: "set-password",
    "language": lambda world: "ru",
    "attachment_pk": lambda world: world["attachment"].pk,
    "candidate_pk": lambda world: world["partner"].pk,
    "name": lambda world: "pairs",
    "run_id": lambda world: world["run"].pk,
}
CITY_ROUTES = {
    "cities:detail",
    "cities:edit",
    "api:city-detail",
    "api:city-suggestions",
    "matching:dismiss",
    "matching:undo",
}
TOPIC_ROUTES = {"api:topic-detail"}
EXPORT_ROUTES = {"practices:export", "practices:export_download"}
# The move in practices:move's URL (partnerships:move takes ARGUMENTS["move"]).
PRACTICE_MOVE = "publish"


def _object_for(name: str, world: dict[str, Any]) -> Any:
    """The object a route's `pk` names: the agreement unless the route is about another kind."""
    if name in CITY_ROUTES:
        return world["city"]
    if name in TOPIC_ROUTES:
        return world["topic"]
    if name in EXPORT_ROUTES:
        return world["export"]
    if name.startswith(("practices:", "api:practice-")):
        return world["practice"]
    return world["agreement"]


def url_for(name: str, pattern: str, world: dict[str, Any]) -> str:
    """A concrete path for `pattern`."""
    path = re.sub(r"\^|\$|\\", "", pattern)

    def value(match: re.Match[str]) -> str:
        argument = match.group("name")
        if argument == "pk":
            return str(_object_for(name, world).pk)
        if argument == "move" and name == "practices:move":
            return PRACTICE_MOVE
        return str(ARGUMENTS[argument](world))

    path = re.sub(r"\(\?P<(?P<name>\w+)>[^)]*\)", value, path)
    path = re.sub(r"<(?:\w+:)?(?P<name>\w+)>", value, path)
    return "/" + path


def answer(persona: str, world: dict[str, Any], method: str, path: str) -> int:
    # Each request from a fresh client (a logout or a language choice does not carry over), in
    # a savepoint rolled back after it: a move made by one persona does not change what the
    # next one sees.
    client = client_for(persona, world)
    with transaction.atomic():
        if method == "GET":
            response = client.get(path)
        elif method == "POST":
            response = client.post(path, {}, format="json") if path.startswith("/api/") else client.post(path, {})
        elif method == "PATCH":
            response = client.patch(path, {}, format="json")
        else:
            response = client.delete(path)
        if response.streaming:
            # Read to the end, so that the test client closes a download's file (as it does, with
            # the request_finished signal held back: closing it here would close the database
            # connection too).
            b"".join(response.streaming_content)  # type: ignore[attr-defined]
        transaction.set_rollback(True)
    return response.status_code


def actual_matrix(world: dict[str, Any]) -> dict[str, dict[str, dict[str, int]]]:
    found: dict[str, dict[str, dict[str, int]]] = {}
    for name, pattern in routes():
        if is_admin(name):
            continue
        path = url_for(name, pattern, world)
        for method in METHODS:
            found.setdefault(name, {})[method] = {persona: answer(persona, world, method, path) for persona in PERSONAS}
    return found


def test_every_route_answers_every_persona_as_expected(world: dict[str, Any]) -> None:
    found = actual_matrix(world)
    if os.environ.get("MATRIX_DUMP"):
        for name, methods in found.items():
            for method, statuses in methods.items():
                print(f"{name:30} {method:7} " + " ".join(str(statuses[persona]) for persona in PERSONAS))
    mismatches = [
        f"{method} {name} as {persona}: expected {expected}, got {found[name][method][persona]}"
        for name, methods in EXPECTED.items()
        if name in found
        for method, statuses in methods.items()
        for persona, expected in statuses.items()
        if found[name][method][persona] != expected
    ]
    assert mismatches == []


def test_admin_is_for_staff_only(world: dict[str, Any]) -> None:
    """Every admin page: staff get it, anyone else is sent to the admin's login."""
    for name, pattern in routes():
        if not is_admin(name) or "<" in pattern or "(?P" in pattern:
            continue
        path = "/admin/" + re.sub(r"\^|\$|\\", "", pattern[len("admin/") :])
        for persona in PERSONAS:
            status = answer(persona, world, "GET", path)
            if name in ("admin:login", "admin:logout"):
                assert status in (200, 302, 405), (persona, name, status)  # the way in and out, for anyone
            elif persona == "staff":
                # 403 only where the admin itself offers no such page to anyone (adding an access
                # attempt by hand) or needs parameters (the autocomplete).
                assert status in (200, 302, 403), (name, status)
            else:
                assert status == 302, (persona, name, path, status)
