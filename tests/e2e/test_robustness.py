"""Malformed FastCGI, hostile request parameters and stalled clients.

After each bad input the same process must still answer a normal request correctly, on
every worker.
"""

import socket
import struct
import time

import pytest

import fcgiclient as fc
from conftest import SLOW, assert_allowed, assert_status_only, build_config, cgi_params

WORKERS = 3
GOOD = {"Authorization": "Bearer good"}
IDENTITY = [("X-Auth-UserId", "42"), ("X-Auth-UserCountryId", "DE")]


@pytest.fixture
def token(auth, authorizer):
    return authorizer(build_config(auth.url(mode="token"), workers=WORKERS))


def check_healthy(a):
    """Every worker answers: more requests than workers, each checked."""
    assert a.alive(), a.log()
    for i in range(WORKERS + 2):
        resp = a.request("/protected?n=%d" % i, {"Authorization": "Bearer good:%d" % i})
        assert_allowed(resp, [("X-Auth-UserId", str(i)), ("X-Auth-UserCountryId", "C%d" % i)],
                       "n=%d&countryId=C%d" % (i, i))
    resp = a.request("/protected", {"Authorization": "Bearer nope"}, role=fc.RESPONDER)
    assert resp.status == 401


GOOD_PARAMS = fc.encode_pairs(cgi_params("/protected", GOOD))


def params_stream(data=GOOD_PARAMS, rid=1):
    return fc.encode_stream(fc.PARAMS, rid, data)


MALFORMED = {
    "wrong-version": (
        fc.encode_record(fc.BEGIN_REQUEST, 1, struct.pack(">HB5x", fc.AUTHORIZER, 0),
                         version=2)
        + b"".join(fc.encode_record(fc.PARAMS, 1, c, version=2)
                   for c in (GOOD_PARAMS, b""))),
    "version-0-params": (
        fc.begin_request(1, fc.AUTHORIZER)
        + fc.encode_record(fc.PARAMS, 1, GOOD_PARAMS, version=0)
        + fc.encode_record(fc.PARAMS, 1, b"")),
    "truncated-header": b"\x01\x01\x00",
    "truncated-begin-body": fc.encode_record(fc.BEGIN_REQUEST, 1, b"\x00\x02\x00\x00")[:12],
    "huge-declared-length-then-close": (
        fc.begin_request(1, fc.AUTHORIZER)
        + fc.encode_record(fc.PARAMS, 1, GOOD_PARAMS[:100], declared_length=65535,
                           padding=0)),
    "pair-length-overruns-record": (
        fc.begin_request(1, fc.AUTHORIZER)
        + fc.encode_record(fc.PARAMS, 1, fc.encode_length(200) + fc.encode_length(5)
                           + b"REQUEST_URI/protected")
        + fc.encode_record(fc.PARAMS, 1, b"")),
    "pair-4-byte-length-2GB": (
        fc.begin_request(1, fc.AUTHORIZER)
        + fc.encode_record(fc.PARAMS, 1, b"\x8b" + b"\x7f\xff\xff\xf0" + b"\x7f\xff\xff\xf0"
                           + b"REQUEST_URI")
        + fc.encode_record(fc.PARAMS, 1, b"")),
    "unknown-record-type": (
        fc.begin_request(1, fc.AUTHORIZER)
        + fc.encode_record(99, 1, b"whatever")
        + params_stream()),
    "params-before-begin": params_stream() + fc.begin_request(1, fc.AUTHORIZER),
    "stdout-from-client": (
        fc.begin_request(1, fc.AUTHORIZER) + fc.encode_record(fc.STDOUT, 1, b"Status: 200")
        + params_stream()),
    "close-mid-params": (
        fc.begin_request(1, fc.AUTHORIZER)
        + fc.encode_record(fc.PARAMS, 1, GOOD_PARAMS)[:40]),
    "garbage": bytes((i * 37 + 11) % 256 for i in range(3000)),
    "http-instead-of-fastcgi": b"GET /protected HTTP/1.1\r\nHost: x\r\n\r\n",
    "zero-bytes": b"",
}


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
@pytest.mark.parametrize("half_close", [True, False], ids=["eof", "close"])
def test_malformed_records(token, auth, data, half_close):
    res = fc.send_raw(token.address, data, shutdown_write=half_close, read=half_close,
                      timeout=15)
    # Nothing in these is a request that may pass: no identity, no allow.
    assert b"Variable-" not in res.stdout(), res.records
    assert b"Status: 200" not in res.stdout(), res.records
    check_healthy(token)


def test_params_without_terminator_then_eof(token):
    """Every parameter arrived but not the empty PARAMS record, then EOF. Answering nothing
    is right; answering is tolerable only if the answer is the right one for them."""
    data = fc.begin_request(1, fc.AUTHORIZER) + fc.encode_record(fc.PARAMS, 1, GOOD_PARAMS)
    res = fc.send_raw(token.address, data, shutdown_write=True, timeout=15)
    out = res.stdout()
    if out:
        assert out.startswith(b"Status: 200 OK\r\nVariable-X-Auth-UserId: 42\r\n"), out
    check_healthy(token)


def test_unknown_role_does_not_break_the_worker(token):
    data = fc.begin_request(1, role=99) + params_stream()
    res = fc.send_raw(token.address, data, shutdown_write=True, timeout=15)
    assert b"Variable-X-Auth" not in res.stdout()
    check_healthy(token)


@pytest.mark.parametrize("role", [99, fc.FILTER])
def test_a_refused_role_is_answered_and_the_connection_ends(token, role):
    """FCGI_UNKNOWN_ROLE at once (FILTER too: an authorizer's answer must never be taken
    for the page), then the close a web server waits for when it did not ask to keep the
    connection; the read deadline (10 s) is not what ends it."""
    sock = fc.connect(token.address, timeout=5 * SLOW)
    try:
        sock.sendall(fc.begin_request(1, role=role) + params_stream())
        rec = fc.read_record(sock)
        assert rec is not None and rec.type == fc.END_REQUEST and rec.request_id == 1, rec
        assert rec.content[4] == 3  # FCGI_UNKNOWN_ROLE
        assert fc.read_record(sock) is None  # closed, not left waiting for the deadline
    finally:
        sock.close()
    check_healthy(token)


def test_second_begin_request_on_one_connection(token):
    data = (fc.begin_request(1, fc.AUTHORIZER) + fc.begin_request(2, fc.AUTHORIZER)
            + params_stream(rid=1) + params_stream(rid=2))
    res = fc.send_raw(token.address, data, shutdown_write=True, timeout=15)
    out = res.stdout()
    # At most the one request it took may be answered, and correctly.
    assert out.count(b"Status:") <= 1
    if out:
        assert out.startswith(b"Status: 200 OK\r\nVariable-X-Auth-UserId: 42\r\n")
    check_healthy(token)


def test_unknown_management_record_gets_unknown_type(token):
    sock = fc.connect(token.address, timeout=10)
    try:
        sock.sendall(fc.encode_record(99, 0, b"\0" * 8))
        rec = fc.read_record(sock)
        assert rec is not None and rec.type == fc.UNKNOWN_TYPE and rec.request_id == 0, rec
        assert rec.content[0] == 99
    finally:
        sock.close()
    check_healthy(token)


def test_keep_conn_serves_several_requests(token, role):
    with fc.Connection(token.address) as conn:
        for i, rid in enumerate((1, 7, 0x1234, 65535)):
            resp = conn.request(cgi_params("/protected?i=%d" % i,
                                           {"Authorization": "Bearer good:%d" % i}),
                                role=role, request_id=rid, keep_conn=True)
            assert resp.request_id == rid
            assert resp.protocol_status == fc.REQUEST_COMPLETE
            assert resp.app_status == 0
            assert_allowed(resp, [("X-Auth-UserId", str(i)), ("X-Auth-UserCountryId",
                                                              "C%d" % i)],
                           "i=%d&countryId=C%d" % (i, i))


def send_expecting_identity(token, body):
    """Sends raw request bytes; the answer must be the allow with the token's identity."""
    sock = fc.connect(token.address)
    try:
        sock.sendall(body)
        assert_allowed(fc.read_response(sock), IDENTITY, "countryId=DE")
    finally:
        sock.close()


def test_params_split_across_many_records(token):
    data = GOOD_PARAMS
    body = fc.begin_request(1, fc.AUTHORIZER)
    for i in range(0, len(data), 7):  # pair lengths and names split mid-way
        body += fc.encode_record(fc.PARAMS, 1, data[i:i + 7])
    body += fc.encode_record(fc.PARAMS, 1, b"")
    send_expecting_identity(token, body)


def test_long_form_lengths_for_short_pairs(token):
    body = (fc.begin_request(1, fc.AUTHORIZER) + fc.encode_stream(
        fc.PARAMS, 1, fc.encode_pairs(cgi_params("/protected", GOOD), force_long=True)))
    send_expecting_identity(token, body)


def test_100kb_authorization_is_never_allowed(token, auth, role):
    value = "Bearer good:" + "7" * 100 * 1024
    resp = token.request("/protected", {"Authorization": value}, role=role)
    assert b"Variable-X-Auth" not in resp.raw
    assert_status_only(resp, 400)
    assert auth.requests() == []
    check_healthy(token)


def test_100kb_unforwarded_header_is_harmless(token, auth):
    resp = token.request("/protected", dict(GOOD, **{"X-Junk": "j" * 100 * 1024}))
    if resp.status == 200:
        assert_allowed(resp, IDENTITY, "countryId=DE")
    else:
        assert_status_only(resp, 400)
    for entry in auth.requests():
        assert all("jjjj" not in v for n, v in entry["headers"])
    check_healthy(token)


def test_many_params(token):
    extra = {"HTTP_X_FILL_%d" % i: "v" * 100 for i in range(2000)}
    resp = token.request("/protected", GOOD, extra=extra)
    assert_allowed(resp, IDENTITY, "countryId=DE")
    check_healthy(token)


@pytest.mark.parametrize("name,value", [
    ("HTTP_HOST", "app.example\r\nX-Evil: 1"),
    ("HTTP_HOST", "app\x01"),
    ("REQUEST_METHOD", "GET\r\n"),
    ("REMOTE_ADDR", "1.2.3.4\n"),
    ("REQUEST_URI", "/protected\nFAKE"),
])
def test_control_characters_in_params_are_400(token, auth, role, name, value):
    resp = token.request("/protected", GOOD, role=role, extra={name: value})
    assert_status_only(resp, 400)
    assert auth.requests() == []
    check_healthy(token)


def test_stalled_client_does_not_block_other_requests(token):
    """A client that connects and sends half a request must not keep the others waiting.

    No clock is read: the check is that the normal request is answered while the stalled
    connection is still open - i.e. not only after the authorizer gave up on it.
    """
    # Started and serving first: connections queued before start-up are another matter.
    check_healthy(token)
    stalled = fc.connect(token.address, timeout=30)
    try:
        stalled.sendall(fc.begin_request(1, fc.AUTHORIZER)
                        + fc.encode_record(fc.PARAMS, 1, GOOD_PARAMS)[:20])
        time.sleep(0.3)  # let a worker pick it up
        resp = token.request("/protected", GOOD, timeout=30)
        assert_allowed(resp, IDENTITY, "countryId=DE")
        stalled.setblocking(False)
        try:
            data = stalled.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            data = None  # still open, nothing sent: as it should be
        assert data is None, ("the normal request was only answered after the authorizer "
                              "dropped the stalled connection")
    finally:
        stalled.close()


def test_a_trickling_client_is_dropped_within_the_request_deadline(token):
    """One byte every 1.5 s keeps every single read short, but the request as a whole has
    10 s from its first byte: the connection is closed before the trickle could finish,
    and the worker serves others again."""
    data = fc.begin_request(1, fc.AUTHORIZER) + params_stream()
    sock = fc.connect(token.address, timeout=60 * SLOW)
    closed_after = None
    try:
        for i, byte in enumerate(data):
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                closed_after = i
                break
            sock.settimeout(1.5)
            try:
                if sock.recv(1) == b"":
                    closed_after = i
                    break
            except socket.timeout:
                pass
            except OSError:
                closed_after = i
                break
    finally:
        sock.close()
    assert closed_after is not None and closed_after < len(data) - 1, \
        "a trickling request was read to its end (%d bytes)" % len(data)
    check_healthy(token)


def test_announced_2gb_value_under_an_address_space_limit(auth, tmp_path):
    """A PARAMS record announcing a 2 GB value must not make the process allocate it: under
    an address-space limit far below that, the authorizer answers the next request."""
    import os
    import resource
    import subprocess
    from conftest import AUTHORIZER, AUTHORIZER_CMD
    if AUTHORIZER_CMD != [AUTHORIZER] or b"__asan_init" in open(AUTHORIZER, "rb").read():
        pytest.skip("valgrind and AddressSanitizer need more address space than the limit")
    conf = tmp_path / "authorizer.conf"
    conf.write_text(build_config(auth.url(mode="token"), workers=2))
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    address = lsock.getsockname()
    limit = 512 * 1024 * 1024
    log = open(tmp_path / "log", "w")
    proc = subprocess.Popen(
        [AUTHORIZER, "-c", str(conf)], stdin=lsock.fileno(), stdout=log, stderr=log,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    lsock.close()
    try:
        huge = (fc.begin_request(1, fc.AUTHORIZER)
                + fc.encode_record(fc.PARAMS, 1, b"\x8b\xff\xff\xff\xf0" + b"REQUEST_URI" + b"x" * 100))
        for _ in range(3):
            fc.send_raw(address, huge, shutdown_write=False, read=False)
        resp = fc.request(address, cgi_params("/protected", GOOD), timeout=10)
        assert_allowed(resp, IDENTITY, "countryId=DE")
        assert proc.poll() is None, open(tmp_path / "log").read()
    finally:
        proc.kill()
        proc.wait()
        log.close()
