"""Mokapen's developer dashboard and consent page in a real browser."""
import requests
from playwright.sync_api import expect

from oauth_sandbox.dialects.mokapen import DEMO_LOGO


def log_in(page, base_url, next_path):
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#username", "johndoe")
    page.fill("#password", "demo-password")
    page.click("input[type=submit][value='Log in']")


def test_create_private_app_then_generate_token(live_server, page, tmp_path):
    (tmp_path / "logo.png").write_bytes(DEMO_LOGO)
    log_in(page, live_server.url, "/account/developer/apps")
    page.click("text=Create application")
    page.check("input[name=kind][value=private]")
    page.fill("#company_name", "Acme")
    page.fill("#company_url", "https://acme.example")
    page.fill("#name", "Nightly sync")
    page.set_input_files("#logo", str(tmp_path / "logo.png"))
    page.select_option("#dedicated_user", label="johndoe")
    page.click("input[type=submit][value=Continue]")
    page.check("input[name=scopes][value='contacts.read']")
    page.click("input[type=submit][value=Save]")
    assert page.inner_text("#status") == "active"
    client_id, secret = page.inner_text("#client-id"), page.inner_text("#client-secret")

    page.click("text=Generate Token")
    page.click("input[type=submit][value='Generate Token']")
    token = page.inner_text("#generated-token")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    assert requests.get(f"{live_server.url}/api/v1/849/contacts", headers=headers).status_code == 200
    assert requests.get(f"{live_server.url}/api/v1/849/tasks", headers=headers).status_code == 403

    issued = requests.post(f"{live_server.url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "organization_id": 849})
    assert issued.status_code == 200


def test_consent_page_lets_the_user_choose_the_organization(live_server, page):
    callback = f"http://127.0.0.1:{live_server.port}/callback"
    log_in(page, live_server.url, "/")
    page.goto(f"{live_server.url}/oauth/authorize?client_id=mokapen-public-demo&redirect_uri={callback}"
              "&response_type=code&scope=tasks.read&state=0123456789abcdef")
    assert page.inner_text("#organization_id") == "Your Organization (849)"
    page.click("input[type=submit][value=Approve]")
    page.wait_for_url(f"{callback}?code=*")
    code = page.url.split("code=")[1].split("&")[0]
    token = requests.post(f"{live_server.url}/oauth/token", data={
        "grant_type": "authorization_code", "client_id": "mokapen-public-demo",
        "client_secret": "mokapen-public-demo-secret", "redirect_uri": callback, "code": code}).json()
    assert token["organization_id"] == 849


def test_seed_001_public_app_secret_retrieved_on_the_credentials_tab_once_active(live_server, page, tmp_path):
    """Seed 001: "Once status is Active, open the Credentials tab to retrieve your client_id and client_secret"."""
    import os
    shots = os.environ.get("SANDBOX_TEST_SCREENSHOTS")
    (tmp_path / "logo.png").write_bytes(DEMO_LOGO)
    log_in(page, live_server.url, "/account/developer/apps/new")
    page.check("input[name=kind][value=public]")
    page.fill("#company_name", "Acme")
    page.fill("#company_url", "https://acme.example")
    page.fill("#name", "Acme CRM sync")
    page.set_input_files("#logo", str(tmp_path / "logo.png"))
    page.fill("#redirect_url", "https://acme.example/cb")
    page.click("input[type=submit][value=Continue]")
    page.check("input[name=scopes][value='tasks.read']")
    page.click("input[type=submit][value=Save]")
    assert page.inner_text("#status") == "pending"
    app_url = page.url.rstrip("/")
    page.goto(f"{live_server.url}/account/developer/review")
    page.click("input[type=submit][value=Approve]")
    page.goto(app_url + "/credentials")
    assert page.inner_text("#status") == "active"
    if shots:
        page.screenshot(path=os.path.join(shots, "public_credentials_before.png"), full_page=True)
    page.click("#retrieve-secret")
    secret = page.inner_text("#client-secret")
    client_id = page.inner_text("#client-id")
    if shots:
        page.screenshot(path=os.path.join(shots, "public_credentials_shown.png"), full_page=True)
    page.goto(app_url + "/credentials")
    assert page.locator("#retrieve-secret").count() == 0 and page.locator("#client-secret").count() == 0
    introspected = requests.post(f"{live_server.url}/oauth/introspect", data={
        "token": "x", "client_id": client_id, "client_secret": secret})
    assert introspected.status_code == 200, introspected.text


def test_generated_token_has_a_copy_button_and_an_expiry_date(live_server, page, browser):
    import os
    shots = os.environ.get("SANDBOX_TEST_SCREENSHOTS")
    log_in(page, live_server.url, "/account/developer/apps")
    page.click("text=Mokapen private demo")
    page.click("nav.tabs >> text=Credentials")
    page.click("input[type=submit][value='Generate Token']")
    assert page.inner_text("#token-expiry").endswith("UTC")
    # The layout is read once the page has loaded, its stylesheet applied: the element above can be there before
    # (on a loaded machine the unstyled page measured 6,207 px, the token unbroken).
    page.wait_for_load_state("load")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("text=Copy token")
    assert page.evaluate("navigator.clipboard.readText()") == page.inner_text("#generated-token")
    if shots:
        page.screenshot(path=os.path.join(shots, "generated_token.png"), full_page=True)


def test_create_form_shows_the_fields_of_the_chosen_type_steps_and_asks_for_the_logo_again(live_server, page,
                                                                                           tmp_path):
    import os
    shots = os.environ.get("SANDBOX_TEST_SCREENSHOTS")
    (tmp_path / "logo.png").write_bytes(DEMO_LOGO)
    log_in(page, live_server.url, "/account/developer/apps/new")
    assert page.inner_text("ol.steps [aria-current=step]") == "Details"
    page.check("input[name=kind][value=private]")
    # static/application_form.js (deferred) shows and hides the fields: wait for it, as a person would look
    expect(page.locator("#dedicated_user")).to_be_visible()
    expect(page.locator("#redirect_url")).to_be_hidden()
    page.check("input[name=kind][value=public]")
    expect(page.locator("#redirect_url")).to_be_visible()
    expect(page.locator("#dedicated_user")).to_be_hidden()
    page.fill("#company_name", "Acme")
    page.fill("#company_url", "acme")  # not an absolute URL: the form comes back
    page.fill("#name", "Acme CRM")
    page.set_input_files("#logo", str(tmp_path / "logo.png"))
    page.click("input[type=submit][value=Continue]")
    assert "choose the logo again" in page.inner_text("#logo-again")
    expect(page.locator("#redirect_url")).to_be_visible()  # the choice is kept, once the page's script has run
    expect(page.locator("#dedicated_user")).to_be_hidden()
    if shots:
        page.screenshot(path=os.path.join(shots, "new_app_errors.png"), full_page=True)
    page.fill("#company_url", "https://acme.example")
    page.fill("#redirect_url", "https://acme.example/cb")
    page.set_input_files("#logo", str(tmp_path / "logo.png"))
    page.click("input[type=submit][value=Continue]")
    assert page.inner_text("ol.steps [aria-current=step]") == "Scopes"
    assert "Read the organization's tasks" in page.inner_text("form.card")
    if shots:
        page.screenshot(path=os.path.join(shots, "scopes_step.png"), full_page=True)
    page.check("input[name=scopes][value='tasks.read']")
    page.click("input[type=submit][value=Save]")
    assert page.inner_text("ol.steps [aria-current=step]") == "Review and activation"


def test_consent_page_describes_the_scopes(live_server, page):
    log_in(page, live_server.url, "/")
    page.goto(f"{live_server.url}/oauth/authorize?client_id=mokapen-public-demo&redirect_uri=https://example.com/"
              "oauth/callback&response_type=code&scope=tasks.read%20contacts.read&state=0123456789abcdef")
    scopes = page.inner_text("ul.scopes")
    assert "Read the organization's tasks" in scopes and "Read the organization's contacts" in scopes
