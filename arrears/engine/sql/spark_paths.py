"""Snapshots at any path Spark can read (SPEC section 8): `hdfs://`, `s3a://`, `abfss://`, `gs://`...

Spark fetches the snapshot's bytes (its `binaryFile` source, through the file systems the
session is configured for) into a local folder, and the snapshot is then read there by the
same readers as a local one: the same typing, checks, warnings and digest, so the plan is
the one a local copy of the same files gives, and no engine reads a snapshot differently.
The copy lives for the run (the fallback to the batch or row engine reads it too) and is
removed after. Diagnostics name the place the user gave, not the copy (`moved`).

Only the files a snapshot is made of are fetched: a `.json`, `.yaml` or `.yml` file, or a
folder's `.csv` and `.parquet` tables (its other files, and its sub-folders, are not read).
"""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from arrears.diagnostics import ArrearsError, Diagnostic, InputError, moved

SNAPSHOT_FILES = (".json", ".yaml", ".yml")
TABLE_FILES = (".csv", ".parquet")


@contextmanager
def spark_copy(uri: str, session: Any) -> Iterator[str]:
    """The snapshot at `uri` copied by `session` into a local folder: yields the copy's path (a
    file or a folder, as `uri` names one). An `ArrearsError` raised inside names `uri`."""
    uri = uri.rstrip("/")
    with tempfile.TemporaryDirectory(prefix="arrears-remote-") as folder:
        name = urllib.parse.unquote(uri.rsplit("/", 1)[-1]) or "snapshot"
        copy = Path(folder) / name
        _fetch(session, uri, copy, whole_file=copy.suffix.lower() in SNAPSHOT_FILES)
        try:
            yield str(copy)
        except ArrearsError as error:
            error.diagnostics, texts = moved(error.diagnostics, str(copy), uri)
            error.sources.update(texts)
            raise


def _fetch(session: Any, uri: str, copy: Path, *, whole_file: bool) -> None:
    """Write the files at `uri` to `copy`; a path Spark cannot find or read is an InputError (exit 2)."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        files = session.read.format("binaryFile").load(uri).select("path", "content")
        if not whole_file:
            copy.mkdir()
        # One file at a time through the driver: a portfolio's tables are not all held at once.
        for row in files.toLocalIterator():
            file_name = urllib.parse.unquote(str(row["path"]).rsplit("/", 1)[-1])
            if whole_file:
                if file_name != copy.name:  # `uri` is a folder named like a snapshot file
                    raise InputError(Diagnostic(f"{uri} is a folder: a snapshot is a .json or .yaml file", code="io"))
                copy.write_bytes(bytes(row["content"]))
            elif Path(file_name).suffix.lower() in TABLE_FILES:
                (copy / file_name).write_bytes(bytes(row["content"]))
    except (PySparkException, Py4JError) as error:
        said = _java_said(error)
        if "PATH_NOT_FOUND" in said or "does not exist" in said:
            raise InputError(Diagnostic(f"no such snapshot: {uri}", code="io")) from None
        hint = "Spark reads the file systems its session is set up for (s3a: needs the hadoop-aws package, ...)"
        raise InputError(Diagnostic(f"Spark could not read {uri}: {said[:300]}", hint=hint, code="io")) from None
    if whole_file and not copy.exists():  # a folder named like a file, or an empty file list
        raise InputError(Diagnostic(f"no such snapshot: {uri}", code="io"))


def _java_said(error: Exception) -> str:
    """What the JVM said, on one line: a Py4J error's own first line only names the call."""
    java = getattr(error, "java_exception", None)
    said = str(java.toString()) if java is not None else str(error)
    lines = said.strip().splitlines()
    return lines[0] if lines else type(error).__name__
