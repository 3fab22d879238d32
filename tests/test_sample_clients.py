"""Seed 002's own sample clients run against a live sandbox, unchanged but for their placeholders."""
import requests

from helpers import csrf_token
from samples import SAMPLES, run_php_sample, run_python_sample


def code_lines(text):
    """Non-blank lines with surrounding whitespace removed (the seed's text lost its indentation)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_samples_are_the_seeds_code():
    seed = "\n".join(code_lines((SAMPLES / "seed_002.txt").read_text()))
    for name, added_lines in (("sample.py", 0), ("authorize.php", 0), ("callback.php", 1), ("sample.js", 0)):
        lines = code_lines((SAMPLES / name).read_text())[added_lines:]
        assert "\n".join(lines) in seed, name


def log_in_and_approve(session, page, username="johndoe"):
    """At the sandbox's login page: log in, then approve on the consent page; returns the final response."""
    assert "Log in" in page.text, page.text
    page = session.post(page.url, data={"csrf_token": csrf_token(page.text), "username": username,
                                        "password": "demo-password"})
    assert "Approve" in page.text, page.text
    return session.post(page.url, data={"csrf_token": csrf_token(page.text), "approve": "Approve"})


def test_python_sample_greets_the_user(live_server, tmp_path):
    with run_python_sample(tmp_path, live_server.url) as sample:
        session = requests.Session()
        page = session.get(f"http://localhost:{sample.port}/login", timeout=30)
        response = log_in_and_approve(session, page)
    assert response.status_code == 200
    assert response.url == f"http://localhost:{sample.port}/profile"
    assert response.text == "Hello, johndoe! Your email is john@example.com"


def test_php_sample_split_into_two_pages_greets_the_user(live_server, tmp_path):
    with run_php_sample(tmp_path, live_server.url) as sample:
        session = requests.Session()
        page = session.get(f"http://localhost:{sample.port}/authorize.php", timeout=30)
        response = log_in_and_approve(session, page, username="janedoe")
    assert response.status_code == 200
    assert response.url.startswith(f"http://localhost:{sample.port}/callback?code=")
    assert response.text.strip() == "Hello, janedoe"
