"""Local JWT verification (a `jwt` rule with keys): tokens and keys are made here by PyJWT
and python3-cryptography, never by the authorizer's code; JWKS is served over HTTP by a
server in this process that can rotate, fail and count its fetches."""

import base64
import http.server
import json
import os
import re
import subprocess
import threading
import time

import pytest

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from conftest import AUTHORIZER_CMD, SLOW, assert_allowed, assert_denied, assert_status_only

ISS = "https://idp.test/"
IDENTITY = [("X-Auth-UserId", "42"), ("X-Auth-UserCountryId", "DE")]


def pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def keys():
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa2": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
        "ed": ed25519.Ed25519PrivateKey.generate(),
    }


def claims(**kw):
    c = {"sub": "42", "country": "DE", "iss": ISS, "aud": "orders",
         "exp": int(time.time()) + 600, "scope": "orders:read profile"}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


def token(key, alg="RS256", kid=None, headers=None, **kw):
    h = dict(headers or {})
    if kid:
        h["kid"] = kid
    return pyjwt.encode(claims(**kw), key, algorithm=alg, headers=h or None)


def jwk_of(key, kid, alg):
    algo = {"RS256": pyjwt.algorithms.RSAAlgorithm, "ES256": pyjwt.algorithms.ECAlgorithm}[alg]
    d = json.loads(algo.to_jwk(key.public_key()))
    d.update(kid=kid, alg=alg, use="sig")
    return d


def rule_config(tmp_path, rule, paths=("/api",), workers=4, extra_mw=""):
    return ('log_level = "info";\nworkers = %d;\nmiddlewares = (\n'
            '  { name = "api"; type = "jwt"; paths = ( %s );\n'
            '    rule = { %s\n'
            '      headers = { sub = "X-Auth-UserId"; country = "X-Auth-UserCountryId"; };\n'
            '      params = { country = "countryId"; }; }; }%s\n);\n'
            % (workers, ", ".join('"%s"' % p for p in paths), rule, extra_mw))


def bearer(t):
    return {"Authorization": "Bearer " + t}


@pytest.fixture
def rsa_api(keys, tmp_path, authorizer):
    pub = tmp_path / "rsa.pem"
    pub.write_bytes(pem_public(keys["rsa"]))
    return authorizer(rule_config(tmp_path, 'publicKey = "%s"; issuer = "%s"; audience = '
                                  '"orders"; requiredClaims = { scope = "orders:read"; };'
                                  % (pub, ISS)))


# ---- allowed ----


def test_valid_token_exports_its_claims(rsa_api, keys, auth):
    r = rsa_api.request("/api/x?countryId=XX&a=1", bearer(token(keys["rsa"])))
    assert_allowed(r, IDENTITY, "a=1&countryId=DE")
    assert auth.requests() == []  # no auth service is asked


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_scheme_in_any_case(rsa_api, keys, scheme):
    r = rsa_api.request("/api/x", {"Authorization": scheme + "  " + token(keys["rsa"])})
    assert r.status == 200, r


# ---- refused ----


def test_no_token_is_401_with_a_challenge(rsa_api):
    for headers in ({}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer"}):
        r = rsa_api.request("/api/x", headers)
        assert_denied(r, 401, b"401 Unauthorized\n", www='Bearer realm="api"')


def rsa_pem(keys):
    return pem_public(keys["rsa"])


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header, payload, sig=b""):
    return "%s.%s.%s" % (b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()),
                         b64(sig))


def attacks(keys):
    good = token(keys["rsa"])
    h, p, s = good.split(".")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(other.public_key()))
    return {
        "alg-none": forge({"alg": "none"}, claims()),
        "alg-None": forge({"alg": "None"}, claims()),
        "alg-NONE": forge({"alg": "NONE", "typ": "JWT"}, claims()),
        "hs256-with-rsa-public-key": hs256_with_public_key(keys),
        "stripped-signature": "%s.%s." % (h, p),
        "no-signature-part": "%s.%s" % (h, p),
        "changed-payload": "%s.%s.%s" % (h, b64(json.dumps(claims(sub="1")).encode()), s),
        "other-key": token(other),
        "jku-elsewhere": token(other, headers={"jku": "http://127.0.0.1:9/jwks"}),
        "x5u-elsewhere": token(other, headers={"x5u": "http://127.0.0.1:9/cert"}),
        "embedded-jwk": token(other, headers={"jwk": attacker_jwk}),
        "path-like-kid": token(other, kid="../../../../etc/passwd"),
        "expired": token(keys["rsa"], exp=int(time.time()) - 60),
        "not-yet-valid": token(keys["rsa"], nbf=int(time.time()) + 600),
        "future-iat": token(keys["rsa"], iat=int(time.time()) + 600),
        "no-exp": token(keys["rsa"], exp=None),
        "wrong-issuer": token(keys["rsa"], iss="https://evil/"),
        "wrong-audience": token(keys["rsa"], aud="other"),
        "audience-array-without-ours": token(keys["rsa"], aud=["a", "b"]),
        "five-parts": "%s.%s.%s.x.y" % (h, p, s),
        "padding": "%s=.%s.%s" % (h, p, s),
        "plus-slash": "%s.%s.%s" % (h, p, s.replace("-", "+").replace("_", "/")),
        "crit": token(keys["rsa"], headers={"crit": ["exp"], "exp": 1}),
        "huge": "%s.%s.%s" % (h, "A" * (1024 * 1024), s),
    }


def hs256_with_public_key(keys):
    """HS256 signed with the RSA public key's PEM as the secret (the classic confusion)."""
    import hashlib
    import hmac
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    mac = hmac.new(rsa_pem(keys), ("%s.%s" % (header, payload)).encode(), hashlib.sha256)
    return "%s.%s.%s" % (header, payload, b64(mac.digest()))


def test_attacks_are_refused(rsa_api, keys):
    for name, t in attacks(keys).items():
        r = rsa_api.request("/api/x", bearer(t))
        if name == "huge":
            # 1 MB in one header: refused before or after verification, never allowed.
            assert r.status in (400, 401), (name, r)
            continue
        assert_denied(r, 401, b"401 Unauthorized\n",
                      www='Bearer realm="api", error="invalid_token"')
    log = rsa_api.log()
    assert log.count("token refused") >= len(attacks(keys)) - 1, log
    assert "Bearer ey" not in log  # tokens never reach the log


def test_required_claims_403(rsa_api, keys):
    for c in ({"scope": "profile"}, {"scope": None}, {"scope": "orders:readx"}):
        r = rsa_api.request("/api/x", bearer(token(keys["rsa"], **c)))
        assert_denied(r, 403, b"403 Forbidden\n",
                      www='Bearer realm="api", error="insufficient_scope"')
    # A scope string holds each of its scopes.
    r = rsa_api.request("/api/x", bearer(token(keys["rsa"], scope="a orders:read b")))
    assert r.status == 200, r


def test_required_header_still_403(keys, tmp_path, authorizer):
    pub = tmp_path / "rsa.pem"
    pub.write_bytes(pem_public(keys["rsa"]))
    a = authorizer(rule_config(tmp_path, 'publicKey = "%s"; requiredHeaders = ( "X-Tenant" );'
                               % pub))
    r = a.request("/api/x", bearer(token(keys["rsa"])))
    assert_status_only(r, 403)
    r = a.request("/api/x", dict(bearer(token(keys["rsa"])), **{"X-Tenant": "t"}))
    assert r.status == 200, r


# ---- algorithms and key forms ----


def test_every_key_form(keys, tmp_path, authorizer):
    (tmp_path / "ec.pem").write_bytes(pem_public(keys["ec"]))
    (tmp_path / "ed.pem").write_bytes(pem_public(keys["ed"]))
    secret = os.urandom(32)
    (tmp_path / "hs.key").write_bytes(secret + b"\n")
    cases = [
        ('publicKey = "%s";' % (tmp_path / "ec.pem"), token(keys["ec"], "ES256")),
        ('publicKey = "%s";' % (tmp_path / "ed.pem"), token(keys["ed"], "EdDSA")),
        ('secretFile = "%s";' % (tmp_path / "hs.key"), token(secret, "HS256")),
    ]
    for rule, t in cases:
        a = authorizer(rule_config(tmp_path, rule))
        assert_allowed(a.request("/api/x", bearer(t)), IDENTITY, "countryId=DE")
        # An RSA-signed token against these keys: refused.
        assert a.request("/api/x", bearer(token(keys["rsa"]))).status == 401
        a.stop()


def test_algorithm_allow_list(keys, tmp_path, authorizer):
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [
        jwk_of(keys["rsa"], "r1", "RS256"), jwk_of(keys["ec"], "e1", "ES256")]}))
    a = authorizer(rule_config(tmp_path, 'jwksFile = "%s"; algorithms = ( "ES256" );'
                               % (tmp_path / "jwks.json")))
    assert a.request("/api/x", bearer(token(keys["ec"], "ES256", kid="e1"))).status == 200
    assert a.request("/api/x", bearer(token(keys["rsa"], kid="r1"))).status == 401


# ---- claims ----


def test_claims_exported_and_dropped(keys, tmp_path, authorizer):
    pub = tmp_path / "rsa.pem"
    pub.write_bytes(pem_public(keys["rsa"]))
    text = ('log_level = "info";\nmiddlewares = ( { name = "api"; type = "jwtAuth"; '
            'paths = ( "/api" );\n rule = { publicKey = "%s";\n'
            ' headers = ( ( "sub", "X-Auth-UserId" ), ( "/address/country", "X-Country" ),\n'
            '   ( "https://example.com/roles", "X-Roles" ), ( "evil", "X-Evil" ),\n'
            '   ( "obj", "X-Obj" ), ( "n", "X-N" ), ( "b", "X-B" ) ); }; } );\n' % pub)
    a = authorizer(text)
    t = token(keys["rsa"], address={"country": "NL"}, **{
        "https://example.com/roles": ["admin", "ops"], "evil": "a\r\nX-Injected: 1",
        "obj": {"a": 1}, "n": 7, "b": True})
    r = a.request("/api/x", bearer(t))
    assert r.status == 200, r
    got = dict(r.variables)
    assert got["X-Auth-UserId"] == "42"
    assert got["X-Country"] == "NL"
    assert got["X-Roles"] == "admin,ops"
    assert got["X-N"] == "7" and got["X-B"] == "true"
    assert "X-Evil" not in got and "X-Obj" not in got
    assert b"X-Injected" not in r.raw
    assert "dropped" in a.log()


def test_token_from_a_cookie(keys, tmp_path, authorizer):
    pub = tmp_path / "rsa.pem"
    pub.write_bytes(pem_public(keys["rsa"]))
    a = authorizer(rule_config(tmp_path, 'publicKey = "%s"; tokenCookie = "session";' % pub))
    r = a.request("/api/x", {"Cookie": "a=1; session=%s; b=2" % token(keys["rsa"])})
    assert r.status == 200, r
    assert a.request("/api/x", {"Cookie": "sessionx=%s" % token(keys["rsa"])}).status == 401


# ---- JWKS over HTTP ----


class Jwks:
    """A JWKS endpoint: what it serves, whether it is up, and how often it was asked."""

    def __init__(self):
        self.doc = {"keys": []}
        self.mode = "ok"
        self.fetches = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches += 1
                if outer.mode == "down":
                    self.send_response(503)
                    self.end_headers()
                    return
                body = b"{ this is not json" if outer.mode == "garbage" else \
                    json.dumps(outer.doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/jwks.json" % self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def jwks():
    j = Jwks()
    yield j
    j.close()


def jwks_config(tmp_path, url, minimum=1):
    return rule_config(tmp_path, 'jwksUrl = "%s"; jwksMinRefresh = %d; jwksRefresh = 600;'
                       % (url, minimum))


def wait_for(cond, what, seconds=10):
    for _ in range(int(seconds * 100 * SLOW)):
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError(what)


def test_jwks_down_at_start_fails_closed_then_recovers(keys, jwks, tmp_path, authorizer):
    jwks.mode = "down"
    a = authorizer(jwks_config(tmp_path, jwks.url))
    wait_for(lambda: jwks.fetches >= 1, "the JWKS was never fetched")
    t = token(keys["rsa"], kid="k1")
    assert_status_only(a.request("/api/x", bearer(t)), 500)
    assert "no keys" in a.log()
    jwks.doc = {"keys": [jwk_of(keys["rsa"], "k1", "RS256")]}
    jwks.mode = "ok"
    time.sleep(1.1)  # past jwksMinRefresh: the next request brings the fetch forward
    assert_allowed(a.request("/api/x", bearer(t)), IDENTITY, "countryId=DE")


def test_rotation_and_made_up_kids(keys, jwks, tmp_path, authorizer):
    jwks.doc = {"keys": [jwk_of(keys["rsa"], "k1", "RS256")]}
    a = authorizer(jwks_config(tmp_path, jwks.url, minimum=3))
    wait_for(lambda: "1 keys" in a.log(), "the JWKS was never loaded: " + a.log())
    old = token(keys["rsa"], kid="k1")
    assert a.request("/api/x", bearer(old)).status == 200
    # The identity provider adds a key: the new kid is accepted after one refetch, the old
    # key keeps working until it is removed.
    jwks.doc = {"keys": [jwk_of(keys["rsa"], "k1", "RS256"), jwk_of(keys["rsa2"], "k2", "RS256")]}
    time.sleep(3.1)
    before = jwks.fetches
    new = token(keys["rsa2"], kid="k2")
    assert_allowed(a.request("/api/x", bearer(new)), IDENTITY, "countryId=DE")
    assert jwks.fetches == before + 1
    assert a.request("/api/x", bearer(old)).status == 200
    # A flood of made-up kids within jwksMinRefresh costs at most one more fetch.
    before = jwks.fetches
    for i in range(40):
        assert a.request("/api/x", bearer(token(keys["rsa"], kid="made-up-%d" % i))).status == 401
    assert jwks.fetches - before <= 1, jwks.fetches - before
    # A garbage answer keeps the keys it had.
    jwks.mode = "garbage"
    time.sleep(3.1)
    assert a.request("/api/x", bearer(token(keys["rsa"], kid="unknown"))).status == 401
    wait_for(lambda: "keeping the keys it had" in a.log(), "no garbage fetch: " + a.log())
    assert a.request("/api/x", bearer(new)).status == 200
    # The old key removed: its tokens stop working after the next fetch.
    jwks.mode = "ok"
    jwks.doc = {"keys": [jwk_of(keys["rsa2"], "k2", "RS256")]}
    time.sleep(3.1)
    a.request("/api/x", bearer(token(keys["rsa2"], kid="k3")))  # an unknown kid: refetch
    wait_for(lambda: a.request("/api/x", bearer(old)).status == 401, "the old key still works")


# ---- cache ----


def test_verified_token_cache_never_outlives_the_token(keys, tmp_path, authorizer):
    pub = tmp_path / "rsa.pem"
    pub.write_bytes(pem_public(keys["rsa"]))
    a = authorizer(rule_config(tmp_path, 'publicKey = "%s"; cache = { ttl = 300; };' % pub))
    # Under valgrind the first requests take seconds: the token's life grows with SLOW.
    life = 2 * SLOW
    short = token(keys["rsa"], exp=int(time.time()) + life)
    assert a.request("/api/x", bearer(short)).status == 200
    assert a.request("/api/x", bearer(short)).status == 200
    assert "cache=hit" in a.log()
    time.sleep(life + 1)
    assert a.request("/api/x", bearer(short)).status == 401


# ---- -t ----


def check(tmp_path, text):
    path = tmp_path / "t.conf"
    path.write_text(text)
    return subprocess.run(AUTHORIZER_CMD + ["-t", "-c", str(path)], capture_output=True,
                          text=True)


def test_dash_t_reports_key_mistakes(keys, tmp_path):
    (tmp_path / "garbage.pem").write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    (tmp_path / "ec.pem").write_bytes(pem_public(keys["ec"]))
    (tmp_path / "empty.json").write_text('{"keys": []}')
    (tmp_path / "rsa.pem").write_bytes(pem_public(keys["rsa"]))
    cases = [
        ('publicKey = "%s";' % (tmp_path / "missing.pem"), "cannot read"),
        ('publicKey = "%s";' % (tmp_path / "garbage.pem"), "publicKey"),
        ('publicKey = "%s"; algorithms = ( "RS256" );' % (tmp_path / "ec.pem"), "fits none"),
        ('jwksFile = "%s";' % (tmp_path / "empty.json"), "no usable key"),
        ('publicKey = "%s"; algorithms = ( "none" );' % (tmp_path / "rsa.pem"), "algorithms"),
        ('publicKey = "%s"; url = "http://a/";' % (tmp_path / "rsa.pem"), "not both"),
        ('publicKey = "%s"; forwardHeaders = ( "X-A" );' % (tmp_path / "rsa.pem"), "no url"),
    ]
    for rule, part in cases:
        out = check(tmp_path, rule_config(tmp_path, rule))
        assert out.returncode == 1, (rule, out.stdout, out.stderr)
        assert part in out.stderr and re.search(r"t\.conf:\d+: middlewares\[0\]\.rule", out.stderr), \
            (rule, out.stderr)
    out = check(tmp_path, rule_config(tmp_path, 'publicKey = "%s";' % (tmp_path / "rsa.pem")))
    assert out.returncode == 0, out.stderr
