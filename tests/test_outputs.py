"""arrears.outputs: what happens at an output path, for every kind of target, and on a kill mid-write."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from arrears.diagnostics import InputError
from arrears.outputs import check_target, write_text, write_whole
from tests.conftest import REPO


def _partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_a_new_file_gets_the_umask_mode(tmp_path: Path, umask_027: None) -> None:
    target = tmp_path / "plan.json"
    write_text("{}\n", target)
    assert target.read_text() == "{}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # 0666 less the umask 027, not mkstemp's 0600
    assert _partials(tmp_path) == []


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o664, 0o755])
def test_a_replaced_file_keeps_its_mode_and_owner(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "policy.yaml"
    target.write_text("old\n")
    target.chmod(mode)
    if os.getuid() == 0:  # only root can give a file away; the owner must survive the replacement
        os.chown(target, 65534, 65534)
    before = target.stat()
    write_text("new\n", target)
    after = target.stat()
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(after.st_mode) == mode
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # replaced by a rename, never truncated in place


def test_a_symlink_is_followed_and_its_target_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real" / "plan.json"
    real.parent.mkdir()
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_text("new\n", link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n" and stat.S_IMODE(real.stat().st_mode) == 0o640
    assert _partials(real.parent) == [] and _partials(tmp_path) == []


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    write_text("x\n", link)
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == "x\n"


def test_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_text("through the pipe\n", fifo)
    out, _ = reader.communicate(timeout=10)
    assert out == b"through the pipe\n"
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still a FIFO, not replaced by a regular file
    assert _partials(tmp_path) == []


def test_a_character_device_is_written_in_place() -> None:
    before = os.stat(os.devnull)
    write_text("discarded\n", Path(os.devnull))
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_a_device_that_fails_is_a_clear_error() -> None:
    with pytest.raises(InputError) as raised:
        write_text("x" * 100_000, Path("/dev/full"))
    assert raised.value.diagnostics[0].message == "cannot write /dev/full: No space left on device"


def _fails_halfway(path: Path) -> None:
    path.write_text("half")
    raise OSError(28, "No space left on device")


def _interrupted(path: Path) -> None:
    path.write_text("half")
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("write", "raised"), [(_fails_halfway, InputError), (_interrupted, KeyboardInterrupt)], ids=["oserror", "ctrl-c"]
)
def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, write: Callable[[Path], None], raised: type[BaseException]
) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old\n")
    with pytest.raises(raised):
        write_whole(write, target)
    assert target.read_text() == "old\n"
    assert _partials(tmp_path) == []


# A child that writes a large plan through write_whole, says when it is halfway, then waits
# to be killed: the kill lands mid-write, every time.
_CHILD = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    from arrears.outputs import write_whole

    # As under a terminal: tests run under `nohup` would otherwise hand the child SIGHUP
    # ignored, which write_whole rightly leaves ignored (the child would then not die of it).
    signal.signal(signal.SIGHUP, signal.SIG_DFL)

    def write(path):
        with path.open("w") as out:
            out.write('{"actions": [' + '{"action": "remind"},' * 500_000)
            out.flush()
            print("halfway", flush=True)
            time.sleep(60)

    write_whole(write, Path(sys.argv[1]))
    """
)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_no_temporary_file_survives_a_signal_mid_write(tmp_path: Path, signum: signal.Signals) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"halfway\n"
    assert len(_partials(tmp_path)) == 1 and (tmp_path / _partials(tmp_path)[0]).stat().st_size > 10_000_000
    child.send_signal(signum)
    child.wait(timeout=30)
    assert _partials(tmp_path) == []
    assert target.read_text() == "old\n"
    # It still dies of the signal, as it would have (for SIGINT Python re-raises it after the
    # KeyboardInterrupt unwound; the CLI's main turns that into exit 130).
    assert child.returncode == -signum


# -- check_target: refused before anything is read ------------------------------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "-o '': an empty name is not a file"),
        (".", "-o .: names a folder, not a file"),
        ("..", "-o ..: names a folder, not a file"),
        ("sub/", "-o sub/: names a folder, not a file"),
        ("sub", "-o sub: is a folder, not a file"),
        (" ", "-o ' ': is a folder, not a file"),
        ("missing/plan.json", "cannot write missing/plan.json: no such folder missing"),
        ("file.txt/plan.json", "cannot write file.txt/plan.json: Not a directory"),
    ],
)
def test_unusable_names_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / " ").mkdir()
    with pytest.raises(InputError) as raised:
        check_target(given)
    assert raised.value.exit_code == 2
    assert raised.value.diagnostics[0].message.startswith(message), raised.value.diagnostics[0].message


@pytest.mark.parametrize("alias", ["same", "relative", "symlink", "hardlink"])
def test_an_input_is_refused_however_it_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alias: str) -> None:
    monkeypatch.chdir(tmp_path)
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text("{}")
    output = {
        "same": str(snapshot),
        "relative": "./snapshot.json",
        "symlink": "link.json",
        "hardlink": "hard.json",
    }[alias]
    Path("link.json").symlink_to(snapshot)
    os.link(snapshot, "hard.json")
    with pytest.raises(InputError) as raised:
        check_target(output, [snapshot])
    assert "is one of this command's inputs" in raised.value.diagnostics[0].message
    assert snapshot.read_text() == "{}"


def test_other_files_and_special_files_are_not_inputs(tmp_path: Path) -> None:
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text("{}")
    assert check_target(str(tmp_path / "plan.json"), [snapshot]) == tmp_path / "plan.json"
    # /dev/stdout and /dev/stdin may be one terminal: a device is never taken for an input.
    assert check_target(os.devnull, [os.devnull]) == Path(os.devnull)


def test_a_file_the_user_may_not_write_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As root every file is writable, so the check is driven through os.access, which it asks.
    target = tmp_path / "plan.json"
    target.write_text("old\n")
    target.chmod(0o444)
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != target)
    with pytest.raises(InputError) as raised:
        write_text("new\n", target)
    assert raised.value.diagnostics[0].message == f"cannot write {target}: Permission denied"
    assert target.read_text() == "old\n" and _partials(tmp_path) == []


def test_dev_stdout_appending_to_a_file_is_written_through(tmp_path: Path) -> None:
    # `arrears run P S -o /dev/stdout >> log`: the log's earlier lines must stay.
    log = tmp_path / "log"
    log.write_text("earlier\n")
    child = (
        "from pathlib import Path; from arrears.outputs import write_text; write_text('plan\\n', Path('/dev/stdout'))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with log.open("a") as out:
        subprocess.run([sys.executable, "-c", child], stdout=out, env=env, check=True, timeout=60)
    assert log.read_text() == "earlier\nplan\n"
    assert _partials(tmp_path) == []
