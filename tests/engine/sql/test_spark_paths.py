"""Snapshots at paths only Spark reads (SPEC 8): fetched by Spark, read as a local copy would be.

Spark's `viewfs:` file system, mounted on a local folder, stands in for a cluster's
(`hdfs:`, `s3a:`...): a scheme Spark reads and the local readers do not.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
import pytest

import arrears
from arrears.cli import main
from arrears.diagnostics import InputError
from arrears.engine.sql.spark_paths import _inside
from tests.conftest import EXAMPLES

POLICY = str(EXAMPLES / "policies" / "smb-standard.yaml")
SMALL = EXAMPLES / "snapshots" / "small.json"
FOLDER = EXAMPLES / "snapshots" / "ibm-2013-06-30"
AS_OF = ("--as-of", "2013-06-30")  # a folder carries no as_of of its own


def mounted(spark: Any, folder: Path) -> str:
    """A `viewfs:` URI that Spark resolves to `folder` (a mount of the session's own)."""
    name = f"t{uuid.uuid4().hex[:12]}"
    spark.sparkContext._jsc.hadoopConfiguration().set(f"fs.viewfs.mounttable.{name}.link./data", folder.as_uri())
    return f"viewfs://{name}/data"


class Ran(NamedTuple):
    exit_code: int
    stdout: str
    stderr: str


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Ran:
    code = main(["run", *args])
    out, err = capsys.readouterr()
    return Ran(code, out, err)


@pytest.mark.parametrize(
    ("snapshot", "as_of"),
    [(SMALL, ()), (FOLDER, AS_OF)],
    ids=["json-file", "csv-folder"],
)
def test_a_remote_snapshot_gives_the_local_plan_and_warnings(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], snapshot: Path, as_of: tuple[str, ...]
) -> None:
    shutil.copytree(snapshot, tmp_path / snapshot.name) if snapshot.is_dir() else shutil.copy(snapshot, tmp_path)
    remote = f"{mounted(spark, tmp_path)}/{snapshot.name}"
    local = run(capsys, POLICY, str(tmp_path / snapshot.name), "--engine", "row", *as_of)
    fetched = run(capsys, POLICY, remote, "--engine", "spark", *as_of)
    assert fetched.exit_code == 0, fetched.stderr
    assert fetched.stdout == local.stdout
    # Warnings name the place the user gave, with the line of the file fetched.
    assert fetched.stderr == local.stderr.replace(str(tmp_path / snapshot.name), remote)


def test_a_parquet_folder_through_spark(spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "snap"
    folder.mkdir()
    for table in ("invoices", "customers", "history"):
        pl.read_csv(FOLDER / f"{table}.csv", infer_schema=False).write_parquet(folder / f"{table}.parquet")
    (folder / "notes.txt").write_text("not a table: not fetched", encoding="utf-8")
    local = run(capsys, POLICY, str(folder), "--engine", "batch", *AS_OF)
    fetched = run(capsys, POLICY, f"{mounted(spark, tmp_path)}/snap", "--engine", "spark", *AS_OF)
    assert fetched.exit_code == 0, fetched.stderr
    assert fetched.stdout == local.stdout


def test_errors_in_a_remote_file_name_it(spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SMALL.read_text(encoding="utf-8").replace('"due_date": "2026-11-26"', '"due_date": "2026-13-45"', 1)
    (tmp_path / "bad.json").write_text(text, encoding="utf-8")
    remote = f"{mounted(spark, tmp_path)}/bad.json"
    failed = run(capsys, POLICY, remote, "--engine", "spark")
    assert failed.exit_code == 2
    assert f"{remote}:" in failed.stderr
    assert "not a date" in failed.stderr
    assert '"due_date": "2026-13-45"' in failed.stderr  # the line, fetched, under its place
    assert str(tmp_path) not in failed.stderr  # never the copy's place
    assert "Traceback" not in failed.stderr


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("{base}/missing.json", "no such snapshot: {base}/missing.json"),
        ("{base}/missing-folder", "no such snapshot: {base}/missing-folder"),
        ("{base}/folder.json", "{base}/folder.json is a folder"),
        ("nosuchscheme://bucket/snap.json", "Spark could not read nosuchscheme://bucket/snap.json"),
    ],
)
def test_unreadable_remote_snapshots_exit_2(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, said: str
) -> None:
    (tmp_path / "folder.json").mkdir()
    (tmp_path / "folder.json" / "small.json").write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    base = mounted(spark, tmp_path)
    failed = run(capsys, POLICY, path.format(base=base), "--engine", "spark")
    assert failed.exit_code == 2, failed.stderr
    assert said.format(base=base) in failed.stderr
    assert "Traceback" not in failed.stderr


def test_the_python_api_reads_a_remote_snapshot_in_the_callers_session(spark: Any, tmp_path: Path) -> None:
    shutil.copy(SMALL, tmp_path)
    policy = arrears.load_policy(POLICY)
    planned = policy.evaluate(f"{mounted(spark, tmp_path)}/small.json", engine="spark", spark=spark)
    assert planned.to_json() == policy.evaluate(SMALL, engine="row").to_json()
    with pytest.raises(InputError, match="Spark reads viewfs: paths: use engine='spark'"):
        policy.evaluate(f"{mounted(spark, tmp_path)}/small.json", engine="duckdb")
    assert policy.evaluate(SMALL.as_uri(), engine="batch").to_json() == planned.to_json()


def test_tables_written_by_spark_as_folders_of_parts(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "snap"
    for table in ("invoices", "customers", "history"):
        rows = pl.read_csv(FOLDER / f"{table}.csv", infer_schema=False)
        parts = folder / f"{table}.parquet"
        parts.mkdir(parents=True)
        half = rows.height // 2
        rows[:half].write_parquet(parts / "part-00000.parquet")
        rows[half:].write_parquet(parts / "part-00001.parquet")
        (parts / "_SUCCESS").write_text("", encoding="utf-8")
    (folder / "notes").mkdir()
    (folder / "notes" / "readme.csv").write_text("not,a,table\n", encoding="utf-8")  # not fetched
    local = run(capsys, POLICY, str(FOLDER), "--engine", "row", *AS_OF)
    fetched = run(capsys, POLICY, f"{mounted(spark, tmp_path)}/snap", "--engine", "spark", *AS_OF)
    assert fetched.exit_code == 0, fetched.stderr
    assert fetched.stdout == local.stdout != ""


@pytest.mark.parametrize(
    ("listed", "root", "inside"),
    [
        ("/data/snap/invoices.csv", "/data/snap", "invoices.csv"),
        ("/data/snap/invoices.parquet/part-0.parquet", "/data/snap", "invoices.parquet/part-0.parquet"),
        ("/user/me/snap/history.csv", "snap", "history.csv"),  # a relative URI, listed qualified
        ("/elsewhere/x.csv", "/data/snap", "x.csv"),
    ],
)
def test_a_listed_files_place_inside_the_folder(listed: str, root: str, inside: str) -> None:
    assert _inside(listed, root, "snap") == Path(inside)
