from pathlib import Path

from shared.settings import Settings, variables_table


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GATEWAY_PORT", "9000")
    monkeypatch.setenv("MONGO_URL", "mongodb://db:27017")
    monkeypatch.setenv("BUS_RETRY_DELAYS", "1, 2,4")
    s = Settings()
    assert s.gateway_port == 9000 and s.mongo_url == "mongodb://db:27017"
    assert s.retry_delays == [1.0, 2.0, 4.0]
    assert s.upstream("membership") == "http://127.0.0.1:8081"
    assert s.database("events") == "lienhiep_events"


def test_defaults_and_the_readme_table_agree():
    assert Settings().gateway_port == 8080
    table = variables_table()
    for name in ("MONGO_URL", "AMQP_URL", "SMTP_HOST", "SMTP_PORT", "SMTP_FROM", "GATEWAY_PORT", "MEMBERSHIP_PORT"):
        assert f"`{name}`" in table
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert table in readme, "README's variables table is stale: run `make docs`"
