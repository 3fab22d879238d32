"""Every page of the sandbox in Chromium, logged in: element ids are unique (automation that clicks `#submit` clicks
the button it means), and no page scrolls sideways at a laptop's width."""
import os
from collections import Counter
from urllib.parse import urljoin, urlsplit

from test_mokapen_dashboard import log_in

# Pages no link leads to (the authorization requests' consent pages, a callback), and the pages links lead to.
START = (
    "/", "/docs", "/login", "/callback?code=made-up&state=xyz", "/callback?error=access_denied&state=xyz",
    "/api/authorize.php?client_id=php-demo&redirect_uri=http://127.0.0.1:5000/callback&response_type=code&state=xyz",
    "/oauth/authorize?client_id=mokapen-public-demo&redirect_uri=https://example.com/oauth/callback"
    "&response_type=code&scope=tasks.read&state=0123456789abcdef",
    "/account/devices/", "/account/organizations", "/account/developer/apps", "/account/developer/apps/new",
    "/account/developer/review", "/portal/", "/portal/register", "/portal/apps/new", "/portal/admin/roles",
    "/portal/admin/users", "/portal/admin/operations",
)
NOT_PAGES = ("/logout", "/_sandbox/", "/static/", "/api/", "/v1/", "/oauth/jwks", "/.well-known/", "/openapi.json")
SHOTS = os.environ.get("SANDBOX_TEST_SCREENSHOTS")  # a directory: a screenshot of every page goes there


def is_page(base_url, href):
    parts = urlsplit(href)
    return href.startswith(base_url) and parts.path.endswith("/logo") is False \
        and not any(parts.path.startswith(prefix) for prefix in NOT_PAGES)


def test_every_page_logged_in_has_unique_ids_and_no_sideways_scroll(live_server, page):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_server.url, "/")
    queue = [live_server.url + path for path in START]
    seen, problems = set(), []
    while queue:
        url = queue.pop(0).split("#")[0]
        if url in seen:
            continue
        seen.add(url)
        response = page.goto(url)
        assert response.status < 500, url
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        ids = page.eval_on_selector_all("[id]", "elements => elements.map(e => e.id)")
        duplicated = sorted(id_ for id_, count in Counter(ids).items() if count > 1)
        if duplicated:
            problems.append(f"{url}: duplicate ids {duplicated}")
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            problems.append(f"{url}: {width[0]} px wide in a {width[1]} px window")
        if SHOTS:
            name = urlsplit(url).path.strip("/").replace("/", "_") or "index"
            page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            href = urljoin(url, href)
            if is_page(live_server.url, href):
                queue.append(href)
    assert len(seen) >= 20, sorted(seen)
    assert not problems, "\n".join(problems)


def test_front_page_contents_copy_buttons_and_code_that_fits(live_server, page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/")
    targets = page.eval_on_selector_all("nav.contents a[href^='#']", "links => links.map(a => a.hash.slice(1))")
    assert len(targets) >= 6
    for target in targets:
        assert page.locator(f"[id='{target}']").count() == 1, target
    blocks = page.locator("pre")
    assert blocks.count() >= 10
    assert page.locator(".code-block button.copy").count() == blocks.count()
    overflowing = page.eval_on_selector_all("pre", "blocks => blocks.filter(b => b.scrollWidth > b.clientWidth)"
                                                   ".map(b => b.textContent.slice(0, 60))")
    assert overflowing == []
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    first = page.locator(".code-block").nth(1)
    first.locator("button.copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == first.locator("pre").inner_text().strip()
