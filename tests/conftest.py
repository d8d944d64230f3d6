"""Shared fixtures of the course_utils tests.

* matplotlib runs headless (Agg) and every figure is closed after each test;
* no test can reach the internet: sockets may only connect to the local machine;
* the download cache points at a temporary folder, never at the user's cache;
* small synthetic images (smooth, random) and a local HTTP server for the download tests.
"""

from __future__ import annotations

import functools
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

# --------------------------------------------------------------------------------------------
# Safety: offline, headless, isolated cache
# --------------------------------------------------------------------------------------------

_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _check_local(sock: socket.socket, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL_HOSTS:
        raise ConnectionRefusedError(f"the tests must not reach the network (tried {address!r})")


def _guarded_connect(self, address):
    _check_local(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check_local(self, address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL_HOSTS and host is not None:
        raise socket.gaierror(f"the tests must not resolve network names (tried {host!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def _offline():
    """Refuse every connection that leaves the machine, for the whole session."""
    mp = pytest.MonkeyPatch()
    mp.setattr(socket.socket, "connect", _guarded_connect)
    mp.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    mp.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Downloads land in a fresh temporary folder, never in the user's cache."""
    monkeypatch.setenv("COURSE_DATA_CACHE", str(tmp_path_factory.mktemp("course-cache")))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------------
# Small images
# --------------------------------------------------------------------------------------------


def make_smooth(h: int, w: int, channels: int | None = 3, seed: int = 0,
                cycles: float = 3.0) -> np.ndarray:
    """A smooth float image in [0.1, 0.9]: a few low-frequency sinusoids per channel.

    ``cycles`` is about how many periods fit across the image; ``channels=None`` gives (H, W).
    """
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    planes = []
    for _ in range(channels or 1):
        f1, f2 = rng.uniform(0.5, 1.0, 2) * cycles, rng.uniform(0.3, 0.8, 2) * cycles
        p1, p2 = rng.uniform(0, 2 * np.pi, 2)
        planes.append(0.5 + 0.2 * np.sin(2 * np.pi * (f1[0] * x + f1[1] * y) + p1)
                      + 0.15 * np.cos(2 * np.pi * (f2[0] * y - f2[1] * x) + p2))
    image = np.stack(planes, axis=-1)
    return image if channels else image[..., 0]


@pytest.fixture
def smooth():
    """Factory: ``smooth(h, w, channels=3, seed=0, cycles=3.0)``."""
    return make_smooth


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# --------------------------------------------------------------------------------------------
# A local HTTP server for the download tests
# --------------------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


class LocalServer:
    """Serves the files of ``root`` on 127.0.0.1 at a free port, in a background thread."""

    def __init__(self, root: Path) -> None:
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()
        self.running = True

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def put(self, name: str, data: bytes) -> str:
        """Serve ``data`` under ``name``; return its URL."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self.url(name)

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.running = False


@pytest.fixture
def http_server(tmp_path, monkeypatch):
    """A running :class:`LocalServer` serving ``tmp_path / "served"``; stopped at teardown."""
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    root = tmp_path / "served"
    root.mkdir()
    server = LocalServer(root)
    yield server
    server.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module: tiny models run much slower when two threads compete
    with another process for the CPU. Use with ``pytestmark = pytest.mark.usefixtures(...)``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
