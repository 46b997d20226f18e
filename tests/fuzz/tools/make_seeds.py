#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ (except http_request's hand-made seeds,
which it only adds to). Deterministic; rerun after changing it: `tests/fuzz/tools/make_seeds.py`.
Each target's input layout is described at the top of its fuzz_NAME.cc."""
import base64
import hashlib
import json
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def digest(s):
    return "sha256:" + hashlib.sha256(s.encode()).hexdigest()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# http_request, http_response: the raw bytes.
R = {
    "get-simple": "GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\n",
    "put-content-length": "PUT /v2/a/blobs/uploads/u?digest=sha256:00 HTTP/1.1\r\nHost: x\r\n"
    "Content-Length: 5\r\n\r\nhello",
    "patch-chunked-trailer": "PATCH /v2/a/blobs/uploads/u HTTP/1.1\r\nHost: x\r\n"
    "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: y\r\n\r\n",
    "query-n-last": "GET /v2/_catalog?n=10&last=a%2Fb HTTP/1.1\r\nHost: x\r\n\r\n",
    "http10-keepalive": "HEAD /v2/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "expect-continue": "PUT /v2/a/manifests/t HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
    "Content-Length: 2\r\n\r\n{}",
    "upgrade": "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
}
for name, text in R.items():
    write("http_request", name, text)

P = {
    "ok-length": "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    "chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "until-close": "HTTP/1.1 200 OK\r\n\r\nbody until close",
    "interim-100": "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
    "no-content": "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n",
    "http10": "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nmissing",
    "te-gzip-chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
}
for name, text in P.items():
    write("http_response", name, text)

# user_agent: constraint NUL header.
U = {
    "docker-lt": ("<1.6", "docker/1.5.0 go/go1.4.2 git-commit/a8a31ef kernel/3.19 os/linux arch/amd64"),
    "docker-ge-dev": (">=17.05-ce", "docker/17.06.0-ce-rc1 go/go1.8.3"),
    "go-client": ("!=1.0.0", "Go-http-client/1.1"),
    "upstream-ua": ("==20.10", "docker/20.10.7 go/go1.13.15 git-commit/b0f5bc3 kernel/5.10 os/linux "
                    "arch/amd64 UpstreamClient(Docker-Client/20.10.7 \\(linux\\))"),
    "comment-nested": (">0", "containerd/1.6.0 (linux; (nested) comment) skopeo/1.9"),
    "empty": ("", ""),
}
for name, (c, h) in U.items():
    write("user_agent", name, c + "\0" + h)

# route: method NUL target NUL host NUL user-agent.
d = digest("layer")
T = {
    "base": ("GET", "/v2/", "registry", "docker/24.0.0"),
    "manifest-tag": ("PUT", "/prefix/v2/library/alpine/manifests/3.19", "r", "skopeo/1.9"),
    "manifest-digest": ("HEAD", "/prefix/v2/a/b/c/manifests/" + d, "r", ""),
    "blob": ("GET", "/prefix/v2/ns/repo/blobs/" + d, "r", "containerd/1.6"),
    "upload": ("PATCH", "/prefix/v2/ns/repo/blobs/uploads/0b4d1e2c-6c8a-4b4f-9e21-3e1f0a9d7c55",
               "r", "docker/1.5.0"),
    "upload-start": ("POST", "/prefix/v2/ns/repo/blobs/uploads/?mount=" + d + "&from=x", "r", ""),
    "catalog": ("GET", "/prefix/v2/_catalog?n=2", "r", ""),
    "tags": ("GET", "/prefix/v2/x/tags/list", "r", ""),
    "referrers": ("GET", "/prefix/v2/x/referrers/" + d + "?artifactType=a%2Fb", "r", ""),
    "v1": ("GET", "/v1/_ping", "r", "docker/1.5.0"),
    "bad-method": ("TRACE", "/prefix/v2/x/tags/list", "r", ""),
}
for name, fields in T.items():
    write("route", name, "\0".join(fields))

# byte_range: 8 bytes of size (odd: small size = value>>1 % 1024), then the header.
def size_bytes(n, small=True):
    v = (n << 1) | 1 if small else n << 1
    return v.to_bytes(8, "little")


for name, (n, h) in {
    "first-bytes": (100, "bytes=0-9"),
    "open-end": (100, "bytes=10-"),
    "suffix": (100, "bytes=-20"),
    "beyond": (100, "bytes=100-200"),
    "multi": (100, "bytes=0-1,5-6"),
    "other-unit": (100, "items=0-1"),
    "spaces": (100, "bytes = 1 - 2"),
    "zero-size": (0, "bytes=-1"),
    "huge": (1 << 62, "bytes=18446744073709551615-"),
    # Upload Content-Range forms (parseUploadContentRange reads the same text).
    "upload-plain": (100, "0-4"),
    "upload-unit-total": (100, "bytes 5-9/*"),
    "upload-wraps": (100, "0-18446744073709551615"),
    "upload-last-byte": (100, "18446744073709551615-18446744073709551615"),
}.items():
    write("byte_range", name, size_bytes(n, n < 1024) + h.encode())

# reference: the text alone.
for name, text in {
    "repo": "library/alpine",
    "repo-separators": "a.b__c-d/e---f",
    "tag": "v1.2.3-rc.1_x",
    "digest": d,
    "digest-sha512": "sha512:" + hashlib.sha512(b"x").hexdigest(),
    "digest-upper": d.upper(),
    "upload-id": "0b4d1e2c-6c8a-4b4f-9e21-3e1f0a9d7c55",
    "long-repo": "a/" * 127 + "b",
    "bad-tag": ".INVALID_MANIFEST_NAME",
}.items():
    write("reference", name, text)

# manifest: content-type index byte (see fuzz_manifest.cc), then the body.
CT = {"schema1": 0, "schema1-signed": 1, "schema2": 2, "list": 3, "oci": 4, "index": 5,
      "json": 6, "none": 7, "oci-param": 8, "text": 9}


def desc(mt, content, **extra):
    return dict(mediaType=mt, digest=digest(content), size=len(content), **extra)


oci = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": desc("application/vnd.oci.image.config.v1+json", "config"),
       "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", "layer",
                       annotations={"a": "b"})]}
docker = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
          "config": desc("application/vnd.docker.container.image.v1+json", "config"),
          "layers": [desc("application/vnd.docker.image.rootfs.diff.tar.gzip", "l1"),
                     desc("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "l2",
                          urls=["https://example.com/l2"])]}
child = desc("application/vnd.oci.image.manifest.v1+json", json.dumps(oci),
             platform={"architecture": "amd64", "os": "linux", "variant": "v8"})
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [child]}
mlist = dict(index, mediaType="application/vnd.docker.distribution.manifest.list.v2+json")
artifact = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.example.sbom",
            "config": desc("application/vnd.oci.empty.v1+json", "{}"),
            "layers": [desc("application/vnd.example.sbom.v1+json", "sbom")],
            "subject": desc("application/vnd.oci.image.manifest.v1+json", json.dumps(oci))}
schema1 = ("{\n   \"schemaVersion\": 1,\n   \"name\": \"library/hello\",\n   \"tag\": \"latest\",\n"
           "   \"architecture\": \"amd64\",\n   \"fsLayers\": [\n      {\n         \"blobSum\": \""
           + digest("layer-a") + "\"\n      }\n   ],\n   \"history\": [\n      {\n"
           "         \"v1Compatibility\": \"{\\\"id\\\":\\\"1\\\"}\"\n      }\n   ]\n}")
close = len(schema1.rstrip(" \t\r\n")) - 1
flen = len(schema1[:close].rstrip(" \t\r\n"))
tail = schema1[flen:]
prot = b64url(json.dumps({"formatLength": flen, "formatTail": b64url(tail.encode()),
                          "time": "2015-06-01T00:00:00Z"}).encode())
signed = (schema1[:flen] + ",\n   \"signatures\": [\n      {\n         \"header\": {\n"
          "            \"jwk\": {\"crv\": \"P-256\", \"kid\": \"K\", \"kty\": \"EC\", \"x\": \"x\", \"y\": \"y\"},\n"
          "            \"alg\": \"ES256\"\n         },\n         \"signature\": \"c2lnbmF0dXJl\",\n"
          "         \"protected\": \"" + prot + "\"\n      }\n   ]" + tail)
M = {
    "oci": ("oci", json.dumps(oci)),
    "oci-no-type": ("json", json.dumps({k: v for k, v in oci.items() if k != "mediaType"})),
    "oci-param": ("oci-param", json.dumps(oci)),
    "docker": ("schema2", json.dumps(docker)),
    "index": ("index", json.dumps(index)),
    "list": ("list", json.dumps(mlist)),
    "index-inferred": ("none", json.dumps({"schemaVersion": 2, "manifests": [child]})),
    "artifact": ("oci", json.dumps(artifact)),
    "schema1": ("schema1", schema1),
    "schema1-signed": ("schema1-signed", signed),
    "schema1-inferred": ("text", signed),
    "mismatch": ("schema2", json.dumps(oci)),
    "not-json": ("json", "{\"schemaVersion\": 2,"),
}
for name, (ct, body) in M.items():
    write("manifest", name, bytes([CT[ct]]) + body.encode())

# pagination: n NUL last.
for name, (n, last) in {"n-last": ("2", "a"), "none": ("", ""), "zero": ("0", "z"),
                        "max": ("1000", ""), "over": ("1001", ""), "negative": ("-1", ""),
                        "plus": ("+5", "alpine"), "hex": ("0x10", "~")}.items():
    write("pagination", name, n + "\0" + last)

# registry_config: environment entry NUL yaml.
REG = """version: 0.1
log:
  level: info
  formatter: json
  fields: {service: registry}
storage:
  filesystem: {rootdirectory: /var/lib/registry}
  delete: {enabled: true}
  maintenance:
    uploadpurging: {enabled: true, age: 168h, interval: 24h, dryrun: false}
  cache: {blobdescriptor: inmemory}
http:
  addr: :5000
  prefix: /
  headers:
    X-Content-Type-Options: [nosniff]
  debug: {addr: 127.0.0.1:0, prometheus: {enabled: true, path: /metrics}}
  http2: {disabled: false}
auth:
  htpasswd: {realm: portico, path: /etc/portico/htpasswd}
  policy:
    anonymous: [pull]
    groups: {ci: [builder]}
    rules:
      - {repositories: ["library/*"], users: ["*"], actions: [pull]}
      - {catalog: true, users: ["*"]}
notifications:
  endpoints:
    - name: hook
      url: https://example.com/events
      timeout: 1s
      threshold: 5
      backoff: 1s
health:
  storagedriver: {enabled: true, interval: 10s, threshold: 3}
"""
write("registry_config", "full", "\0" + REG)
write("registry_config", "env-override", "REGISTRY_HTTP_ADDR=127.0.0.1:5001\0" + REG)
write("registry_config", "env-nested", "REGISTRY_STORAGE_DELETE_ENABLED=false\0"
      "version: 0.1\nstorage: {inmemory: {}}\n")
write("registry_config", "tls", "\0version: 0.1\nstorage: {inmemory: {}}\nhttp:\n  addr: :5443\n"
      "  tls: {certificate: /c.pem, key: /k.pem, clientcas: [/ca.pem], minimumtls: tls1.2}\n")
write("registry_config", "bad-yaml", "\0version: 0.1\nstorage: [\n")
conf = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "conf")
for f in ("registry.yml", "proxy.yml"):
    p = os.path.join(conf, f)
    if os.path.exists(p):
        text = open(p).read()
        if f == "registry.yml":
            write("registry_config", "conf-registry", "\0" + text)
        else:
            write("proxy_config", "conf-proxy", text)

# proxy_config: the YAML.
write("proxy_config", "minimal", "listen:\n  - address: 127.0.0.1:0\nupstreams:\n"
      "  v2: {servers: [127.0.0.1:5001]}\n")
write("proxy_config", "routes", """listen:
  - address: 127.0.0.1:0
upstreams:
  registry:
    servers: [127.0.0.1:5001, 127.0.0.1:5002]
    balance: least_connections
    timeouts: {connect: 5s, read: 900s}
    health_check: {path: /readyz, interval: 5s, expect: [200], fall: 3, rise: 2}
routes:
  - name: old-docker
    match: {path_prefix: /v2/, user_agent: {docker_version: "<1.6"}}
    respond: {status: 404, body: "docker too old"}
  - name: go
    match: {path_regex: "^/v2/.*", methods: [GET, HEAD], hosts: [registry.example],
            user_agent: {legacy_go_client: true, regex: "Go-http-client/1\\\\.1"}}
    forward: registry
  - name: rest
    match: {path_prefix: /}
    forward: registry
limits: {header_bytes: 64KiB, header_timeout: 30s, body_bytes: 10GiB}
log: {level: debug, format: json}
""")

# htpasswd: the file.
bc = "$2y$05$" + "a" * 53
write("htpasswd", "users", "alice:" + bc + "\nbob:$2b$10$" + "B" * 53 + "\n# comment\n\n")
write("htpasswd", "crlf", "alice:" + bc + "\r\nbob:{SHA}abc=\r\n")
write("htpasswd", "no-colon", "alice\n")
write("htpasswd", "cost-high", "root:$2a$31$" + "c" * 53)
write("htpasswd", "duplicate", "a:" + bc + "\na:" + bc + "\n:empty-user\n")

# policy: repository NUL policy yaml.
write("policy", "full", "team-a/app\0anonymous: [pull]\ngroups: {ci: [builder], admins: [alice]}\n"
      "rules:\n  - {repositories: [\"library/*\", \"base/**\"], users: [\"*\"], actions: [pull]}\n"
      "  - {repositories: [\"team-a/**\"], groups: [ci], actions: [pull, push]}\n"
      "  - {repositories: [\"**\"], groups: [admins], actions: [pull, push, delete]}\n"
      "  - {catalog: true, users: [\"*\"]}\n")
write("policy", "glob", "base/x/y\0base/**")
write("policy", "bad-glob", "a\0rules:\n  - {repositories: [\"a/***\"], users: [x], actions: [pull]}\n")
write("policy", "unknown-group", "a\0rules:\n  - {repositories: [a], groups: [nope], actions: ['*']}\n")

# jwt: mode byte, now (int64 LE), then a token (mode 0), header NUL claims for the target to
# sign (1 ed EdDSA, 2 ec ES256, 3 rsa RS256, 4 leaf EdDSA with x5c), a JWK (5) or base64url
# text (6). Tokens of mode 0 are real: signed here with the test keys of jwt_keys/ through the
# openssl command (Ed25519 and RSA PKCS#1 v1.5 signatures are deterministic).
KEYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "jwt_keys")
NOW = 1_800_000_000


def jwt_input(mode, rest, now=NOW):
    return bytes([mode]) + now.to_bytes(8, "little", signed=True) + rest


def openssl_sign(key, data, digest):
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        args = ["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", os.path.join(KEYS, key),
                "-in", f.name] if digest is None else \
            ["openssl", "dgst", "-" + digest, "-sign", os.path.join(KEYS, key), f.name]
        return subprocess.run(args, capture_output=True, check=True).stdout


def leaf_x5c():
    with open(os.path.join(KEYS, "leaf.crt")) as f:
        pem = f.read()
    body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
    return [body]


def token(header, claims, key, digest=None):
    signing = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
               b64url(json.dumps(claims, separators=(",", ":")).encode()))
    return signing + "." + b64url(openssl_sign(key, signing.encode(), digest))


CLAIMS = {"iss": "fuzz-issuer", "sub": "alice", "aud": "fuzz-registry", "exp": NOW + 300,
          "nbf": NOW - 10, "iat": NOW - 10, "jti": "j1",
          "access": [{"type": "repository", "name": "lib/app", "actions": ["pull", "push"]},
                     {"type": "registry", "name": "catalog", "actions": ["*"]}]}
HEADERS = {
    "ed": ({"alg": "EdDSA", "kid": "ed"}, "ed.pem", None),
    "rsa": ({"alg": "RS256", "kid": "rsa", "typ": "JWT"}, "rsa.pem", "sha256"),
    "x5c": ({"alg": "EdDSA", "x5c": leaf_x5c()}, "leaf.pem", None),
}
for name, (header, key, digest) in HEADERS.items():
    write("jwt", "token-" + name, jwt_input(0, token(header, CLAIMS, key, digest).encode()))
jwks = json.load(open(os.path.join(KEYS, "jwks.json")))["keys"]
ed_jwk = dict(jwks[0])
write("jwt", "token-jwk-kid", jwt_input(0, token({"alg": "EdDSA", "jwk": ed_jwk}, CLAIMS,
                                                 "ed.pem").encode()))
del ed_jwk["kid"]
write("jwt", "token-jwk-thumbprint", jwt_input(0, token({"alg": "EdDSA", "jwk": ed_jwk}, CLAIMS,
                                                        "ed.pem").encode()))
write("jwt", "token-expired", jwt_input(0, token(HEADERS["ed"][0], CLAIMS, "ed.pem").encode(),
                                        NOW + 3600))
ok = token(HEADERS["ed"][0], CLAIMS, "ed.pem")
h, c, s = ok.split(".")
MALFORMED = {
    "two-parts": h + "." + c,
    "four-parts": ok + ".x",
    "padding": h + "=." + c + "." + s,
    "bad-base64": h + "." + c + "!." + s,
    "bad-signature": h + "." + c + "." + s[:-4] + "AAAA",
    "alg-none": b64url(b'{"alg":"none"}') + "." + c + ".",
    "alg-hs256": b64url(b'{"alg":"HS256","kid":"ed"}') + "." + c + "." + s,
    "crit": b64url(b'{"alg":"EdDSA","kid":"ed","crit":["exp"]}') + "." + c + "." + s,
    "kid-libtrust": b64url(b'{"alg":"RS256","kid":"AAAA:BBBB:CCCC:DDDD:EEEE:FFFF:GGGG:HHHH:'
                           b'IIII:JJJJ:KKKK:LLLL"}') + "." + c + "." + s,
    "x5c-garbage": b64url(b'{"alg":"ES256","x5c":["MIIB","!!"]}') + "." + c + "." + s,
    "header-array": b64url(b'["alg"]') + "." + c + "." + s,
}
for name, text in MALFORMED.items():
    write("jwt", "malformed-" + name, jwt_input(0, text.encode()))

# Mode 1-4: the target signs; these reach the claims checks.
def signed(mode, header, claims):
    return jwt_input(mode, json.dumps(header).encode() + b"\0" + (
        claims if isinstance(claims, bytes) else json.dumps(claims).encode()))

write("jwt", "sign-ed", signed(1, {"alg": "EdDSA", "kid": "ed"}, CLAIMS))
write("jwt", "sign-ec", signed(2, {"alg": "ES256", "kid": "ec"}, CLAIMS))
write("jwt", "sign-rsa", signed(3, {"alg": "RS256", "kid": "rsa"}, CLAIMS))
write("jwt", "sign-x5c", signed(4, {"alg": "EdDSA", "x5c": leaf_x5c()}, CLAIMS))
write("jwt", "sign-aud-array", signed(1, {"alg": "EdDSA", "kid": "ed"},
                                      dict(CLAIMS, aud=["other", "fuzz-registry"])))
write("jwt", "sign-float-dates", signed(1, {"alg": "EdDSA", "kid": "ed"},
                                        b'{"iss":"fuzz-issuer","aud":"fuzz-registry",'
                                        b'"exp":1.8e9,"nbf":1.7e9,"access":null}'))
write("jwt", "sign-bad-access", signed(1, {"alg": "EdDSA", "kid": "ed"},
                                       dict(CLAIMS, access=[{"type": "repository",
                                                             "name": 1, "actions": "pull"}])))
write("jwt", "sign-jwk-kid", signed(1, {"alg": "EdDSA", "jwk": jwks[0]}, CLAIMS))
write("jwt", "sign-jwk-thumbprint", signed(1, {"alg": "EdDSA", "jwk": ed_jwk}, CLAIMS))
write("jwt", "sign-jwk-ec", signed(2, {"alg": "ES256", "jwk": jwks[1]}, CLAIMS))
write("jwt", "sign-jwk-x5c", signed(4, {"alg": "EdDSA", "jwk": {"x5c": leaf_x5c()}}, CLAIMS))
# Crashers (tests/unit/backend/auth/jwt_test.cc has the regression tests).
write("jwt", "crash-jwk-kty-number",
      jwt_input(0, (b64url(b'{"alg":"ES256","jwk":{"kty":1}}') + "." + c + ".AAAA").encode()))
write("jwt", "exp-int64-max", signed(1, {"alg": "EdDSA", "kid": "ed"},
                                     b'{"iss":"fuzz-issuer","aud":"fuzz-registry",'
                                     b'"exp":9223372036854775807,"nbf":-9223372036854775808}'))
# Mode 5: JWKs; mode 6: base64url.
for k in jwks:
    write("jwt", "jwk-" + k["kid"], jwt_input(5, json.dumps(k).encode()))
write("jwt", "base64url", jwt_input(6, b"SGVsbG8_-w"))
