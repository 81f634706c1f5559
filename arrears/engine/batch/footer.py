"""Key-value metadata added to the footer of a Parquet file already written, a text at a time.

Polars takes about five times a metadata text's size to write it (+1.3 GB for 240 MB of
text; pyarrow's writer four times): the header of a plan-heavy portfolio's Parquet plan
(3.75M snapshot warnings, 880 MB at 10M invoices) was the run's peak
(docs/benchmarks.md). So the plan's rows are written without it, and its keys are then
appended to the footer's key-value list here, the footer rewritten in place, each text
encoded on its own as it is written.

The footer is the file's `FileMetaData` in Thrift's compact protocol (parquet.thrift),
then its length (4 bytes, little-endian) and `PAR1`. Its fields are copied as they are
but for field 5, `key_value_metadata: list<KeyValue>`, whose items are kept and followed
by the new ones; a field's header is spelled again, as it holds the distance from the
field before it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

MAGIC = b"PAR1"
_KEY_VALUES = 5  # FileMetaData.key_value_metadata
_BINARY, _LIST, _STRUCT = 8, 9, 12


def add_metadata(path: Path, metadata: Mapping[str, str]) -> None:
    """Append `metadata`'s keys to the key-value metadata of the Parquet file at `path`."""
    with path.open("r+b") as file:
        end = file.seek(-8, 2)
        tail = file.read(8)
        if tail[4:] != MAGIC:
            raise ValueError(f"{path}: not a Parquet file")
        start = end - int.from_bytes(tail[:4], "little")
        if start < 4:
            raise ValueError(f"{path}: not a Parquet file (its footer's length is beyond the file)")
        file.seek(start)
        footer = file.read(end - start)
        try:
            pieces = _with_key_values(footer, metadata)
        except IndexError:
            raise ValueError(f"{path}: not a Parquet file (its footer ends within a value)") from None
        file.seek(start)
        file.truncate()
        size = 0
        for piece in pieces:
            file.write(piece)
            size += len(piece)
        file.write(size.to_bytes(4, "little") + MAGIC)


def _with_key_values(footer: bytes, metadata: Mapping[str, str]) -> Iterator[bytes]:
    """The footer's struct again, its key-value list followed by `metadata`'s items. The footer
    is read whole here, before a piece is given: a footer that does not read is refused before
    the file is touched."""
    fields = _Reader(footer).fields()
    found = [(start, end) for number, _, start, end in fields if number == _KEY_VALUES]
    if found:
        kept = _Reader(footer[slice(*found[0])]).list_items()
    else:
        at = next((i for i, (number, _, _, _) in enumerate(fields) if number > _KEY_VALUES), len(fields))
        fields.insert(at, (_KEY_VALUES, _LIST, 0, 0))
        kept = (0, b"")
    return _pieces(footer, fields, kept, metadata)


def _pieces(
    footer: bytes, fields: list[tuple[int, int, int, int]], kept: tuple[int, bytes], metadata: Mapping[str, str]
) -> Iterator[bytes]:
    last = 0
    for number, kind, start, end in fields:
        yield _field_header(number - last, number, kind)
        last = number
        if number != _KEY_VALUES:
            yield footer[start:end]
            continue
        size, items = kept  # the items the list holds already
        yield _list_header(size + len(metadata), _STRUCT)
        yield items
        for key, value in metadata.items():
            # KeyValue {1: key, 2: value}, both binary (UTF-8 text), then the struct's stop.
            encoded = value.encode("utf-8")
            name = key.encode("utf-8")
            yield _field_header(1, 1, _BINARY) + _varint(len(name)) + name
            yield _field_header(1, 2, _BINARY) + _varint(len(encoded))
            yield encoded
            yield b"\x00"
    yield b"\x00"


def _field_header(delta: int, number: int, kind: int) -> bytes:
    if 0 < delta <= 15:
        return bytes([delta << 4 | kind])
    return bytes([kind]) + _varint(number << 1)  # the field's number in full, zigzag (never negative here)


def _list_header(size: int, kind: int) -> bytes:
    return bytes([size << 4 | kind]) if size < 15 else bytes([0xF0 | kind]) + _varint(size)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class _Reader:
    """Thrift's compact protocol, read only as far as to find where each value starts and ends."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def fields(self) -> list[tuple[int, int, int, int]]:
        """A struct's fields: number, type, and where its value starts and ends (a boolean's value
        is its type)."""
        found: list[tuple[int, int, int, int]] = []
        last = 0
        while True:
            header = self._byte()
            if header == 0:
                return found
            kind, delta = header & 0x0F, header >> 4
            number = last + delta if delta else _unzigzag(self._varint())
            last = number
            start = self.at
            self._skip(kind)
            found.append((number, kind, start, self.at))

    def list_items(self) -> tuple[int, bytes]:
        """A list's size and its items' bytes (the list being all of `data`)."""
        header = self._byte()
        size, kind = header >> 4, header & 0x0F
        if size == 15:
            size = self._varint()
        start = self.at
        for _ in range(size):
            self._skip(kind, item=True)
        return size, self.data[start : self.at]

    def _byte(self) -> int:
        byte = self.data[self.at]
        self.at += 1
        return byte

    def _varint(self) -> int:
        value, shift = 0, 0
        while True:
            byte = self._byte()
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    def _skip(self, kind: int, item: bool = False) -> None:
        if kind in (1, 2):  # a boolean: in its field's header, or a byte of its own in a list
            self.at += 1 if item else 0
        elif kind == 3:
            self.at += 1
        elif kind in (4, 5, 6):
            self._varint()
        elif kind == 7:
            self.at += 8
        elif kind == _BINARY:
            length = self._varint()  # read first: `self.at += self._varint()` adds to the position before it
            self.at += length
        elif kind in (_LIST, 10):
            header = self._byte()
            size = header >> 4 if header >> 4 != 15 else self._varint()
            for _ in range(size):
                self._skip(header & 0x0F, item=True)
        elif kind == 11:
            size = self._varint()
            if size:
                types = self._byte()
                for _ in range(size):
                    self._skip(types >> 4, item=True)
                    self._skip(types & 0x0F, item=True)
        elif kind == _STRUCT:
            self.fields()
        else:
            raise ValueError(f"not a Parquet footer: a Thrift value of type {kind}")


def _unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)
