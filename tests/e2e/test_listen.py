"""Where the authorizer accepts connections: `listen` (TCP, :port, unix socket) or fd 0."""

import os
import shutil
import socket
import stat
import subprocess
import tempfile

import pytest

import fcgiclient
from conftest import AUTHORIZER_CMD, assert_allowed, build_config, closed_port


@pytest.fixture
def short_dir():
    """A directory with a short path: unix socket paths are limited to ~107 bytes."""
    d = tempfile.mkdtemp(prefix="authz-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def check_serves(a, role=fcgiclient.AUTHORIZER):
    resp = a.request("/protected?x=1&countryId=ZZ", {"Authorization": "Bearer good"}, role=role)
    assert_allowed(resp, [("X-Auth-UserId", "42"), ("X-Auth-UserCountryId", "DE")],
                   "x=1&countryId=DE")
    resp = a.request("/protected", {"Authorization": "Bearer nope"}, role=role)
    assert resp.status == 401


def test_listen_tcp_host_port(auth, authorizer):
    port = closed_port()
    a = authorizer(build_config(auth.url(mode="token"), listen="127.0.0.1:%d" % port),
                   address=("127.0.0.1", port))
    check_serves(a)
    check_serves(a, fcgiclient.RESPONDER)


def test_listen_tcp_port_only(auth, authorizer):
    port = closed_port()
    a = authorizer(build_config(auth.url(mode="token"), listen=":%d" % port),
                   address=("127.0.0.1", port))
    check_serves(a)


@pytest.mark.parametrize("mode", ["0660", "0600", "0666"])
def test_listen_unix_socket_with_mode(auth, authorizer, short_dir, mode):
    path = os.path.join(short_dir, "a.sock")
    old = os.umask(0o022)
    try:
        a = authorizer(build_config(auth.url(mode="token"), listen=path, listen_mode=mode),
                       address=path)
    finally:
        os.umask(old)
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == int(mode, 8)
    check_serves(a)


def test_listen_unix_socket_without_mode(auth, authorizer, short_dir):
    path = os.path.join(short_dir, "a.sock")
    a = authorizer(build_config(auth.url(mode="token"), listen=path), address=path)
    assert stat.S_ISSOCK(os.stat(path).st_mode)
    check_serves(a, fcgiclient.RESPONDER)


def test_listen_unix_replaces_stale_socket(auth, authorizer, short_dir):
    path = os.path.join(short_dir, "a.sock")
    old = socket.socket(socket.AF_UNIX)
    old.bind(path)  # left behind by an earlier run: the file stays after close
    old.close()
    a = authorizer(build_config(auth.url(mode="token"), listen=path), address=path)
    check_serves(a)


def test_listen_unix_never_removes_a_regular_file(tmp_path, short_dir):
    path = os.path.join(short_dir, "data")
    with open(path, "w") as f:
        f.write("precious")
    conf = tmp_path / "a.conf"
    conf.write_text(build_config("http://127.0.0.1:9/auth", listen=path))
    r = subprocess.run(AUTHORIZER_CMD + ["-c", str(conf)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    assert r.returncode == 1
    assert path in r.stderr.decode()
    with open(path) as f:
        assert f.read() == "precious"


def test_listen_port_in_use_fails(tmp_path):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        conf = tmp_path / "a.conf"
        conf.write_text(build_config("http://127.0.0.1:9/auth",
                                     listen="127.0.0.1:%d" % busy.getsockname()[1]))
        r = subprocess.run(AUTHORIZER_CMD + ["-c", str(conf)], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    finally:
        busy.close()
    assert r.returncode == 1
    assert "listen" in r.stderr.decode()


def test_inherited_tcp_listener_on_fd0(auth, authorizer):
    # The conftest default: a listening socket made here is the child's stdin.
    a = authorizer(build_config(auth.url(mode="token")))
    check_serves(a)
    check_serves(a, fcgiclient.RESPONDER)


def test_inherited_unix_listener_on_fd0(auth, tmp_path, short_dir):
    path = os.path.join(short_dir, "inherited.sock")
    lsock = socket.socket(socket.AF_UNIX)
    lsock.bind(path)
    lsock.listen(16)
    conf = tmp_path / "a.conf"
    conf.write_text(build_config(auth.url(mode="token")))
    proc = subprocess.Popen(AUTHORIZER_CMD + ["-c", str(conf)], stdin=lsock.fileno(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lsock.close()
    try:
        resp = fcgiclient.request(path, {"REQUEST_URI": "/protected", "HTTP_HOST": "h.example",
                                         "HTTP_AUTHORIZATION": "Bearer good"})
        assert resp.status == 200
        assert resp.header("Variable-X-Auth-UserId") == "42"
    finally:
        proc.terminate()
        try:
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()
