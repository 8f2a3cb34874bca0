import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.test import Client, override_settings

from accounts.models import User
from cities.models import City, Country
from tests.conftest import PASSWORD, login
from tests.factories import CityFactory, CountryFactory, UserFactory


def test_login_page_logs_in_and_returns_to_next(client: Client, officer: User) -> None:
    assert client.get("/accounts/login/").status_code == 200

    response = client.post("/accounts/login/", {"username": "officer.almaty", "password": PASSWORD, "next": "/cities/"})

    assert response.status_code == 302
    assert response["Location"] == "/cities/"


def test_wrong_password_is_a_clear_error(client: Client, officer: User) -> None:
    response = client.post("/accounts/login/", {"username": "officer.almaty", "password": "wrong-password-12"})

    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_ends_the_session(officer: User) -> None:
    client = login(officer)

    client.post("/accounts/logout/")

    assert client.get(f"/cities/{officer.city_id}/edit/").status_code == 302


@pytest.mark.parametrize(
    ("new_password", "message"),
    [("short-pw-1", "at least 12 characters"), ("password1234", "too common")],
)
def test_password_change_refuses_short_and_common_passwords(officer: User, new_password: str, message: str) -> None:
    response = login(officer).post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 200
    assert message in response.content.decode()


def test_password_change_accepts_a_good_password(officer: User) -> None:
    response = login(officer).post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "silk-road-caravan-42", "new_password2": "silk-road-caravan-42"},
    )

    assert response.status_code == 302
    officer.refresh_from_db()
    assert officer.check_password("silk-road-caravan-42")


def test_admin_is_for_staff_only(staff: User, officer: User) -> None:
    assert login(staff).get("/admin/cities/city/").status_code == 200
    assert login(officer).get("/admin/cities/city/").status_code == 302


def test_role_must_match_city_or_country(db: None) -> None:
    with pytest.raises(IntegrityError):
        UserFactory.create(username="cityless", role=User.Role.OFFICER)


@pytest.fixture
def demo_places(db: None) -> None:
    for code in ("KZ", "KG", "UZ", "RU", "CN"):
        CountryFactory.create(code=code)
    for geonameid, code in ((1526384, "KZ"), (1528675, "KG"), (1216265, "UZ"), (551487, "RU"), (1790630, "CN")):
        CityFactory.create(geonameid=geonameid, country=Country.objects.get(code=code))


@override_settings(DEBUG=True, DEMO_PASSWORD="sco-demo-2026")
def test_demo_accounts_are_created_once_and_never_reset(demo_places: None) -> None:
    call_command("create_demo_accounts")

    assert User.objects.count() == 12
    officer = User.objects.get(username="officer.almaty")
    assert officer.city == City.objects.get(geonameid=1526384)
    assert officer.check_password("sco-demo-2026")
    assert User.objects.get(username="coordinator.kg").country.code == "KG"  # type: ignore[union-attr]
    assert User.objects.get(username="coordinator.sco").is_sco_coordinator
    assert User.objects.get(username="admin").is_staff

    officer.set_password("changed-by-the-officer")
    officer.save()
    call_command("create_demo_accounts")

    officer.refresh_from_db()
    assert User.objects.count() == 12
    assert officer.check_password("changed-by-the-officer")


@override_settings(DEBUG=False)
def test_demo_accounts_are_refused_without_debug(demo_places: None) -> None:
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("create_demo_accounts")
    assert not User.objects.exists()
