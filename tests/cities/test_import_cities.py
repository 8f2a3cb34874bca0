import pytest
from django.core.management import CommandError, call_command

from cities.models import City, CountryStatus, NameSource
from cities.names import verified_chinese_name, verified_russian_name
from cities.services import load_reference_data
from tests.factories import CityFactory


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
    # GeoNames' region and feature code: Almaty is a city of republican significance (its own region, a seat).
    assert (almaty.region_code, almaty.feature_code) == ("02", "PPLA")
    osh = City.objects.get(geonameid=1527534)
    assert (osh.region_code, osh.feature_code) == ("08", "PPLA")
    assert City.objects.get(name="Bishkek").feature_code == "PPLC"
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


def test_a_russian_name_is_accepted_only_when_its_bgn_pcgn_romanisation_is_the_geonames_name() -> None:
    assert verified_russian_name(["Yekaterinburg"], ["Ekaterinburg", "Екатеринбург"]) == "Екатеринбург"
    assert verified_russian_name(["Nizhniy Novgorod"], ["Горький", "Нижний Новгород"]) == "Нижний Новгород"
    assert verified_russian_name(["Ust-Kamenogorsk"], ["Өскемен", "Усть-Каменогорск"]) == "Усть-Каменогорск"
    assert verified_russian_name(["Moscow"], ["Москова"]) == ""  # sounds alike, is not the romanisation
    assert verified_russian_name(["Karagandy"], ["Қарағанды", "Караганда"]) == ""  # Kazakh letters; "Karaganda"
    assert verified_russian_name(["Homyel'"], ["Гомель", "Гомель"]) == ""  # romanised from Belarusian, not Russian
    # Russian Казань and Tatar Казан both romanise to Kazan: two answers, so none.
    assert verified_russian_name(["Kazan"], ["Казань", "Казан"]) == ""
    assert verified_russian_name(["Lahore"], ["Lahore"]) == ""


def test_a_chinese_name_is_accepted_only_when_its_pinyin_is_the_geonames_name() -> None:
    assert verified_chinese_name(["Jiangyin"], ["江陰", "江阴市"]) == "江阴市"  # suffix ignored, traditional refused
    assert verified_chinese_name(["Chongqing"], ["重慶", "重庆市", "重庆"]) == "重庆"  # the shortest form
    assert verified_chinese_name(["Maqin County"], ["玛沁县"]) == "玛沁县"
    assert verified_chinese_name(["Xi'an", "Xi'an"], ["西安"]) == "西安"
    assert verified_chinese_name(["Lhasa"], ["拉萨"]) == ""  # "Lhasa" is not pinyin (lasa)
    assert verified_chinese_name(["Shanghai"], ["沪"]) == ""  # a one-character abbreviation
    assert verified_chinese_name(["Xinyu"], ["新余", "新喻"]) == ""  # two names read xinyu: none
    assert verified_chinese_name(["Samarkand"], ["撒马尔罕"]) == ""


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
    # Below the reviewed list and CLDR: GeoNames' Russian labels, then names that romanise back to the GeoNames name.
    sources = {
        (language, source)
        for language in ("ru", "zh")
        for source in City.objects.values_list(f"name_{language}_source", flat=True).distinct()
    }
    assert sources == {(language, source) for language in ("ru", "zh") for source in NameSource.values} - {
        ("zh", NameSource.GEONAMES)
    }
    naberezhnyye_chelny = City.objects.get(geonameid=523750)
    assert (naberezhnyye_chelny.name_ru, naberezhnyye_chelny.name_ru_source) == ("Набережные Челны", "geonames")
    jiangyin = City.objects.get(geonameid=1815251)
    assert (jiangyin.name_zh, jiangyin.name_zh_source) == ("江阴市", "romanised")
    # GeoNames labels Хэфэй (Hefei) for Luzhou, Калькутта (Kolkata) for Kozhikode: another city's name is refused.
    names_ru = dict(City.objects.filter(geonameid__in=[1808722, 1801640, 1265873]).values_list("geonameid", "name_ru"))
    assert names_ru == {1808722: "Хэфэй", 1801640: "", 1265873: "Кожикоде"}
    # Where no source gives a name, there is none, and never one outside China from pinyin.
    homyel = City.objects.get(geonameid=627907)
    assert (homyel.name_ru, homyel.name_ru_source, homyel.name_zh) == ("", "", "")
    assert not City.objects.exclude(country__code="CN").filter(name_zh_source="romanised").exists()
    assert not City.objects.filter(name_ru="", name_ru_source__gt="").exists()
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
    assert (russia.name, russia.name_ru, russia.name_zh) == ("Russia", "Россия", "俄罗斯")
    assert Country.objects.get(code="MM").name == "Myanmar"  # not CLDR's "Myanmar (Burma)": "Yangon (Myanmar (Burma))"
    assert Country.objects.get(code="KH").name_zh == "柬埔寨"


def test_the_english_names_migration_replaces_pycountrys_but_not_a_coordinators(db: None) -> None:
    import importlib

    from django.apps import apps

    from cities.models import Country

    migration = importlib.import_module("cities.migrations.0007_country_english_names_from_cldr")
    Country.objects.create(code="RU", name="Russian Federation", name_ru="Россия", name_zh="俄罗斯")
    Country.objects.create(code="CN", name="People's China", name_ru="Китай", name_zh="中国")
    Country.objects.create(code="MM", name="Myanmar", name_ru="Мьянма (Бирма)", name_zh="缅甸")

    migration.use_cldr_english_names(apps, None)

    assert Country.objects.get(code="RU").name == "Russia"
    assert Country.objects.get(code="MM").name == "Myanmar"
    assert Country.objects.get(code="CN").name == "People's China"  # the edited name stays


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


def test_importing_twice_changes_nothing(reference_data: None, capsys: pytest.CaptureFixture[str]) -> None:
    fields = ("geonameid", "name_ru", "name_ru_source", "name_zh", "name_zh_source", "search_keys")
    call_command("import_cities", countries="CN,KZ,BY")
    first = set(City.objects.values_list(*fields))
    capsys.readouterr()

    call_command("import_cities", countries="CN,KZ,BY")

    assert set(City.objects.values_list(*fields)) == first
    lines = [line for line in capsys.readouterr().out.splitlines() if " updated" in line]
    assert len(lines) == 3 and all(" 0 created, 0 updated" in line for line in lines), lines


def test_the_migration_forgets_guessed_names_and_keeps_the_others(db: None) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cities.migrations.0005_city_names_without_guesses")
    guessed = CityFactory.create(name="Wusu", name_ru="Шиху", name_zh="乌苏")
    City.objects.filter(pk=guessed.pk).update(name_ru_source="guess", name_zh_source="guess")
    reviewed = CityFactory.create(name="Beijing", name_ru="Пекин", name_ru_source="reviewed")

    migration.forget_guessed_names(apps, None)

    guessed.refresh_from_db()
    reviewed.refresh_from_db()
    assert (guessed.name_ru, guessed.name_ru_source, guessed.name_zh, guessed.name_zh_source) == ("", "", "", "")
    assert (reviewed.name_ru, reviewed.name_ru_source) == ("Пекин", "reviewed")


def test_the_migration_gives_imported_cities_their_region_and_feature_code(db: None) -> None:
    import importlib

    from django.apps import apps

    migration = importlib.import_module("cities.migrations.0006_city_region_and_feature_code")
    almaty = CityFactory.create(name="Almaty", geonameid=1526384)
    kashgar = CityFactory.create(name="Kashgar", geonameid=1280849)

    migration.fill_region_and_feature_code(apps, None)

    almaty.refresh_from_db()
    kashgar.refresh_from_db()
    assert (almaty.region_code, almaty.feature_code) == ("02", "PPLA")
    assert (kashgar.region_code, kashgar.feature_code) == ("13", "PPLA2")


def test_the_geonames_source_label_names_the_installed_pycities() -> None:
    from importlib.metadata import version

    assert f"pycities {version('pycities')}" in str(NameSource.GEONAMES.label)
