"""A minimal FastCGI client for the benchmark (Python standard library only).

It plays the web server's side of one FastCGI request, the way nginx's fastcgi_pass does:
a new connection per request, BEGIN_REQUEST (RESPONDER role, no keep-alive), the PARAMS
stream, an empty STDIN, then STDOUT records until END_REQUEST. Only what the benchmark
needs: the status line of the answer and its Variable- headers.

Used for the instruction count (a fixed request mix) and for filling the decision cache
with many distinct tokens.
"""

import socket
import struct
import threading

_BEGIN, _END, _PARAMS, _STDIN, _STDOUT, _STDERR = 1, 3, 4, 5, 6, 7
RESPONDER, AUTHORIZER = 1, 2


def _record(rtype, content, req_id=1):
    pad = (8 - len(content) % 8) % 8
    return (struct.pack("!BBHHBx", 1, rtype, req_id, len(content), pad) + content
            + b"\0" * pad)


def _length(n):
    return struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)


def _params(params):
    body = b"".join(_length(len(k)) + _length(len(v)) + k + v
                    for k, v in ((k.encode(), v.encode()) for k, v in params.items()))
    out = b""
    for i in range(0, len(body), 65535):
        out += _record(_PARAMS, body[i:i + 65535])
    return out + _record(_PARAMS, b"")


def encode_request(params, role=RESPONDER):
    """The bytes a web server sends for one request without a body."""
    begin = struct.pack("!HB5x", role, 0)
    return _record(_BEGIN, begin) + _params(params) + _record(_STDIN, b"")


def request(sock_path, params, role=RESPONDER, timeout=30.0):
    """Sends one request to the FastCGI server on the unix socket sock_path, or over TCP when
    it is a (host, port) pair; returns (status, headers).

    status is the number of the CGI Status header (200 when absent), headers a dict of the
    answer's header lines (names lower-cased).
    """
    family = socket.AF_INET if isinstance(sock_path, tuple) else socket.AF_UNIX
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(encode_request(params, role))
        buf = b""
        stdout = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed before END_REQUEST")
            buf += chunk
            done = False
            while len(buf) >= 8:
                _, rtype, _, clen, plen = struct.unpack("!BBHHBx", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content = buf[8:8 + clen]
                buf = buf[8 + clen + plen:]
                if rtype == _STDOUT:
                    stdout += content
                elif rtype == _END:
                    done = True
            if done:
                break
    finally:
        s.close()
    head = stdout.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    headers = {}
    for line in head.split("\r\n"):
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    status = int(headers.get("status", "200").split()[0])
    return status, headers


def nginx_like_params(method, uri, authorization=None, extra=None):
    """The parameters nginx sends from a /.authz location like the one in etc/nginx/."""
    p = {
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "REQUEST_SCHEME": "http",
        "SERVER_NAME": "bench.example",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "bench.example",
        "HTTP_USER_AGENT": "fcgi-authorizer-bench/1",
        "HTTP_ACCEPT": "*/*",
    }
    if authorization is not None:
        p["HTTP_AUTHORIZATION"] = authorization
    if extra:
        p.update(extra)
    return p


def run_parallel(sock_path, make_params, count, threads=4):
    """Sends requests 0..count-1 (make_params(i) gives each one's parameters) over `threads`
    connections at a time; returns a dict status -> number of answers."""
    counts = {}
    lock = threading.Lock()
    errors = []

    def work(start):
        local = {}
        try:
            for i in range(start, count, threads):
                st, _ = request(sock_path, make_params(i))
                local[st] = local.get(st, 0) + 1
        except Exception as e:  # reported by the caller
            errors.append(e)
        with lock:
            for k, v in local.items():
                counts[k] = counts.get(k, 0) + v

    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    return counts
