"""Writing an output file: all of it or none of it, in the right place, never over an input.

Every command that writes a file (`-o` of run, diff, graph, schema; `fmt` in place; the
batch engine's Parquet plan) goes through `write_whole`, so they all behave alike:

- a regular file, or a new one, is written to a hidden temporary file beside it and then
  renamed over it: a reader sees the old content or the new, never half of it;
- a symlink is followed: its target is replaced, the link stays a link;
- a replaced file keeps its mode (and its owner and group where the user may set them),
  and a file the user may not write is not replaced (as a shell's `>` would refuse);
  a new file gets the mode the umask gives (0644 under the usual umask 022);
- a device or a FIFO (`/dev/null`, a named pipe), and anything named under /dev or /proc
  (`/dev/stdout` may be a file opened for appending), is written in place: it cannot be
  renamed over, and replacing it by a regular file would destroy it;
- the temporary file is removed on any failure, on Ctrl-C (SIGINT) and on SIGTERM or
  SIGHUP; for those two the process then dies of the signal as it would have.

`check_target` refuses, before anything is read, an empty name, a folder, and an output
that is one of the command's own inputs (compared by device and inode, so a symlink or
a hard link to an input is caught too).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import signal
import stat
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from arrears.diagnostics import Diagnostic, InputError

# Signals whose default action ends the process without unwinding: while a temporary file
# exists they raise instead, so it is removed; SIGINT already raises KeyboardInterrupt.
_TERMINATING = (signal.SIGTERM, signal.SIGHUP)


def _usage(message: str) -> InputError:
    return InputError(Diagnostic(message, code="usage"))


def _io(target: Path | str, error: OSError) -> InputError:
    reason = error.strerror or str(error)
    return InputError(Diagnostic(f"cannot write {target}: {reason}", code="io"))


def check_target(output: str, inputs: Iterable[str | Path] = (), option: str = "-o") -> Path:
    """The file `output` names, once it is known to be writable as a file and not one of `inputs`.

    `inputs` are the files the command reads (a snapshot folder's tables listed one by one).
    Raises `InputError` (exit 2) with a message naming `option`.
    """
    shown = repr(output) if output.strip() != output or not output else output
    if not output:
        raise _usage(f"{option} '': an empty name is not a file; give the file to write, or - for standard output")
    if output.endswith(("/", os.sep)) or Path(output).name in ("", ".", ".."):
        raise _usage(f"{option} {shown}: names a folder, not a file; give the name of the file to write")
    target = Path(output)
    try:
        found = os.stat(target)
    except FileNotFoundError:
        found = None
    except OSError as error:  # a symlink loop, a path through a file, no permission
        raise _io(shown, error) from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise _usage(f"{option} {shown}: is a folder, not a file; give the name of the file to write")
    if found is not None and stat.S_ISREG(found.st_mode):
        for item in inputs:
            try:
                other = os.stat(item)
            except OSError:
                continue  # an input that cannot be read fails later, with its own message
            if (other.st_dev, other.st_ino) == (found.st_dev, found.st_ino):
                raise _usage(
                    f"{option} {shown}: is one of this command's inputs ({item}); writing it would destroy it,"
                    " give another file"
                )
    parent = Path(os.path.realpath(target)).parent if found is None else None
    if parent is not None and not parent.is_dir():
        raise InputError(Diagnostic(f"cannot write {shown}: no such folder {target.parent}", code="io"))
    return target


def write_text(text: str, target: Path) -> None:
    """`write_whole` for text, as UTF-8 with the newlines as given."""

    def write(path: Path) -> None:
        # Opened for appending, not truncated: the temporary file is new and empty anyway, and
        # written through (`-o /dev/stdout >> log`) the lines already there must stay.
        with path.open("a", encoding="utf-8", newline="") as out:
            out.write(text)

    write_whole(write, target)


def write_whole(write: Callable[[Path], object], target: Path) -> None:
    """Call `write(path)` so that `target` ends up with all of the output or none of it (see the module).

    `write` opens the path it is given itself (text, Parquet...). OSError becomes an
    `InputError` naming the target.
    """
    try:
        found: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        found = None
    except OSError as error:
        raise _io(target, error) from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise _usage(f"cannot write {target}: it is a folder, not a file")
    # /dev/stdout, /dev/fd/N, /proc/self/fd/N name an open descriptor, maybe a file opened
    # for appending (`>> log`): written through like a device, never renamed over.
    through_descriptor = found is not None and str(target).startswith(("/dev/", "/proc/"))
    if found is not None and (through_descriptor or not stat.S_ISREG(found.st_mode)):
        # A device or a FIFO: written through, as a shell's `>` would.
        try:
            write(target)
        except OSError as error:
            raise _io(target, error) from None
        return
    if found is not None and not os.access(target, os.W_OK):
        # A read-only file is protected on purpose: renaming over it would get round that.
        raise _io(target, PermissionError(errno.EACCES, os.strerror(errno.EACCES)))
    real = Path(os.path.realpath(target))  # a symlink's target is what gets replaced (a dangling one: created)
    if not real.parent.is_dir():
        raise InputError(Diagnostic(f"cannot write {target}: no such folder {real.parent}", code="io"))
    temp = real.parent / f".{real.name}.{secrets.token_hex(4)}.partial"
    try:
        with _removing_on_signals():
            # O_EXCL: the name is ours alone; mode 0666 less the umask, as a new file would get.
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            write(temp)
            if found is not None:
                _keep_mode_and_owner(temp, found)
            os.replace(temp, real)
    except _Terminated as ended:
        _discard(temp)
        _die(ended.signum)
    except BaseException as error:
        _discard(temp)
        if isinstance(error, OSError):
            raise _io(target, error) from None
        raise


def _keep_mode_and_owner(path: Path, was: os.stat_result) -> None:
    if (was.st_uid, was.st_gid) != (os.getuid(), os.getgid()):
        # Only root may give a file away; a member of the group may still keep the group.
        with contextlib.suppress(PermissionError):
            os.chown(path, was.st_uid, was.st_gid)
        with contextlib.suppress(PermissionError):
            os.chown(path, -1, was.st_gid)
    os.chmod(path, stat.S_IMODE(was.st_mode))


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


class _Terminated(BaseException):
    """A terminating signal arrived while a temporary file existed (not an Exception: nothing may catch it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(signum)


@contextlib.contextmanager
def _removing_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into an exception for the duration, where they would kill silently."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (the service does not write files)
        return
    installed: dict[int, Callable[[int, FrameType | None], Any] | int | None] = {}
    for number in _TERMINATING:
        if signal.getsignal(number) == signal.SIG_DFL:
            installed[number] = signal.signal(number, _raise_terminated)
    try:
        yield
    finally:
        for restored, previous in installed.items():
            signal.signal(restored, previous)


def _die(signum: int) -> None:
    """End the process by `signum` with its default action, as if it had never been caught."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    raise SystemExit(128 + signum)  # only reached should the signal be blocked
