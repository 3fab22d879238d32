"""bench/bench.py as the README runs it (shortened to one 1-second run a scenario): it measures every scenario,
each answering 2xx under load, and prints mokapen's share of the RS256 route and the fast-lane bounds."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^(?P<name>\S.*?)\s+(?P<rate>[\d.]+)\s+(?P<p50>[\d.]+)\s+(?P<p99>[\d.]+)\s+(?P<ratio>[\d.]+)\s+"
                 r"(?P<errors>\d+)$")
SCENARIOS = ("bare Flask GET /bare", "bare Flask POST /bare", "issue: consumer client_credentials",
             "issue: mokapen client_credentials", "issue: v1 /v1/oauth/ (scrypt password check)",
             "validate: php userinfo.php", "validate: consumer /protected_endpoint", "validate: v1 /v1/user/",
             "validate: mokapen /api/v1/849/contacts", "jwks: /oauth/jwks", "reference: bare route signing a HS256 JWT",
             "reference: bare route signing a RS256 JWT", "issue: mokapen, paired with the RS256 route",
             "reference: the bare GET route without Flask", "reference: the bare POST route without Flask",
             "reference: GET without Flask, in its context",
             "reference: POST without Flask, in its context")


@pytest.mark.skipif(shutil.which("wrk") is None, reason="needs wrk (apt-get install wrk), as the README says")
def test_the_benchmark_measures_every_scenario_and_every_request_is_answered():
    run = subprocess.run([sys.executable, "bench/bench.py", "--seconds", "1", "--repeats", "1"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = {match["name"]: match for match in map(ROW.match, run.stdout.splitlines()) if match}
    assert set(SCENARIOS) <= set(rows), run.stdout
    for name in SCENARIOS:
        assert rows[name]["errors"] == "0", rows[name].string  # every request answered 2xx: no limit, no failure
        if "scrypt" not in name:  # (a v1 login takes half a second by design: a 1-second run may finish none)
            assert float(rows[name]["rate"]) > 0 and float(rows[name]["ratio"]) > 0, rows[name].string
    assert re.search(r"^issue: mokapen, as a share of the RS256 route\s+[\d.]+ \(paired; the quotient of the two "
                     r"ratios to the bare POST: [\d.]+\)$", run.stdout, re.M), run.stdout
    bounds = re.findall(r"^(validate: .+?|jwks: .+?)\s+([\d.]+)\s+([\d.]+)x\s+([\d.]+)\s+([\d.]+)x$", run.stdout,
                        re.M)
    assert [bound[0] for bound in bounds] == [name for name in SCENARIOS if name.startswith(("validate:", "jwks:"))]
