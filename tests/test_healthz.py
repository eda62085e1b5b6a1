def test_it_reports_redis_down_with_the_reason(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    report = response.json()
    assert report["database"]["ok"] is True
    assert report["redis"]["ok"] is False
    assert report["redis"]["detail"].startswith("injoignable")
    assert report["celery"]["ok"] is False


def test_it_reports_the_database_and_redis_up(client, db):
    report = client.get("/healthz", HTTP_ACCEPT="application/json").json()
    assert report["database"]["ok"] and report["redis"]["ok"]


def test_the_html_page_names_what_is_down(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "redis" in response.content.decode()
