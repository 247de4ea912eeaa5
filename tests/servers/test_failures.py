"""When the authorizer itself is missing, every server refuses (fails closed), on every path."""

import pytest

from conftest import (GOOD, PROTECTED, ApacheAuthnz, ApacheFcgid, LighttpdSocket, LighttpdSpawn,
                      Nginx, new_marker, write)

# The status a client gets when the server cannot reach the authorizer at all.
UNREACHABLE_STATUS = {LighttpdSocket: 503, ApacheAuthnz: 500, Nginx: 500}


@pytest.mark.parametrize("cls", sorted(UNREACHABLE_STATUS, key=lambda c: c.name),
                         ids=lambda c: c.name)
def test_stopped_authorizer_fails_closed(deploy, services, cls):
    d = deploy(cls)
    d.stop_authorizer()
    for path in (PROTECTED + "/x", "/public/x"):
        m = new_marker()
        r = d.get("%s?m=%s" % (path, m), [GOOD])
        assert r.status == UNREACHABLE_STATUS[cls] and r.echo is None, r
        assert not services.upstream.saw(m)


def broken_config(cls):
    """The deployment with an authorizer configuration the program refuses to load."""

    class Broken(cls):
        def write_authorizer_config(self, listen=None):
            path = self.path("authorizer.conf")
            write(path, "middlewares = ( { name = \"broken\"; } );\n")
            return path

    Broken.name = cls.name
    return Broken


# lighttpd keeps respawning it: 503 once it has marked the backend down, 500 when the
# request meets the dying process; or, when the program dies while lighttpd itself is still
# starting, lighttpd gives up and never listens (or drops a connection it accepted) - closed
# as well. mod_fcgid sees it exit before answering: 500.
@pytest.mark.parametrize("cls,statuses", [(LighttpdSpawn, (500, 503)), (ApacheFcgid, (500,))],
                         ids=["lighttpd-spawn", "apache-fcgid"])
def test_spawned_authorizer_that_cannot_start_fails_closed(deploy, services, cls, statuses):
    try:
        d = deploy(broken_config(cls))
    except RuntimeError as e:
        if cls is LighttpdSpawn and "did not start" in str(e):
            return  # nothing listens: no request can pass
        raise
    for path in (PROTECTED + "/x", "/public/x"):
        m = new_marker()
        try:
            r = d.get("%s?m=%s" % (path, m), [GOOD])
        except ConnectionError:
            # lighttpd itself can give up on the dying backend while the request is in
            # flight and drop the connection: no answer at all is closed too.
            if cls is not LighttpdSpawn:
                raise
        else:
            assert r.status in statuses and r.echo is None, r
        assert not services.upstream.saw(m)
