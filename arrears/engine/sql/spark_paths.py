"""Snapshots at any path Spark can read (SPEC section 8): `hdfs://`, `s3a://`, `abfss://`, `gs://`...

Spark fetches the snapshot's bytes (its `binaryFile` source, through the file systems the
session is configured for) into a local folder, and the snapshot is then read there by the
same readers as a local one: the same typing, checks, warnings and digest, so the plan is
the one a local copy of the same files gives, and no engine reads a snapshot differently.
The copy lives for the run (the fallback to the batch or row engine reads it too) and is
removed after. Diagnostics name the place the user gave, not the copy (`moved`).

Only the files a snapshot is made of are fetched: a `.json`, `.yaml` or `.yml` file, or a
folder's `.csv` and `.parquet` tables, a table also as a folder of parts the way Spark
writes one (`invoices.parquet/part-00000-....parquet`); the folder's other files are not read.
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

    root = urllib.parse.unquote(urllib.parse.urlparse(uri).path).rstrip("/")
    try:
        reader = session.read.format("binaryFile")
        if not whole_file:
            # A table may be a folder of parts, as Spark writes one (`invoices.parquet/part-0000...`).
            reader = reader.option("recursiveFileLookup", "true")
            copy.mkdir()
        files = reader.load(uri).select("path", "content")
        # One file at a time through the driver: a portfolio's tables are not all held at once.
        for row in files.toLocalIterator():
            where = urllib.parse.unquote(urllib.parse.urlparse(str(row["path"])).path)
            if whole_file:
                if Path(where).name != copy.name:  # `uri` is a folder named like a snapshot file
                    raise InputError(Diagnostic(f"{uri} is a folder: a snapshot is a .json or .yaml file", code="io"))
                copy.write_bytes(bytes(row["content"]))
                continue
            inside = _inside(where, root, copy.name)
            # Only a table's file or parts, and never a place outside the copy.
            outside = inside.is_absolute() or ".." in inside.parts
            if inside.parts and Path(inside.parts[0]).suffix.lower() in TABLE_FILES and not outside:
                (copy / inside).parent.mkdir(parents=True, exist_ok=True)
                (copy / inside).write_bytes(bytes(row["content"]))
    except (PySparkException, Py4JError) as error:
        said = _java_said(error)
        if "PATH_NOT_FOUND" in said or "does not exist" in said:
            raise InputError(Diagnostic(f"no such snapshot: {uri}", code="io")) from None
        hint = "Spark reads the file systems its session is set up for (s3a: needs the hadoop-aws package, ...)"
        raise InputError(Diagnostic(f"Spark could not read {uri}: {said[:300]}", hint=hint, code="io")) from None
    if whole_file and not copy.exists():  # a folder named like a file, or an empty file list
        raise InputError(Diagnostic(f"no such snapshot: {uri}", code="io"))


def _inside(where: str, root: str, name: str) -> Path:
    """A listed file's place inside the folder `root` (named `name`): the listing names it in
    full, qualified (`hdfs://nn:8020/...`, a relative path made absolute)."""
    if where.startswith(root + "/"):
        return Path(where[len(root) + 1 :])
    at = where.rfind(f"/{name}/")
    return Path(where[at + len(name) + 2 :] if at >= 0 else Path(where).name)


def _java_said(error: Exception) -> str:
    """What the JVM said, on one line: a Py4J error's own first line only names the call."""
    java = getattr(error, "java_exception", None)
    said = str(java.toString()) if java is not None else str(error)
    lines = said.strip().splitlines()
    return lines[0] if lines else type(error).__name__
