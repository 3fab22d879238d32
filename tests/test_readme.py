"""The README works as printed: every shell block that talks to the sandbox is run, in order, against a live sandbox,
with only the port changed (README.md: "the URLs assume port 5000"), the placeholders filled in from the answers
before them and the admin token the live sandbox has for `$(cat instance/admin_token)`. Each sample output shown
under a request (`# {...}`, `…` for what differs per run) is what the sandbox answers, keys in the order it sends
them; each annotated request (`# 400 invalid_request`, `# 1002`) answers so.

The other shell blocks install, deploy or run the command line; they are named below, so that a new block that talks
to the sandbox cannot be left out."""
import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from helpers import csrf_token

README = Path(__file__).parent.parent / "README.md"
README_URL = "http://127.0.0.1:5000"
SHELL_BLOCK = re.compile(r"^( *)```sh\n(.*?)^\1```", re.S | re.M)
# The blocks that do not talk to a running sandbox, by their first line (install, test, deploy, command line).
NOT_REQUESTS = {
    "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/flask run",
    "python3 -m venv .venv && .venv/bin/pip install -r requirements-dev.txt && .venv/bin/python -m pytest",
    "sudo apt-get install -y postgresql redis-server          # or servers you already run",
    ".venv/bin/flask init-db                      # migrate the schema (as flask db upgrade)",
    'pip install ".[pytest]"                  # in the checkout (the distribution is oauth-sandbox; [pytest]: the '
    "plugin's pytest)",
}
ANNOTATION = re.compile(r"\s+# (…)?(\d{3,4})\b(.*)$")
PLACEHOLDERS = ("AUTHORIZATION_CODE", "ACCESS_TOKEN", "REFRESH_TOKEN", "SESSION_ID")
ADMIN_TOKEN = "readme-admin-token"


def sections():
    """README's `## ` sections as (title, text)."""
    parts = re.split(r"^## (.+)$", README.read_text(), flags=re.M)
    return [("", parts[0]), *zip(parts[1::2], parts[2::2], strict=True)]


def shell_blocks(text):
    """The ```sh blocks of `text`, dedented (some are inside list items)."""
    blocks = []
    for indent, body in SHELL_BLOCK.findall(text):
        blocks.append("\n".join(line[len(indent):] for line in body.splitlines()))
    return blocks


def steps(block):
    """A block's commands, each with the sample output shown under it (the `# ` lines right after it, joined)."""
    found, lines = [], block.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("#"):
            i += 1
            continue
        command = [line]
        while command[-1].endswith("\\"):
            i += 1
            command.append(lines[i])
        i += 1
        sample = []
        while i < len(lines) and lines[i].startswith("#"):
            sample.append(lines[i][1:].strip())
            i += 1
        found.append(("\n".join(command), " ".join(sample)))
    return found


def matches(sample, body):
    """Whether `body` is the `sample` shown, `…` standing for any text."""
    pattern = ".*?".join(re.escape(part) for part in sample.split("…"))
    return re.fullmatch(pattern, body.strip(), re.S) is not None


def authorize_link(text, path):
    """The authorize URL a section tells the reader to open (a link or a commented line)."""
    return re.search(rf"(http://127\.0\.0\.1:5000{re.escape(path)}\?[^>\s]+)", text).group(1)


def code_from_browser(url, organization_id=None):
    """Open the authorize URL, log in as johndoe and approve, as the README says: the code on /callback."""
    session = requests.Session()
    login = session.get(url)
    consent = session.post(login.url, data={"csrf_token": csrf_token(login.text), "username": "johndoe",
                                            "password": "demo-password"})
    data = {"csrf_token": csrf_token(consent.text), "approve": "Approve"}
    if organization_id:
        data["organization_id"] = organization_id
    callback = session.post(consent.url, data=data)
    assert "/callback?code=" in callback.url, callback.url
    return re.search(r"code=([^&]+)", callback.url).group(1)


def run(command):
    """Run a command as printed; (body, HTTP status or None)."""
    assert shutil.which("curl"), "curl is needed to run the README's requests"
    single_curl = command.startswith("curl ")
    result = subprocess.run(["bash", "-c", command + (" -w '\\n%{http_code}'" if single_curl else "")],
                            capture_output=True, text=True, timeout=60, check=True)
    if not single_curl:
        return result.stdout, None
    body, _, status = result.stdout.rpartition("\n")
    return body, int(status)


def remember(state, body):
    """The values later requests of the section use: tokens, and the id of the current v1 session."""
    try:
        answer = json.loads(body)
    except ValueError:
        return
    data = answer.get("data", answer) if isinstance(answer, dict) else None
    if isinstance(data, dict):
        for key, placeholder in (("access_token", "ACCESS_TOKEN"), ("token", "ACCESS_TOKEN"),
                                 ("refresh_token", "REFRESH_TOKEN")):
            if key in data:
                state[placeholder] = str(data[key])
    if isinstance(data, list):
        current = [item for item in data if isinstance(item, dict) and item.get("current")]
        if current:
            state["SESSION_ID"] = str(current[0]["id"])


def test_every_shell_block_is_run_here_or_named_as_not_a_request():
    blocks = [block for _, text in sections() for block in shell_blocks(text)]
    others = {block.splitlines()[0] for block in blocks if "curl " not in block}
    assert others == NOT_REQUESTS
    assert sum("curl " in block for block in blocks) >= 7


@pytest.mark.parametrize("section", ["The php dialect", "The consumer dialect", "The v1 dialect",
                                     "The mokapen dialect"])
def test_the_sections_requests_answer_as_printed(live_server, section):
    title, text = next((title, text) for title, text in sections() if title.startswith(section))
    url = f"http://127.0.0.1:{live_server.port}"
    state = {}
    if "AUTHORIZATION_CODE" in text:
        path = "/api/authorize.php" if "php" in title else "/oauth/authorize"
        state["AUTHORIZATION_CODE"] = code_from_browser(authorize_link(text, path).replace(README_URL, url),
                                                        None if "php" in title else "849")
    ran = 0
    for block in shell_blocks(text):
        for command, sample in steps(block):
            annotation = ANNOTATION.search(command.splitlines()[-1])
            command = ANNOTATION.sub("", command) if annotation else re.sub(r"\s+#.*$", "", command)
            for placeholder in PLACEHOLDERS:
                if placeholder in command:
                    assert placeholder in state, (placeholder, command)
                    command = command.replace(placeholder, state[placeholder])
            body, status = run(command.replace(README_URL, url).replace("$(cat instance/admin_token)", ADMIN_TOKEN))
            ran += 1
            if annotation and annotation.group(1):  # `# …429`: the loop's last status
                assert body.split()[-1] == annotation.group(2), (command, body)
            elif annotation and len(annotation.group(2)) == 3:  # `# 400 invalid_request`
                assert status == int(annotation.group(2)), (command, status, body)
                assert annotation.group(3).split()[0] in body, (command, body)
            elif annotation:  # v1's numeric codes: `# 1002`
                assert f'"code":{annotation.group(2)}' in body, (command, body)
            else:
                assert status is not None and status < 400, (command, status, body)
            if sample:
                assert matches(sample, body), f"{command}\nREADME: {sample}\nsandbox: {body}"
            remember(state, body)
    assert ran >= 3
    if "php" in title:  # the section leaves token.php usable for the sample clients it runs next
        assert requests.post(f"{url}/api/token.php").status_code == 400


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": ADMIN_TOKEN}


def test_the_readme_says_to_install_what_the_seed_002_python_sample_needs():
    text = dict(sections())["The php dialect (seed 002)"]
    steps_text = text.split("### Running the seed's sample clients")[1].split("```python")[0]
    assert "pip install" in steps_text and "requests" in steps_text and "flask" in steps_text
    sample = (Path(__file__).parent / "samples" / "sample.py").read_text()
    assert "import requests" in sample  # what the seed's sample imports


def test_the_readme_has_a_note_on_the_port():
    text = dict(sections())["Demo data"]
    assert "5000" in text and "--port" in text


def test_the_sample_links_are_on_the_front_page_with_the_real_host(client):
    """The README's note: the front page follows the real host."""
    page = html.unescape(client.get("/", base_url="http://127.0.0.1:8123").text)
    assert "http://127.0.0.1:8123/api/token.php" in page
