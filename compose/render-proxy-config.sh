#!/usr/bin/env bash
# render-proxy-config.sh IN OUT: writes OUT, a copy of proxy config IN (conf/proxy.yml) with the
# deployment's addresses and certificate folder substituted. IN keeps the reference values;
# each is replaced wherever it occurs:
#   0.0.0.0:5000     the public listener   -> $PORTICO_LISTEN            (default 0.0.0.0:5000)
#   certs/           the certificate folder -> $PORTICO_CERT_DIR/        (default /certs)
#                    (a value starting with certs/, after a space: conf/certs/ holds only an
#                    expired example, for check-config of conf/proxy.yml as it is)
#   127.0.0.1:5001   the bundled registry   -> $PORTICO_REGISTRY_UPSTREAM (default 127.0.0.1:5001)
#   127.0.0.1:5002   the admin listener     -> $PORTICO_ADMIN_ADDR        (default 127.0.0.1:5002)
# Used by the native start (compose/portico-up.sh) and by the proxy container (entrypoint.sh).
set -euo pipefail

in=${1:?usage: render-proxy-config.sh IN OUT}
out=${2:?usage: render-proxy-config.sh IN OUT}
listen=${PORTICO_LISTEN:-0.0.0.0:5000}
cert_dir=${PORTICO_CERT_DIR:-/certs}
registry=${PORTICO_REGISTRY_UPSTREAM:-127.0.0.1:5001}
admin=${PORTICO_ADMIN_ADDR:-127.0.0.1:5002}

# Escapes a sed replacement (the delimiter is |).
esc() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

if [ "$listen" != 0.0.0.0:5000 ] && ! grep -q '0\.0\.0\.0:5000' "$in"; then
  echo "render-proxy-config.sh: $in has no listen address 0.0.0.0:5000 to replace with $listen" >&2
  exit 1
fi

mkdir -p "$(dirname "$out")"
{
  echo "# Generated from $in by compose/render-proxy-config.sh; edit that file instead."
  sed -e "s|0\.0\.0\.0:5000|$(esc "$listen")|g" \
    -e "s| certs/| $(esc "${cert_dir%/}")/|g" \
    -e "s|127\.0\.0\.1:5001|$(esc "$registry")|g" \
    -e "s|127\.0\.0\.1:5002|$(esc "$admin")|g" \
    "$in"
} >"$out.tmp"
mv "$out.tmp" "$out"
