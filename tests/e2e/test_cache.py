"""The decision cache, end to end: the auth service is asked once per identity and lifetime,
never for another identity's answer, and never for errors."""

import signal
import threading
import time

from conftest import build_config, middleware


def cache_config(url, cache, **kw):
    text = build_config(url, forward=(), params=(), **kw)
    return text.replace("    rule = {", "    rule = {\n      cache = %s;" % cache, 1)


def test_allows_are_cached_per_identity(auth, authorizer):
    a = authorizer(cache_config(auth.url(mode="token"),
                                '{ ttl = 30; key = ( "Authorization" ); }'))
    for i in range(5):
        r = a.request("/protected/p%d" % i, {"Authorization": "Bearer good:alice"})
        assert ("X-Auth-UserId", "alice") in r.variables
    assert len(auth.requests()) == 1
    for i in range(3):
        r = a.request("/api/x", {"Authorization": "Bearer good:bob"})
        assert ("X-Auth-UserId", "bob") in r.variables
        assert ("X-Auth-UserId", "alice") not in r.variables
    assert len(auth.requests()) == 2
    log = a.log()
    assert log.count("cache=hit") == 6 and log.count("cache=miss") == 2


def test_full_key_separates_paths_and_cookies(auth, authorizer):
    a = authorizer(cache_config(auth.url(mode="token"), "{ ttl = 30; }"))
    a.request("/protected/a", {"Authorization": "Bearer good:u"})
    a.request("/protected/a", {"Authorization": "Bearer good:u"})
    assert len(auth.requests()) == 1
    a.request("/protected/b", {"Authorization": "Bearer good:u"})
    a.request("/protected/a", {"Authorization": "Bearer good:u", "Cookie": "s=1"})
    a.request("/protected/a", {"Authorization": "Bearer good:u"}, method="POST")
    assert len(auth.requests()) == 4


def test_denials_cached_only_with_negative_ttl(auth, authorizer):
    a = authorizer(cache_config(auth.url(mode="token"), "{ ttl = 30; negativeTtl = 30; }"))
    for _ in range(3):
        r = a.request("/protected/a", {"Authorization": "Bearer nope"})
        assert r.status_line == "Status: 401 Unauthorized"
        assert r.header("WWW-Authenticate") == 'Bearer realm="test"'
    assert len(auth.requests()) == 1

    auth.reset()
    b = authorizer(cache_config(auth.url(mode="token"), "{ ttl = 30; }"))
    for _ in range(3):
        assert b.request("/protected/a", {"Authorization": "Bearer nope"}).status_line.startswith(
            "Status: 401")
    assert len(auth.requests()) == 3


def test_errors_and_no_store_are_not_cached(auth, authorizer):
    a = authorizer(build_config(middlewares=[
        middleware(auth.url(status=503), name="err", paths=("/err",), required=(), forward=(),
                   params=()).replace("rule = {", "rule = {\n      cache = { ttl = 30; };", 1),
        middleware(auth.url(status=200, h="Cache-Control:no-store"), name="nostore",
                   paths=("/nostore",), required=(), forward=(), params=()).replace(
            "rule = {", "rule = {\n      cache = { ttl = 30; };", 1),
    ]))
    for _ in range(3):
        assert a.request("/err").status_line == "Status: 500 Internal Server Error"
        assert a.request("/nostore").status_line == "Status: 200 OK"
    assert len(auth.requests()) == 6


def test_concurrent_misses_ask_the_service_once(auth, authorizer):
    a = authorizer(cache_config(auth.url(mode="token", delay_ms=300),
                                '{ ttl = 30; key = ( "Authorization" ); }', workers=16))
    results = []

    def one():
        results.append(a.request("/protected/x", {"Authorization": "Bearer good:same"}))

    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    assert all(("X-Auth-UserId", "same") in r.variables for r in results)
    assert len(auth.requests()) == 1


def test_sigusr1_logs_the_cache_totals(auth, authorizer):
    a = authorizer(cache_config(auth.url(mode="token"),
                                '{ ttl = 30; key = ( "Authorization" ); }'))
    for _ in range(3):
        a.request("/protected/a", {"Authorization": "Bearer good:u"})
    a.proc.send_signal(signal.SIGUSR1)
    for _ in range(500):
        if "stats cache_hits=" in a.log():
            break
        time.sleep(0.01)
    line = [l for l in a.log().splitlines() if "stats cache_hits=" in l]
    assert line and "cache_hits=2 cache_misses=1" in line[0], a.log()
    assert a.alive()
