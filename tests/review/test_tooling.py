"""The pre-commit hooks and the documented CI workflow are well formed and use real options."""

from __future__ import annotations

import re

import yaml

from arrears.cli import cli
from tests.conftest import REPO


def test_pre_commit_hooks() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert set(by_id) == {"arrears-check", "arrears-test", "arrears-fmt"}
    for hook in hooks:
        assert hook["language"] == "python" and hook["entry"].startswith("arrears ")
        assert {"id", "name", "entry", "language"} <= set(hook)
        command = cli.commands[hook["entry"].split()[1]]
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        assert all(word in options for word in hook["entry"].split()[2:])
        assert re.compile(hook["files"]).search("policies/smb.yaml")
    assert by_id["arrears-check"]["entry"] == "arrears check --strict"


def _workflow() -> dict[str, object]:
    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    workflows = [yaml.safe_load(b) for b in blocks if "jobs:" in b]
    assert len(workflows) == 1
    found = workflows[0]
    assert isinstance(found, dict)
    return found


def test_the_documented_workflow_runs_check_test_and_diff() -> None:
    workflow = _workflow()
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict) and set(jobs) == {"check", "impact"}
    runs = "\n".join(step.get("run", "") for job in jobs.values() for step in job["steps"])
    assert "arrears check --strict --format github" in runs
    assert re.search(r"arrears test --coverage --min-coverage \d+", runs)
    assert "arrears fmt --check" in runs
    assert re.search(r"arrears diff .* --format markdown", runs)
    assert "gh pr comment" in runs
    for line in re.findall(r"arrears (\w+)([^\n|>]*)", runs):
        command = cli.commands[line[0]]
        options = {o for p in command.params for o in getattr(p, "opts", [])}
        for word in line[1].split():
            if word.startswith("--"):
                assert word in options, (line, word)


def test_editor_docs_show_the_modeline_and_vscode_settings() -> None:
    text = (REPO / "docs" / "editor.md").read_text(encoding="utf-8")
    assert "# yaml-language-server: $schema=" in text
    assert '"yaml.schemas"' in text
    assert "arrears schema -o policy.schema.json" in text
