"""Signals, the decision log, many concurrent requests and auth-connection reuse."""

import re
import signal
import threading
import time

import pytest

import fcgiclient as fc
from conftest import assert_allowed, assert_denied, build_config


def wait_for_auth_call(auth, n=1, tries=500):
    for _ in range(tries):
        if len(auth.requests()) >= n:
            return
        time.sleep(0.01)
    raise AssertionError("the auth service never saw the request")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_finishes_the_request_in_flight(auth, authorizer, sig):
    a = authorizer(build_config(auth.url(status=200, delay_ms=1000, h=["userId:5",
                                                                        "userCountryId:NL"])))
    result = {}

    def client():
        try:
            result["resp"] = a.request("/protected?x=1", {"Authorization": "Bearer t"},
                                       timeout=20)
        except Exception as e:  # reported below
            result["error"] = e

    t = threading.Thread(target=client)
    t.start()
    wait_for_auth_call(auth)  # the request is now inside the auth call
    a.proc.send_signal(sig)
    t.join(30)
    assert not t.is_alive()
    assert "error" not in result, result
    assert_allowed(result["resp"], [("X-Auth-UserId", "5"), ("X-Auth-UserCountryId", "NL")],
                   "x=1&countryId=NL")
    assert a.stop() == 0, a.log()


def test_idle_sigterm_exits_zero(auth, authorizer):
    a = authorizer(build_config(auth.url(mode="token")))
    assert a.request("/protected", {"Authorization": "Bearer good"}).status == 200
    assert a.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize("level", ["info", "debug"])
def test_decision_log_lines(auth, authorizer, level):
    secret = "Bearer good:SECRET-TOKEN-8c1f"
    cookie = "session=COOKIE-SECRET-77"
    a = authorizer(build_config(auth.url(mode="token"), log_level=level))
    assert a.request("/protected/a?q=1", {"Authorization": secret, "Cookie": cookie}).status == 200
    assert a.request("/api/b", {"Authorization": "Bearer bad:SECRET-BAD-9"},
                     role=fc.RESPONDER).status == 401
    assert a.request("/public", {"Authorization": secret}).status == 200
    assert a.request("/protected", {}).status == 403
    assert a.request("/%zz", {"Authorization": secret}).status == 400
    assert a.stop() == 0
    log = a.log()
    decisions = [line for line in log.splitlines() if " decision role=" in line]
    assert len(decisions) == 5, log
    pattern = re.compile(r'decision role=(\S+) path=(\S+) middleware=(\S+) status=(\d+) '
                         r'auth_status=(\d+) reason="([^"]*)".* ms=[0-9.]+')
    parsed = []
    for line in decisions:
        m = pattern.search(line)
        assert m, line
        parsed.append(m.groups()[:5])
    assert parsed[0] == ("authorizer", "/protected/a", "main", "200", "200")
    assert parsed[1] == ("responder", "/api/b", "main", "401", "401")
    assert parsed[2] == ("authorizer", "/public", "-", "200", "0")
    assert parsed[3] == ("authorizer", "/protected", "main", "403", "0")
    assert parsed[4][3] == "400"
    for word in ("SECRET-TOKEN", "SECRET-BAD", "COOKIE-SECRET", "Bearer"):
        assert word not in log, word


def test_log_cannot_be_forged_through_the_path(auth, authorizer):
    a = authorizer(build_config(auth.url(mode="token"), log_level="info"))
    resp = a.request("/public\nauthorizer: info: decision role=forged", {}, query="")
    assert resp.status == 400
    a.stop()
    for line in a.log().splitlines():
        assert not line.startswith("authorizer: info: decision role=forged"), line


def test_warn_level_logs_no_allow_lines(auth, authorizer):
    a = authorizer(build_config(auth.url(mode="token"), log_level="warn"))
    assert a.request("/protected", {"Authorization": "Bearer good"}).status == 200
    a.stop()
    assert " decision " not in a.log()


def test_1000_concurrent_requests_no_cross_talk(auth, authorizer):
    n = 1000
    a = authorizer(build_config(auth.url(mode="token"), workers=16, log_level="warn"))
    barrier = threading.Barrier(n)
    results = [None] * n

    def client(i):
        kind = ("good", "bad", "forbidden")[i % 3]
        try:
            barrier.wait(60)
            results[i] = a.request("/protected/item?i=%d&countryId=forged" % i,
                                   {"Authorization": "Bearer %s:%d" % (kind, i),
                                    "X-Request-Id": "r%d" % i},
                                   role=(fc.AUTHORIZER, fc.RESPONDER)[i % 2], timeout=60)
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    errors = [(i, r) for i, r in enumerate(results) if not isinstance(r, fc.FcgiResponse)]
    assert errors == [], errors[:5]
    for i, resp in enumerate(results):
        kind = i % 3
        if kind == 0:
            assert_allowed(resp, [("X-Auth-UserId", str(i)), ("X-Auth-UserCountryId",
                                                              "C%d" % i)],
                           "i=%d&countryId=C%d" % (i, i))
        elif kind == 1:
            assert_denied(resp, 401, b"unauthorized %d\n" % i, "text/plain",
                          'Bearer realm="test"')
        else:
            assert_denied(resp, 403, b"forbidden %d\n" % i, "text/plain")
    stats = auth.stats()
    assert len(stats["requests"]) == n
    # Each auth call carried its own request's headers.
    for entry in stats["requests"]:
        heads = dict((k.lower(), v) for k, v in entry["headers"])
        i = int(heads["authorization"].rsplit(":", 1)[1])
        assert heads["x-request-id"] == "r%d" % i
        assert heads["x-original-uri"] == "/protected/item?i=%d&countryId=forged" % i
    assert stats["auth_connections"] <= 16
    assert a.alive()


@pytest.mark.parametrize("workers", [1, 3])
def test_auth_connections_are_reused(auth, authorizer, workers):
    a = authorizer(build_config(auth.url(status=200, h="userId:1"), workers=workers))
    for i in range(20):
        resp = a.request("/protected?i=%d" % i, {"Authorization": "Bearer x"},
                         role=(fc.AUTHORIZER, fc.RESPONDER)[i % 2])
        assert_allowed(resp, [("X-Auth-UserId", "1")], "i=%d" % i)
    stats = auth.stats()
    assert len(stats["requests"]) == 20
    assert 1 <= stats["auth_connections"] <= workers
    if workers == 1:
        assert len({r["conn"] for r in stats["requests"]}) == 1


def test_auth_connections_are_reused_by_more_than_four_concurrent_workers(auth, authorizer):
    """Eight calls at a time, in rounds: each worker keeps its connection to the auth service
    between rounds (libcurl's default pool for a handle keeps only four)."""
    workers = 8
    a = authorizer(build_config(auth.url(status=200, h="userId:1", delay_ms=300),
                                workers=workers))
    for rnd in range(4):
        results = [None] * workers

        def client(i):
            try:
                results[i] = a.request("/protected?r=%d" % rnd, {"Authorization": "Bearer x"})
            except Exception as e:
                results[i] = e

        threads = [threading.Thread(target=client, args=(i,)) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for resp in results:
            assert_allowed(resp, [("X-Auth-UserId", "1")], "r=%d" % rnd)
    stats = auth.stats()
    assert len(stats["requests"]) == 4 * workers
    assert stats["auth_connections"] <= workers


def test_connection_reused_after_denials(auth, authorizer):
    a = authorizer(build_config(auth.url(mode="token"), workers=1))
    for i in range(10):
        kind = ("good", "bad", "forbidden")[i % 3]
        resp = a.request("/protected", {"Authorization": "Bearer %s:%d" % (kind, i)})
        assert resp.status == (200, 401, 403)[i % 3]
    assert auth.stats()["auth_connections"] == 1
