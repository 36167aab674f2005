"""tableio.atomic_file: the new file or the old one, never half, and no temporary left behind."""

import pytest

from biasprobe.tableio import atomic_file, write_json_atomic


def test_success_replaces_the_file(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    with atomic_file(path) as fh:
        fh.write("new")
        assert path.read_text() == "old"  # nothing visible until the block ends
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path, error):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    with pytest.raises(error):
        with atomic_file(path, "wb") as fh:
            fh.write(b"half")
            raise error()
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_json_goes_through_it(tmp_path):
    write_json_atomic(tmp_path / "x.json", {"b": 1, "a": [1, 2]})
    assert (tmp_path / "x.json").read_text().startswith('{\n "a"')
