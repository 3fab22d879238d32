"""The Fusio developer portal in a real browser: register, see scopes, create an app, use its credentials."""
import requests


def test_register_create_app_and_use_its_credentials(live_server, page):
    page.goto(f"{live_server.url}/portal/register")
    page.fill("#username", "browserdev")
    page.fill("#email", "browserdev@example.com")
    page.fill("#password", "browserdev-password")
    page.fill("#confirm", "browserdev-password")
    page.click("input[type=submit][value=Register]")
    page.wait_for_url(f"{live_server.url}/portal/")
    assert page.inner_text("#role") == "Consumer"
    assert "protected" in page.inner_text("main")

    page.click("text=New app")
    page.fill("#name", "Browser app")
    page.check("input[name=scopes][value=protected]")
    page.click("input[type=submit][value='Create app']")
    key, secret = page.inner_text("#app-key"), page.inner_text("#app-secret")

    token = requests.post(f"{live_server.url}/authorization/token", auth=(key, secret),
                          data={"grant_type": "client_credentials"}).json()
    assert token["scope"] == "protected"
    response = requests.post(f"{live_server.url}/protected_endpoint", json={"title": "lorem ipsum"},
                             headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 200


def test_admin_declares_an_operation_in_the_browser(live_server, page):
    page.goto(f"{live_server.url}/login?next=/portal/admin/operations")
    page.fill("#username", "johndoe")
    page.fill("#password", "demo-password")
    page.click("input[type=submit][value='Log in']")
    page.select_option("#method", "GET")
    page.fill("#path", "/hello")
    page.check("#public")
    page.fill("#response", '{"hello": "world"}')
    page.click("input[type=submit][value='Add operation']")
    page.wait_for_selector("text=GET /hello answers now.")
    assert requests.get(f"{live_server.url}/hello").json() == {"hello": "world"}
