"""Atomic writes, the sweep of what killed writes leave behind, the output guard and strict JSON (issue 28)."""

import json
import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sanets._files import (
    check_outputs,
    remove_orphaned_temporaries,
    strict_json,
    write_atomically,
)
from sanets.errors import OutputError


def test_a_write_replaces_the_file_whole_and_an_exception_leaves_the_old_one(tmp_path):
    target = tmp_path / "new" / "result.json"
    write_atomically(target, lambda file: file.write(b"first"))

    def fail_halfway(file):
        file.write(b"sec")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(target, fail_halfway)
    assert target.read_bytes() == b"first"
    assert sorted(os.listdir(target.parent)) == ["result.json"]


def test_only_the_temporaries_of_atomic_writes_are_swept(tmp_path):
    (tmp_path / "runs" / "deep").mkdir(parents=True)
    orphans = [tmp_path / ".a.json.41.0123456789abcdef0123456789abcdef.tmp",
               tmp_path / "runs" / "deep" / ".m064.json.7.fedcba9876543210fedcba9876543210.tmp"]
    kept = [tmp_path / "notes.tmp",  # the user's, not ours
            tmp_path / ".a.json.41.0123.tmp",  # not a uuid4 hex
            tmp_path / "runs" / "m064.json"]
    for path in orphans + kept:
        path.write_bytes(b"x")

    assert sorted(remove_orphaned_temporaries(tmp_path)) == sorted(orphans)
    assert all(path.exists() for path in kept) and not any(path.exists() for path in orphans)


def test_an_output_that_is_an_input_by_any_spelling_is_refused(tmp_path):
    (tmp_path / "in").mkdir()
    recording = tmp_path / "in" / "rec.npy"
    recording.write_bytes(b"samples")
    (tmp_path / "link.npy").symlink_to(recording)
    os.link(recording, tmp_path / "hard.npy")
    for alias in (recording, tmp_path / "in" / ".." / "in" / "rec.npy", tmp_path / "link.npy", tmp_path / "hard.npy"):
        with pytest.raises(OutputError, match=r"the model would be written over the recording '.*rec\.npy'"):
            check_outputs({"model": alias}, [("recording", recording)])
    check_outputs({"model": tmp_path / "in" / "model.safetensors"}, [("recording", recording)])
    assert recording.read_bytes() == b"samples"


def test_two_outputs_that_are_one_file_and_outputs_of_the_wrong_kind_are_refused(tmp_path):
    with pytest.raises(OutputError, match="the report and the model would be the same file"):
        check_outputs({"model": tmp_path / "run.json", "report": tmp_path / "run.json"})
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a folder, not a file"):
        check_outputs({"model": tmp_path / "folder"})
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_outputs({}, folders={"results folder": tmp_path / "file"})
    with pytest.raises(OutputError, match=r"cannot be written: a file stands where a folder is needed: '.*file'"):
        check_outputs({"model": tmp_path / "file" / "deeper" / "model.safetensors"})
    check_outputs({"model": tmp_path / "new" / "deeper" / "model.safetensors"})
    assert not (tmp_path / "new").exists(), "checking makes no folder"
    assert sorted(os.listdir(tmp_path)) == ["file", "folder"], "the probe leaves nothing behind"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_a_read_only_folder_is_refused_before_any_work(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(OutputError, match="cannot create files in the folder"):
        check_outputs({"coded file": locked / "r.san"})


def test_a_read_only_file_system_is_refused(tmp_path):
    if not os.path.isdir("/proc/self") or _can_create("/proc"):
        pytest.skip("no read-only folder here")
    with pytest.raises(OutputError, match=r"cannot create files in the folder .*'/proc'"):
        check_outputs({"coded file": "/proc/r.san"})


def _can_create(folder: str) -> bool:
    try:
        with open(os.path.join(folder, ".sanets-test"), "xb"):
            pass
    except OSError:
        return False
    os.unlink(os.path.join(folder, ".sanets-test"))
    return True


_NAMES = st.text(st.characters(whitelist_categories=("L", "N"), whitelist_characters="-_."), min_size=1, max_size=8).filter(
    lambda name: name not in (".", ".."))


@settings(max_examples=60, deadline=None)
@given(inputs=st.lists(_NAMES, min_size=1, max_size=4, unique=True), outputs=st.lists(_NAMES, min_size=1, max_size=3),
       spelling=st.sampled_from(["plain", "dot", "parent", "absolute"]))
def test_property_an_output_is_refused_exactly_when_it_names_an_input_or_an_earlier_output(
        tmp_path_factory, inputs, outputs, spelling):
    folder = tmp_path_factory.mktemp("guard")
    (folder / "sub").mkdir()
    for name in inputs:
        (folder / name).write_bytes(b"x")

    def spelled(name: str):
        return {"plain": folder / name, "dot": folder / "." / name, "parent": folder / "sub" / ".." / name,
                "absolute": (folder / name).resolve()}[spelling]

    files = {f"output {i}": spelled(name) for i, name in enumerate(outputs)}
    clash = any(name in inputs for name in outputs) or len(set(outputs)) < len(outputs)
    if clash:
        with pytest.raises(OutputError, match="would be"):
            check_outputs(files, [("input", folder / name) for name in inputs])
    else:
        check_outputs(files, [("input", folder / name) for name in inputs])
    assert all((folder / name).read_bytes() == b"x" for name in inputs)


def test_strict_json_writes_null_for_non_finite_numbers_and_parses_strictly():
    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    text = strict_json({"snr_db": math.inf, "nested": [math.nan, -math.inf, 1.5], "n": 3, "name": "II,"})
    assert json.loads(text, parse_constant=refuse) == {"snr_db": None, "nested": [None, None, 1.5], "n": 3, "name": "II,"}
