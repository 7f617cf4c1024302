"""The pytest plugin: loaded by installing the package, free until used, and the example."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "test_with_fake_gateway.py"


def _pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in `directory`, as a user's project: no conftest, no pyproject of ours."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error", *args]
    return subprocess.run(command, cwd=directory, capture_output=True, text=True, check=False)


def test_importing_the_plugin_imports_neither_the_client_nor_the_server():
    probe = (
        "import sys, _chat_image_pytestplugin\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in "
        "('chat_image', 'chat_image_api', 'httpx', 'http', 'socketserver')]\n"
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_plugin_is_loaded_by_installing_and_costs_nothing_unused(tmp_path: Path):
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import sys

            def test_unused():
                assert "_chat_image_pytestplugin" in sys.modules
                assert "chat_image" not in sys.modules

            def test_a_responder_that_raises_fails_the_test(fake_gateway):
                import httpx

                def respond(request):
                    raise LookupError("bug in the responder")

                fake_gateway.responder = respond
                httpx.post(fake_gateway.base_url + "/chat/completions")  # refused: no key
                httpx.post(
                    fake_gateway.base_url + "/chat/completions",
                    headers={"Authorization": "Bearer " + fake_gateway.api_key},
                    json={"model": "m", "messages": [], "max_tokens": 1},
                )
            """
        )
    )
    result = _pytest(tmp_path)
    # The test itself passed; its teardown is the error.
    assert "2 passed, 1 error" in result.stdout, result.stdout + result.stderr
    assert "LookupError: bug in the responder" in result.stdout


def test_the_example_passes_outside_our_suite(tmp_path: Path):
    (tmp_path / EXAMPLE.name).write_bytes(EXAMPLE.read_bytes())
    result = _pytest(tmp_path, "-v")
    tests = len(re.findall(r"^def test_", EXAMPLE.read_text(), flags=re.MULTILINE))
    assert f"{tests} passed" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0
