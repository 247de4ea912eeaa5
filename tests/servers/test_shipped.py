"""The shipped files themselves: the glue is what the program prints, and every deployment
file is ready for production (default paths of `make install`, no test or machine paths)."""

import glob
import os
import re
import tempfile

import pytest

from conftest import ETC, TOP, authorizer_config, etc, read, run_authorizer, write

GLUE = [("lighttpd", "lighttpd/authorizer.lua"),
        ("apache", "apache/authorizer-glue.conf"),
        ("nginx", "nginx/authorizer-glue.conf")]

# The files with site values (nginx/authorizer-http.conf has none).
DEPLOYMENT_FILES = ["lighttpd/lighttpd-spawn.conf", "lighttpd/lighttpd-socket.conf",
                    "apache/fcgid.conf", "apache/authnz-fcgi.conf", "nginx/authorizer-site.conf"]


@pytest.mark.parametrize("server,path", GLUE, ids=[g[0] for g in GLUE])
def test_shipped_glue_is_what_the_authorizer_prints(server, path):
    r = run_authorizer("--print-glue", server, "-c", etc("authorizer.conf"))
    assert r.returncode == 0, r.stderr
    assert read(etc(path)) == r.stdout, \
        "etc/%s is stale: regenerate it with --print-glue %s" % (path, server)


def test_test_configuration_is_valid(tmp_path):
    conf = str(tmp_path / "authorizer.conf")
    write(conf, authorizer_config("http://127.0.0.1:9", listen=str(tmp_path / "s.sock")))
    r = run_authorizer("-t", "-c", conf)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path", DEPLOYMENT_FILES)
def test_deployment_file_uses_production_defaults(path):
    text = read(etc(path))
    # A marked block of site values near the top, for the operator to edit.
    assert re.search(r"Site values", text), "no marked site-values block"
    for program in ("/usr/local/bin/authorizer", "/usr/local/etc/authorizer.conf"):
        if "fcgid" in path or "spawn" in path:
            assert program in text
    if path in ("lighttpd/lighttpd-socket.conf", "nginx/authorizer-site.conf"):
        assert "/run/authorizer/authorizer.sock" in text


@pytest.mark.parametrize("path", sorted(
    os.path.relpath(p, ETC) for p in glob.glob(os.path.join(ETC, "*", "*"))
    if os.path.basename(os.path.dirname(p)) in ("lighttpd", "apache", "nginx")))
def test_shipped_file_has_no_machine_paths(path):
    text = read(etc(path))
    for local in (TOP, os.path.expanduser("~"), tempfile.gettempdir()):
        if local.rstrip("/"):
            assert local.rstrip("/") + "/" not in text, "a path of this machine in etc/%s" % path
