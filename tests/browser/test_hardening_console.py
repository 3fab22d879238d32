"""The QA console in a real browser: it works through its own forms, and a page on another localhost port cannot
make the browser carry out an admin API call with the console's session."""
import pytest
import requests
from flask import Flask

from helpers import LiveServer

TOKEN = "browser-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": TOKEN}


def attacker_site(target):
    """Another origin on localhost (same site: cookies ignore ports) whose page auto-submits a form to `target`."""
    site = Flask("attacker")

    @site.get("/")
    def page():
        return (f'<!doctype html><title>Free prizes</title><form id="f" method="post" action="{target}">'
                '<input name="x" value="1"></form><script>document.getElementById("f").submit()</script>')

    return site


def open_console(page, url):
    page.goto(f"{url}/console/")
    page.fill("#token", TOKEN)
    page.click("input[type=submit][value='Open the console']")
    page.wait_for_url(f"{url}/console/")


def test_console_forms_work_in_chromium(live_server, page, tmp_path):
    open_console(page, live_server.url)
    page.fill("#fault-path", "/api/userinfo.php")
    page.fill("#fault-status", "503")
    page.click("input[type=submit][value='Add fault']")
    page.wait_for_selector("text=Fault added on /api/userinfo.php.")
    assert "/api/userinfo.php" in page.inner_text("#faults")
    page.fill("#advance", "120")
    page.click("input[type=submit][value='Move clock']")
    page.wait_for_selector("#clock-offset >> text=120")
    assert page.inner_text("#clock-offset") == "120"
    page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
    assert requests.get(f"{live_server.url}/_sandbox/clock", headers=ADMIN, timeout=10).json()["offset"] == 120


def test_another_origins_page_cannot_use_the_console_session(live_server, page):
    open_console(page, live_server.url)
    requests.patch(f"{live_server.url}/_sandbox/users/johndoe", json={"full_name": "Changed before"}, headers=ADMIN,
                   timeout=10)
    with LiveServer(attacker_site(f"{live_server.url}/_sandbox/reset")) as attacker:
        with page.expect_response(f"{live_server.url}/_sandbox/reset") as answer:
            page.goto(attacker.url)
        assert answer.value.status == 401
    users = requests.patch(f"{live_server.url}/_sandbox/users/johndoe", json={}, headers=ADMIN, timeout=10).json()
    assert users["full_name"] == "Changed before"  # no reset happened
    page.goto(f"{live_server.url}/console/")  # the console session itself is intact
    page.wait_for_selector("text=Request journal")
