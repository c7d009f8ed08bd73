#!/usr/bin/env bash
# Makes this machine a Docker-API container host without Docker: podman (runc; overlay storage, vfs where
# overlay cannot be mounted) serving the Docker API on a unix socket, Debian base images bootstrapped from
# the configured apt mirror (no registry is reachable), and a local OCI registry on 127.0.0.1:5000.
# Idempotent. Prints the DOCKER_HOST to use on its last line.
#   .ci/containers.sh --prune   after a test run: removes every container, every image but the newest of
#                               each tag (the next run's layer cache), and the tests' registry namespaces
set -euo pipefail

SOCKET=${RALPH_RELEASE_PODMAN_SOCKET:-/run/ralph-release/podman.sock}
BASE_IMAGE=${RALPH_RELEASE_BASE_IMAGE:-localhost/debian:bookworm}

if [[ "${1:-}" == "--prune" ]]; then
  command -v podman >/dev/null || exit 0
  podman rm --all --force >/dev/null
  # Untagged images are earlier builds of a tag the suite rebuilt: nothing will start from them again.
  podman image prune --force >/dev/null
  # The tests' throw-away registry namespaces (<word><Date.now()>), then the blobs only they held.
  repositories=/var/lib/ralph-release-registry/docker/registry/v2/repositories
  if [[ -d $repositories ]]; then
    find "$repositories" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
      -regex '.*/(engine|test|immutable|snapshot|supply|keyless)[0-9]{13}[0-9a-z]*' -exec rm -rf {} +
    docker-registry garbage-collect /etc/ralph-release-registry.yml >/dev/null 2>&1 || true
  fi
  df -h /var/lib/containers | tail -n 1 | awk '{print "containers: pruned, " $4 " free on " $6}'
  exit 0
fi
MIRROR=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

mkdir -p /etc/containers "$(dirname "$SOCKET")"

# Storage: overlay where this kernel mounts it (layers shared, an image costs its own files only), else
# vfs (a full copy of every layer). Each driver keeps its own root: podman refuses a root another made.
overlay_works() {
  local probe
  probe=$(mktemp -d)
  mkdir -p "$probe"/{lower,upper,work,merged}
  mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null &&
    umount "$probe/merged"
  local works=$?
  rm -rf "$probe"
  return "$works"
}
if [[ ! -f /etc/containers/storage.conf ]] || ! grep -q '^# ralph-release' /etc/containers/storage.conf; then
  if overlay_works; then driver=overlay graphroot=/var/lib/containers/storage-overlay; else driver=vfs graphroot=/var/lib/containers/storage; fi
  cat > /etc/containers/storage.conf <<CONF
# ralph-release: .ci/containers.sh chose $driver
[storage]
driver = "$driver"
runroot = "/run/containers/storage-$driver"
graphroot = "$graphroot"
CONF
fi
# The sandbox forbids raising rlimits; podman's default ulimits would make every container fail to start.
[[ -f /etc/containers/containers.conf ]] && grep -q 'default_ulimits' /etc/containers/containers.conf || cat > /etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
CONF
# Loopback registries speak plain HTTP: the local one on :5000, and :5001 where tests start one that
# requires a login, and :5002 where one fails on purpose (Docker treats 127.0.0.0/8 that way by itself;
# podman needs telling).
for location in 127.0.0.1:5000 localhost:5000 127.0.0.1:5001 127.0.0.1:5002; do
  grep -q "\"$location\"" /etc/containers/registries.conf 2>/dev/null || printf '\n[[registry]]\nlocation = "%s"\ninsecure = true\n' "$location" >> /etc/containers/registries.conf
done

if ! curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; then
  rm -f "$SOCKET"
  # From /: the service outlives this checkout, and conmon fails every container once its cwd is deleted.
  # exec: the service, not a shell holding this script's stdout, runs in the background (callers read
  # our output with $(...), which waits for every writer).
  (cd / && exec nohup podman --runtime runc system service --time=0 "unix://$SOCKET" >/var/log/ralph-release-podman.log 2>&1) &
  for _ in $(seq 50); do curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1 && break; sleep 0.2; done
fi

# Debian base images, bootstrapped from the mirror: bookworm (the tests' default) and bullseye (Ralph
# 20241023.1's Python 3.9 era, for the build of Ralph's real tree).
base_image() { # <image> <suite>
  podman image exists "$1" && return 0
  local rootfs
  rootfs=$(mktemp -d)
  # mktemp makes the directory 0700; as the image root it would lock every non-root user out of /.
  chmod 0755 "$rootfs"
  debootstrap --variant=minbase "$2" "$rootfs" "$MIRROR" >"/var/log/ralph-release-debootstrap-$2.log" 2>&1
  # apt in the image uses the same mirror as this machine.
  echo "deb $MIRROR $2 main" > "$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$1" >/dev/null
  rm -rf "$rootfs"
}
# Side by side: each is the mirror's bandwidth and the disk, not the CPU.
base_image "$BASE_IMAGE" bookworm &
bookworm=$!
base_image "${RALPH_RELEASE_BULLSEYE_IMAGE:-localhost/debian:bullseye}" bullseye &
bullseye=$!
wait "$bookworm"
wait "$bullseye"

if ! curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1; then
  mkdir -p /var/lib/ralph-release-registry
  cat > /etc/ralph-release-registry.yml <<'CONF'
version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/ralph-release-registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
CONF
  (cd / && exec nohup docker-registry serve /etc/ralph-release-registry.yml >/var/log/ralph-release-registry.log 2>&1) &
  for _ in $(seq 50); do curl -sf http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break; sleep 0.2; done
fi

echo "unix://$SOCKET"
