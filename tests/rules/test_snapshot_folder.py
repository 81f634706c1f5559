"""Which files are policies: a folder's `snapshots/` subfolder never holds any."""

from __future__ import annotations

from pathlib import Path

from arrears.rules.discovery import policy_files

POLICY = "arrears: 1\npolicy: {name}\nrules: []\n"


def test_the_snapshots_folder_is_not_searched(tmp_path: Path) -> None:
    (tmp_path / "snapshots" / "deep").mkdir(parents=True)
    (tmp_path / "team" / "snapshots").mkdir(parents=True)
    for path in ("a.yaml", "snapshots/b.yaml", "snapshots/deep/c.yaml", "team/snapshots/d.yaml"):
        (tmp_path / path).write_text(POLICY.format(name=Path(path).stem), encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in policy_files([tmp_path])]
    # Only the served folder's own snapshots/ is set apart; a subfolder's is an ordinary name.
    assert found == ["a.yaml", "team/snapshots/d.yaml"]


def test_a_named_file_in_snapshots_is_still_read(tmp_path: Path) -> None:
    (tmp_path / "snapshots").mkdir()
    named = tmp_path / "snapshots" / "b.yaml"
    named.write_text(POLICY.format(name="b"), encoding="utf-8")
    assert policy_files([named]) == [named]
