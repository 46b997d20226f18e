#!/usr/bin/env bash
# The container's entrypoint (see compose/Dockerfile and docker-compose.yml).
#   entrypoint.sh proxy      certificate (make-cert.sh) + rendered config, then portico-proxy
#   entrypoint.sh registry   portico-registry serve /etc/portico/registry.yml
#   entrypoint.sh CMD...     runs CMD (e.g. portico-proxy check-config FILE)
# Config files come from /etc/portico (conf/, mounted read-only by compose).
set -euo pipefail
conf=${PORTICO_CONF_DIR:-/etc/portico}

case "${1:-}" in
  proxy)
    make-cert.sh "${PORTICO_CERT_DIR:-/certs}"
    rendered=/tmp/portico/proxy.yml
    render-proxy-config.sh "$conf/${PORTICO_PROXY_CONFIG:-proxy.yml}" "$rendered"
    exec portico-proxy --config "$rendered"
    ;;
  registry)
    exec portico-registry serve "$conf/${PORTICO_REGISTRY_CONFIG:-registry.yml}"
    ;;
  *)
    exec "$@"
    ;;
esac
