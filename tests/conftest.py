"""Test-wide settings: hypothesis runs a fixed, derandomised set of examples, so CI sees the same cases every run."""

from hypothesis import settings

settings.register_profile("biasprobe", derandomize=True, deadline=None, print_blob=True)
settings.load_profile("biasprobe")


import pytest  # noqa: E402


@pytest.fixture
def fake_dist(tmp_path, monkeypatch):
    """Install a plug-in the way pip would look to importlib.metadata: a module and a dist-info with entry points.

    ``fake_dist(dist, entry_points, modules={name: source}, version="0.1", root=tmp_path)`` writes
    ``{dist}-{version}.dist-info`` with ``entry_points`` (the text of entry_points.txt) and each
    module file under ``root``, and puts ``root`` first on sys.path for this test.
    """
    prepended = set()

    def install(dist, entry_points, modules=None, version="0.1", root=None):
        root = tmp_path if root is None else root
        for name, source in (modules or {}).items():
            (root / f"{name}.py").write_text(source)
        info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(entry_points)
        if root not in prepended:
            monkeypatch.syspath_prepend(str(root))
            prepended.add(root)
        return root

    return install
