#!/usr/bin/env python3
"""Portico benchmarks against the anchors, side by side on one machine, reported as ratios.

Systems under test, all plain processes on 127.0.0.1 ports chosen by the OS:
  portico-registry  vs  distribution 2.8 (/usr/bin/docker-registry)   -- same storage dir
  portico-proxy     vs  nginx with the classic v1/v2 rules             -- same upstream, same cert

Workloads are generated (random, incompressible), never downloaded. Every server is
stopped at the end, even on failure. `--smoke` shrinks every size and runs each load for
one second, so the test suite can run the scripts and they cannot rot.

Writes bench/RESULTS.md (or --out FILE): machine facts, every figure, every ratio, the
exact commands.
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

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
NGINX_LEGACY_UA = r'^(docker\/1\.(3|4|5(?!\.[0-9]-dev))|Go ).*$'
COMMANDS = []  # every external command run, for RESULTS.md


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    COMMANDS.append(" ".join(cmd))
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, deadline=30.0):
    """Waits until something accepts on the port (event: a successful connect)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a port that has no ready line (nginx, distribution)
    raise RuntimeError(f"port {port} never opened")


def peak_rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def child_pids(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


class Processes:
    """Starts servers and guarantees they are stopped (context manager)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, name, cmd, env=None, port=None, ready=None):
        logf = open(os.path.join(self.workdir, f"{name}.log"), "w")
        COMMANDS.append(" ".join(cmd))
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                env={**os.environ, **(env or {})}, start_new_session=True)
        self.procs.append((name, proc))
        if ready:
            self._wait_line(name, proc, ready)
        elif port:
            wait_port(port, proc)
        return proc

    def _wait_line(self, name, proc, pattern):
        path = os.path.join(self.workdir, f"{name}.log")
        end = time.monotonic() + 30
        with open(path) as f:
            buf = ""
            while time.monotonic() < end:
                chunk = f.read()
                if chunk:
                    buf += chunk
                    if re.search(pattern, buf):
                        return
                elif proc.poll() is not None:
                    raise RuntimeError(f"{name} exited: {buf[-2000:]}")
                else:
                    time.sleep(0.05)  # tailing a log file written by another process
        raise RuntimeError(f"{name} not ready: {buf[-2000:]}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


# ---------------------------------------------------------------- storage seeding

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


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
            data = os.urandom(size)
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
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
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


# ---------------------------------------------------------------- load generation

def wrk(url, seconds, connections, method="GET", extra_headers=(), threads=2):
    script = None
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if method != "GET":
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(f'wrk.method = "{method}"\n')
        script.close()
        args += ["-s", script.name]
    for h in extra_headers:
        args += ["-H", h]
    args.append(url)
    out = run(args).stdout
    if script:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return None
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": pct(50), "p99_ms": pct(99),
            "non2xx": int(errors.group(1)) if errors else 0}


def transfer(url, method, size, cacert=None):
    """Uploads (PUT/PATCH) or downloads `size` bytes with curl; returns MB/s."""
    args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
            "-H", "User-Agent: docker/27.0.0 go/go1.21"]
    if cacert:
        args += ["--cacert", cacert]
    if method == "GET":
        args += [url]
        COMMANDS.append(" ".join(args))
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    else:
        args += ["-X", method, "-H", "Content-Type: application/octet-stream",
                 "-H", "Transfer-Encoding: chunked", "--data-binary", "@-", url]
        COMMANDS.append("head -c SIZE /dev/urandom-like | " + " ".join(args))
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=False)
        block = os.urandom(1 << 20)
        left = size
        while left > 0:
            n = min(left, len(block))
            p.stdin.write(block[:n])
            left -= n
        p.stdin.close()
        out = p.stdout.read().decode()
        p.wait()
    code, secs = out.split()
    if not code.startswith("2"):
        raise RuntimeError(f"{method} {url} -> {code}")
    return size / float(secs) / 1e6


def upload_session(host, port, repo, tls_ctx=None):
    conn = (http.client.HTTPSConnection(host, port, context=tls_ctx) if tls_ctx
            else http.client.HTTPConnection(host, port))
    conn.request("POST", f"/v2/{repo}/blobs/uploads/",
                 headers={"User-Agent": "docker/27.0.0", "Content-Length": "0"})
    r = conn.getresponse()
    r.read()
    if r.status != 202:
        raise RuntimeError(f"POST upload -> {r.status}")
    loc = r.getheader("Location")
    conn.close()
    m = re.match(r"^(?:https?://[^/]+)?(/.*)$", loc)
    return m.group(1)


# ---------------------------------------------------------------- the benchmark

def machine_facts():
    facts = {"python": platform.python_version(), "kernel": platform.release(),
             "cores": os.cpu_count()}
    with contextlib.suppress(Exception):
        with open("/proc/cpuinfo") as f:
            facts["cpu"] = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    with contextlib.suppress(Exception):
        with open("/proc/meminfo") as f:
            facts["memory"] = f.readline().split(":")[1].strip()
    for tool, cmd in {"nginx": ["nginx", "-v"], "distribution": ["docker-registry", "--version"],
                      "wrk": ["wrk", "-v"], "openssl": ["openssl", "version"]}.items():
        with contextlib.suppress(Exception):
            p = subprocess.run(cmd, capture_output=True, text=True)
            facts[tool] = (p.stdout + p.stderr).strip().splitlines()[0]
    return facts


def physical_limits(smoke, workdir):
    limits = {}
    out = run(["openssl", "speed", "-seconds", "1" if smoke else "3", "-evp", "sha256"]).stdout
    last = [l for l in out.splitlines() if l.startswith("sha256") or l.startswith("SHA256")][-1]
    limits["sha256_MBps"] = float(last.split()[-1].rstrip("k")) * 1000 / 1e6
    size = (64 if smoke else 1024) << 20
    path = os.path.join(workdir, "disk.bin")
    t = time.monotonic()
    with open(path, "wb") as f:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    limits["disk_write_MBps"] = size / (time.monotonic() - t) / 1e6
    os.unlink(path)
    # loopback: one TCP stream, 1 MiB writes
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    pid = os.fork()
    if pid == 0:
        c = socket.create_connection(("127.0.0.1", port))
        block = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            c.sendall(block)
        c.close()
        os._exit(0)
    conn, _ = srv.accept()
    t = time.monotonic()
    got = 0
    while True:
        b = conn.recv(1 << 20)
        if not b:
            break
        got += len(b)
    limits["loopback_MBps"] = got / (time.monotonic() - t) / 1e6
    os.waitpid(pid, 0)
    conn.close()
    srv.close()
    return limits


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, 1 s per workload")
    ap.add_argument("--build", default=os.path.join(TOP, "build-release"),
                    help="build dir holding proxy/portico-proxy and backend/portico-registry")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--seconds", type=int, default=None)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()

    secs = args.seconds or (1 if args.smoke else 10)
    big = (4 << 20) if args.smoke else (1 << 30)
    n_repos = 50 if args.smoke else 10_000
    registry_bin = os.path.join(args.build, "backend", "portico-registry")
    proxy_bin = os.path.join(args.build, "proxy", "portico-proxy")
    for b in (registry_bin, proxy_bin):
        if not os.access(b, os.X_OK):
            sys.exit(f"bench: {b} missing: build first (./run build)")

    work = tempfile.mkdtemp(prefix="portico-bench-")
    results = {"facts": machine_facts(), "smoke": args.smoke, "seconds": secs}
    try:
        results["limits"] = physical_limits(args.smoke, work)
        log(f"limits: {results['limits']}")
        results.update(run_suites(args, work, registry_bin, proxy_bin, secs, big, n_repos))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(args.out, results)
    log(f"wrote {args.out}")


def make_cert(work):
    key, crt = os.path.join(work, "domain.key"), os.path.join(work, "domain.crt")
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
    return crt, key


def registry_configs(work, root, port, name):
    cfg = os.path.join(work, f"{name}.yml")
    with open(cfg, "w") as f:
        f.write(f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
""")
    return cfg


def proxy_config(work, port, tls_port, admin_port, upstream_port, crt, key):
    cfg = os.path.join(work, "proxy.yml")
    with open(cfg, "w") as f:
        f.write(f"""listen:
  - address: "127.0.0.1:{port}"
  - address: "127.0.0.1:{tls_port}"
    tls:
      certificates:
        - {{certificate: {crt}, key: {key}}}
upstreams:
  v2:
    servers: ["127.0.0.1:{upstream_port}"]
    keepalive: 32
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
admin: {{address: "127.0.0.1:{admin_port}"}}
workers: 2
""")
    return cfg


def nginx_config(work, port, tls_port, upstream_port, crt, key):
    cfg = os.path.join(work, "nginx.conf")
    with open(cfg, "w") as f:
        f.write(f"""worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log {work}/nginx-access.log combined;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
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


def run_suites(args, work, registry_bin, proxy_bin, secs, big, n_repos):
    out = {}
    root = os.path.join(work, "storage")
    st = Storage(root)
    log("seeding storage")
    img = st.image("bench/app", "latest", [1 << 20])
    blob_1m = img["layers"][0]
    for i in range(n_repos):
        st.image(f"catalog/repo-{i:05d}", "v1", [128])
    _, _ = st.blob(b"x")
    man = st.image("bench/tags", "t00000", [64])["manifest"]
    for i in range(1, n_repos):
        st.tag("bench/tags", f"t{i:05d}", man)
    crt, key = make_cert(work)
    ctx = ssl.create_default_context(cafile=crt)

    ports = {n: free_port() for n in ("portico", "dist", "pproxy", "pproxy_tls", "padmin",
                                      "nginx", "nginx_tls")}
    ua = "User-Agent: docker/27.0.0 go/go1.21 os/linux arch/amd64"
    small = [("ping", "GET", "/v2/"),
             ("manifest_by_tag", "GET", "/v2/bench/app/manifests/latest"),
             ("blob_head", "HEAD", f"/v2/bench/app/blobs/{blob_1m}"),
             ("blob_get_1MiB", "GET", f"/v2/bench/app/blobs/{blob_1m}")]
    accept = "Accept: application/vnd.docker.distribution.manifest.v2+json"

    with Processes(work) as procs:
        preg = procs.start("portico-registry",
                           [registry_bin, "serve",
                            registry_configs(work, root, ports["portico"], "portico")],
                           ready=r"\bready\b")
        dreg = procs.start("distribution",
                           ["docker-registry", "serve",
                            registry_configs(work, root, ports["dist"], "dist")],
                           port=ports["dist"])
        pprx = procs.start("portico-proxy",
                           [proxy_bin, "--config",
                            proxy_config(work, ports["pproxy"], ports["pproxy_tls"],
                                         ports["padmin"], ports["portico"], crt, key)],
                           ready=r"\bready\b")
        os.makedirs(os.path.join(work, "nginx-body"), exist_ok=True)
        os.makedirs(os.path.join(work, "nginx-proxy"), exist_ok=True)
        ngx = procs.start("nginx", ["nginx", "-c", nginx_config(
            work, ports["nginx"], ports["nginx_tls"], ports["portico"], crt, key)],
            port=ports["nginx"])

        # Registries directly.
        reg = {}
        for name, label, method, path in [(n, *s) for n in ("portico", "dist") for s in small]:
            log(f"registry {name} {label}")
            reg.setdefault(label, {})[name] = wrk(
                f"http://127.0.0.1:{ports[name]}{path}", secs, args.connections, method,
                [ua, accept])
        for name in ("portico", "dist"):
            for label, path in (("catalog_all", f"/v2/_catalog?n={n_repos + 10}"),
                                ("tags_list_all", "/v2/bench/tags/tags/list")):
                t = time.monotonic()
                reps = 3
                for _ in range(reps):
                    c = http.client.HTTPConnection("127.0.0.1", ports[name])
                    c.request("GET", path)
                    r = c.getresponse()
                    body = r.read()
                    c.close()
                    if r.status != 200:
                        raise RuntimeError(f"{name} {path} -> {r.status} {body[:200]}")
                reg.setdefault(label, {})[name] = {"ms": (time.monotonic() - t) / reps * 1000}
        for name, port in (("portico", ports["portico"]), ("dist", ports["dist"])):
            log(f"registry {name} push/pull {big >> 20} MiB")
            loc = upload_session("127.0.0.1", port, "bench/push")
            data_url = f"http://127.0.0.1:{port}{loc}"
            t = time.monotonic()
            transfer(data_url, "PATCH", big)
            reg.setdefault("upload_big_MBps", {})[name] = {
                "MBps": big / (time.monotonic() - t) / 1e6}
            reg.setdefault("download_1MiB_blob_MBps", {})[name] = {
                "MBps": transfer(f"http://127.0.0.1:{port}/v2/bench/app/blobs/{blob_1m}",
                                 "GET", 1 << 20)}
        out["registry"] = reg
        out["registry_rss_kib"] = {"portico": peak_rss_kib([preg.pid]),
                                   "dist": peak_rss_kib([dreg.pid])}

        # Proxies in front of portico-registry.
        prx = {}
        big_blob = st.blob(size=big)[0]
        st.link("bench/app", "_layers", big_blob)
        targets = {"portico": (ports["pproxy"], ports["pproxy_tls"]),
                   "nginx": (ports["nginx"], ports["nginx_tls"])}
        for name, (port, tls_port) in targets.items():
            for label, method, path in small:
                log(f"proxy {name} {label}")
                prx.setdefault(f"{label}_http", {})[name] = wrk(
                    f"http://127.0.0.1:{port}{path}", secs, args.connections, method, [ua, accept])
                prx.setdefault(f"{label}_https", {})[name] = wrk(
                    f"https://127.0.0.1:{tls_port}{path}", secs, args.connections, method,
                    [ua, accept])
            prx.setdefault("tls_handshakes", {})[name] = wrk(
                f"https://127.0.0.1:{tls_port}/v2/", secs, 16, "GET", [ua, "Connection: close"])
            log(f"proxy {name} upload/download {big >> 20} MiB")
            loc = upload_session("127.0.0.1", port, "bench/proxy-push")
            prx.setdefault("upload_big_https_MBps", {})[name] = {"MBps": transfer(
                f"https://localhost:{tls_port}{loc}", "PATCH", big, cacert=crt)}
            prx.setdefault("download_big_https_MBps", {})[name] = {"MBps": transfer(
                f"https://localhost:{tls_port}/v2/bench/app/blobs/sha256:{big_blob}", "GET", big,
                cacert=crt)}
        out["proxy"] = prx
        out["proxy_rss_kib"] = {"portico": peak_rss_kib([pprx.pid]),
                                "nginx": peak_rss_kib([ngx.pid] + child_pids(ngx.pid))}
    del ctx
    return out


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def write_results(path, r):
    lines = ["# Benchmark results", "",
             "Generated by `./run bench` (bench/bench.py); "
             + ("**smoke mode: sizes are tiny, figures mean nothing**." if r["smoke"] else
                f"{r['seconds']} s per load."), "",
             "## Machine", ""]
    for k, v in r["facts"].items():
        lines.append(f"- {k}: {v}")
    lines += ["", "## Physical limits", ""]
    for k, v in r.get("limits", {}).items():
        lines.append(f"- {k}: {fmt(v)}")
    for section, a, b in (("registry", "portico", "dist"), ("proxy", "portico", "nginx")):
        if section not in r:
            continue
        other = "distribution 2.8" if b == "dist" else "nginx"
        lines += ["", f"## {section}: portico vs {other}", "",
                  f"| workload | metric | portico | {other} | ratio |", "|---|---|---|---|---|"]
        for label, vals in r[section].items():
            pa, pb = vals.get(a, {}), vals.get(b, {})
            for metric in ("rps", "p50_ms", "p99_ms", "MBps", "ms"):
                if metric in pa:
                    va, vb = pa[metric], pb.get(metric)
                    better_low = metric in ("p50_ms", "p99_ms", "ms")
                    rt = ratio(vb, va) if better_low else ratio(va, vb or 0)
                    lines.append(f"| {label} | {metric} | {fmt(va)} | {fmt(vb)} | "
                                 f"{fmt(rt) if va and vb else '-'} |")
        rss = r.get(f"{section}_rss_kib", {})
        lines.append(f"| peak RSS | KiB | {rss.get(a)} | {rss.get(b)} | "
                     f"{fmt(ratio(rss.get(b, 0), rss.get(a, 0)))} |")
    lines += ["", "Ratios are 'times better than the anchor' (for latencies and times, "
              "anchor ÷ portico).", "", "## Commands", "", "```"]
    lines += COMMANDS[:200]
    lines += ["```", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
