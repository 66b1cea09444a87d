"""Load driver for bench/soak.sh and bench/overload.sh: keep-alive HTTP/1.1 clients
posting request bodies to a running dwsnetd.

  soak:     soak_driver.py soak URL PID CASES.json N CONCURRENCY
            N requests cycling through the cases at the given concurrency; checks every
            answer against its case (the expected sha256 for valid ones, a 4xx for
            invalid ones; 503 is always allowed), samples the daemon's VmRSS.
  rate:     soak_driver.py rate URL PID CASES.json RATE SECONDS CONCURRENCY
            open-loop: starts RATE requests/s (whatever the answers) for SECONDS with
            up to CONCURRENCY connections; reports accepted/shed counts, latency
            percentiles of accepted requests and the Retry-After values seen.
Both print one JSON object. CASES.json: [{"name", "path", "body", "type", "sha256" | "status"}].
"""
import hashlib
import http.client
import json
import queue
import sys
import threading
import time


def vmrss_kb(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def load_cases(path):
    cases = json.load(open(path))
    for c in cases:
        c["data"] = open(c["body"], "rb").read()
    return cases


class Client:
    def __init__(self, host, port):
        self.host, self.port, self.conn = host, port, None

    def post(self, case):
        for attempt in range(2):   # a keep-alive connection the server closed: reconnect once
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                self.conn.request("POST", case["path"], case["data"], {"Content-Type": case["type"]})
                r = self.conn.getresponse()
                body = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, body, r.getheader("Retry-After")
            except (ConnectionError, http.client.HTTPException, OSError):
                if self.conn:
                    self.conn.close()
                self.conn = None
                if attempt:
                    return 0, b"", None
        return 0, b"", None


def judge(case, status, body):
    if status == 503:
        return "shed"
    if "sha256" in case:
        if status != 200:
            return "bad_status"
        return "ok" if hashlib.sha256(body).hexdigest() == case["sha256"] else "bad_bytes"
    return "ok" if 400 <= status < 500 else "bad_status"


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p / 100 * len(xs)))] * 1e3, 1)


def soak(url, pid, cases, n, concurrency):
    host, port = url.split("//")[1].split(":")
    todo = queue.Queue()
    for i in range(n):
        todo.put(i)
    lock = threading.Lock()
    tally, statuses, failures = {}, {}, []
    warm = n // 10
    rss = {"warm": None, "max_after_warm": 0, "samples": []}
    done = [0]

    def work():
        c = Client(host, int(port))
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            case = cases[i % len(cases)]
            status, body, _ = c.post(case)
            verdict = judge(case, status, body)
            with lock:
                tally[verdict] = tally.get(verdict, 0) + 1
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if verdict not in ("ok", "shed") and len(failures) < 10:
                    failures.append({"case": case["name"], "status": status, "body": body[:200].decode("latin-1")})
                done[0] += 1
                k = done[0]
            if k == warm:
                rss["warm"] = vmrss_kb(pid)
            if k > warm and k % 250 == 0:
                r = vmrss_kb(pid)
                rss["max_after_warm"] = max(rss["max_after_warm"], r)
                rss["samples"].append(r)

    t0 = time.time()
    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    end = vmrss_kb(pid)
    return {"requests": n, "concurrency": concurrency, "seconds": round(time.time() - t0, 1),
            "verdicts": tally, "statuses": statuses, "failures": failures,
            "rss_kb_after_warmup": rss["warm"], "rss_kb_end": end,
            "rss_kb_max_after_warmup": max(rss["max_after_warm"], end),
            "rss_growth_pct": round(100.0 * (end - rss["warm"]) / rss["warm"], 2) if rss["warm"] else None}


def rate(url, pid, cases, rps, seconds, concurrency):
    """Open loop: a ticker puts one job per 1/rps s on a queue; clients take them.
    Lateness (a job waiting for a free client) counts in its latency, so an
    overloaded client side shows up instead of hiding."""
    host, port = url.split("//")[1].split(":")
    jobs = queue.Queue()
    lock = threading.Lock()
    accepted, shed, other, retry_after, statuses = [], [], [], set(), {}
    shed_no_ra = [0]
    stop = object()

    def work():
        c = Client(host, int(port))
        while True:
            job = jobs.get()
            if job is stop:
                return
            due, case = job
            status, body, ra = c.post(case)
            latency = time.time() - due
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if status == 503:
                    shed.append(latency)
                    if ra:
                        retry_after.add(ra)
                    else:
                        shed_no_ra[0] += 1
                elif judge(case, status, body) == "ok":
                    accepted.append(latency)
                else:
                    other.append(status)

    threads = [threading.Thread(target=work) for _ in range(concurrency)]
    for t in threads:
        t.start()
    t0 = time.time()
    i = 0
    while True:
        due = t0 + i / rps
        if due - t0 >= seconds:
            break
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        jobs.put((due, cases[i % len(cases)]))
        i += 1
    for _ in threads:
        jobs.put(stop)
    for t in threads:
        t.join()
    wall = time.time() - t0
    return {"offered_rps": rps, "seconds": seconds, "sent": i, "wall_s": round(wall, 1),
            "accepted": len(accepted), "shed_503": len(shed), "other": len(other),
            "other_statuses": sorted(set(other)), "statuses": statuses,
            "accepted_rps": round(len(accepted) / wall, 2),
            "p50_ms": percentile(accepted, 50), "p99_ms": percentile(accepted, 99),
            "max_ms": percentile(accepted, 100), "shed_p99_ms": percentile(shed, 99),
            "retry_after": sorted(retry_after), "shed_without_retry_after": shed_no_ra[0],
            "rss_kb": vmrss_kb(pid)}


def main():
    mode, url, pid, cases = sys.argv[1], sys.argv[2], sys.argv[3], load_cases(sys.argv[4])
    if mode == "soak":
        out = soak(url, pid, cases, int(sys.argv[5]), int(sys.argv[6]))
    else:
        out = rate(url, pid, cases, float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]))
    print(json.dumps(out))


main()
