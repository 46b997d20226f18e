#!/usr/bin/env bash
# make-cert.sh DIR: makes sure DIR holds a TLS certificate for Portico.
#   DIR/domain.crt + DIR/domain.key present (e.g. a real certificate mounted there): used as is.
#   Otherwise a development CA (DIR/ca.crt, DIR/ca.key) and a server certificate signed by it
#   (DIR/domain.crt, DIR/domain.key) are generated with the openssl CLI (EC P-256).
# The server certificate names localhost, 127.0.0.1, ::1, this host's name, and every name or
# address in PORTICO_CERT_NAMES (comma or space separated, e.g. "registry.lan,192.0.2.7").
# Prints the path of the CA that clients must trust.
set -euo pipefail

dir=${1:?usage: make-cert.sh DIR}
mkdir -p "$dir"
crt=$dir/domain.crt
key=$dir/domain.key

if [ -s "$crt" ] && [ -s "$key" ]; then
  echo "certificate: using $crt"
  [ -s "$dir/ca.crt" ] && echo "CA certificate (trust this on clients): $dir/ca.crt"
  exit 0
fi

umask 077
host=$(hostname 2>/dev/null || echo localhost)
names=(localhost "$host" 127.0.0.1 ::1)
IFS=', ' read -r -a extra <<<"${PORTICO_CERT_NAMES:-}"
names+=("${extra[@]}")

alt=()
declare -A seen=()
for name in "${names[@]}"; do
  [ -n "$name" ] || continue
  [ -z "${seen[$name]:-}" ] || continue
  seen[$name]=1
  if [[ $name =~ ^[0-9.]+$ || $name == *:* ]]; then alt+=("IP:$name"); else alt+=("DNS:$name"); fi
done
san=$(IFS=,; echo "${alt[*]}")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ ! -s "$dir/ca.crt" ] || [ ! -s "$dir/ca.key" ]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 -sha256 \
    -subj "/O=Portico/CN=Portico development CA ($host)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi

cat >"$work/ext.cnf" <<EXT
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $san
EXT
openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -keyout "$work/domain.key" -out "$work/domain.csr" -subj "/O=Portico/CN=localhost" 2>/dev/null
openssl x509 -req -in "$work/domain.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
  -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 -extfile "$work/ext.cnf" \
  -out "$work/domain.crt" 2>/dev/null
chmod 644 "$work/domain.crt" "$dir/ca.crt"
mv "$work/domain.key" "$key"
mv "$work/domain.crt" "$crt"

echo "certificate: generated $crt for $san"
echo "CA certificate (trust this on clients): $dir/ca.crt"
