"""Login and consent in a real browser, driven through seed 002's Python and JS sample clients."""
import threading

from werkzeug.serving import make_server

from jsapp import create_js_sample_app
from samples import filled_in, free_port, run_python_sample


def log_in_and_approve(page, username="johndoe"):
    """On the sandbox's login page: type the credentials, then approve on the consent page."""
    page.wait_for_selector("text=Log in")
    page.fill("#username", username)
    page.fill("#password", "demo-password")
    page.click("input[type=submit][value='Log in']")
    page.wait_for_selector("text=Authorize PHP demo client")
    page.click("input[type=submit][value=Approve]")


def test_python_sample_login_and_consent_in_a_browser(live_server, tmp_path, page):
    with run_python_sample(tmp_path, live_server.url) as sample:
        page.goto(f"http://localhost:{sample.port}/login")
        assert page.url.startswith(f"{live_server.url}/login?next=")
        log_in_and_approve(page)
        page.wait_for_url(f"http://localhost:{sample.port}/profile")
        assert page.inner_text("body") == "Hello, johndoe! Your email is john@example.com"


def test_wrong_password_then_deny_in_a_browser(live_server, page):
    page.goto(live_server.url + "/api/authorize.php?client_id=php-demo&response_type=code&state=s1"
              f"&redirect_uri={live_server.url}/callback")
    page.fill("#username", "johndoe")
    page.fill("#password", "wrong")
    page.click("input[type=submit][value='Log in']")
    page.wait_for_selector("text=Unknown username or wrong password.")  # the page after the POST, once loaded
    page.fill("#password", "demo-password")
    page.click("input[type=submit][value='Log in']")
    page.click("input[type=submit][value=Deny]")
    page.wait_for_url(f"{live_server.url}/callback?error=access_denied*")
    assert "error=access_denied" in page.inner_text("main")


def test_js_sample_calls_userinfo_cross_origin(live_server, page):
    port = free_port()
    script = filled_in("sample.js", live_server.url, f"http://localhost:{port}/callback")
    server = make_server("127.0.0.1", port, create_js_sample_app(script, f"{live_server.url}/api/token.php"),
                         threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://localhost:{port}/")
        page.click("#authorize")
        with page.expect_console_message(lambda message: message.text.startswith("User data:")) as logged:
            log_in_and_approve(page, "janedoe")
        assert page.url.startswith(f"http://localhost:{port}/callback?code=")
        assert logged.value.args[1].json_value() == {"username": "janedoe", "email": "jane@example.com",
                                                     "full_name": "Jane Doe"}
    finally:
        server.shutdown()
