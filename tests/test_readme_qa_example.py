"""The README's pytest example for QA teams, run as written against a live sandbox."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


@pytest.fixture
def app_config():
    return {"SANDBOX_ADMIN_TOKEN": "readme-admin-token"}


def test_the_readme_qa_example_passes(live_server, tmp_path):
    section = README.read_text().split("<!-- qa-example:start -->")[1].split("<!-- qa-example:end -->")[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "test_my_client.py").write_text(code)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SANDBOX_URL": live_server.url,
                                 "SANDBOX_ADMIN_TOKEN": "readme-admin-token"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
