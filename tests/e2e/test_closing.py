"""How finished connections are closed: a web server that is slow to close its end, or
never closes it, must not hold a worker, and closing must not reset an answer away.

No clock is read: each test checks what was answered, and that a connection the client left
open was still being looked after (not yet dropped) when the next request was answered.
"""

import os
import shutil
import socket
import tempfile
import time

import pytest

import fcgiclient as fc
from conftest import SLOW, assert_allowed, build_config, cgi_params, closed_port

GOOD = {"Authorization": "Bearer good"}
IDENTITY = [("X-Auth-UserId", "42"), ("X-Auth-UserCountryId", "DE")]


@pytest.fixture(params=["tcp", "unix"])
def one_worker(request, auth, authorizer):
    """An authorizer with a single worker, listening on TCP or on a unix socket."""
    if request.param == "tcp":
        port = closed_port()
        listen, address = "127.0.0.1:%d" % port, ("127.0.0.1", port)
    else:
        d = tempfile.mkdtemp(prefix="authz-")  # unix socket paths are short
        request.addfinalizer(lambda: shutil.rmtree(d, ignore_errors=True))
        listen = address = os.path.join(d, "a.sock")
    a = authorizer(build_config(auth.url(mode="token"), workers=1, listen=listen),
                   address=address)
    a.transport = request.param
    return a


def answered_and_left_open(a, n):
    """Sends one request, reads its whole answer, and keeps the connection open."""
    sock = fc.connect(a.address, timeout=10 * SLOW)
    sock.sendall(fc.build_request(cgi_params("/protected?held=%d" % n, GOOD)))
    resp = fc.read_response(sock)
    assert_allowed(resp, IDENTITY, "held=%d&countryId=DE" % n)
    return sock


def test_a_client_that_never_closes_does_not_hold_the_worker(one_worker):
    """With one worker, connections whose client never closes them must not stop the next
    requests from being answered (the worker would otherwise wait for each to close)."""
    held = [answered_and_left_open(one_worker, i) for i in range(3)]
    try:
        resp = one_worker.request("/protected", GOOD, timeout=10 * SLOW)
        assert_allowed(resp, IDENTITY, "countryId=DE")
        if one_worker.transport == "tcp":
            # Still lingering rather than dropped: bytes sent now are read and discarded,
            # where a closed socket would answer them with a reset.
            for sock in held:
                sock.sendall(b"\0" * 64)
                assert sock.recv(1) == b"", "the authorizer sent more after its answer"
    finally:
        for sock in held:
            sock.close()


def test_many_sequential_requests_over_tcp_on_few_workers(auth, authorizer):
    """Every connection a web server opens is answered, however many follow each other."""
    a = authorizer(build_config(auth.url(mode="token"), workers=2))
    for i in range(300):
        resp = a.request("/protected?n=%d" % i, {"Authorization": "Bearer good:%d" % i})
        assert_allowed(resp, [("X-Auth-UserId", str(i)), ("X-Auth-UserCountryId", "C%d" % i)],
                       "n=%d&countryId=C%d" % (i, i))


def test_an_unread_request_body_does_not_reset_the_answer(auth, authorizer):
    """A responder request with a body the authorizer never reads: the answer must arrive
    whole, and the client sees the end of it, not a reset."""
    a = authorizer(build_config(auth.url(mode="token"), workers=1))
    body = b"x" * (200 * 1024)
    for i in range(20):
        sock = fc.connect(a.address, timeout=10 * SLOW)
        try:
            sock.sendall(fc.build_request(cgi_params("/protected", GOOD), role=fc.RESPONDER,
                                          stdin=body))
            resp = fc.read_response(sock)
            assert resp.status == 200, resp
            sock.shutdown(socket.SHUT_WR)
            assert sock.recv(1) == b""
        finally:
            sock.close()


def test_peers_that_never_close_cannot_take_every_descriptor(auth, authorizer, tmp_path):
    """Lingering connections are bounded by a quarter of the descriptor limit: a flood of
    requests whose peers never close leaves descriptors for accepting and for the auth
    calls, and the worker that answered never lingers itself."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = 256
    port = closed_port()
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))  # the child inherits it
    try:
        a = authorizer(build_config(auth.url(mode="token"), workers=2,
                                    listen="127.0.0.1:%d" % port),
                       address=("127.0.0.1", port))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    held = []
    try:
        for i in range(2 * limit):  # more than the process could hold open
            held.append(answered_and_left_open(a, i))
        fds = len(os.listdir("/proc/%d/fd" % a.proc.pid))
        assert fds < limit // 2, fds
        resp = a.request("/protected", GOOD, timeout=10 * SLOW)
        assert_allowed(resp, IDENTITY, "countryId=DE")
        assert "accept failed" not in a.log()
    finally:
        for sock in held:
            sock.close()


def held_responder(a, extra=b""):
    """A responder request that ends its input (the empty STDIN record, as nginx sends it),
    then `extra`, in one write; reads the whole answer and keeps the connection open."""
    sock = fc.connect(a.address, timeout=10 * SLOW)
    sock.sendall(fc.build_request(cgi_params("/protected", GOOD), role=fc.RESPONDER) + extra)
    resp = fc.read_response(sock)
    assert resp.status == 200, resp
    return sock


def open_fds(a):
    return len(os.listdir("/proc/%d/fd" % a.proc.pid))


def test_a_request_that_ended_its_input_is_closed_at_once(one_worker):
    """When the web server has sent the end of its input and nothing is left unread, it has
    nothing more to send: the authorizer closes at once instead of lingering, so a client that
    keeps its end open holds no descriptor of the authorizer's (lingering would keep each for
    CLOSER_LINGER_S, 5 s)."""
    a = one_worker
    # What the first request opens for good (the kept connection to the auth service, and
    # under valgrind its own descriptors) is counted before.
    held_responder(a).close()
    before = open_fds(a)
    held = [held_responder(a) for _ in range(20)]
    try:
        for _ in range(50 * SLOW):  # the close follows the answer by a system call or two
            if open_fds(a) < before + 5:
                break
            time.sleep(0.05)
        assert open_fds(a) < before + 5, (before, open_fds(a))
        for sock in held:  # the end of the answer was sent: each sees EOF, not a reset
            assert sock.recv(1) == b""
    finally:
        for sock in held:
            sock.close()


def test_bytes_after_the_end_of_the_input_do_not_reset_the_answer(one_worker):
    """Bytes after the end of the input (a peer that breaks the protocol) are still unread
    when the answer is written: the connection lingers instead of closing, and the answer
    arrives whole with its end, not a reset."""
    junk = fc.encode_stream(fc.STDIN, 1, b"y" * 1000)
    for _ in range(10):
        sock = held_responder(one_worker, junk)
        try:
            sock.shutdown(socket.SHUT_WR)
            assert sock.recv(1) == b""
        finally:
            sock.close()
