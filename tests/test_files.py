"""Atomic writes and the sweep of what killed writes leave behind."""

import os

import pytest

from sanets._files import remove_orphaned_temporaries, write_atomically


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
