"""The console's deploy bundle: the same files `make run` serves, with the deployment's config.json."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_bundle_holds_the_console_the_asl_and_the_deployments_config(tmp_path):
    out = tmp_path / "console"
    (out / "stale.txt").parent.mkdir()
    (out / "stale.txt").write_text("from an earlier bundle")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "console_bundle.py"), "--out", str(out), "--region", "eu-west-1",
         "--user-pool-id", "eu-west-1_AbC", "--client-id", "client123"],
        capture_output=True, text=True, check=True,
    )
    assert "files in" in done.stdout
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert {"index.html", "styles.css", "js/main.js", "js/views/case_page.js", "asl/case_workflow.asl.json"} <= names
    assert "stale.txt" not in names
    assert json.loads((out / "config.json").read_text()) == {
        "apiBaseUrl": "/api", "region": "eu-west-1", "userPoolId": "eu-west-1_AbC", "userPoolClientId": "client123",
        "cognitoEndpoint": "https://cognito-idp.eu-west-1.amazonaws.com/",
    }
    bundled, source = out / "asl" / "case_workflow.asl.json", ROOT / "stepfunctions" / "case_workflow.asl.json"
    assert bundled.read_bytes() == source.read_bytes()


def test_every_module_the_console_imports_is_in_the_console(tmp_path):
    """No CDN and no build step: every `import ... from "./x.js"` names a file that ships."""
    import re

    for module in (ROOT / "console" / "js").rglob("*.js"):
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', module.read_text()):
            assert (module.parent / target).resolve().is_file(), f"{module.name} imports missing {target}"
        assert "http://" not in module.read_text().replace("http://www.w3.org/2000/svg", "")
        assert "https://" not in module.read_text()
