"""The shared cache level, end to end, on a real redis-server: authorizers that share a Redis
ask the auth service once per identity between them; what Redis holds is neither readable
nor forgeable; and whatever Redis does (down, stopped, restarted, tampered with), every answer
is the one the auth service would give."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

import procs
from conftest import AUTHORIZER_CMD, SLOW, build_config, middleware

REDIS = shutil.which("redis-server")
CLI = shutil.which("redis-cli")
PASSWORD = "s3cret-redis-pass"
SECRET_HEX = "".join("%02x" % i for i in range(32))


def other_secret(seed):
    """Another valid secret: 64 hex digits that are not one byte repeated."""
    return "".join("%02x" % ((i * 7 + seed) % 256) for i in range(32))

pytestmark = pytest.mark.skipif(not (REDIS and CLI),
                                reason="needs redis-server and redis-cli (scripts/install-deps)")


class Redis:
    """One redis-server with a password on a free loopback port, no persistence."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.port = procs.free_port()
        self.start()

    def start(self):
        self.child = procs.Child(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--requirepass", PASSWORD, "--dir", self.workdir],
            os.path.join(self.workdir, "redis.log"), name="redis-server")
        procs.wait_accepting(("127.0.0.1", self.port), 10 * SLOW, self.child, "redis-server")
        procs.wait_until(lambda: self.cli("PING") == "PONG", 10 * SLOW, "redis answers")

    def cli(self, *args):
        out = subprocess.run([CLI, "-p", str(self.port), "--no-auth-warning", "-a", PASSWORD]
                             + list(args), capture_output=True, timeout=10 * SLOW)
        return out.stdout.decode("latin-1").strip()

    def keys(self):
        return [k for k in self.cli("--scan").splitlines() if k]

    def stop(self):
        self.child.stop(signal.SIGKILL)


@pytest.fixture
def redis(tmp_path):
    d = tmp_path / "redis"
    d.mkdir()
    r = Redis(str(d))
    yield r
    r.stop()


def files(tmp_path, secret=SECRET_HEX + "\n", password=PASSWORD + "\n"):
    secret_path = tmp_path / "cache.key"
    secret_path.write_text(secret)
    pass_path = tmp_path / "redis.pass"
    pass_path.write_text(password)
    secret_path.chmod(0o600)
    pass_path.chmod(0o600)
    return str(secret_path), str(pass_path)


def shared_config(auth_url, redis, tmp_path, ttl=30, negative_ttl=0, lock=False, timeout=200,
                  extra="", headers=None, secret=None, address=None, rule_timeout=None, **kw):
    secret_path, pass_path = files(tmp_path, **({"secret": secret} if secret else {}))
    mw_kw = dict(forward=(), params=(), required=("Authorization",))
    if rule_timeout is not None:
        mw_kw["timeout"] = rule_timeout
    if headers is not None:
        mw_kw["headers"] = headers
    mw = middleware(auth_url, **mw_kw).replace(
        "    rule = {",
        "    rule = {\n      cache = { ttl = %d; negativeTtl = %d; key = ( \"Authorization\" );"
        " shared = true; };" % (ttl, negative_ttl), 1)
    top = ("sharedCache = {\n  address = \"%s\";\n  passwordFile = \"%s\";\n"
           "  secretFile = \"%s\";\n  keyPrefix = \"authz:\";\n  timeout = %d;\n  lock = %s;\n%s};\n"
           % (address or "127.0.0.1:%d" % redis.port, pass_path, secret_path, timeout * SLOW,
              "true" if lock else "false", extra))
    return top + build_config(middlewares=[mw], **kw)


def scrape(path):
    """The metrics listener's values, over its unix socket."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10 * SLOW)
        s.connect(path)
        s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    values = {}
    for line in raw.partition(b"\r\n\r\n")[2].decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def user_of(resp):
    return dict(resp.variables).get("X-Auth-UserId")


def test_a_fleet_asks_once_per_identity(auth, authorizer, redis, tmp_path):
    text = shared_config(auth.url(mode="token"), redis, tmp_path)
    fleet = [authorizer(text) for _ in range(3)]
    users = ["alice", "bob", "carol", "dave", "erin", "frank"]
    for round_ in range(3):
        for i, user in enumerate(users):
            a = fleet[(i + round_) % 3]  # each identity reaches every instance
            r = a.request("/protected", {"Authorization": "Bearer good:" + user})
            assert user_of(r) == user
    assert len(auth.requests()) == len(users)  # once per identity for the whole fleet
    # Each identity met each instance once: a miss at the first, Redis at the other two.
    logs = "".join(a.log() for a in fleet)
    assert (logs.count("cache=miss"), logs.count("cache=shared"), logs.count("cache=hit")) \
        == (6, 12, 0)
    # A fourth instance starts warm: every identity from Redis, none from the service.
    fourth = authorizer(text)
    for user in users:
        assert user_of(fourth.request("/protected", {"Authorization": "Bearer good:" + user})) \
            == user
    assert len(auth.requests()) == len(users)
    assert fourth.log().count("cache=shared") == len(users)


def test_a_unix_socket_redis(auth, authorizer, tmp_path):
    d = tmp_path / "redis-unix"
    d.mkdir()
    sock = str(d / "redis.sock")
    child = procs.Child([REDIS, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
                         "--save", "", "--requirepass", PASSWORD, "--dir", str(d)],
                        str(d / "redis.log"), name="redis-server")
    try:
        procs.wait_until(lambda: os.path.exists(sock), 10 * SLOW, "redis' socket", child)
        text = shared_config(auth.url(mode="token"), None, tmp_path, address=sock)
        a, b = authorizer(text), authorizer(text)
        assert user_of(a.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
        assert user_of(b.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
        assert len(auth.requests()) == 1 and "cache=shared" in b.log()
    finally:
        child.stop(signal.SIGKILL)


def test_denials_are_shared_with_their_challenge(auth, authorizer, redis, tmp_path):
    text = shared_config(auth.url(mode="token"), redis, tmp_path, negative_ttl=30)
    a, b = authorizer(text), authorizer(text)
    first = a.request("/protected", {"Authorization": "Bearer nope"})
    second = b.request("/protected", {"Authorization": "Bearer nope"})
    for r in (first, second):
        assert r.status_line == "Status: 401 Unauthorized"
        assert r.header("WWW-Authenticate") == 'Bearer realm="test"'
        assert user_of(r) is None
    assert len(auth.requests()) == 1


def test_denials_are_not_shared_without_negative_ttl(auth, authorizer, redis, tmp_path):
    text = shared_config(auth.url(mode="token"), redis, tmp_path)
    a, b = authorizer(text), authorizer(text)
    a.request("/protected", {"Authorization": "Bearer nope"})
    b.request("/protected", {"Authorization": "Bearer nope"})
    assert len(auth.requests()) == 2
    assert redis.keys() == []


def test_redis_holds_nothing_readable(auth, authorizer, redis, tmp_path):
    a = authorizer(shared_config(auth.url(mode="token"), redis, tmp_path))
    a.request("/protected", {"Authorization": "Bearer good:alice-the-user"})
    keys = redis.keys()
    assert len(keys) == 1 and keys[0].startswith("authz:")
    value = redis.cli("GET", keys[0])
    for secret in ("alice", "good", "Bearer", "X-Auth-UserId", "protected"):
        assert secret not in keys[0] and secret not in value
    ttl = int(redis.cli("PTTL", keys[0]))
    assert 0 < ttl <= 30000  # Redis drops it with the rule's ttl


def test_an_entry_changed_in_redis_is_a_miss_never_an_answer(auth, authorizer, redis, tmp_path):
    text = shared_config(auth.url(mode="token"), redis, tmp_path)
    a = authorizer(text)
    a.request("/protected", {"Authorization": "Bearer good:alice"})
    a.request("/protected", {"Authorization": "Bearer good:mallory"})
    assert len(auth.requests()) == 2
    keys = redis.keys()
    assert len(keys) == 2
    # Swap the two values: each is sealed to its own name, so neither opens under the other.
    v0, v1 = (redis.cli("--no-raw", "GET", k) for k in keys)
    subprocess.run([CLI, "-p", str(redis.port), "--no-auth-warning", "-a", PASSWORD, "EVAL",
                    "local a = redis.call('get', KEYS[1]) redis.call('set', KEYS[1], "
                    "redis.call('get', KEYS[2])) redis.call('set', KEYS[2], a) return 1",
                    "2", keys[0], keys[1]], check=True, capture_output=True)
    assert (redis.cli("--no-raw", "GET", keys[0]), redis.cli("--no-raw", "GET", keys[1])) == (v1, v0)
    b = authorizer(text)
    assert user_of(b.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
    assert user_of(b.request("/protected", {"Authorization": "Bearer good:mallory"})) == "mallory"
    assert len(auth.requests()) == 4  # both were misses: the service was asked again
    assert b.log().count("does not open") == 2
    # Truncated, or garbage in place of a value: misses too, and the service answers.
    c = authorizer(text)
    for k in keys:  # server-side: the values are binary
        redis.cli("EVAL", "local v = redis.call('get', KEYS[1]) "
                  "return redis.call('set', KEYS[1], string.sub(v, 1, #v - 17))", "1", k)
    assert user_of(c.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
    assert len(auth.requests()) == 5
    for k in keys:
        redis.cli("SET", k, "x" * 200)
    d = authorizer(text)
    assert user_of(d.request("/protected", {"Authorization": "Bearer good:mallory"})) == "mallory"
    assert len(auth.requests()) == 6
    assert c.log().count("does not open") == 1 and d.log().count("does not open") == 1


def test_a_value_sealed_under_another_secret_does_not_open(auth, authorizer, redis, tmp_path):
    # An instance with another secret writes an allow for "mallory"; copied under the key the
    # fleet uses for alice's token, it must not make alice mallory.
    fleet_text = shared_config(auth.url(mode="token"), redis, tmp_path)
    a = authorizer(fleet_text)
    a.request("/protected", {"Authorization": "Bearer good:alice"})
    (alice_key,) = redis.keys()
    other = tmp_path / "attacker"
    other.mkdir()
    m = authorizer(shared_config(auth.url(mode="token"), redis, other, secret=other_secret(4)))
    m.request("/protected", {"Authorization": "Bearer good:mallory"})
    (forged_key,) = [k for k in redis.keys() if k != alice_key]
    subprocess.run([CLI, "-p", str(redis.port), "--no-auth-warning", "-a", PASSWORD, "COPY",
                    forged_key, alice_key, "REPLACE"], check=True, capture_output=True)
    b = authorizer(fleet_text)
    assert user_of(b.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
    assert "does not open" in b.log() and "cache=shared" not in b.log()


def test_another_secret_or_policy_does_not_read_the_entries(auth, authorizer, redis, tmp_path):
    a = authorizer(shared_config(auth.url(mode="token"), redis, tmp_path))
    a.request("/protected", {"Authorization": "Bearer good:alice"})
    other = tmp_path / "other"
    other.mkdir()
    b = authorizer(shared_config(auth.url(mode="token"), redis, other, secret=other_secret(1)))
    assert user_of(b.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
    assert len(auth.requests()) == 2
    # The same secret, but a policy that exports another header: entries of its own.
    third = tmp_path / "third"
    third.mkdir()
    c = authorizer(shared_config(auth.url(mode="token"), redis, third,
                                 headers=(("userId", "X-Other-User"),)))
    r = c.request("/protected", {"Authorization": "Bearer good:alice"})
    assert dict(r.variables).get("X-Other-User") == "alice"
    assert len(auth.requests()) == 3


def test_rotation_reads_entries_under_the_old_secret(auth, authorizer, redis, tmp_path):
    a = authorizer(shared_config(auth.url(mode="token"), redis, tmp_path))
    a.request("/protected", {"Authorization": "Bearer good:alice"})
    old = tmp_path / "old.key"
    old.write_text(SECRET_HEX + "\n")
    rotated = tmp_path / "rotated"
    rotated.mkdir()
    b = authorizer(shared_config(auth.url(mode="token"), redis, rotated, secret=other_secret(2),
                                 extra="  oldSecretFile = \"%s\";\n" % old))
    assert user_of(b.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
    assert len(auth.requests()) == 1
    assert "cache=shared" in b.log()


def test_redis_down_stopped_or_restarted_never_changes_an_answer(auth, authorizer, redis,
                                                                  tmp_path):
    text = shared_config(auth.url(mode="token"), redis, tmp_path, timeout=100)
    a = authorizer(text)

    def check_all():
        assert user_of(a.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
        r = a.request("/protected", {"Authorization": "Bearer nope"})
        assert r.status_line == "Status: 401 Unauthorized" and user_of(r) is None
        r = a.request("/protected", {"Authorization": "Bearer forbidden"})
        assert r.status_line == "Status: 403 Forbidden" and user_of(r) is None

    check_all()
    redis.child.send_signal(signal.SIGSTOP)  # a Redis that accepts and never answers
    try:
        metrics = str(tmp_path / "metrics.sock")
        b = authorizer("metrics_listen = \"%s\";\n" % metrics + text)  # cold: Redis or service
        for i in range(8):
            r = b.request("/protected", {"Authorization": "Bearer good:carol%d" % i})
            assert user_of(r) == "carol%d" % i
            r = b.request("/protected", {"Authorization": "Bearer nope"})
            assert r.status_line == "Status: 401 Unauthorized"
        m = scrape(metrics)
        assert m["authorizer_shared_cache_breaker_opens_total"] >= 1
        assert m["authorizer_shared_cache_breaker_open"] > 0
        assert m["authorizer_shared_cache_skipped_total"] >= 1
        assert m['authorizer_shared_cache_lookups_total{result="hit"}'] == 0
    finally:
        redis.child.send_signal(signal.SIGCONT)
    redis.stop()  # down: refused
    c = authorizer(text)
    for _ in range(8):
        assert user_of(c.request("/protected", {"Authorization": "Bearer good:dave"})) == "dave"
        r = c.request("/protected", {"Authorization": "Bearer forbidden"})
        assert r.status_line == "Status: 403 Forbidden"
    assert "breaker" in c.log() or "shared cache" in c.log()
    redis.start()  # back, empty: the instances reconnect by themselves
    asked = len(auth.requests())

    def shares_again():
        c.request("/protected", {"Authorization": "Bearer good:erin"})
        return bool(redis.keys())

    procs.wait_until(shares_again, 60 * SLOW, "the authorizer stores in Redis again")
    d = authorizer(text)
    before = len(auth.requests())
    assert user_of(d.request("/protected", {"Authorization": "Bearer good:erin"})) == "erin"
    assert len(auth.requests()) == before and before > asked


class StallingRelay:
    """A TCP relay in front of Redis that, while `stall` is set, passes on the first half of
    each reply, holds the rest for `hold` seconds and then sends it: a Redis that stops in
    the middle of a reply and later goes on, its late bytes arriving on the same
    connection."""

    def __init__(self, redis_port, hold):
        self.redis_port = redis_port
        self.hold = hold
        self.stall = threading.Event()
        self.stalled = 0
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.lsock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.redis_port))
            threading.Thread(target=self._pump, args=(client, upstream, False),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True),
                             daemon=True).start()

    def _pump(self, src, dst, replies):
        try:
            while chunk := src.recv(65536):
                if replies and self.stall.is_set() and len(chunk) > 1:
                    self.stalled += 1
                    dst.sendall(chunk[:len(chunk) // 2])
                    time.sleep(self.hold)
                    chunk = chunk[len(chunk) // 2:]
                dst.sendall(chunk)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.lsock.close()


def test_a_redis_that_stops_mid_reply_never_changes_an_answer(auth, authorizer, redis,
                                                               tmp_path):
    """A reply cut in the middle and finished after the timeout: that lookup asks the service,
    and the late rest of the reply is never read as the answer to a later lookup; sharing
    goes on."""
    relay = StallingRelay(redis.port, hold=1.0 * SLOW)
    try:
        texts = [shared_config(auth.url(mode="token"), redis, tmp_path, timeout=100,
                               address="127.0.0.1:%d" % relay.port, workers=w) for w in (4, 1)]
        a = authorizer(texts[0])
        for user in ("alice", "bob", "carol"):
            assert user_of(a.request("/protected", {"Authorization": "Bearer good:" + user})) \
                == user
        asked = len(auth.requests())
        b = authorizer(texts[1])  # one worker: one Redis connection
        relay.stall.set()
        assert user_of(b.request("/protected", {"Authorization": "Bearer good:alice"})) \
            == "alice"
        relay.stall.clear()
        assert relay.stalled >= 1
        assert len(auth.requests()) == asked + 1  # the stalled lookup asked the service
        time.sleep(1.5 * SLOW)  # the rest of the stalled reply has reached b by now
        for user in ("bob", "carol"):
            assert user_of(b.request("/protected", {"Authorization": "Bearer good:" + user})) \
                == user
        r = b.request("/protected", {"Authorization": "Bearer nope"})
        assert r.status_line == "Status: 401 Unauthorized" and user_of(r) is None
        # bob and carol came from Redis: the connection was made again, not left out of step.
        assert len(auth.requests()) == asked + 2
        assert b.log().count("cache=shared") == 2
    finally:
        relay.close()


def test_the_lock_makes_a_cold_fleet_ask_once(auth, authorizer, redis, tmp_path):
    text = shared_config(auth.url(mode="token", delay_ms=400), redis, tmp_path, lock=True)
    fleet = [authorizer(text) for _ in range(3)]
    results = []

    def one(a):
        results.append(user_of(a.request("/protected", {"Authorization": "Bearer good:zed"})))

    threads = [threading.Thread(target=one, args=(a,)) for a in fleet]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["zed"] * 3
    assert len(auth.requests()) == 1


@pytest.mark.parametrize("answer", [
    dict(mode="plain", h=["userId:zed", "Cache-Control:no-store"]),
    dict(mode="plain", status=503),
    dict(mode="token", token="nope"),  # a denial, and negativeTtl is 0
])
def test_a_waiter_stops_when_the_asker_had_nothing_to_share(auth, authorizer, redis, tmp_path,
                                                            answer):
    """An answer that is not kept never appears in Redis: the instance waiting for it must
    notice that the lock was released and ask itself, not wait out the rule's long timeout
    (here longer than the client waits)."""
    token = answer.pop("token", "good:zed")
    text = shared_config(auth.url(delay_ms=300, **answer), redis, tmp_path,
                         lock=True, rule_timeout=120)
    first, second = authorizer(text), authorizer(text)
    results = {}

    def ask(name, a):
        results[name] = a.request("/protected", {"Authorization": "Bearer " + token},
                                  timeout=20 * SLOW)

    t = threading.Thread(target=ask, args=("first", first))
    t.start()
    procs.wait_until(lambda: len(auth.requests()) == 1, 10 * SLOW, "the first auth call")
    ask("second", second)
    t.join()
    assert results["first"].status_line == results["second"].status_line
    assert len(auth.requests()) == 2  # nothing to share: each asked


def line_of(path, word):
    return next(i for i, l in enumerate(path.read_text().splitlines(), 1) if word in l)


def test_bad_shared_settings_name_the_file_and_setting(authorizer, tmp_path, redis):
    def check(text):
        conf = tmp_path / "bad.conf"
        conf.write_text(text)
        out = subprocess.run(AUTHORIZER_CMD + ["-t", "-c", str(conf)], capture_output=True,
                             text=True)
        return out.returncode, out.stdout + out.stderr

    rc, msg = check(shared_config("http://127.0.0.1:1/auth", redis, tmp_path, secret="short\n"))
    assert rc != 0 and "secretFile" in msg and "cache.key" in msg and "bad.conf" in msg
    assert "bad.conf:%d: sharedCache.secretFile:" % line_of(tmp_path / "bad.conf", "secretFile") \
        in msg
    rc, msg = check(shared_config("http://127.0.0.1:1/auth", redis, tmp_path, secret="00" * 32))
    assert rc != 0 and "one byte repeated" in msg
    good = shared_config("http://127.0.0.1:1/auth", redis, tmp_path)
    (tmp_path / "cache.key").chmod(0o644)
    rc, msg = check(good)
    assert rc == 0 and "every user of this machine" in msg and "secretFile" in msg
    (tmp_path / "cache.key").chmod(0o600)
    rc, msg = check(good)
    assert rc == 0, msg
    no_level = good[good.index("};\n") + 3:]
    rc, msg = check(no_level)
    assert rc != 0 and "cache.shared" in msg and "sharedCache" in msg
    rc, msg = check(good.replace("address = \"127.0.0.1", "address = \"no-such-host.invalid", 1))
    assert rc != 0 and "sharedCache" in msg


def test_redis_killed_and_restarted_under_load(auth, authorizer, redis, tmp_path):
    """16 clients on two instances while Redis dies and comes back: every answer is the
    service's own, never an error, never another identity's."""
    text = shared_config(auth.url(mode="token"), redis, tmp_path, ttl=1, negative_ttl=1,
                         timeout=50, workers=8)
    fleet = [authorizer(text), authorizer(text)]
    stop = threading.Event()
    wrong = []
    counts = [0]

    def client(n):
        i = 0
        while not stop.is_set():
            i += 1
            a = fleet[i % 2]
            user = "u%d-%d" % (n, i % 5)
            try:
                if i % 3 == 0:
                    r = a.request("/protected", {"Authorization": "Bearer nope"})
                    ok = r.status_line == "Status: 401 Unauthorized" and user_of(r) is None
                else:
                    r = a.request("/protected", {"Authorization": "Bearer good:" + user})
                    ok = r.status_line == "Status: 200 OK" and user_of(r) == user
            except Exception as e:  # a failed request is a wrong answer too
                ok, r = False, e
            counts[0] += 1
            if not ok:
                wrong.append((user, r))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    try:
        time.sleep(2 * SLOW)
        redis.stop()
        time.sleep(2 * SLOW)
        redis.start()
        time.sleep(3 * SLOW)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert counts[0] > 100
    assert wrong == []
    assert redis.keys()  # sharing resumed after the restart


def test_a_reload_reads_the_secret_again(auth, authorizer, redis, tmp_path):
    a = authorizer(shared_config(auth.url(mode="token"), redis, tmp_path))
    a.request("/protected", {"Authorization": "Bearer good:alice"})
    (tmp_path / "cache.key").write_text(other_secret(3) + "\n")
    a.proc.send_signal(signal.SIGHUP)
    procs.wait_until(lambda: "now serving" in a.log(), 10 * SLOW, "the reload")
    # Empty caches after a reload, and the entry in Redis is under the old secret: asked again.
    assert user_of(a.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
    assert len(auth.requests()) == 2 and len(redis.keys()) == 2
    # A secret file gone bad: the reload is refused and the running secret stays.
    (tmp_path / "cache.key").write_text("too short\n")
    a.proc.send_signal(signal.SIGHUP)
    procs.wait_until(lambda: "still serving with the previous" in a.log(), 10 * SLOW,
                     "the refused reload")
    assert "secretFile" in a.log()
    assert user_of(a.request("/protected", {"Authorization": "Bearer good:alice"})) == "alice"
    assert len(auth.requests()) == 2
