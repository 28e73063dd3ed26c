"""`weir models pull` from a local path and from a URL on 127.0.0.1."""

import functools
import hashlib
import http.server
import subprocess
import threading

import pytest

from tiny_models import write_tiny_model


def pull(weir_bin, source, model_dir, *extra):
    return subprocess.run([weir_bin, "models", "pull", str(source), "--model-dir", str(model_dir), *extra],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def tiny_file(tmp_path):
    return write_tiny_model(tmp_path / "tiny-q4_0.gguf", "llama", "Q4_0")


@pytest.fixture
def file_server(tmp_path, tiny_file):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tiny_file.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pull_local_path_copies_with_checksum(weir_bin, tmp_path, tiny_file):
    model_dir = tmp_path / "models"
    result = pull(weir_bin, tiny_file, model_dir)
    assert result.returncode == 0, result.stderr
    expected = hashlib.sha256(tiny_file.read_bytes()).hexdigest()
    assert result.stdout.split()[0] == expected
    assert (model_dir / tiny_file.name).read_bytes() == tiny_file.read_bytes()
    assert "pull: 100%" in result.stderr


def test_pull_url_downloads(weir_bin, tmp_path, tiny_file, file_server):
    model_dir = tmp_path / "models"
    expected = hashlib.sha256(tiny_file.read_bytes()).hexdigest()
    result = pull(weir_bin, f"{file_server}/{tiny_file.name}", model_dir, "--sha256", expected.upper())
    assert result.returncode == 0, result.stderr
    assert (model_dir / tiny_file.name).read_bytes() == tiny_file.read_bytes()


def test_pull_checksum_mismatch_keeps_nothing(weir_bin, tmp_path, tiny_file):
    model_dir = tmp_path / "models"
    result = pull(weir_bin, tiny_file, model_dir, "--sha256", "0" * 64)
    assert result.returncode != 0
    assert "expected " + "0" * 64 in result.stderr
    assert list(model_dir.iterdir()) == []


def test_pull_missing_url_is_error(weir_bin, tmp_path, file_server):
    result = pull(weir_bin, f"{file_server}/absent.gguf", tmp_path / "models")
    assert result.returncode != 0
    assert "404" in result.stderr
    assert list((tmp_path / "models").iterdir()) == []


def test_pull_non_gguf_rejected(weir_bin, tmp_path):
    source = tmp_path / "notes.gguf"
    source.write_text("not a model file, only a few lines of plain text")
    result = pull(weir_bin, source, tmp_path / "models")
    assert result.returncode != 0
    assert "is not a GGUF file" in result.stderr
    assert list((tmp_path / "models").iterdir()) == []
