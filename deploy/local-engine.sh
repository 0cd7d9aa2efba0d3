#!/usr/bin/env bash
# A Docker engine and the base images the compose stack needs, on a Debian bookworm machine that
# reaches only Debian's apt repositories and the npm registry (no container registry). Idempotent:
# every step is skipped when its result is already there. Run as root.
#
#   deploy/local-engine.sh            # = setup: install, start the engine, make the base images
#   deploy/local-engine.sh start      # only start the engine (after a reboot, or when CI starts)
#   deploy/local-engine.sh stop       # stop the engine (containers stop with it)
#   deploy/local-engine.sh env        # prints DOCKER_HOST=… for `eval "$(deploy/local-engine.sh env)"`
#
# What it does, and why this way (issue 19):
# - engine: Debian's docker.io (20.10) + containerd, started as a separate dockerd with its own socket,
#   data root and exec root, `--iptables=false --bridge=none`: it changes no firewall rule and adds no
#   default bridge. A compose project still gets its own bridge network, so its containers reach each
#   other by service name; they cannot reach the outside world (builds use the host network instead).
# - Compose v2 and buildx: not in bookworm; Debian trixie has them as static Go binaries (they need only
#   libc6 >= 2.34). trixie is added as an apt source pinned at priority 100, so nothing is ever upgraded
#   from it; `apt-get download` fetches the two .deb files, which are unpacked, not installed.
# - base images, made locally: debootstrap (minbase) bookworm + the official Node binary from the npm
#   package node-linux-<arch> (what the npm `node` package installs) + npm itself from the registry,
#   tagged as the Dockerfile's NODE_IMAGE, with a `node` user of uid 1000 as in the official image; and
#   a Redis image from Debian's redis-server.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SOCK=${NIGHTSHIFT_DOCKER_SOCK:-/run/nightshift-docker.sock}
DATA_ROOT=${NIGHTSHIFT_DOCKER_ROOT:-/var/lib/nightshift-docker}
EXEC_ROOT=/run/nightshift-docker
PIDFILE=/run/nightshift-docker.pid
LOG=/var/log/nightshift-dockerd.log
CACHE=${NIGHTSHIFT_ENGINE_CACHE:-/var/cache/nightshift-engine}
PLUGINS=/usr/local/lib/docker/cli-plugins
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# One Node major for the image, CI and this script: .nvmrc. The image tag is the Dockerfile's default.
NODE_MAJOR=$(tr -d ' \nv' <"$ROOT/.nvmrc")
NODE_IMAGE=$(sed -n 's/^ARG NODE_IMAGE=//p' "$ROOT/deploy/Dockerfile")
NPM_VERSION=$(node -p "require('$ROOT/package.json').packageManager.split('@')[1]")
REDIS_IMAGE=${NIGHTSHIFT_REDIS_IMAGE:-nightshift-local/redis:7}
export DOCKER_HOST="unix://$SOCK"

log() { printf 'local-engine: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts dockerd)"

# apt may be busy with another apt-get on this machine: wait for the lock rather than fail.
apt_get() {
  local i
  for i in $(seq 1 60); do
    if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 "$@"; then return 0; fi
    log "apt-get $1 failed (attempt $i), retrying in 5 s"
    sleep 5
  done
  return 1
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v bwrap >/dev/null || missing+=(bubblewrap)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} from Debian"
    apt_get update
    apt_get install -y --no-install-recommends "${missing[@]}"
  fi
  # docker.io may have started its own daemon through systemd; ours runs beside it, never instead.
}

install_plugins() {
  if [ -x "$PLUGINS/docker-compose" ] && [ -x "$PLUGINS/docker-buildx" ]; then return 0; fi
  log "fetching Compose v2 and buildx from Debian trixie (static binaries)"
  cat >/etc/apt/sources.list.d/nightshift-trixie.sources <<EOF
# Added by nightshift deploy/local-engine.sh: only for docker-compose and docker-buildx (pinned below).
Types: deb
URIs: $MIRROR
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >/etc/apt/preferences.d/nightshift-trixie <<'EOF'
# Never install or upgrade from trixie unless asked for by name (priority 100 < bookworm's 500).
Package: *
Pin: release n=trixie
Pin-Priority: 100
EOF
  apt_get update
  local dir="$CACHE/plugins"
  rm -rf "$dir" && mkdir -p "$dir/x"
  (cd "$dir" && apt_get download docker-compose/trixie docker-buildx/trixie)
  local deb
  for deb in "$dir"/*.deb; do dpkg-deb -x "$deb" "$dir/x"; done
  mkdir -p "$PLUGINS"
  install -m 0755 "$dir/x/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGINS/docker-compose"
  install -m 0755 "$dir/x/usr/libexec/docker/cli-plugins/docker-buildx" "$PLUGINS/docker-buildx"
}

engine_up() { [ -S "$SOCK" ] && docker version >/dev/null 2>&1; }

start_engine() {
  if engine_up; then return 0; fi
  log "starting dockerd on $SOCK (data in $DATA_ROOT, log $LOG)"
  mkdir -p "$DATA_ROOT" "$EXEC_ROOT"
  # setsid: the engine must outlive the shell (and the test) that started it.
  setsid dockerd \
    --host "unix://$SOCK" \
    --data-root "$DATA_ROOT" \
    --exec-root "$EXEC_ROOT" \
    --pidfile "$PIDFILE" \
    --iptables=false --ip-masq=false --bridge=none \
    >>"$LOG" 2>&1 </dev/null &
  local i
  for i in $(seq 1 60); do
    if engine_up; then log "engine up: $(docker version --format '{{.Server.Version}}')"; return 0; fi
    sleep 1
  done
  tail -n 30 "$LOG" >&2
  die "dockerd did not answer on $SOCK within 60 s"
}

stop_engine() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then return 0; fi
  kill "$pid"
  local i
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { log "engine stopped"; return 0; }
    sleep 1
  done
  die "dockerd ($pid) did not stop within 60 s"
}

# A bookworm minbase root file system, kept as a tarball so both images start from the same one.
rootfs() {
  local tarball="$CACHE/bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    log "debootstrap --variant=minbase bookworm (a few minutes, once)"
    local dir="$CACHE/rootfs-build"
    rm -rf "$dir"
    debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >&2
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$MIRROR" "$MIRROR" >"$dir/etc/apt/sources.list"
    slim "$dir"
    tar -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  printf '%s' "$tarball"
}

# What a container never needs: apt's caches and lists, documentation, man pages, other locales.
slim() {
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb \
    "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/info/* "$1"/var/log/*.log
  find "$1/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'C.*' -exec rm -rf {} + 2>/dev/null || true
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

node_image() {
  if image_exists "$NODE_IMAGE"; then return 0; fi
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) die "no node-linux package for $(uname -m)" ;;
  esac
  log "making $NODE_IMAGE: bookworm minbase + node-linux-$arch@$NODE_MAJOR + npm@$NPM_VERSION from the npm registry"
  local dir="$CACHE/node-image"
  rm -rf "$dir" && mkdir -p "$dir/root" "$dir/pack"
  tar -C "$dir/root" -xf "$(rootfs)"
  (cd "$dir/pack" && npm pack --silent "node-linux-$arch@$NODE_MAJOR" "npm@$NPM_VERSION" >/dev/null)
  tar -xzf "$dir"/pack/node-linux-*.tgz -C "$dir/pack"
  install -m 0755 "$dir/pack/package/bin/node" "$dir/root/usr/local/bin/node"
  rm -rf "$dir/pack/package"
  mkdir -p "$dir/root/usr/local/lib/node_modules/npm"
  tar -xzf "$dir"/pack/npm-*.tgz -C "$dir/root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$dir/root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$dir/root/usr/local/bin/npx"
  # The official image's unprivileged user: the Dockerfile runs the services as `node` (uid 1000).
  chroot "$dir/root" groupadd --gid 1000 node
  chroot "$dir/root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  local version
  version=$(chroot "$dir/root" /usr/local/bin/node --version)
  tar -C "$dir/root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c "ENV NODE_VERSION=${version#v}" \
    -c 'CMD ["node"]' \
    -m "bookworm minbase + node $version (nightshift deploy/local-engine.sh)" - "$NODE_IMAGE" >/dev/null
  rm -rf "$dir"
  log "made $NODE_IMAGE (node $version)"
}

redis_image() {
  if image_exists "$REDIS_IMAGE"; then return 0; fi
  log "making $REDIS_IMAGE: bookworm minbase + Debian's redis-server"
  local dir="$CACHE/redis-image"
  rm -rf "$dir" && mkdir -p "$dir"
  tar -C "$dir" -xf "$(rootfs)"
  cp /etc/resolv.conf "$dir/etc/resolv.conf"
  chroot "$dir" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive chroot "$dir" apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The official image's layout: working directory /data, owned by the redis user; the compose file
  # mounts its redis.conf at /usr/local/etc/redis/redis.conf.
  mkdir -p "$dir/data" "$dir/usr/local/etc/redis"
  chroot "$dir" chown redis:redis /data
  : >"$dir/etc/resolv.conf"
  slim "$dir"
  tar -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'WORKDIR /data' -c 'USER redis' -c 'EXPOSE 6379' -c 'CMD ["redis-server"]' \
    -m "bookworm minbase + redis-server (nightshift deploy/local-engine.sh)" - "$REDIS_IMAGE" >/dev/null
  rm -rf "$dir"
  log "made $REDIS_IMAGE"
}

mkdir -p "$CACHE"
case "${1:-setup}" in
  setup)
    install_packages
    install_plugins
    start_engine
    node_image
    redis_image
    log "ready: export DOCKER_HOST=$DOCKER_HOST; docker compose $(docker compose version --short)"
    ;;
  start) start_engine ;;
  stop) stop_engine ;;
  env) printf 'DOCKER_HOST=%s\n' "$DOCKER_HOST" ;;
  *) die "usage: $0 [setup|start|stop|env]" ;;
esac
