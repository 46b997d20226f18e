#!/usr/bin/env bash
# compose_test.sh TOP: what can be checked of the Docker deployment without a Docker engine.
#   - compose/docker-compose.yml validates with docker-compose (Debian's 1.29) with and
#     without the legacy profile, and has the services, volumes and healthchecks it promises;
#   - every file and folder the compose file and the Dockerfile reference exists;
#   - the Dockerfile builds with `./run build`, the command the native start (`./run up`) runs,
#     and copies the binaries from where that build puts them;
#   - make-cert.sh and render-proxy-config.sh do what the compose entrypoint relies on;
#   - conf/ rendered for compose passes `check-config` of the real binaries (when built:
#     PORTICO_PROXY_BIN / PORTICO_REGISTRY_BIN).
# Output is TAP: one "# name" line and one ok/not ok per check.
set -uo pipefail

top=$(cd "${1:-$(dirname "$(readlink -f "$0")")/../..}" && pwd)
cd "$top" || exit 1
compose=compose/docker-compose.yml
dockerfile=compose/Dockerfile
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=tests/e2e/tap.sh
source "$top/tests/e2e/tap.sh"

have_compose=false
command -v docker-compose >/dev/null && have_compose=true

if $have_compose; then
  check "docker-compose config validates the compose file" \
    docker-compose -f "$compose" config -q
  check "docker-compose config validates it with --profile legacy" \
    docker-compose -f "$compose" --profile legacy config -q
  # (docker-compose 1.29 lists profiled services in `config --services` too; that the v1
  # registry sits behind the legacy profile is checked on the normalised config below.)
  has_services() {
    local listed
    listed=$(docker-compose -f "$compose" --profile legacy config --services | sort | tr '\n' ' ')
    [ "$listed" = "proxy registry registryv1 " ] || { echo "services: $listed"; return 1; }
  }
  check "the compose file defines proxy, registry and registryv1" has_services
  docker-compose -f "$compose" --profile legacy config >"$work/config.yml" 2>"$work/config.err"
else
  skip "docker-compose config validates the compose file" "docker-compose is not installed"
fi

# The structural checks read the compose file (normalised by docker-compose when present).
py_check() {
  python3 - "$@" <<'PY'
import os, sys, yaml
top, path, dockerfile = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as f:
    doc = yaml.safe_load(f)
compose_dir = os.path.join(top, "compose")
errors = []
services = doc.get("services", {})
volumes = doc.get("volumes", {}) or {}
copied = set()
with open(os.path.join(top, dockerfile)) as f:
    for line in f:
        parts = line.split()
        if parts[:1] == ["COPY"] and not any(p.startswith("--from") for p in parts):
            copied.update(os.path.basename(p) for p in parts[1:-1])
for name in ("proxy", "registry"):
    if name not in services:
        errors.append(f"service {name} missing")
for name, svc in services.items():
    build = svc.get("build")
    if build:
        context = build if isinstance(build, str) else build.get("context", ".")
        context = os.path.normpath(os.path.join(compose_dir, context))
        df = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        if not os.path.isdir(context):
            errors.append(f"{name}: build context {context} does not exist")
        if not os.path.isfile(os.path.join(context, df)):
            errors.append(f"{name}: dockerfile {df} not in {context}")
    if "healthcheck" not in svc:
        errors.append(f"{name}: no healthcheck")
    if not svc.get("restart"):
        errors.append(f"{name}: no restart policy")
    test = (svc.get("healthcheck") or {}).get("test", [])
    if isinstance(test, list) and len(test) > 1 and test[1].endswith(".sh"):
        if test[1] not in copied:
            errors.append(f"{name}: healthcheck {test[1]} is not copied into the image")
        if not os.path.isfile(os.path.join(compose_dir, test[1])):
            errors.append(f"{name}: healthcheck script compose/{test[1]} missing")
    for volume in svc.get("volumes", []):
        if isinstance(volume, dict):
            source, kind, ro = volume.get("source"), volume.get("type"), volume.get("read_only")
            target = volume.get("target")
        else:
            fields = volume.split(":")
            source, target = fields[0], fields[1]
            kind = "bind" if source.startswith((".", "/")) else "volume"
            ro = len(fields) > 2 and "ro" in fields[2].split(",")
        if kind == "bind":
            source = os.path.normpath(os.path.join(compose_dir, source))
            if not os.path.exists(source):
                errors.append(f"{name}: bind mount source {source} does not exist")
            if source == os.path.join(top, "conf") and not ro:
                errors.append(f"{name}: conf/ is not mounted read-only")
        elif source not in volumes:
            errors.append(f"{name}: volume {source} is not declared")
for name in ("proxy", "registry"):
    svc = services.get(name, {})
    mounts = [v if isinstance(v, str) else f"{v.get('source')}:{v.get('target')}" for v in svc.get("volumes", [])]
    if not any(m.endswith(":/etc/portico") or ":/etc/portico:" in m for m in mounts):
        errors.append(f"{name}: conf/ is not mounted at /etc/portico")
if "registryv1" in services and "legacy" not in services["registryv1"].get("profiles", []):
    errors.append("registryv1 is not behind the legacy profile")
ports = services.get("proxy", {}).get("ports", [])
if not ports:
    errors.append("proxy publishes no port")
if services.get("registry", {}).get("ports"):
    errors.append("registry publishes a port (it must be internal)")
for volume in ("registry-data", "certs"):
    if volume not in volumes:
        errors.append(f"named volume {volume} missing")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY
}
if $have_compose && [ -s "$work/config.yml" ]; then
  check "services, volumes, healthchecks and mounts are as documented (normalised config)" \
    py_check "$top" "$work/config.yml" "$dockerfile"
fi
check "services, volumes, healthchecks and mounts are as documented (compose file)" \
  py_check "$top" "$compose" "$dockerfile"

dockerfile_copies_exist() {
  local missing=0 line src
  while read -r line; do
    # COPY [--chown=..] SRC... DEST, skipping stage copies (--from).
    [[ $line =~ ^COPY ]] || continue
    [[ $line =~ --from ]] && continue
    read -r -a words <<<"$line"
    for src in "${words[@]:1:${#words[@]}-2}"; do
      [[ $src == --* ]] && continue
      [ -e "$src" ] || { echo "COPY source $src does not exist"; missing=1; }
    done
  done <"$dockerfile"
  return $missing
}
check "every COPY source of the Dockerfile exists" dockerfile_copies_exist

dockerfile_is_multistage() {
  grep -Eq '^FROM debian:bookworm +AS +build' "$dockerfile" || { echo "no bookworm build stage"; return 1; }
  grep -Eq '^FROM debian:bookworm-slim' "$dockerfile" || { echo "no bookworm-slim runtime stage"; return 1; }
  if ! grep -Eq '^USER +[a-z]' "$dockerfile" || grep -Eq '^USER +(root|0)' "$dockerfile"; then
    echo "runtime user is root"
    return 1
  fi
  local entry
  entry=$(sed -n 's/^ENTRYPOINT \["\([^"]*\)".*/\1/p' "$dockerfile")
  if [ -z "$entry" ] || ! grep -q "compose/$(basename "$entry")" "$dockerfile"; then
    echo "entrypoint '$entry' is not copied from compose/"
    return 1
  fi
}
check "the Dockerfile is multi-stage (bookworm build, bookworm-slim runtime, non-root)" dockerfile_is_multistage

same_build_as_native() {
  grep -Eq '^RUN \./run build( |$)' "$dockerfile" || { echo "the Dockerfile does not RUN ./run build"; return 1; }
  # ./run up = cmd_build, then exec compose/portico-up.sh.
  sed -n '/^cmd_up()/,/^}/p' run | grep -q 'cmd_build' || { echo "./run up does not call cmd_build"; return 1; }
  sed -n '/^cmd_up()/,/^}/p' run | grep -q 'compose/portico-up.sh' || { echo "./run up does not exec compose/portico-up.sh"; return 1; }
  sed -n '/^cmd_build()/,/^}/p' run | grep -q 'build-release' || { echo "./run build does not build build-release/"; return 1; }
  local bin
  for bin in backend/portico-registry proxy/portico-proxy; do
    grep -q "/src/build-release/$bin " "$dockerfile" || { echo "the Dockerfile does not copy build-release/$bin"; return 1; }
    grep -q "/$bin\$" compose/portico-up.sh || { echo "portico-up.sh does not run $bin"; return 1; }
  done
  grep -q "executable('portico-registry'" backend/meson.build || { echo "backend/meson.build builds no portico-registry"; return 1; }
}
check "the Dockerfile builds with ./run build, the same command as ./run up" same_build_as_native

dockerignore_ok() {
  local pattern
  for pattern in .git .state 'build*/'; do
    grep -qxF "$pattern" .dockerignore || { echo ".dockerignore lacks $pattern"; return 1; }
  done
}
check ".dockerignore keeps .git, .state and build folders out of the context" dockerignore_ok

scripts_parse() {
  local f
  for f in compose/*.sh; do bash -n "$f" || return 1; done
}
check "the shell scripts parse" scripts_parse

make_cert_generates() {
  local dir=$work/certs
  PORTICO_CERT_NAMES="registry.example.test,192.0.2.7" compose/make-cert.sh "$dir" >"$work/mc.out" || return 1
  grep -q "CA certificate.*$dir/ca.crt" "$work/mc.out" || { echo "CA path not printed"; cat "$work/mc.out"; return 1; }
  openssl verify -CAfile "$dir/ca.crt" "$dir/domain.crt" || return 1
  local san
  san=$(openssl x509 -in "$dir/domain.crt" -noout -ext subjectAltName)
  for want in DNS:localhost "IP Address:127.0.0.1" DNS:registry.example.test "IP Address:192.0.2.7"; do
    [[ $san == *"$want"* ]] || { echo "SAN lacks $want: $san"; return 1; }
  done
  openssl x509 -in "$dir/ca.crt" -noout -ext basicConstraints | grep -q 'CA:TRUE' || return 1
  [ "$(stat -c %a "$dir/domain.key")" = 600 ] || { echo "domain.key is not 0600"; return 1; }
}
check "make-cert.sh generates a CA and a server certificate it verifies, and prints the CA path" \
  make_cert_generates

make_cert_reuses() {
  local dir=$work/certs before after
  before=$(openssl x509 -in "$dir/domain.crt" -noout -fingerprint -sha256)
  compose/make-cert.sh "$dir" >/dev/null || return 1
  after=$(openssl x509 -in "$dir/domain.crt" -noout -fingerprint -sha256)
  [ "$before" = "$after" ] || { echo "certificate was regenerated"; return 1; }
  # A mounted certificate without our CA is used as is.
  local mounted=$work/mounted
  mkdir -p "$mounted"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=real.example \
    -keyout "$mounted/domain.key" -out "$mounted/domain.crt" -days 1 2>/dev/null || return 1
  before=$(sha256sum "$mounted/domain.crt")
  compose/make-cert.sh "$mounted" >/dev/null || return 1
  if [ "$before" != "$(sha256sum "$mounted/domain.crt")" ] || [ -e "$mounted/ca.key" ]; then
    echo "a mounted certificate was replaced"
    return 1
  fi
}
check "make-cert.sh reuses an existing or mounted certificate" make_cert_reuses

render_substitutes() {
  cat >"$work/in.yml" <<'EOF'
listen:
  - address: "0.0.0.0:5000"
    tls:
      certificates:
        - {certificate: certs/domain.crt, key: certs/domain.key}
upstreams:
  v2: {servers: ["127.0.0.1:5001"]}
admin: {address: "127.0.0.1:5002"}
EOF
  PORTICO_LISTEN=127.0.0.1:6000 PORTICO_CERT_DIR="/a b/c&d" PORTICO_REGISTRY_UPSTREAM=registry:5001 \
    PORTICO_ADMIN_ADDR=127.0.0.1:0 compose/render-proxy-config.sh "$work/in.yml" "$work/out.yml" || return 1
  local want
  for want in '"127.0.0.1:6000"' '{certificate: /a b/c&d/domain.crt, key: /a b/c&d/domain.key}' \
    '["registry:5001"]' '"127.0.0.1:0"'; do
    grep -qF "$want" "$work/out.yml" || { echo "missing $want in:"; cat "$work/out.yml"; return 1; }
  done
  echo 'listen: [{address: "127.0.0.1:7000"}]' >"$work/other.yml"
  if PORTICO_LISTEN=0.0.0.0:6000 compose/render-proxy-config.sh "$work/other.yml" "$work/x.yml"; then
    echo "a config without the reference listen address was accepted"
    return 1
  fi
}
check "render-proxy-config.sh substitutes listen, certificate folder, registry and admin" \
  render_substitutes

conf_checks() {
  local kind=$1 bin=$2
  if [ "$kind" = proxy ]; then
    local file
    # The default config and the one the legacy profile selects (PORTICO_PROXY_CONFIG).
    for file in proxy.yml proxy-legacy-v1.yml; do
      [ -f "conf/$file" ] || { echo "conf/$file missing"; return 1; }
      PORTICO_LISTEN=0.0.0.0:5000 PORTICO_CERT_DIR="$work/certs" PORTICO_REGISTRY_UPSTREAM=registry:5001 \
        compose/render-proxy-config.sh "conf/$file" "$work/compose-$file" || return 1
      "$bin" check-config "$work/compose-$file" || return 1
    done
  else
    [ -f conf/registry.yml ] || { echo "conf/registry.yml missing"; return 1; }
    REGISTRY_HTTP_ADDR=0.0.0.0:5001 REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry \
      "$bin" check-config conf/registry.yml
  fi
}
if [ -x "${PORTICO_PROXY_BIN:-}" ]; then
  check "conf/proxy.yml and proxy-legacy-v1.yml rendered for compose pass portico-proxy check-config" \
    conf_checks proxy "$PORTICO_PROXY_BIN"
else
  skip "conf/proxy.yml rendered for compose passes portico-proxy check-config" "portico-proxy not built"
fi
if [ -x "${PORTICO_REGISTRY_BIN:-}" ]; then
  check "conf/registry.yml with the compose overrides passes portico-registry check-config" \
    conf_checks registry "$PORTICO_REGISTRY_BIN"
else
  skip "conf/registry.yml passes portico-registry check-config" "portico-registry not built"
fi

# runtime_has_libraries BIN...: every shared library the binaries link comes from a package the
# Dockerfile's runtime stage installs (or that bookworm-slim already has).
runtime_has_libraries() {
  local installed lib pkg missing=0
  installed=" libc6 libgcc-s1 libstdc++6 $(sed -n '/^FROM debian:bookworm-slim/,$p' "$dockerfile" |
    sed -n '/apt-get install/,/rm -rf/p' | tr -s ' \\\n' ' ') "
  for lib in $(ldd "$@" | awk '/=>/ {print $3}' | sort -u); do
    pkg=$(dpkg -S "$(realpath "$lib")" 2>/dev/null || dpkg -S "$(realpath "$lib" | sed 's|^/usr/lib|/lib|')" 2>/dev/null)
    pkg=${pkg%%:*}
    [ -n "$pkg" ] || { echo "no package owns $lib"; missing=1; continue; }
    [[ $installed == *" $pkg "* ]] || { echo "$lib ($pkg) is not installed in the runtime stage"; missing=1; }
  done
  return $missing
}
if [ -x "${PORTICO_PROXY_BIN:-}" ] && [ -x "${PORTICO_REGISTRY_BIN:-}" ]; then
  check "the runtime stage installs every shared library the binaries link" \
    runtime_has_libraries "$PORTICO_PROXY_BIN" "$PORTICO_REGISTRY_BIN"
fi

finish
