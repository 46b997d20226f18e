#!/usr/bin/env python3
"""Portico benchmarks against the anchors, side by side on one machine, reported as ratios.

Systems under test, all plain processes on 127.0.0.1 ports chosen by the OS:
  portico-registry  vs  distribution 2.8 (/usr/bin/docker-registry)   -- same storage dir
  portico-proxy     vs  nginx with the classic v1/v2 rules             -- same upstream, same cert

Workloads are generated (random, incompressible), never downloaded. Every server is
stopped at the end, even on failure. Each comparative workload runs in rounds (--rounds,
default 3): both systems back to back in every round, the order reversed each round, so drift
on a shared machine hits both alike; a system's figure is its median round, and every round's
ratio is reported too. Every HTTP workload is checked to answer 2xx: a
benchmark of errors is refused (the run fails). `--smoke` shrinks every size and runs each
load for one second, so the test suite can run the scripts and they cannot rot.

Writes bench/RESULTS.md (or --out FILE): machine facts, every figure, every ratio, the
targets of issue 6 and where each stands, the exact commands.
"""
import argparse
import contextlib
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
NGINX_LEGACY_UA = r'^(docker\/1\.(3|4|5(?!\.[0-9]-dev))|Go ).*$'
UA = "docker/27.0.0 go/go1.21 os/linux arch/amd64"
MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json"
COMMANDS = []  # every external command run, for RESULTS.md
STOPS = {}  # server name -> how it ended on SIGTERM, for RESULTS.md


class BenchError(RuntimeError):
    """A workload that did not do what it should (non-2xx, wrong count): the run fails."""


START = time.monotonic()


def log(msg):
    print(f"bench: [{time.monotonic() - START:6.1f}s] {msg}", file=sys.stderr, flush=True)


def note(cmd):
    text = " ".join(cmd)
    if text not in COMMANDS:
        COMMANDS.append(text)


def run(cmd, **kw):
    note(cmd)
    p = subprocess.run(cmd, text=True, capture_output=True, **kw)
    if p.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr[-2000:]}")
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, deadline=30.0):
    """Waits until something accepts on the port (for servers without a ready line)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise BenchError(f"process exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a port: nginx and distribution print no ready line
    raise BenchError(f"port {port} never opened")


def rss_kib(pids, field="VmHWM"):
    total = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
    return total


def cpu_seconds(pids):
    """User + system CPU seconds used so far by every thread of `pids`."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                    with open(f"/proc/{pid}/task/{tid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def with_cpu(pids, fn, per):
    """Runs fn() and adds the CPU `pids` spent during it: 'cpu_us' per request for a load
    (result with 'requests'), 'cpu_ms_per_MB' for a transfer of `per` bytes."""
    before = cpu_seconds(pids)
    result = fn()
    spent = cpu_seconds(pids) - before
    if "requests" in result and result["requests"]:
        result["cpu_us"] = spent * 1e6 / result["requests"]
    elif per:
        result["cpu_ms_per_MB"] = spent * 1e3 / (per / 1e6)
    return result


def child_pids(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Processes:
    """Starts servers and guarantees they are stopped (context manager)."""

    def __init__(self, workdir, stop_timeout=15):
        self.workdir = workdir
        self.stop_timeout = stop_timeout  # SIGTERM -> SIGKILL grace
        self.procs = []

    def start(self, name, cmd, env=None, port=None, ready=False):
        """Starts cmd; waits for its `ready` line (returns {listener name: port}) or port."""
        logf = open(os.path.join(self.workdir, f"{name}.log"), "w")
        note(cmd)
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, start_new_session=True)
        logf.close()
        self.procs.append((name, proc))
        ports = {}
        if ready:
            ports = self._wait_ready(name, proc)
        elif port:
            wait_port(port, proc)
        return proc, ports

    def _wait_ready(self, name, proc):
        """Tails the log for `listening on URL (listener)` lines and then `ready`."""
        path = os.path.join(self.workdir, f"{name}.log")
        end = time.monotonic() + 30
        buf = ""
        with open(path) as f:
            while time.monotonic() < end:
                chunk = f.read()
                if chunk:
                    buf += chunk
                    if re.search(r"\bready\s*$", buf, re.M):
                        return {m.group(2): int(m.group(1)) for m in re.finditer(
                            r"listening on \w+://[^ ]*:(\d+) \(([^)]+)\)", buf)}
                elif proc.poll() is not None:
                    raise BenchError(f"{name} exited {proc.returncode}: {buf[-2000:]}")
                else:
                    time.sleep(0.05)  # tailing a log file written by another process
        raise BenchError(f"{name} not ready: {buf[-2000:]}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                log(f"stopping {name}")
                t = time.monotonic()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=self.stop_timeout)
                    STOPS[name] = (f"exit status {proc.returncode} after "
                                   f"{time.monotonic() - t:.1f} s")
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    STOPS[name] = f"still running {self.stop_timeout} s after SIGTERM: killed"
            else:
                STOPS[name] = f"exited on its own with status {proc.returncode}"


# ---------------------------------------------------------------- data generation

def random_file(path, size, gzip_stored=False):
    """Writes `size` random bytes (or a gzip stream of them with stored blocks, so registry
    clients see a compressed layer they leave alone); returns (sha256 hex, bytes written)."""
    h = hashlib.sha256()
    written = 0
    comp = zlib.compressobj(0, zlib.DEFLATED, 31) if gzip_stored else None
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            data = os.urandom(n)
            left -= n
            if comp:
                data = comp.compress(data)
            h.update(data)
            f.write(data)
            written += len(data)
        if comp:
            data = comp.flush()
            h.update(data)
            f.write(data)
            written += len(data)
    return h.hexdigest(), written


class Storage:
    """Writes CNCF distribution's on-disk layout directly (both registries read it)."""

    def __init__(self, root):
        self.root = root
        self.v2 = os.path.join(root, "docker", "registry", "v2")

    def _write(self, path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def blob(self, data=None, size=0):
        if data is None:
            tmp = os.path.join(self.root, "incoming")
            os.makedirs(self.root, exist_ok=True)
            hexd, size = random_file(tmp, size)
            path = os.path.join(self.v2, "blobs", "sha256", hexd[:2], hexd, "data")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.replace(tmp, path)
            return hexd, size
        hexd = hashlib.sha256(data).hexdigest()
        self._write(os.path.join(self.v2, "blobs", "sha256", hexd[:2], hexd, "data"), data)
        return hexd, len(data)

    def link(self, repo, kind, hexd):
        self._write(os.path.join(self.v2, "repositories", repo, kind, "sha256", hexd, "link"),
                    f"sha256:{hexd}".encode())

    def image(self, repo, tag, layer_sizes):
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers", "diff_ids": []}}).encode()
        chex, csize = self.blob(config)
        self.link(repo, "_layers", chex)
        layers = []
        for size in layer_sizes:
            lhex, lsize = self.blob(size=size)
            self.link(repo, "_layers", lhex)
            layers.append({"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                           "size": lsize, "digest": f"sha256:{lhex}"})
        manifest = json.dumps({
            "schemaVersion": 2,
            "mediaType": MANIFEST_ACCEPT,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "size": csize, "digest": f"sha256:{chex}"},
            "layers": layers}, indent=3).encode()
        mhex, _ = self.blob(manifest)
        self.link(repo, "_manifests/revisions", mhex)
        self.tag(repo, tag, mhex)
        return {"manifest": mhex, "layers": [l["digest"] for l in layers]}

    def tag(self, repo, tag, mhex):
        base = os.path.join(self.v2, "repositories", repo, "_manifests", "tags", tag)
        self._write(os.path.join(base, "current", "link"), f"sha256:{mhex}".encode())
        self._write(os.path.join(base, "index", "sha256", mhex, "link"), f"sha256:{mhex}".encode())


class OciLayout:
    """A local OCI image layout (skopeo's `oci:DIR:TAG`) of generated images."""

    def __init__(self, path):
        self.path = path
        self.blobs = os.path.join(path, "blobs", "sha256")
        os.makedirs(self.blobs, exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        self.index = []

    def _blob(self, data):
        hexd = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.blobs, hexd), "wb") as f:
            f.write(data)
        return hexd, len(data)

    def image(self, tag, layer_sizes):
        """Adds an image of random gzip layers; returns its total byte size."""
        layers = []
        for size in layer_sizes:
            tmp = os.path.join(self.blobs, "incoming")
            hexd, n = random_file(tmp, size, gzip_stored=True)
            os.replace(tmp, os.path.join(self.blobs, hexd))
            layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                           "digest": f"sha256:{hexd}", "size": n})
        config = json.dumps({"architecture": "amd64", "os": "linux", "created": tag,
                             "rootfs": {"type": "layers",
                                        "diff_ids": [l["digest"] for l in layers]}}).encode()
        chex, csize = self._blob(config)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": f"sha256:{chex}", "size": csize},
            "layers": layers}).encode()
        mhex, msize = self._blob(manifest)
        self.index.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "digest": f"sha256:{mhex}", "size": msize,
                           "annotations": {"org.opencontainers.image.ref.name": tag}})
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": self.index}, f)
        return sum(l["size"] for l in layers) + csize + msize


# ---------------------------------------------------------------- load generation

def probe(url, method, headers, cafile=None):
    """One request like the workload's; it must answer 2xx (else the workload is void)."""
    args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", method]
    if method == "HEAD":
        args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-I"]
    if cafile:
        args += ["--cacert", cafile]
    for h in headers:
        args += ["-H", h]
    args.append(url.replace("127.0.0.1", "localhost") if cafile else url)
    code = run(args).stdout.strip()
    if not code.startswith("2"):
        raise BenchError(f"{method} {url} answers {code}, not 2xx: refusing to benchmark it")


def wrk(url, seconds, connections, method="GET", headers=(), threads=2, cafile=None):
    """Runs wrk; fails unless every response was 2xx. Returns rps and p50/p99 latency."""
    probe(url, method, headers, cafile)
    script = None
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
            "--timeout", "10s"]
    # wrk counts statuses >= 400 as "Non-2xx or 3xx"; the probe above rules out 1xx/3xx.
    # No Lua response() hook: it would copy every body into Lua and slow wrk down.
    if method != "GET":
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(f'wrk.method = "{method}"\n')
        script.close()
        args += ["-s", script.name]
    for h in headers:
        args += ["-H", h]
    args.append(url)
    try:
        out = run(args).stdout
    finally:
        if script:
            os.unlink(script.name)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not m or not total or int(total.group(1)) == 0:
        raise BenchError(f"wrk {method} {url}: no requests completed:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx and int(non2xx.group(1)) > 0:
        raise BenchError(f"wrk {method} {url}: {non2xx.group(1)} non-2xx responses:\n{out}")
    # Socket errors are reported, not fatal: on a loaded machine a few time out.
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in sock.groups()) if sock else 0
    if errors:
        log(f"wrk {method} {url}: {sock.group(0)}")

    def pct(p):
        m = re.search(rf"^\s+{p}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return None
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    return {"rps": float(m.group(1)), "p50_ms": pct(50), "p99_ms": pct(99),
            "requests": int(total.group(1)), "socket_errors": errors}


def ab(url, seconds, connections, headers=(), cafile=None):
    """HEAD load with ApacheBench (`ab -k -i`): wrk 4.1 cannot do HEAD (its parser waits
    for the body the Content-Length announces). Fails unless every response was 2xx."""
    probe(url, "HEAD", headers, cafile)
    args = ["ab", "-k", "-i", "-q", "-c", str(connections), "-t", str(seconds),
            "-n", str(60000 * seconds), "-s", "30"]
    for h in headers:
        args += ["-H", h]
    args.append(url)
    out = run(args).stdout
    m = re.search(r"Requests per second:\s+([\d.]+)", out)
    done = re.search(r"Complete requests:\s+(\d+)", out)
    if not m or not done or int(done.group(1)) == 0:
        raise BenchError(f"ab HEAD {url}: no requests completed:\n{out}")
    bad = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if bad and int(bad.group(1)) > 0:
        raise BenchError(f"ab HEAD {url}: {bad.group(1)} non-2xx responses:\n{out}")
    failed = re.search(r"Failed requests:\s+(\d+)", out)
    errors = int(failed.group(1)) if failed else 0
    if errors:
        log(f"ab HEAD {url}: {errors} failed requests (socket errors; reported, not fatal)")

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+(\d+)", out, re.M)
        return float(m.group(1)) if m else None
    return {"rps": float(m.group(1)), "p50_ms": pct(50), "p99_ms": pct(99),
            "requests": int(done.group(1)), "socket_errors": errors}


def load(url, seconds, connections, method, headers, cafile=None):
    if method == "HEAD":
        return ab(url, seconds, connections, headers, cafile)
    return wrk(url, seconds, connections, method, headers, cafile=cafile)


def alternating(rounds, names):
    """(round, name) for every system in every round, the order reversed each round
    (a b, b a, a b, ...): drift on a shared, noisy machine then hits the systems alike."""
    for rnd in range(rounds):
        for name in (names if rnd % 2 == 0 else names[::-1]):
            yield rnd, name


def main_metric(result):
    return "rps" if "rps" in result else "MBps" if "MBps" in result else None


class Rounds:
    """Results per workload and system, one per round; summary() gives each system's median
    round (by its main metric, rps or MBps) with 'rounds': that metric in round order."""

    def __init__(self):
        self.runs = {}

    def add(self, label, name, result):
        self.runs.setdefault(label, {}).setdefault(name, []).append(result)

    def summary(self):
        out = {}
        for label, per in self.runs.items():
            for name, results in per.items():
                key = main_metric(results[0])
                ordered = sorted(results, key=lambda x: x[key])
                out.setdefault(label, {})[name] = {**ordered[(len(ordered) - 1) // 2],
                                                   "rounds": [x[key] for x in results]}
        return out


def curl_transfer(url, method, path=None, cacert=None, headers=()):
    """Uploads a file (chunked, streamed from disk) or downloads to /dev/null with curl.
    Returns (status, seconds, Location header)."""
    args = ["curl", "-sS", "-o", "/dev/null", "-D", "-", "-w", "\n%{http_code} %{time_total}",
            "-H", f"User-Agent: {UA}"]
    for h in headers:
        args += ["-H", h]
    if cacert:
        args += ["--cacert", cacert]
        url = url.replace("127.0.0.1", "localhost")
    if method != "GET":
        args += ["-X", method]
    if path:
        args += ["-T", path, "-H", "Content-Type: application/octet-stream",
                 "-H", "Transfer-Encoding: chunked"]
    elif method != "GET":
        args += ["-H", "Content-Length: 0"]
    args.append(url)
    out = run(args).stdout
    code, secs = out.strip().splitlines()[-1].split()
    loc = re.search(r"^location:\s*(\S+)", out, re.M | re.I)
    if not code.startswith("2"):
        raise BenchError(f"{method} {url} -> {code}")
    return int(code), float(secs), loc.group(1) if loc else None


def path_of(location):
    return re.match(r"^(?:https?://[^/]+)?(/.*)$", location).group(1)


def push_blob(base, repo, path, hexd, size, cacert=None):
    """POST, one chunked PATCH of the whole file, PUT ?digest=: the docker client's push.
    Returns MB/s over the three requests."""
    t = time.monotonic()
    _, _, loc = curl_transfer(f"{base}/v2/{repo}/blobs/uploads/", "POST", cacert=cacert)
    _, _, loc = curl_transfer(base + path_of(loc), "PATCH", path=path, cacert=cacert)
    sep = "&" if "?" in loc else "?"
    curl_transfer(f"{base}{path_of(loc)}{sep}digest=sha256:{hexd}", "PUT", cacert=cacert)
    return size / (time.monotonic() - t) / 1e6


def pull_blob(base, repo, hexd, size, cacert=None):
    _, secs, _ = curl_transfer(f"{base}/v2/{repo}/blobs/sha256:{hexd}", "GET", cacert=cacert)
    return size / secs / 1e6


def list_all(port, path, key):
    """GETs a listing and follows its Link rel=next pages; returns (entries, pages)."""
    entries, pages = [], 0
    while path:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("GET", path, headers={"User-Agent": UA})
        r = c.getresponse()
        body = r.read()
        c.close()
        if r.status != 200:
            raise BenchError(f"GET {path} -> {r.status} {body[:200]}")
        entries += json.loads(body)[key] or []
        pages += 1
        link = r.getheader("Link")
        m = re.search(r"<([^>]+)>", link) if link else None
        path = path_of(m.group(1)) if m else None
    return entries, pages


def skopeo(src, dst):
    t = time.monotonic()
    run(["skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false",
         "--dest-tls-verify=false", src, dst])
    return time.monotonic() - t


# ---------------------------------------------------------------- machine and limits

def machine_facts():
    facts = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
             "python": platform.python_version(), "kernel": platform.release(),
             "cores": os.cpu_count(), "load average at start": " ".join(
                 f"{x:.2f}" for x in os.getloadavg())}
    with contextlib.suppress(Exception):
        with open("/proc/cpuinfo") as f:
            facts["cpu"] = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    with contextlib.suppress(Exception):
        with open("/proc/meminfo") as f:
            facts["memory"] = f.readline().split(":")[1].strip()
    for tool, cmd in {"nginx": ["nginx", "-v"], "distribution": ["docker-registry", "--version"],
                      "wrk": ["wrk", "-v"], "openssl": ["openssl", "version"],
                      "skopeo": ["skopeo", "--version"], "curl": ["curl", "--version"]}.items():
        with contextlib.suppress(Exception):
            p = subprocess.run(cmd, capture_output=True, text=True)
            facts[tool] = (p.stdout + p.stderr).strip().splitlines()[0]
    return facts


def physical_limits(smoke, workdir):
    limits = {}
    out = run(["openssl", "speed", "-seconds", "1" if smoke else "3", "-bytes", "16384",
               "-evp", "sha256"]).stdout
    last = [l for l in out.splitlines() if l.lower().startswith("sha256")][-1]
    limits["sha256_MBps"] = float(last.split()[-1].rstrip("k")) * 1000 / 1e6
    size = (16 if smoke else 1024) << 20
    path = os.path.join(workdir, "disk.bin")
    block = os.urandom(1 << 20)
    t = time.monotonic()
    with open(path, "wb") as f:
        for _ in range(size >> 20):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    limits["disk_write_fsync_MBps"] = size / (time.monotonic() - t) / 1e6
    os.unlink(path)
    # loopback: one TCP stream, 1 MiB writes
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    pid = os.fork()
    if pid == 0:
        c = socket.create_connection(("127.0.0.1", port))
        for _ in range(size >> 20):
            c.sendall(block)
        c.close()
        os._exit(0)
    conn, _ = srv.accept()
    t = time.monotonic()
    got = 0
    buf = bytearray(1 << 20)
    while True:
        n = conn.recv_into(buf)
        if not n:
            break
        got += n
    limits["loopback_tcp_MBps"] = got / (time.monotonic() - t) / 1e6
    os.waitpid(pid, 0)
    conn.close()
    srv.close()
    return limits


# ---------------------------------------------------------------- configurations

def make_cert(work):
    key, crt = os.path.join(work, "domain.key"), os.path.join(work, "domain.crt")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
    return crt, key


CACHE = True  # --no-cache clears it


def registry_config(work, root, addr, name, level):
    """distribution's config.yml schema; portico-registry reads the same file. With CACHE, the
    blob descriptor cache of registry:2's shipped config (both registries keep one)."""
    cfg = os.path.join(work, f"{name}.yml")
    cache = "  cache:\n    blobdescriptor: inmemory\n" if CACHE else ""
    with open(cfg, "w") as f:
        f.write(f"""version: 0.1
log:
  level: {level}
  accesslog:
    disabled: true
storage:
{cache}  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {addr}
""")
    return cfg


def proxy_config(work, upstream_port, crt, key):
    """The classic nginx rules (conf/proxy.yml) on ports chosen by the OS; see docs/proxy.md."""
    cfg = os.path.join(work, "proxy.yml")
    with open(cfg, "w") as f:
        f.write(f"""listen:
  - address: "127.0.0.1:0"
  - address: "127.0.0.1:0"
    tls:
      certificates:
        - {{certificate: {crt}, key: {key}}}
upstreams:
  v2:
    servers: ["127.0.0.1:{upstream_port}"]
    keepalive: 32
    timeouts: {{connect: 5s, read: 900s, write: 900s}}
routes:
  - name: legacy-docker-v2
    match: {{path_prefix: /v2/, user_agent: {{docker_version: "< 1.6"}}}}
    respond: {{status: 404}}
  - name: legacy-go-ping
    match: {{path_prefix: /v2/, user_agent: {{legacy_go_client: true}}}}
    respond: {{status: 404}}
  - name: v2
    match: {{path_prefix: /v2/}}
    forward: v2
access_log: {{path: "{os.path.join(work, 'portico-access.log')}", format: text}}
admin: {{address: "127.0.0.1:0"}}
log: {{level: info}}
workers: 0
""")
    return cfg


def nginx_config(work, port, tls_port, upstream_port, crt, key):
    cfg = os.path.join(work, "nginx.conf")
    with open(cfg, "w") as f:
        f.write(f"""worker_processes auto;
user root;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log {work}/nginx-access.log combined;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  fastcgi_temp_path {work}/nginx-fastcgi;
  uwsgi_temp_path {work}/nginx-uwsgi;
  scgi_temp_path {work}/nginx-scgi;
  upstream v2 {{ server 127.0.0.1:{upstream_port}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{port};
    listen 127.0.0.1:{tls_port} ssl;
    ssl_certificate {crt};
    ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    client_max_body_size 0;
    chunked_transfer_encoding on;
    location /v2/ {{
      if ($http_user_agent ~ "{NGINX_LEGACY_UA}") {{ return 404; }}
      proxy_pass http://v2;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 900;
      proxy_request_buffering off;
    }}
  }}
}}
""")
    return cfg


# ---------------------------------------------------------------- the suites

class Sizes:
    def __init__(self, smoke):
        self.big = (4 << 20) if smoke else (1 << 30)            # 1 GiB blob up/down
        self.image_layers = [1 << 20] * 4 if smoke else [256 << 20] * 4   # skopeo big image
        self.small_images = 2 if smoke else 50
        self.small_layers = [256 << 10, 16 << 10]                # per small image
        self.listing = 50 if smoke else 10_000                   # repos and tags
        self.listing_reps = 1 if smoke else 3


def registry_suite(args, work, sz, ports, storage, small):
    """portico-registry vs distribution directly: small requests, listings, blob push/pull,
    skopeo copy push/pull."""
    reg = {}
    rounds = Rounds()
    for label, method, path, hdrs in small:
        for rnd, name in alternating(args.rounds, ["portico", "dist"]):
            log(f"registry {label} {name} (round {rnd + 1})")
            rounds.add(label, name, load(f"http://127.0.0.1:{ports[name]}{path}", args.secs,
                                         args.connections, method, hdrs))
    for name in ("portico", "dist"):
        for label, path, key in (("catalog_all", "/v2/_catalog?n=1000", "repositories"),
                                 ("tags_list_all", "/v2/bench/tags/tags/list", "tags")):
            # The first listing is reported on its own (portico's listing cache is still empty);
            # the figure compared against the target is the mean of the next listing_reps.
            t = time.monotonic()
            list_all(ports[name], path, key)
            reg.setdefault(f"{label}_first", {})[name] = {"ms": (time.monotonic() - t) * 1000}
            t = time.monotonic()
            for _ in range(sz.listing_reps):
                entries, pages = list_all(ports[name], path, key)
            ms = (time.monotonic() - t) / sz.listing_reps * 1000
            want = sz.listing + (2 if key == "repositories" else 0)
            if len(entries) < sz.listing or (key == "tags" and len(entries) != want):
                raise BenchError(f"{name} {path}: {len(entries)} entries, want {want}")
            reg.setdefault(label, {})[name] = {"ms": ms, "pages": pages,
                                               "entries": len(entries)}
    for rnd, name in alternating(args.rounds, ["portico", "dist"]):
        log(f"registry blob push/pull {sz.big >> 20} MiB {name} (round {rnd + 1})")
        path = os.path.join(work, f"big-{name}.bin")
        hexd, size = random_file(path, sz.big)
        base = f"http://127.0.0.1:{ports[name]}"
        repo = f"bench/push-{name}-{rnd}"
        rounds.add("blob_push_big", name, {"MBps": push_blob(base, repo, path, hexd, size)})
        rounds.add("blob_pull_big", name, {"MBps": pull_blob(base, repo, hexd, size)})
        os.unlink(path)
    reg.update(rounds.summary())
    return reg


def skopeo_suite(args, work, sz, ports):
    """skopeo copy oci:DIR -> registry (push) and registry -> a fresh oci:DIR (pull). The big
    image's pull runs in rounds (a push is measured once: a second push finds its blobs)."""
    sk = {}
    rounds = Rounds()
    big_bytes = {}
    for name in ("portico", "dist"):
        log(f"skopeo {name}: generating images")
        layout = OciLayout(os.path.join(work, f"oci-{name}"))
        big_bytes[name] = layout.image("big", sz.image_layers)
        small_bytes = sum(layout.image(f"small-{i}", sz.small_layers)
                          for i in range(sz.small_images))
        reg = f"docker://127.0.0.1:{ports[name]}"
        pulled = os.path.join(work, f"oci-{name}-pulled")
        log(f"skopeo {name}: big image {big_bytes[name] >> 20} MiB")
        secs = skopeo(f"oci:{layout.path}:big", f"{reg}/bench/big:latest")
        sk.setdefault("push_big_image", {})[name] = {"s": secs,
                                                     "MBps": big_bytes[name] / secs / 1e6}
        sk.setdefault("pull_big_image", {})[name] = {}  # rounds below; keeps the table's order
        log(f"skopeo {name}: {sz.small_images} small images")
        t = time.monotonic()
        for i in range(sz.small_images):
            skopeo(f"oci:{layout.path}:small-{i}", f"{reg}/bench/small-{i}:latest")
        secs = time.monotonic() - t
        sk.setdefault(f"push_{sz.small_images}_small_images", {})[name] = {
            "s": secs, "MBps": small_bytes / secs / 1e6}
        t = time.monotonic()
        for i in range(sz.small_images):
            skopeo(f"{reg}/bench/small-{i}:latest", f"oci:{pulled}:small-{i}")
        secs = time.monotonic() - t
        sk.setdefault(f"pull_{sz.small_images}_small_images", {})[name] = {
            "s": secs, "MBps": small_bytes / secs / 1e6}
        shutil.rmtree(layout.path)
        shutil.rmtree(pulled)
    for rnd, name in alternating(args.rounds, ["portico", "dist"]):
        log(f"skopeo pull big image {name} (round {rnd + 1})")
        pulled = os.path.join(work, f"oci-{name}-pulled-big")
        secs = skopeo(f"docker://127.0.0.1:{ports[name]}/bench/big:latest", f"oci:{pulled}:big")
        rounds.add("pull_big_image", name, {"s": secs, "MBps": big_bytes[name] / secs / 1e6})
        shutil.rmtree(pulled)
    sk.update(rounds.summary())
    return sk


def proxy_suite(args, work, sz, targets, small, crt, procs_rss, pids):
    """Each proxy's CPU is recorded too (`pids`: name -> its processes): per request for the
    loads, per MB for the transfers. It is the steadier figure on a shared machine, and the
    only one that shows the proxy's own cost when the registry's disk bounds a transfer."""
    rounds = Rounds()
    names = list(targets)
    for label, method, path, hdrs in small:
        for scheme in ("http", "https"):
            for rnd, name in alternating(args.rounds, names):
                port, tls_port = targets[name]
                log(f"proxy {label}_{scheme} {name} (round {rnd + 1})")
                url = f"{scheme}://127.0.0.1:{tls_port if scheme == 'https' else port}{path}"
                rounds.add(f"{label}_{scheme}", name, with_cpu(pids[name], lambda: load(
                    url, args.secs, args.connections, method, hdrs,
                    crt if scheme == "https" else None), 0))
    for rnd, name in alternating(args.rounds, names):
        log(f"proxy tls handshakes {name} (round {rnd + 1})")
        rounds.add("tls_handshakes", name, with_cpu(pids[name], lambda: wrk(
            f"https://127.0.0.1:{targets[name][1]}/v2/", args.secs, 16, "GET",
            [f"User-Agent: {UA}", "Connection: close"], cafile=crt), 0))
    for rnd, name in alternating(args.rounds, names):
        log(f"proxy upload/download {sz.big >> 20} MiB over https {name} (round {rnd + 1})")
        path = os.path.join(work, f"proxy-big-{name}.bin")
        hexd, size = random_file(path, sz.big)
        base = f"https://127.0.0.1:{targets[name][1]}"
        repo = f"bench/proxy-{name}-{rnd}"
        rounds.add("blob_push_big_https", name, with_cpu(pids[name], lambda: {
            "MBps": push_blob(base, repo, path, hexd, size, cacert=crt)}, size))
        rounds.add("blob_pull_big_https", name, with_cpu(pids[name], lambda: {
            "MBps": pull_blob(base, repo, hexd, size, cacert=crt)}, size))
        os.unlink(path)
    for name in names:
        procs_rss[name] = procs_rss[name]()
    return rounds.summary()


def auth_suite(args, work, registry_bin, root, small_auth):
    """auth.htpasswd: portico-registry vs distribution 2.8 with the same htpasswd file (one
    bcrypt user, cost --bcrypt-cost) on the same storage; every request carries the user's
    Basic credentials. distribution runs bcrypt on every request; portico once per TTL."""
    import base64
    import crypt  # deprecated in 3.11, still the stdlib's bcrypt (libxcrypt)
    htpasswd = os.path.join(work, "htpasswd")
    with open(htpasswd, "w") as f:
        salt = crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << args.bcrypt_cost)
        f.write(f"bench:{crypt.crypt('bench-password', salt)}\n")
    authorization = "Authorization: Basic " + base64.b64encode(b"bench:bench-password").decode()
    section = f"auth:\n  htpasswd:\n    realm: bench\n    path: {htpasswd}\n"
    port = free_port()
    ports = {}
    with Processes(work, 5 if args.smoke else 15) as procs:
        cfg = registry_config(work, root, "127.0.0.1:0", "portico-auth", "info")
        with open(cfg, "a") as f:
            f.write(section)
        preg, pports = procs.start("portico-registry-auth", [registry_bin, "serve", cfg],
                                   ready=True)
        ports["portico"] = pports["http"]
        cfg = registry_config(work, root, f"127.0.0.1:{port}", "dist-auth", "error")
        with open(cfg, "a") as f:
            f.write(section)
        dreg, _ = procs.start("distribution-auth", ["docker-registry", "serve", cfg], port=port)
        ports["dist"] = port
        rounds = Rounds()
        for label, method, path, hdrs in small_auth:
            for rnd, name in alternating(args.rounds, ["portico", "dist"]):
                log(f"auth {label} {name} (round {rnd + 1})")
                rounds.add(label, name, load(f"http://127.0.0.1:{ports[name]}{path}", args.secs,
                                             args.connections, method, hdrs + [authorization]))
        rss = {"portico": rss_kib([preg.pid]), "dist": rss_kib([dreg.pid])}
    return rounds.summary(), rss


def run_suites(args, work, registry_bin, proxy_bin, sz):
    out = {}
    root = os.path.join(work, "storage")
    st = Storage(root)
    log(f"seeding storage ({sz.listing} repositories, {sz.listing} tags)")
    img = st.image("bench/app", "latest", [1 << 20])
    blob_1m = img["layers"][0]
    for i in range(sz.listing):
        st.image(f"catalog/repo-{i:05d}", "v1", [128])
    man = st.image("bench/tags", "t00000", [64])["manifest"]
    for i in range(1, sz.listing):
        st.tag("bench/tags", f"t{i:05d}", man)
    crt, key = make_cert(work)
    log("starting the registries")

    ua = f"User-Agent: {UA}"
    small = [("ping", "GET", "/v2/", [ua]),
             ("manifest_by_tag", "GET", "/v2/bench/app/manifests/latest",
              [ua, f"Accept: {MANIFEST_ACCEPT}"]),
             ("blob_head", "HEAD", f"/v2/bench/app/blobs/{blob_1m}", [ua]),
             ("blob_get_1MiB", "GET", f"/v2/bench/app/blobs/{blob_1m}", [ua])]
    ports = {"dist": free_port(), "nginx": free_port(), "nginx_tls": free_port()}

    if "auth" in args.only:
        log(f"auth: htpasswd, bcrypt cost {args.bcrypt_cost}")
        out["auth"], out["auth_rss_kib"] = auth_suite(
            args, work, registry_bin, root, [w for w in small if w[0] in ("manifest_by_tag",
                                                                          "blob_head")])
        out["auth_bcrypt_cost"] = args.bcrypt_cost
        if args.only == {"auth"}:
            return out

    with Processes(work, 5 if args.smoke else 15) as procs:
        preg, pports = procs.start("portico-registry", [registry_bin, "serve", registry_config(
            work, root, "127.0.0.1:0", "portico", "info")], ready=True)
        ports["portico"] = pports["http"]
        dreg, _ = procs.start("distribution", ["docker-registry", "serve", registry_config(
            work, root, f"127.0.0.1:{ports['dist']}", "dist", "error")], port=ports["dist"])

        reg = {}
        if "registry" in args.only:
            reg.update(registry_suite(args, work, sz, ports, st, small))
        if "skopeo" in args.only:
            reg.update(skopeo_suite(args, work, sz, ports))
        if reg:
            out["registry"] = reg
            out["registry_rss_kib"] = {"portico": rss_kib([preg.pid]),
                                       "dist": rss_kib([dreg.pid])}
        if "proxy" not in args.only:
            return out

        pprx, xports = procs.start("portico-proxy", [proxy_bin, "--config", proxy_config(
            work, ports["portico"], crt, key)], ready=True)
        for d in ("nginx-body", "nginx-proxy", "nginx-fastcgi", "nginx-uwsgi", "nginx-scgi"):
            os.makedirs(os.path.join(work, d), exist_ok=True)
        ngx, _ = procs.start("nginx", ["nginx", "-e", os.path.join(work, "nginx-error.log"),
                                       "-c", nginx_config(work, ports["nginx"], ports["nginx_tls"],
                                                          ports["portico"], crt, key)],
                             port=ports["nginx"])
        wait_port(ports["nginx_tls"], ngx)
        targets = {"portico": (xports["listen[0]"], xports["listen[1]"]),
                   "nginx": (ports["nginx"], ports["nginx_tls"])}
        rss = {"portico": lambda: rss_kib([pprx.pid]),
               "nginx": lambda: rss_kib([ngx.pid] + child_pids(ngx.pid))}
        pids = {"portico": [pprx.pid], "nginx": [ngx.pid] + child_pids(ngx.pid)}
        out["proxy"] = proxy_suite(args, work, sz, targets, small, crt, rss, pids)
        out["proxy_rss_kib"] = rss
    return out


# ---------------------------------------------------------------- report

def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def ratio(a, b):
    return a / b if a and b else None


LOWER_IS_BETTER = ("p50_ms", "p99_ms", "ms", "s", "KiB", "cpu_us", "cpu_ms_per_MB")


def rows(section, a, b):
    """(workload, metric, a value, b value, ratio 'times better than the anchor', the ratio of
    each round or None)."""
    for label, vals in section.items():
        pa, pb = vals.get(a, {}), vals.get(b, {})
        for metric in ("rps", "p50_ms", "p99_ms", "cpu_us", "MBps", "cpu_ms_per_MB", "ms", "s"):
            if metric in pa:
                va, vb = pa[metric], pb.get(metric)
                rt = ratio(vb, va) if metric in LOWER_IS_BETTER else ratio(va, vb)
                per_round = None
                if metric == main_metric(pa) and "rounds" in pa and "rounds" in pb:
                    per_round = [ratio(x, y) for x, y in zip(pa["rounds"], pb["rounds"])]
                yield label, metric, va, vb, rt, per_round


def fmt_rounds(per_round):
    if not per_round:
        return ""
    return " ".join(fmt(x) for x in per_round)


def get(r, section, label, metric, who):
    return r.get(section, {}).get(label, {}).get(who, {}).get(metric)


def targets(r):
    """Issue 6's targets: (target, measured, met?)."""
    out = []
    reg, prx = "registry", "proxy"

    def mean_ratio(section, labels, a, b):
        rs = [ratio(get(r, section, l, "rps", a), get(r, section, l, "rps", b)) for l in labels]
        rs = [x for x in rs if x]
        return sum(rs) / len(rs) if rs else None

    small = ["ping", "manifest_by_tag", "blob_head", "blob_get_1MiB"]
    small_p = [f"{l}_{s}" for l in small for s in ("http", "https")]
    x = mean_ratio(prx, small_p, "portico", "nginx")
    out.append(("portico-proxy ≥ 1.3× nginx requests/s on the small-request set (mean of 8)",
                x, x is not None and x >= 1.3))
    for label in ("blob_push_big_https", "blob_pull_big_https"):
        x = ratio(get(r, prx, label, "MBps", "portico"), get(r, prx, label, "MBps", "nginx"))
        out.append((f"portico-proxy ≥ nginx on large-body throughput ({label})", x,
                    x is not None and x >= 1.0))
    cpu = [ratio(get(r, prx, l, "cpu_us", "nginx"), get(r, prx, l, "cpu_us", "portico"))
           for l in small_p]
    cpu = [c for c in cpu if c]
    if cpu:
        out.append(("portico-proxy CPU per request on the small-request set (nginx ÷ portico, "
                    "mean of 8; reported, no target)", sum(cpu) / len(cpu), None))
    for label in ("blob_push_big_https", "blob_pull_big_https"):
        x = ratio(get(r, prx, label, "cpu_ms_per_MB", "nginx"),
                  get(r, prx, label, "cpu_ms_per_MB", "portico"))
        if x:
            out.append((f"portico-proxy CPU per MB on {label} (nginx ÷ portico; reported, "
                        "no target)", x, None))
    prss = r.get("proxy_rss_kib", {})
    x = ratio(prss.get("nginx"), prss.get("portico"))
    out.append(("portico-proxy lower peak RSS than nginx (nginx ÷ portico)", x,
                x is not None and x > 1.0))
    for label in ("manifest_by_tag", "blob_head"):
        x = ratio(get(r, reg, label, "rps", "portico"), get(r, reg, label, "rps", "dist"))
        out.append((f"portico-registry ≥ 2× distribution requests/s on {label}", x,
                    x is not None and x >= 2.0))
    sha = r.get("limits", {}).get("sha256_MBps")
    for label in ("blob_push_big", "blob_pull_big", "push_big_image", "pull_big_image"):
        x = ratio(get(r, reg, label, "MBps", "portico"), get(r, reg, label, "MBps", "dist"))
        out.append((f"portico-registry ≥ distribution on {label} throughput", x,
                    x is not None and x >= 1.0))
    for label in ("blob_push_big", "push_big_image", "pull_big_image"):
        x = ratio(get(r, reg, label, "MBps", "portico"), sha)
        out.append((f"portico-registry {label} ≥ 80% of single-core SHA-256 (fraction)", x,
                    x is not None and x >= 0.8))
    for label in ("catalog_all", "tags_list_all"):
        x = ratio(get(r, reg, label, "ms", "dist"), get(r, reg, label, "ms", "portico"))
        out.append((f"portico-registry {label} ≥ 5× faster than distribution", x,
                    x is not None and x >= 5.0))
    rrss = r.get("registry_rss_kib", {})
    x = ratio(rrss.get("dist"), rrss.get("portico"))
    out.append(("portico-registry peak RSS vs distribution (distribution ÷ portico; "
                "reported, no target)", x, None))
    return out


def write_results(path, r, notes_file=None):
    lines = ["# Benchmark results", "",
             "Generated by `bench/run` (bench/bench.py); "
             + ("**smoke mode: sizes are tiny, figures mean nothing**." if r["smoke"] else
                f"{r['seconds']} s per load, {r['connections']} connections, "
                f"{r.get('rounds', 1)} round(s)."),
             "The machine is shared and noisy: read the ratios, not the absolute numbers.", "",
             "## Machine", ""]
    for k, v in r["facts"].items():
        lines.append(f"- {k}: {v}")
    lines.append(f"- load average at end: {r.get('load_end', '-')}")
    lines += ["", "## Physical limits", ""]
    for k, v in r.get("limits", {}).items():
        lines.append(f"- {k}: {fmt(v)}")
    for section, a, b, title in (
            ("registry", "portico", "dist", "registry: portico-registry vs distribution 2.8"),
            ("proxy", "portico", "nginx", "proxy: portico-proxy vs nginx (classic rules)"),
            ("auth", "portico", "dist", "auth.htpasswd (bcrypt cost "
             f"{r.get('auth_bcrypt_cost', '-')}, same file): portico-registry vs distribution 2.8")):
        if section not in r:
            continue
        other = "distribution 2.8" if b == "dist" else "nginx"
        lines += ["", f"## {title}", "",
                  f"| workload | metric | portico | {other} | ratio | ratio per round |",
                  "|---|---|---|---|---|---|"]
        for label, metric, va, vb, rt, per_round in rows(r[section], a, b):
            lines.append(f"| {label} | {metric} | {fmt(va)} | {fmt(vb)} | {fmt(rt)} | "
                         f"{fmt_rounds(per_round)} |")
        rss = r.get(f"{section}_rss_kib", {})
        lines.append(f"| peak RSS | KiB | {rss.get(a)} | {rss.get(b)} | "
                     f"{fmt(ratio(rss.get(b), rss.get(a)))} | |")
    lines += ["", "Ratios are 'times better than the anchor': portico ÷ anchor for rates "
              "(rps, MBps), anchor ÷ portico for latencies, times (ms, s) and RSS.", "",
              f"Workloads with rounds ran {r.get('rounds', 1)} time(s) per system, both "
              "systems back to back in each round and the order reversed every round; each "
              "figure is the system's median round (by rps or MBps: its latencies are that "
              "round's), and 'ratio per round' is each round's rate ratio in round order.", "",
              "MBps is 10^6 bytes per second. `s` is wall time of the whole operation "
              "(skopeo rows include skopeo's own start-up, once per image). `cpu_us` (per "
              "request) and `cpu_ms_per_MB` are the proxy's own CPU (user + system, every "
              "thread; nginx: master and workers) during that load.", "",
              "## Targets (issue 6)", "",
              "| target | measured | met |", "|---|---|---|"]
    for name, value, met in targets(r):
        lines.append(f"| {name} | {fmt(value)} | "
                     f"{'-' if met is None else 'yes' if met else '**no**'} |")
    if r.get("stops"):
        lines += ["", "## Server stops (SIGTERM at the end)", ""]
        lines += [f"- {name}: {how}" for name, how in r["stops"].items()]
    if notes_file and os.path.exists(notes_file):
        with open(notes_file) as f:
            lines += ["", f.read().rstrip()]
    lines += ["", "## Commands", "", "```"]
    lines += COMMANDS[:300]
    lines += ["```", ""]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, 1 s per workload")
    ap.add_argument("--build", default=os.path.join(TOP, "build-release"),
                    help="build dir holding proxy/portico-proxy and backend/portico-registry")
    ap.add_argument("--registry-bin", help="portico-registry binary (default: in --build)")
    ap.add_argument("--proxy-bin", help="portico-proxy binary (default: in --build)")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--notes", default=os.path.join(HERE, "NOTES.md"),
                    help="analysis appended to the results (when the file exists)")
    ap.add_argument("--seconds", type=int, default=None,
                    help="seconds per load (default 6; smoke: 1)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="rounds per comparative workload, order alternating (default 3; "
                         "smoke: 1)")
    ap.add_argument("--connections", type=int, default=None,
                    help="wrk/ab connections (default 64; smoke: 8)")
    ap.add_argument("--from-json", help="only re-render --out from a results .json")
    ap.add_argument("--only", default="limits,registry,skopeo,proxy,auth",
                    help="comma-separated sections to run (default: all): "
                         "limits, registry, skopeo, proxy, auth")
    ap.add_argument("--no-cache", action="store_true",
                    help="registries without storage.cache.blobdescriptor (registry:2's shipped "
                         "config has it: the default here)")
    ap.add_argument("--bcrypt-cost", type=int, default=5,
                    help="bcrypt cost of the auth section's htpasswd entry (default 5, what "
                         "htpasswd -B writes)")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        COMMANDS.extend(saved.pop("commands", []))
        write_results(args.out, saved, None if saved["smoke"] else args.notes)
        return

    args.only = set(args.only.split(","))
    unknown = args.only - {"limits", "registry", "skopeo", "proxy", "auth"}
    if unknown:
        sys.exit(f"bench: --only: unknown section(s) {', '.join(sorted(unknown))}")
    global CACHE
    CACHE = not args.no_cache
    args.secs = args.seconds or (1 if args.smoke else 6)
    args.rounds = args.rounds or (1 if args.smoke else 3)
    args.connections = args.connections or (8 if args.smoke else 64)
    sz = Sizes(args.smoke)
    if "registry" not in args.only:
        sz.listing = min(sz.listing, 50)  # the 10,000-entry listings are only read there
    registry_bin = args.registry_bin or os.path.join(args.build, "backend", "portico-registry")
    proxy_bin = args.proxy_bin or os.path.join(args.build, "proxy", "portico-proxy")
    for b in (registry_bin, proxy_bin):
        if not os.access(b, os.X_OK):
            sys.exit(f"bench: {b} missing: build first (./run build)")

    work = tempfile.mkdtemp(prefix="portico-bench-")
    facts = machine_facts()
    facts["portico binaries"] = f"{registry_bin}, {proxy_bin}"
    facts["registry config"] = ("storage.cache.blobdescriptor: inmemory (registry:2's shipped "
                                "config)" if CACHE else "no descriptor cache (--no-cache)")
    results = {"facts": facts, "smoke": args.smoke, "seconds": args.secs,
               "connections": args.connections, "rounds": args.rounds}
    try:
        if "limits" in args.only:
            results["limits"] = physical_limits(args.smoke, work)
            log(f"limits: {results['limits']}")
        results.update(run_suites(args, work, registry_bin, proxy_bin, sz))
        results["load_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        results["stops"] = STOPS
        # Results first: removing 10,000 repositories and GiBs can take minutes on a busy disk.
        write_results(args.out, results, None if args.smoke else args.notes)
        with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
            json.dump({**results, "commands": COMMANDS}, f, indent=1)
    except BenchError as e:
        log(f"FAILED: {e}")
        log(f"server logs were in {work} (removed)")
        sys.exit(1)
    finally:
        if os.environ.get("BENCH_KEEP"):
            log(f"kept {work}")
        else:
            subprocess.run(["rm", "-rf", work])  # much faster than shutil on 10,000 repos
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
