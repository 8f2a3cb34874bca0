import pytest
from django.core.management import CommandError, call_command

from cities.models import City, CountryStatus
from cities.services import chinese_name, load_reference_data, russian_name


@pytest.fixture
def reference_data(db: None) -> None:
    load_reference_data()


def test_import_loads_real_kazakh_and_kyrgyz_cities(reference_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_cities", countries="KZ,KG")

    almaty = City.objects.get(geonameid=1526384)
    assert (almaty.name, almaty.country.code, almaty.timezone) == ("Almaty", "KZ", "Asia/Almaty")
    assert almaty.population > 1_000_000
    assert (round(almaty.latitude, 2), round(almaty.longitude, 2)) == (43.25, 76.91)
    assert almaty.name_ru == "Алматы"
    assert City.objects.get(name="Astana").is_capital
    assert City.objects.get(name="Bishkek").is_capital
    assert not almaty.is_capital
    assert set(City.objects.values_list("country__code", flat=True)) == {"KZ", "KG"}
    output = capsys.readouterr().out
    assert "KG: 31 created" in output
    assert "KZ: 84 created" in output


def test_reimport_updates_without_duplicating_or_touching_the_profile(reference_data: None) -> None:
    call_command("import_cities", countries="KG")
    bishkek = City.objects.get(geonameid=1528675)
    bishkek.description = "Capital of the Kyrgyz Republic."
    bishkek.population = 1
    bishkek.save()
    count = City.objects.count()

    call_command("import_cities", countries="KG")

    bishkek.refresh_from_db()
    assert City.objects.count() == count
    assert bishkek.population == 900000
    assert bishkek.description == "Capital of the Kyrgyz Republic."


def test_min_population_limits_the_import(reference_data: None) -> None:
    call_command("import_cities", countries="KG", min_population=100_000)

    assert {"Bishkek", "Osh"} <= set(City.objects.values_list("name", flat=True))
    assert City.objects.count() < 5
    assert not City.objects.filter(population__lt=100_000).exists()


def test_unknown_country_code_is_an_error_naming_it(reference_data: None) -> None:
    with pytest.raises(CommandError, match="XX"):
        call_command("import_cities", countries="KZ,XX")
    assert not City.objects.exists()


def test_negative_or_too_small_population_is_an_error(reference_data: None) -> None:
    with pytest.raises(CommandError, match="negative"):
        call_command("import_cities", countries="KG", min_population=-5)
    with pytest.raises(CommandError, match="at least 500"):
        call_command("import_cities", countries="KG", min_population=10)


def test_reference_data_has_the_ten_member_states_today(reference_data: None) -> None:
    from cities.models import Country

    members = {
        country.code
        for country in Country.objects.prefetch_related("status_history")
        if country.current_status and country.current_status.status == CountryStatus.Status.MEMBER
    }
    assert members == {"CN", "RU", "IN", "PK", "IR", "KZ", "KG", "TJ", "UZ", "BY"}
    belarus = Country.objects.get(code="BY")
    assert [entry.status for entry in belarus.status_history.all()] == ["dialogue_partner", "observer", "member"]
    assert (belarus.name_ru, belarus.name_zh) == ("Беларусь", "白俄罗斯")
    assert Country.objects.get(code="IR").name == "Iran"


def test_reference_data_reload_keeps_coordinators_edits(reference_data: None) -> None:
    from cities.models import Topic

    Topic.objects.filter(slug="health").update(name="Public health")
    assert not any(load_reference_data().values())
    assert Topic.objects.get(slug="health").name == "Public health"
    assert Topic.objects.count() == 13


def test_local_names_prefer_russian_letters_and_simplified_characters() -> None:
    assert russian_name("Kazan", ["Kazan", "Казан", "Казань", "Қазан", "Kasan"]) == "Казань"
    assert russian_name("Almaty", ["Алма-Ата", "Алматы", "Алмати"]) == "Алматы"
    assert russian_name("Lahore", ["Lahore"]) == ""
    assert chinese_name(["撒馬爾罕", "撒马尔罕", "サマルカンド"]) == "撒马尔罕"
    assert chinese_name(["沪", "上海"]) == "上海"


STANDARD_NAMES = {
    # geonameid: (Russian, Chinese), the names a reader of each language expects.
    524901: ("Москва", "莫斯科"),
    1816670: ("Пекин", "北京"),
    1526384: ("Алматы", "阿拉木图"),
    1512569: ("Ташкент", "塔什干"),
    1528675: ("Бишкек", "比什凯克"),
    1221874: ("Душанбе", "杜尚别"),
    1261481: ("Нью-Дели", "新德里"),
    1176615: ("Исламабад", "伊斯兰堡"),
    112931: ("Тегеран", "德黑兰"),
    625144: ("Минск", "明斯克"),
}


def test_standard_city_names_come_from_a_source_that_says_their_language(reference_data: None) -> None:
    call_command("import_cities")

    for geonameid, (russian, chinese) in STANDARD_NAMES.items():
        city = City.objects.get(geonameid=geonameid)
        assert (city.name_ru, city.name_zh) == (russian, chinese), city.name
        assert {city.name_ru_source, city.name_zh_source} <= {"cldr", "reviewed"}, city.name
    # A city no labelled source covers keeps the guess, marked as one.
    assert City.objects.filter(name_ru_source="guess").exclude(name_ru="").exists()
    # Search finds a city by each of its names, the labelled ones included.
    for text in ("Пекин", "北京", "Beijing", "Нью-Дели"):
        first = City.objects.search(text).first()
        assert first is not None and first.geonameid in {1816670, 1261481}, text


def test_the_reviewed_names_file_says_where_each_name_came_from() -> None:
    from cities.services import reviewed_city_names

    names = reviewed_city_names()
    assert names[1816670, "ru"].name == "Пекин"
    with open("data/city_names.csv", encoding="utf-8") as handle:
        assert all(line.rstrip().rsplit(",", 1)[1] for line in handle)


def test_country_names_are_the_ones_people_write(reference_data: None) -> None:
    from cities.models import Country

    russia = Country.objects.get(code="RU")
    assert (russia.name_ru, russia.name_zh) == ("Россия", "俄罗斯")
    assert Country.objects.get(code="KH").name_zh == "柬埔寨"


def test_the_migration_replaces_pycountrys_names_but_not_a_coordinators(db: None) -> None:
    import importlib

    from django.apps import apps

    from cities.models import Country

    migration = importlib.import_module("cities.migrations.0004_country_names_from_cldr")
    Country.objects.create(code="RU", name="Russian Federation", name_ru="Российская Федерация", name_zh="俄罗斯")
    Country.objects.create(code="KH", name="Cambodia", name_ru="Камбоджа (Королевство)", name_zh="柬埔塞")

    migration.use_cldr_names(apps, None)

    assert Country.objects.get(code="RU").name_ru == "Россия"
    cambodia = Country.objects.get(code="KH")
    assert (cambodia.name_ru, cambodia.name_zh) == ("Камбоджа (Королевство)", "柬埔寨")  # the edited name stays
