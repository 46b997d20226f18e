#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions are run through check()
# podman_test.sh TOP BUILD_DIR: podman (4.x, Debian's) against Portico as users run it:
# compose/portico-up.sh (what `./run up` execs; the quickstart test runs `./run up` itself) on
# free ports, every podman call through the TLS proxy trusting the generated CA. podman builds a
# two-layer image from scratch (COPY only: no container runtime needed), pushes it in OCI and in
# Docker v2 schema 2 format, pulls both back by tag and by digest after removing them, pushes a
# two-platform manifest list and pulls one platform of it, and lists repositories and tags with
# `podman search` (the _catalog and tags/list routes). podman keeps all its state in a temp dir.
# Output is TAP: one "# name" line and one ok/not ok per check.
set -uo pipefail

top=$(cd "${1:?usage: podman_test.sh TOP BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: podman_test.sh TOP BUILD_DIR}" && pwd)
work=$(mktemp -d)
state=$work/state
up_cmd=("$top/compose/portico-up.sh" "$top")

# shellcheck source=tests/e2e/tap.sh
source "$top/tests/e2e/tap.sh"
# shellcheck source=tests/e2e/portico_up.sh
source "$top/tests/e2e/portico_up.sh"  # also: on exit, stop what runs and remove $work

if ! command -v podman >/dev/null; then
  skip "podman against Portico" "podman missing"
  finish
fi

# podman with all of its state (storage, run, libpod tmp, networks) under $work.
pm() {
  podman --root "$work/podman/root" --runroot "$work/podman/run" --tmpdir "$work/podman/tmp" \
    --network-config-dir "$work/podman/net" --volumepath "$work/podman/volumes" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file "$@"
}

# manifest REPO REF ACCEPT: the manifest the registry serves, fetched through the proxy.
manifest() {
  curl -sSf --max-time 30 --cacert "$state/trust/ca.crt" -H "Accept: $3" \
    "https://localhost:$port/v2/$1/manifests/$2"
}

# digest_of REPO REF ACCEPT: the Docker-Content-Digest of that manifest.
digest_of() {
  curl -sSf --max-time 30 --cacert "$state/trust/ca.crt" -H "Accept: $3" -I \
    "https://localhost:$port/v2/$1/manifests/$2" |
    sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *\([^[:space:]]*\).*/\1/p'
}

oci_manifest=application/vnd.oci.image.manifest.v1+json
docker_manifest=application/vnd.docker.distribution.manifest.v2+json
any_index="application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json"

build_image() {
  mkdir -p "$work/ctx" || return 1
  head -c 300000 /dev/urandom >"$work/ctx/a.bin"
  head -c 200000 /dev/urandom >"$work/ctx/b.bin"
  printf 'FROM scratch\nCOPY a.bin /a.bin\nCOPY b.bin /b.bin\nLABEL org.example.portico=test\n' \
    >"$work/ctx/Containerfile"
  pm build -q -t localhost/podman/app:local "$work/ctx" || return 1
  pm image inspect --format '{{.RootFS.Layers}}' localhost/podman/app:local >"$work/layers.local"
  [ "$(wc -w <"$work/layers.local")" -eq 2 ] || { cat "$work/layers.local"; return 1; }
}

# push_as FORMAT TAG MEDIATYPE: podman push --format FORMAT, then the registry serves that type.
push_as() {
  pm push --cert-dir "$state/trust" --format "$1" localhost/podman/app:local \
    "localhost:$port/podman/app:$2" || return 1
  manifest podman/app "$2" "$3" | grep -q "\"mediaType\":\"$3\""
}

# pull_back TAG: removes every local image, pulls TAG and finds the same layers as built.
pull_back() {
  pm rmi -a -f >/dev/null || return 1
  pm pull --cert-dir "$state/trust" "localhost:$port/podman/app:$1" || return 1
  pm image inspect --format '{{.RootFS.Layers}}' "localhost:$port/podman/app:$1" >"$work/layers.$1"
  diff "$work/layers.local" "$work/layers.$1"
}

pull_by_digest() {
  local digest
  digest=$(digest_of podman/app oci "$oci_manifest")
  [ -n "$digest" ] || { echo "no Docker-Content-Digest"; return 1; }
  pm rmi -a -f >/dev/null || return 1
  pm pull --cert-dir "$state/trust" "localhost:$port/podman/app@$digest" || return 1
  pm image inspect --format '{{.Digest}}' "localhost:$port/podman/app@$digest" | grep -qx "$digest"
}

push_manifest_list() {
  pm manifest create localhost/podman/multi:local || return 1
  pm manifest add --cert-dir "$state/trust" --arch amd64 localhost/podman/multi:local \
    "docker://localhost:$port/podman/app:oci" || return 1
  pm manifest add --cert-dir "$state/trust" --arch arm64 --variant v8 localhost/podman/multi:local \
    "docker://localhost:$port/podman/app:docker" || return 1
  pm manifest push --all --cert-dir "$state/trust" localhost/podman/multi:local \
    "docker://localhost:$port/podman/multi:1" || return 1
  manifest podman/multi 1 "$any_index" >"$work/index.json" || return 1
  cat "$work/index.json"
  python3 - "$work/index.json" <<'PY'
import json, sys
index = json.load(open(sys.argv[1]))
platforms = sorted(m["platform"]["architecture"] for m in index["manifests"])
assert platforms == ["amd64", "arm64"], platforms
PY
}

pull_platform() {
  local want
  want=$(python3 -c 'import json,sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["platform"]["architecture"] == "arm64"][0])' "$work/index.json") || return 1
  pm rmi -a -f >/dev/null || return 1
  pm pull --cert-dir "$state/trust" --arch arm64 --variant v8 "localhost:$port/podman/multi:1" || return 1
  # podman records the index's digest and, among its repo digests, the entry it chose.
  pm image inspect --format '{{.RepoDigests}}' "localhost:$port/podman/multi:1" >"$work/repo_digests" ||
    return 1
  cat "$work/repo_digests"
  grep -q "localhost:$port/podman/multi@$want" "$work/repo_digests"
}

# `podman search` has no --cert-dir: it still speaks TLS to the proxy, without verifying it.
search_repositories() {
  pm search --tls-verify=false --format '{{.Name}}' "localhost:$port/podman" >"$work/search" || return 1
  cat "$work/search"
  grep -qx "localhost:$port/podman/app" "$work/search" &&
    grep -qx "localhost:$port/podman/multi" "$work/search"
}

search_tags() {
  pm search --tls-verify=false --list-tags "localhost:$port/podman/app" >"$work/tags" || return 1
  cat "$work/tags"
  [ "$(awk 'NR > 1 { print $2 }' "$work/tags" | sort | tr '\n' ' ')" = "docker oci " ]
}

check "portico-up.sh starts registry and proxy" start_up "$work/up.log"
[ "$failed" -eq 0 ] || finish
check "podman builds a two-layer image from scratch" build_image
[ "$failed" -eq 0 ] || finish
check "podman push --format oci stores an OCI image manifest" push_as oci oci "$oci_manifest"
check "podman push --format v2s2 stores a Docker schema 2 manifest" push_as v2s2 docker "$docker_manifest"
check "podman pulls the OCI image back with the same layers" pull_back oci
check "podman pulls the Docker image back with the same layers" pull_back docker
check "podman pulls by digest" pull_by_digest
check "podman manifest push --all stores a two-platform index" push_manifest_list
check "podman pulls the arm64 entry of that index" pull_platform
check "podman search lists the repositories (_catalog)" search_repositories
check "podman search --list-tags lists the tags" search_tags
check "SIGTERM stops the proxy and the registry cleanly" stop_up
finish
