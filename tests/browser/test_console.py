"""The QA console in Debian's Chromium, as a person uses it: the header says the admin session is open (and closes
it), the journal is paged and filtered as GET /_sandbox/requests filters it, the reset waits for a confirmation
(and can be cancelled), and a rate limit edited there is in force on its endpoint at once."""
import re

import pytest
import requests

from helpers import csrf_token

TOKEN = "console-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PHP_CLIENT = {"client_id": "php-demo", "client_secret": "php-demo-secret"}


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": TOKEN}


def open_console(page, url):
    page.goto(f"{url}/console/")
    page.fill("#token", TOKEN)
    page.click("input[type=submit][value='Open the console']")
    page.wait_for_url(f"{url}/console/")


def api(live_server, method, path, **kwargs):
    return requests.request(method, f"{live_server.url}/_sandbox{path}", headers=ADMIN, timeout=10, **kwargs)


def journal_paths(page):
    """The paths of the journal's rows as the console lists them (`METHOD /path?query`)."""
    return [cell.inner_text().split()[1].split("?")[0]
            for cell in page.query_selector_all("#journal td:nth-child(3) code")]


def test_the_header_shows_the_open_admin_session_and_closes_it(live_server, page, tmp_path):
    page.goto(f"{live_server.url}/console/")
    page.wait_for_url(f"{live_server.url}/console/login")
    assert page.query_selector("#console-session") is None  # not open yet
    open_console(page, live_server.url)
    assert page.inner_text("#console-session") == "QA console: admin session open"
    page.screenshot(path=str(tmp_path / "console-header.png"))
    page.click("#console-logout")
    page.wait_for_url(f"{live_server.url}/console/login")
    page.wait_for_selector("text=Console session closed.")
    assert page.query_selector("#console-session") is None
    page.goto(f"{live_server.url}/console/")  # the session is over: the token is asked for again
    page.wait_for_url(f"{live_server.url}/console/login")
    assert page.query_selector("#token") is not None


def test_the_journal_is_paged_newest_first(live_server, page, tmp_path):
    for number in range(12):
        requests.get(f"{live_server.url}/api/userinfo.php", params={"n": number}, timeout=10)
    open_console(page, live_server.url)
    page.goto(f"{live_server.url}/console/?per_page=10")
    assert page.inner_text("#journal-count") == "Entries 1–10 of 12"
    assert page.inner_text("#page-of") == "Page 1 of 2" and page.query_selector("#newer") is None
    first_page = [cell.inner_text() for cell in page.query_selector_all("#journal td:nth-child(3) code")]
    assert first_page[0].endswith("?n=11") and first_page[-1].endswith("?n=2")  # newest first
    page.click("#older")
    page.wait_for_selector("#page-of >> text=Page 2 of 2")
    assert page.inner_text("#journal-count") == "Entries 11–12 of 12" and page.query_selector("#older") is None
    second_page = [cell.inner_text() for cell in page.query_selector_all("#journal td:nth-child(3) code")]
    assert [code.split("?")[1] for code in second_page] == ["n=1", "n=0"]
    page.screenshot(path=str(tmp_path / "console-journal-page-2.png"), full_page=True)
    page.click("#newer")
    page.wait_for_selector("#page-of >> text=Page 1 of 2")
    assert len(journal_paths(page)) == 10


def test_the_journal_is_filtered_as_the_admin_api_filters_it(live_server, page, tmp_path):
    url = live_server.url
    requests.post(f"{url}/api/token.php", data={"code": "x", **PHP_CLIENT}, timeout=10)  # 400
    requests.get(f"{url}/api/userinfo.php", timeout=10)  # 400: no token
    requests.post(f"{url}/consumer/login", json={"username": "janedoe", "password": "demo-password"}, timeout=10)
    requests.post(f"{url}/v1/oauth/?username=johndoe&password=demo-password", timeout=10)
    open_console(page, url)
    assert page.inner_text("#journal-count") == "Entries 1–4 of 4"

    page.fill("#f-path_prefix", "/api/")
    page.select_option("#f-method", "POST")
    page.click("input[type=submit][value='Filter']")
    page.wait_for_selector("#journal-count >> text=of 1 matching the filters")
    assert journal_paths(page) == ["/api/token.php"]
    assert page.url == f"{url}/console/?path_prefix=/api/&method=POST&per_page=25"  # a link to share
    assert page.input_value("#f-path_prefix") == "/api/" and page.input_value("#f-method") == "POST"
    page.screenshot(path=str(tmp_path / "console-filtered.png"), full_page=True)

    for query, paths in [("dialect=consumer", ["/consumer/login"]), ("user=johndoe", ["/v1/oauth/"]),
                         ("client_id=php-demo", ["/api/token.php"]),
                         ("status=400", ["/api/userinfo.php", "/api/token.php"]),
                         ("path_prefix=/api/&method=get", ["/api/userinfo.php"])]:
        page.goto(f"{url}/console/?{query}")
        assert journal_paths(page) == paths, query
        listed = api(live_server, "GET", f"/requests?{query}").json()["requests"]
        assert [entry["path"] for entry in listed] == paths, query  # the same filter, the same entries

    with page.expect_response(re.compile(r"/console/\?dialect=nope")) as answer:
        page.goto(f"{url}/console/?dialect=nope")
    assert answer.value.status == 400
    error = page.inner_text("#filter-error")
    assert error == f"Not filtered: {api(live_server, 'GET', '/requests?dialect=nope').json()['message']}"
    assert "php, consumer, v1, mokapen" in error and journal_paths(page) == []
    page.screenshot(path=str(tmp_path / "console-filter-error.png"), full_page=True)
    page.click("text=Clear filters")
    page.wait_for_selector("#journal-count >> text=Entries 1–4 of 4")


def test_the_reset_waits_for_a_confirmation_and_can_be_cancelled(live_server, page, tmp_path):
    url = live_server.url
    api(live_server, "PATCH", "/users/johndoe", json={"full_name": "Changed by a test"})
    api(live_server, "POST", "/faults", json={"path": "/api/userinfo.php", "status": 503, "count": 5})
    open_console(page, url)

    page.click("#reset-link")
    page.wait_for_url(f"{url}/console/reset")
    page.wait_for_selector("text=Reset the sandbox?")
    page.screenshot(path=str(tmp_path / "console-reset.png"), full_page=True)
    page.click("#cancel")
    page.wait_for_url(f"{url}/console/")
    assert "/api/userinfo.php" in page.inner_text("#faults")  # nothing reset

    page.click("#reset-link")
    page.wait_for_url(f"{url}/console/reset")
    with page.expect_response(f"{url}/console/reset") as answer:
        page.click("input[type=submit][value='Reset the sandbox']")  # the box not ticked
    assert answer.value.status == 400
    page.wait_for_selector("text=Tick the box to confirm the reset; nothing was changed.")
    page.screenshot(path=str(tmp_path / "console-reset-unconfirmed.png"), full_page=True)
    assert len(api(live_server, "GET", "/faults").json()["faults"]) == 1
    assert api(live_server, "PATCH", "/users/johndoe", json={}).json()["full_name"] == "Changed by a test"

    page.check("#confirm")
    page.click("input[type=submit][value='Reset the sandbox']")
    page.wait_for_url(f"{url}/console/")
    page.wait_for_selector("text=(journal emptied).")
    assert page.inner_text("#faults").count("None.") == 1
    assert api(live_server, "GET", "/faults").json()["faults"] == []
    assert api(live_server, "PATCH", "/users/johndoe", json={}).json()["full_name"] == "John Doe"
    assert page.inner_text("#console-session") == "QA console: admin session open"  # the session outlives it


def test_a_rate_limit_edited_in_the_console_is_in_force_at_once(live_server, page, tmp_path):
    url = live_server.url

    def token_statuses(times):
        return [requests.post(f"{url}/api/token.php", data={"code": "x", **PHP_CLIENT}, timeout=10).status_code
                for _ in range(times)]

    open_console(page, url)
    assert page.input_value("#value-PHP_TOKEN_RATE_LIMIT") == "30 per minute"
    page.fill("#value-PHP_TOKEN_RATE_LIMIT", "lots")
    page.click("#limit-PHP_TOKEN_RATE_LIMIT input[type=submit][value='Save']")
    refused = api(live_server, "PUT", "/rate-limits", json={"PHP_TOKEN_RATE_LIMIT": "lots"}).json()["message"]
    page.wait_for_selector(f"text=Not done: {refused}")  # the admin API's validation, word for word
    assert api(live_server, "GET", "/rate-limits").json()["PHP_TOKEN_RATE_LIMIT"] == "30 per minute"

    page.fill("#value-PHP_TOKEN_RATE_LIMIT", "2 per minute")
    page.click("#limit-PHP_TOKEN_RATE_LIMIT input[type=submit][value='Save']")
    page.wait_for_selector("text=PHP_TOKEN_RATE_LIMIT is now 2 per minute.")
    assert page.input_value("#value-PHP_TOKEN_RATE_LIMIT") == "2 per minute"
    assert "changed" in page.inner_text("#limit-PHP_TOKEN_RATE_LIMIT")
    page.screenshot(path=str(tmp_path / "console-rate-limits.png"), full_page=True)
    assert token_statuses(3) == [400, 400, 429]  # in force on the endpoint at once
    assert api(live_server, "GET", "/rate-limits").json()["PHP_TOKEN_RATE_LIMIT"] == "2 per minute"

    page.click("#limit-PHP_TOKEN_RATE_LIMIT input[type=submit][value='Restore configured']")
    page.wait_for_selector("text=PHP_TOKEN_RATE_LIMIT restored to 30 per minute.")
    assert page.input_value("#value-PHP_TOKEN_RATE_LIMIT") == "30 per minute"
    assert "changed" not in page.inner_text("#limit-PHP_TOKEN_RATE_LIMIT")
    assert api(live_server, "GET", "/rate-limits").json()["PHP_TOKEN_RATE_LIMIT"] == "30 per minute"


def test_bad_filters_and_pages_never_fail_the_console(client):
    """Whatever the query string holds: the admin API's 400 message for a bad filter, a page in range otherwise."""
    login = client.get("/console/login")
    client.post("/console/login", data={"csrf_token": csrf_token(login.text), "token": TOKEN})
    for _ in range(3):
        client.get("/api/userinfo.php")
    for query, field in [("dialect=nope", "dialect"), ("status=abc", "status"),
                         ("status=99999999999999999999", "status"), ("since=nan", "since"), ("since=inf", "since")]:
        page = client.get(f"/console/?{query}")
        message = client.get(f"/_sandbox/requests?{query}", headers=ADMIN).json["message"]
        assert page.status_code == 400 and f"'{field}'" in message, query
        assert f"Not filtered: {message}" in page.text.replace("&#39;", "'"), query
    for query in ("page=999", "page=abc", "page=0", "per_page=7", "per_page=-1", "page=99999999999999999999"):
        page = client.get(f"/console/?{query}")
        assert page.status_code == 200 and "Entries 1–3 of 3" in page.text, query
    assert client.get("/console/?dialect=&path_prefix=/api/").headers["Location"] == "/console/?path_prefix=/api/"
