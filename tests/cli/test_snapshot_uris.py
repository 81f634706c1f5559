"""Snapshots named by URI (SPEC 8): a `file:` URI is its local path for every command and engine;
another scheme is read through Spark only (tests/engine/sql/test_spark_paths.py), refused elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from arrears.engine.sources import local_path, uri_scheme
from tests.cli.test_cli import SPEC_POLICY, cli
from tests.conftest import EXAMPLES

SMALL = EXAMPLES / "snapshots" / "small.json"
FOLDER = EXAMPLES / "snapshots" / "ibm-2013-06-30"
EXAMPLE_POLICY = str(EXAMPLES / "policies" / "smb-standard.yaml")


@pytest.mark.parametrize(
    ("given", "scheme"),
    [
        ("hdfs://nn:8020/data/snap", "hdfs"),
        ("S3A://bucket/snap.json", "s3a"),
        ("abfss://c@account.dfs.core.windows.net/snap", "abfss"),
        ("file:///data/snap.json", "file"),
        ("C:\\data\\snap.json", None),  # a drive letter, not a scheme
        ("hdfs:/data/snap", "hdfs"),
        ("notes:2026.json", None),  # no path after the colon: a file name
        ("data/snap.json", None),
        ("/data/snap.json", None),
    ],
)
def test_a_uris_scheme(given: str, scheme: str | None) -> None:
    assert uri_scheme(given) == scheme


def test_a_local_file_named_like_a_uri_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open("ab:snap.json", "w", encoding="utf-8") as file:
        file.write("{}")
    assert uri_scheme("ab:snap.json") is None
    assert local_path("ab:snap.json") == "ab:snap.json"


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("file:///data/snap.json", "/data/snap.json"),
        ("file:/data/snap.json", "/data/snap.json"),
        ("file://localhost/data/my%20snap", "/data/my snap"),
        ("hdfs://nn/data/snap", "hdfs://nn/data/snap"),  # not local: kept for Spark
    ],
)
def test_a_file_uri_is_the_path_it_names(uri: str, path: str) -> None:
    assert local_path(uri) == path


@pytest.mark.parametrize("engine", ["row", "batch", "duckdb"])
def test_run_reads_a_file_uri_on_every_engine(capsys: pytest.CaptureFixture[str], engine: str) -> None:
    code, expected, _ = cli(capsys, "run", SPEC_POLICY, str(SMALL), "--engine", "row")
    assert code == 0
    code, out, err = cli(capsys, "run", SPEC_POLICY, SMALL.as_uri(), "--engine", engine)
    assert code == 0, err
    assert out == expected


@pytest.mark.parametrize(
    "command",
    [
        ["explain", SPEC_POLICY, SMALL.as_uri(), "--invoice", "INV-1006"],
        ["forecast", SPEC_POLICY, SMALL.as_uri(), "--days", "3"],
        ["notices", SPEC_POLICY, SMALL.as_uri()],
        ["diff", EXAMPLE_POLICY, EXAMPLE_POLICY, FOLDER.as_uri(), "--as-of", "2013-06-30"],
    ],
    ids=lambda command: command[0],
)
def test_other_commands_read_a_file_uri(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    given = command.index(next(arg for arg in command if arg.startswith("file:")))
    local = [*command[:given], local_path(command[given]), *command[given + 1 :]]
    expected = cli(capsys, *local)
    assert cli(capsys, *command) == expected
    assert expected[0] == 0, expected[2]


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["run", SPEC_POLICY, "hdfs://nn/data/snap.json"], "Spark reads hdfs: paths: add --engine spark"),
        (["run", SPEC_POLICY, "s3a://bucket/snap", "--engine", "duckdb"], "Spark reads s3a: paths"),
        (["explain", SPEC_POLICY, "hdfs://nn/snap.json", "--invoice", "I-1"], "arrears run --engine spark"),
        (["run", SPEC_POLICY, "file://otherhost/data/snap.json"], "not on otherhost"),
    ],
)
def test_paths_only_spark_reads_are_refused_elsewhere(
    capsys: pytest.CaptureFixture[str], command: list[str], said: str
) -> None:
    code, out, err = cli(capsys, *command)
    assert code == 2
    assert said in err
    assert out == ""
    assert "Traceback" not in err
