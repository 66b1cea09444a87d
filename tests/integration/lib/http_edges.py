"""Raw-socket HTTP edge cases for dwsnetd (daemon_http_edges.sh) and for the
gateway in front of it (deploy_gateway.sh): framing (Transfer-Encoding,
Content-Length), query and header floods, NUL in the target, control bytes in the
method; then random malformed requests (a property test: every exchange ends, and
ends with an answer of the allowed kind).

  http_edges.py daemon PORT        cases against dwsnetd itself
  http_edges.py gateway PORT       the same through nginx: every answer is problem+json
  http_edges.py random PORT N SEED daemon|gateway
Prints one line per check; exit 1 when one failed.
"""
import json
import random
import socket
import sys
import time

FAILS = 0
MODEL_BODY = b"hello"   # not an ONNX model: a valid request gets 400 invalid_protobuf


def check(ok, what):
    global FAILS
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        FAILS += 1
    return ok


def parse(data, head=False):
    """Responses in data: [(status, headers dict lower-case, body)], plus whether the
    last one is complete. HTTP/0.9 answers (no status line) count as status 0.
    Answers to HEAD have no body, whatever their Content-Length says."""
    out = []
    while data:
        if not data.startswith(b"HTTP/"):
            out.append((0, {}, data))
            return out, True
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return out, False
        lines = data[:end].decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ")[1])
        except (IndexError, ValueError):
            status = -1
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.setdefault(k.strip().lower(), v.strip())
        n = 0 if head else int(headers.get("content-length", "0") or 0)
        body = data[end + 4:end + 4 + n]
        if len(body) < n:
            return out, False
        out.append((status, headers, body))
        data = data[end + 4 + n:]
    return out, True


SOURCES = iter(())   # gateway mode: a loopback source address per exchange (its rate limit is per client)


def exchange(port, data, want=1, timeout=5.0, shut=False):
    head = data.startswith(b"HEAD ")
    """Sends data; reads until `want` whole responses came, the server closed, or
    timeout. Returns (responses, closed, seconds, timed_out)."""
    s = socket.socket()
    src = next(SOURCES, None)
    if src:
        s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    s.settimeout(timeout)
    start = time.time()
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    got, closed, timed_out = b"", False, False
    while True:
        responses, whole = parse(got, head)
        if len(responses) >= want and whole and want > 0:
            break
        try:
            b = s.recv(65536)
        except socket.timeout:
            timed_out = True
            break
        except ConnectionResetError:
            closed = True
            break
        if not b:
            closed = True
            break
        got += b
    if not closed and not timed_out:   # the wanted responses came: does it also close?
        s.settimeout(0.5)
        try:
            closed = s.recv(65536) == b""
        except (socket.timeout, ConnectionResetError):
            closed = False
    s.close()
    responses, _ = parse(got, head)
    return responses, closed, time.time() - start, timed_out


def problem(resp, head=False):
    status, headers, body = resp
    if not headers.get("content-type", "").startswith("application/problem+json"):
        return None
    if head:
        return {}
    try:
        return json.loads(body)
    except ValueError:
        return None


def is_problem(resp, status, code=None):
    p = problem(resp)
    return resp[0] == status and p is not None and p.get("status") == status and (code is None or p.get("code") == code)


def request(method=b"GET", target=b"/healthz", version=b"HTTP/1.1", headers=(), body=b""):
    lines = [method + b" " + target + b" " + version, b"Host: x"] + list(headers)
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def chunked(body, ext=b""):
    return b"%x%s\r\n%s\r\n0\r\n\r\n" % (len(body), ext, body)


def floods():
    q = [(n, request(target=b"/healthz?" + b"&".join(b"a%d=1" % i for i in range(n)))) for n in (65, 600, 3000)]
    h = [(n, request(headers=[b"h%d:v" % i for i in range(n)])) for n in (600, 3000)]
    return q, h


TE_CASES = [b"gzip", b"xchunked", b"chunked, identity", b"identity", b"gzip, chunked", b"chunked\r\nTransfer-Encoding: chunked"]
BAD_CL = [b"+5", b"0x5", b"-1", b" 5 5", b"5, 5", b"5 5"]


def run_daemon(port):
    q, h = floods()
    for n, data in q:
        r, closed, sec, _ = exchange(port, data)
        check(len(r) == 1 and is_problem(r[0], 414, "target_too_long") and closed and sec < 3,
              "query flood of %d arguments: one 414 target_too_long, closed, %.1f s" % (n, sec))
    for n, data in h:
        r, closed, sec, _ = exchange(port, data)
        # libmicrohttpd's own 431 (HTML): the headers are parsed before the daemon sees them.
        check(len(r) == 1 and r[0][0] == 431 and closed and sec < 3,
              "header flood of %d lines: 431 and closed, %.1f s" % (n, sec))
    for te in TE_CASES:
        data = request(b"POST", b"/adapt", headers=[b"Transfer-Encoding: " + te], body=chunked(MODEL_BODY))
        r, closed, sec, _ = exchange(port, data)
        check(len(r) == 1 and is_problem(r[0], 400, "invalid_framing") and closed and sec < 3,
              "Transfer-Encoding %r: 400 invalid_framing, closed, %.1f s" % (te, sec))
    data = request(b"POST", b"/adapt", b"HTTP/1.0", [b"Transfer-Encoding: chunked"], chunked(MODEL_BODY))
    r, closed, sec, _ = exchange(port, data)
    check(len(r) == 1 and is_problem(r[0], 400, "invalid_framing") and closed, "Transfer-Encoding in HTTP/1.0: 400, closed")
    data = request(b"POST", b"/adapt", headers=[b"Transfer-Encoding: Chunked"], body=chunked(MODEL_BODY))
    r, closed, sec, _ = exchange(port, data)
    check(len(r) == 1 and is_problem(r[0], 400, "invalid_protobuf"), "Transfer-Encoding: Chunked (any case) is read")
    data = request(b"POST", b"/embed", headers=[b"Content-Length: 5", b"Transfer-Encoding: chunked"],
                   body=b"0\r\n\r\n") + request()
    r, closed, sec, _ = exchange(port, data, want=2)
    check(len(r) == 1 and is_problem(r[0], 400, "invalid_framing") and closed,
          "Content-Length with Transfer-Encoding: 400, closed, the pipelined request not served (%d answers)" % len(r))
    data = request(b"POST", b"/adapt", headers=[b"Content-Length: 5", b"Content-Length: 5"], body=MODEL_BODY) + request()
    r, closed, sec, _ = exchange(port, data, want=2)
    check(len(r) == 1 and r[0][0] == 400 and closed, "two Content-Length lines: one 400, closed")
    for cl in BAD_CL:
        r, closed, sec, _ = exchange(port, request(b"POST", b"/adapt", headers=[b"Content-Length: " + cl], body=MODEL_BODY))
        # libmicrohttpd answers these itself (its header block twice); the gateway shields.
        check(len(r) >= 1 and r[0][0] == 400 and closed and sec < 3, "Content-Length %r: 400, closed" % cl)
    r, closed, sec, _ = exchange(port, request(b"POST", b"/adapt", headers=[b"Transfer-Encoding: chunked"],
                                               body=chunked(MODEL_BODY, b";" + b"a" * 100000)))
    check(len(r) == 1 and closed and sec < 3, "100 KB chunk extension: answered (libmicrohttpd's %d) and closed" % (r[0][0] if r else 0))
    for target in (b"/healthz%00anything", b"/healthz%00", b"/adapt?model=test-adapter%00x"):
        method = b"POST" if target.startswith(b"/adapt") else b"GET"
        r, closed, sec, _ = exchange(port, request(method, target, headers=[b"Content-Length: 5"] if method == b"POST" else [],
                                                   body=MODEL_BODY if method == b"POST" else b""))
        check(len(r) == 1 and is_problem(r[0], 400, "bad_request"), "%s: 400 bad_request" % target.decode())
    for method in (b"G\xffT", b"GE\x1bT", b"G\x7fT", b"\xc3\xa9T"):
        r, closed, sec, _ = exchange(port, request(method))
        check(len(r) == 1 and is_problem(r[0], 405, "method_not_allowed"), "method %r: 405 problem" % method)


def run_gateway(port):
    """Every case above through nginx: a 4xx in problem+json, never a page of HTML."""
    q, h = floods()
    cases = [("query flood %d" % n, d) for n, d in q] + [("header flood %d" % n, d) for n, d in h]
    cases += [("Transfer-Encoding %r" % te, request(b"POST", b"/adapt", headers=[b"Transfer-Encoding: " + te],
                                                    body=chunked(MODEL_BODY))) for te in TE_CASES]
    cases += [("Content-Length %r" % cl, request(b"POST", b"/adapt", headers=[b"Content-Length: " + cl], body=MODEL_BODY))
              for cl in BAD_CL]
    cases += [("Content-Length with Transfer-Encoding", request(b"POST", b"/embed", headers=[b"Content-Length: 5", b"Transfer-Encoding: chunked"], body=b"0\r\n\r\n")),
              ("100 KB chunk extension", request(b"POST", b"/adapt", headers=[b"Transfer-Encoding: chunked", b"Content-Type: application/octet-stream"],
                                                  body=chunked(MODEL_BODY, b";" + b"a" * 100000))),
              ("NUL in the path", request(target=b"/healthz%00anything")),
              ("NUL in the query", request(b"POST", b"/adapt?model=x%00y", headers=[b"Content-Length: 5"], body=MODEL_BODY)),
              ("method 0xff", request(b"G\xffT")), ("method ESC", request(b"GE\x1bT")),
              ("HTTP/2.0 on HTTP/1", request(version=b"HTTP/2.0"))]
    for name, data in cases:
        r, closed, sec, timed_out = exchange(port, data)
        # A header flood within nginx's limits is answered normally: the headers
        # never reach the daemon. Everything else is refused at the gateway or by
        # the daemon, in problem+json.
        ok = len(r) >= 1 and (r[0][0] == 200 or (problem(r[0]) is not None and (400 <= r[0][0] < 500 or r[0][0] == 505)))
        check(ok and not timed_out, "gateway, %s: %s (%.1f s)" % (name, r[0][0] if r else "no answer", sec))


def random_request(rng):
    method = rng.choice([b"GET", b"POST", b"HEAD", b"PUT", b"G\xffT", b"POST\x1b", b"OPTIONS"])
    path = rng.choice([b"/healthz", b"/readyz", b"/adapt", b"/embed", b"/v1/models", b"/x%00y", b"/adapt%00",
                       b"/\xff", b"/" + b"a" * rng.randrange(1, 3000)])
    args = rng.choice([0, 0, 1, 3, 64, 65, 300, 700])
    if args:
        path += b"?" + b"&".join(b"k%d=%s" % (i, rng.choice([b"v", b"%00", b"", b"%zz"])) for i in range(args))
    version = rng.choice([b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1x"])
    headers = []
    body = b""
    framing = rng.choice(["none", "cl", "cl", "chunked", "te", "both", "badcl", "twocl"])
    payload = rng.choice([b"", MODEL_BODY, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))])
    if framing == "cl":
        headers.append(b"Content-Length: %d" % (len(payload) + rng.choice([0, 0, 3, -1 if payload else 0])))
        body = payload
    elif framing == "chunked":
        headers.append(b"Transfer-Encoding: chunked")
        body = chunked(payload, rng.choice([b"", b";x=1", b";" + b"e" * rng.randrange(1, 70000)]))
    elif framing == "te":
        headers.append(b"Transfer-Encoding: " + rng.choice(TE_CASES))
        body = chunked(payload)
    elif framing == "both":
        headers += [b"Content-Length: %d" % len(payload), b"Transfer-Encoding: chunked"]
        body = chunked(payload)
    elif framing == "badcl":
        headers.append(b"Content-Length: " + rng.choice(BAD_CL))
        body = payload
    elif framing == "twocl":
        headers += [b"Content-Length: %d" % len(payload)] * 2
        body = payload
    if rng.random() < 0.3:
        headers.append(b"Content-Type: " + rng.choice([b"application/octet-stream", b"multipart/form-data; boundary=zz", b"text/plain"]))
    if rng.random() < 0.2:
        headers += [b"x%d:%s" % (i, b"y" * rng.randrange(0, 3)) for i in range(rng.choice([10, 700, 3000]))]
    if rng.random() < 0.2:
        headers.append(b"X-Request-Id: " + rng.choice([b"ok-1", b"a\"b", b"\xff\xfe", b"x" * 100]))
    return method + b" " + path + b" " + version + b"\r\nHost: x\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


def run_random(port, n, seed, mode):
    """Property: every exchange ends (an answer, or the connection closed) within a few
    seconds of the client finishing; an answer is a status line; from the daemon an
    error it writes is a 4xx problem; through the gateway every non-2xx answer is
    problem+json and no 5xx reaches the client but 505 (and 503 for load)."""
    rng = random.Random(seed)
    bad = 0
    for i in range(n):
        data = random_request(rng)
        r, closed, sec, timed_out = exchange(port, data, timeout=8.0, shut=True)
        problems = []
        if timed_out and not r:
            problems.append("neither answered nor closed within 8 s")
        for status, headers, body in r:
            if status == 0:
                continue   # HTTP/0.9-style answer (nginx) to a request line without a version
            p = problem((status, headers, body), data.startswith(b"HEAD "))
            if mode == "gateway" and status >= 300 and p is None:
                problems.append("%d is not problem+json" % status)
            if mode == "gateway" and status >= 500 and status not in (503, 505):
                problems.append("%d from the gateway" % status)
            if mode == "daemon" and p is not None and status >= 500 and status != 503:
                problems.append("the daemon wrote a %d problem" % status)
        if problems:
            bad += 1
            check(False, "random request %d (%r...): %s" % (i, data[:80], "; ".join(problems)))
    check(bad == 0, "%d random malformed requests (%s, seed %d): every exchange ended as allowed" % (n, mode, seed))


def main():
    global SOURCES
    mode, port = sys.argv[1], int(sys.argv[2])
    if "gateway" in sys.argv[1:]:
        SOURCES = ("127.0.%d.%d" % (100 + i // 250, 1 + i % 250) for i in range(100000))
    if mode == "daemon":
        run_daemon(port)
    elif mode == "gateway":
        run_gateway(port)
    else:
        run_random(port, int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
