#!/usr/bin/env bash
# Build the images minikube-lite needs, offline, from Debian packages, and push the pullable
# ones to the local registry (127.0.0.1:5000/library/<name>:<tag>), which dockerd uses as its
# docker.io mirror, so that a plain `docker pull nginx` works here.
#
#   nginx:latest = nginx:1.23   mmdebstrap'd Debian nginx, official-image layout and behaviour
#   nginx:1.22                  nginx:1.23 plus /etc/nginx-version = "1.22" (distinct image ID)
#   busybox:latest              Debian busybox-static with all applets linked in /bin
#   registry.k8s.io/pause:3.10  static scripts/pause/pause.c (local only, never pushed)
#   curlimages/curl:latest      mmdebstrap'd Debian curl + ca-certificates (local only, never
#                               pushed: use imagePullPolicy IfNotPresent), for pods that talk
#                               HTTPS, e.g. to the API server with their service-account token
#
# Images that already exist are left alone; delete one (docker rmi) to rebuild it.
# Needs: a running engine (engine.sh) and registry (registry.sh); mmdebstrap, busybox-static,
# gcc and libc6-dev (setup.sh installs them).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$MKL_STATE_DIR/build"
IMG_PATH_ENV='ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

need_root
docker info >/dev/null 2>&1 || die "docker engine is not running (run scripts/engine.sh)"
registry_up=0

img_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Tars directory $1 (owners as numbers) and imports it as image $2; further args are
# `docker import` options (-c ...).
import_dir() {
  local dir=$1 ref=$2; shift 2
  tar --numeric-owner -C "$dir" -cf - . | docker import "$@" -m "minikube-lite scripts/images.sh" - "$ref" >/dev/null
}

# Like import_dir, but through `docker load`, so the image config can be anything: $3 is
# the JSON of the image's "config" object (Env, Cmd, ExposedPorts, StopSignal, ...).
load_dir() {
  local dir=$1 ref=$2 config=$3 work="$BUILD/load.$$" diffid cfgid created arch
  rm -rf "$work" && mkdir -p "$work/layer"
  tar --numeric-owner -C "$dir" -cf "$work/layer/layer.tar" .
  diffid=$(sha256sum <"$work/layer/layer.tar" | cut -d' ' -f1)
  mv "$work/layer" "$work/$diffid"
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  arch=$(dpkg --print-architecture)
  printf '{"architecture":"%s","os":"linux","created":"%s","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"minikube-lite scripts/images.sh"}]}' \
    "$arch" "$created" "$config" "$diffid" "$created" >"$work/config.json"
  cfgid=$(sha256sum <"$work/config.json" | cut -d' ' -f1)
  mv "$work/config.json" "$work/$cfgid.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
    "$cfgid" "$ref" "$diffid" >"$work/manifest.json"
  tar -C "$work" -cf - manifest.json "$cfgid.json" "$diffid" | docker load >/dev/null
  rm -rf "$work"
}

# ---------------------------------------------------------------------------------------------
# pause
# ---------------------------------------------------------------------------------------------
build_pause() {
  local ref=registry.k8s.io/pause:3.10 dir="$BUILD/pause"
  log "building $ref (static scripts/pause/pause.c)"
  rm -rf "$dir" && mkdir -p "$dir/rootfs"
  gcc -static -O2 -s -Wall -o "$dir/rootfs/pause" "$SCRIPT_DIR/pause/pause.c"
  chmod 0755 "$dir/rootfs/pause"
  import_dir "$dir/rootfs" "$ref" -c 'ENTRYPOINT ["/pause"]' -c "$IMG_PATH_ENV"
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------
# busybox
# ---------------------------------------------------------------------------------------------
build_busybox() {
  local ref=busybox:latest dir="$BUILD/busybox" bb applet
  bb=$(command -v busybox 2>/dev/null || true)
  [[ -x /bin/busybox ]] && bb=/bin/busybox
  [[ -n $bb ]] || die "busybox not found (install busybox-static)"
  log "building $ref (Debian busybox-static)"
  rm -rf "$dir" && mkdir -p "$dir/rootfs"
  local r="$dir/rootfs"
  mkdir -p "$r"/{bin,etc,root,tmp,var/tmp,home,dev,proc,sys,usr/bin,usr/sbin}
  chmod 1777 "$r/tmp" "$r/var/tmp"
  chmod 0700 "$r/root"
  cp "$bb" "$r/bin/busybox"
  chmod 0755 "$r/bin/busybox"
  for applet in $("$r/bin/busybox" --list); do
    [[ $applet == busybox || -z $applet ]] && continue
    ln -sf busybox "$r/bin/$applet"
  done
  "$r/bin/sh" -c 'true' || die "busybox image: $bb is not usable as /bin/sh (not static?)"
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
www-data:x:33:
nogroup:x:65534:
EOF
  import_dir "$r" "$ref" -c 'CMD ["sh"]' -c "$IMG_PATH_ENV"
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------
# nginx
# ---------------------------------------------------------------------------------------------
# Debian 12 has nginx-light; Debian 13 folded it into nginx. $1 = suite to build.
nginx_package() {
  local suite=$1
  if [[ $suite == "$(debian_codename)" ]]; then
    # The machine's apt lists describe this suite: ask them.
    if apt-cache show nginx-light >/dev/null 2>&1; then
      echo nginx-light
      return
    elif apt-cache show nginx >/dev/null 2>&1; then
      echo nginx
      return
    fi
  fi
  case "$suite" in
    buster | bullseye | bookworm) echo nginx-light ;;
    *) echo nginx ;;
  esac
}

# apt sources for mmdebstrap: the machine's own, so it uses the same mirror as apt-get.
mmdebstrap_mirrors() {
  if [[ -s /etc/apt/sources.list.d/debian.sources ]]; then
    echo /etc/apt/sources.list.d/debian.sources
  elif grep -qE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list 2>/dev/null; then
    echo /etc/apt/sources.list
  fi
  # otherwise mmdebstrap's default (deb.debian.org + updates + security)
}

write_nginx_files() {
  local r=$1
  rm -f "$r/etc/nginx/sites-enabled/default" "$r/var/www/html/index.nginx-debian.html"
  mkdir -p "$r/etc/nginx/conf.d" "$r/usr/share/nginx/html" "$r/var/log/nginx" "$r/var/cache/nginx"

  # Workers run as root (the official image uses an unprivileged `nginx` user): then a volume
  # mounted over /usr/share/nginx/html is served whatever its modes (e.g. a 0700 mkdtemp dir).
  cat >"$r/etc/nginx/nginx.conf" <<'EOF'

user  root;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;

include /etc/nginx/modules-enabled/*.conf;

events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    include /etc/nginx/conf.d/*.conf;
}
EOF

  cat >"$r/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen       80;
    server_name  localhost;

    #access_log  /var/log/nginx/host.access.log  main;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    #error_page  404              /404.html;

    # redirect server error pages to the static page /50x.html
    #
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
EOF

  cat >"$r/usr/share/nginx/html/index.html" <<'EOF'
<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
EOF

  cat >"$r/usr/share/nginx/html/50x.html" <<'EOF'
<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
EOF

  # docker logs shows requests and errors, as with the official image.
  ln -sfn /dev/stdout "$r/var/log/nginx/access.log"
  ln -sfn /dev/stderr "$r/var/log/nginx/error.log"
  echo "1.23" >"$r/etc/nginx-version"

  # Leftovers of the build that an image does not need.
  rm -rf "${r:?}"/dev/* "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/* "$r"/var/cache/debconf/*-old \
    "$r"/var/log/apt "$r"/var/log/dpkg.log "$r"/var/log/alternatives.log "$r"/var/log/bootstrap.log \
    "$r"/tmp/* "$r"/etc/machine-id
  # (rm first: these may be symlinks pointing out of the rootfs)
  rm -f "$r/etc/hostname" "$r/etc/resolv.conf"
  : >"$r/etc/hostname"
  : >"$r/etc/resolv.conf"
}

build_nginx() {
  local ref=$1 dir="$BUILD/nginx" suite pkg
  suite=${MKL_IMAGE_SUITE:-$(debian_codename)}
  pkg=$(nginx_package "$suite")
  log "building $ref (mmdebstrap $suite, $pkg; ~30 s)"
  rm -rf "$dir" && mkdir -p "$dir"
  local opts=(
    --variant=essential
    --include="$pkg"
    --aptopt='Acquire::Check-Valid-Until "false"'
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/lintian/*'
    --dpkgopt='path-exclude=/usr/share/bash-completion/*'
    --dpkgopt='path-exclude=/usr/lib/*/gconv/*'
  )
  # Without it, bookworm's init-system-helpers drags in usrmerge and all of perl (+50 MB).
  if [[ -d /usr/share/mmdebstrap/hooks/maybe-merged-usr ]]; then
    opts+=(--hook-dir=/usr/share/mmdebstrap/hooks/maybe-merged-usr)
  fi
  local mirrors=()
  # The machine's apt sources name its own suite; for another (MKL_IMAGE_SUITE) use
  # mmdebstrap's default mirrors.
  if [[ $suite == "$(debian_codename)" ]]; then
    mapfile -t mirrors < <(mmdebstrap_mirrors)
  fi
  if ! mmdebstrap "${opts[@]}" "$suite" "$dir/rootfs" "${mirrors[@]}" </dev/null >"$dir/mmdebstrap.log" 2>&1; then
    tail -n 30 "$dir/mmdebstrap.log" >&2
    die "mmdebstrap failed (full log: $dir/mmdebstrap.log)"
  fi
  write_nginx_files "$dir/rootfs"
  [[ -x $dir/rootfs/bin/sh && -x $dir/rootfs/usr/sbin/nginx ]] || die "nginx rootfs lacks /bin/sh or nginx"
  # `docker import` rejects STOPSIGNAL (dockerd 20.10), so assemble a `docker load` archive.
  load_dir "$dir/rootfs" "$ref" '{"Env":["'"${IMG_PATH_ENV#ENV }"'"],"Cmd":["nginx","-g","daemon off;"],"ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGQUIT"}'
  rm -rf "$dir"
}

# nginx:1.22 = nginx:1.23 + one small layer with /etc/nginx-version = 1.22 (shares the base layer).
derive_nginx_122() {
  local cid dir="$BUILD/nginx-1.22"
  log "building nginx:1.22 (nginx:1.23 with /etc/nginx-version=1.22)"
  rm -rf "$dir" && mkdir -p "$dir"
  echo "1.22" >"$dir/nginx-version"
  cid=$(docker create nginx:1.23)
  if docker cp "$dir/nginx-version" "$cid:/etc/nginx-version" >/dev/null &&
    docker commit -m "minikube-lite scripts/images.sh: nginx 1.22" "$cid" nginx:1.22 >/dev/null; then
    docker rm -f "$cid" >/dev/null
  else
    docker rm -f "$cid" >/dev/null 2>&1 || true
    die "could not derive nginx:1.22"
  fi
  rm -rf "$dir"
}

ensure_nginx() {
  local have="" r
  for r in nginx:1.23 nginx:latest; do
    if img_exists "$r"; then have=$r; break; fi
  done
  if [[ -z $have ]]; then
    for r in 1.23 latest; do
      if restore nginx "$r"; then have=nginx:$r; break; fi
    done
  fi
  if [[ -z $have ]]; then
    build_nginx nginx:1.23
    have=nginx:1.23
  fi
  for r in nginx:1.23 nginx:latest; do
    if ! img_exists "$r"; then docker tag "$have" "$r"; fi
  done
  if ! img_exists nginx:1.22 && ! restore nginx 1.22; then derive_nginx_122; fi
}

# The busybox tags the Kubernetes documentation's examples name (ConfigMaps, Secrets, the
# downward API, projected volumes), so those manifests run unchanged: busybox plus a
# `printenv` (the docs' examples call it; Debian's busybox-static has no such applet).
# busybox:1.28 is pushed (pullable, like nginx:1.22); the registry.k8s.io ones stay local
# (pinned tags, so their default pull policy IfNotPresent never pulls).
DOC_BUSYBOX_TAGS="busybox:1.28 registry.k8s.io/busybox:1.27.2 registry.k8s.io/busybox:1.24"
tag_doc_images() {
  local r missing=0 dir="$BUILD/busybox-docs"
  for r in $DOC_BUSYBOX_TAGS; do img_exists "$r" || missing=1; done
  [[ $missing == 1 ]] || return 0
  log "building the documentation's busybox tags: $DOC_BUSYBOX_TAGS"
  rm -rf "$dir" && mkdir -p "$dir"
  cat >"$dir/printenv" <<'EOF'
#!/bin/sh
# printenv [NAME...], as coreutils prints it (busybox-static has no printenv applet).
[ $# -eq 0 ] && exec env
rc=0
for n in "$@"; do
  if env | grep -q "^$n="; then eval "printf '%s\n' \"\$$n\""; else rc=1; fi
done
exit $rc
EOF
  chmod 0755 "$dir/printenv"
  printf 'FROM busybox:latest\nCOPY printenv /bin/printenv\n' >"$dir/Dockerfile"
  DOCKER_BUILDKIT=0 docker build -q -t minikube-lite/busybox-docs:latest "$dir" >/dev/null 2>"$dir/build.log" ||
    { cat "$dir/build.log" >&2; die "building the documentation's busybox tags failed"; }
  for r in $DOC_BUSYBOX_TAGS; do docker tag minikube-lite/busybox-docs:latest "$r"; done
}

# ---------------------------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------------------------
# Config digest (= image ID) of library/$1:$2 in the local registry, or nothing.
registry_image_id() {
  curl -fsS --max-time 5 \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://${MKL_REGISTRY_ADDR}/v2/library/$1/manifests/$2" 2>/dev/null |
    tr -d ' \t\r\n' | grep -o '"config":{[^}]*}' | grep -o 'sha256:[0-9a-f]\{64\}' || true
}

# A missing image that the local registry still has is pulled back from it (same image ID,
# seconds instead of a rebuild). Pulls by the 127.0.0.1:5000/... name, so dockerd never falls
# back to docker.io. Returns 1 when the registry does not have it.
restore() {
  local name=$1 tag=$2 ref="${MKL_REGISTRY_ADDR}/library/$1:$2"
  [[ $registry_up == 1 && -n $(registry_image_id "$name" "$tag") ]] || return 1
  log "restoring $name:$tag from the local registry"
  docker pull -q "$ref" >/dev/null || return 1
  docker tag "$ref" "$name:$tag" || return 1
  docker rmi "$ref" >/dev/null || true
}

# Make sure local image $1:$2 is in the registry as library/$1:$2, with the same image ID.
ensure_pushed() {
  local name=$1 tag=$2 id remote ref
  id=$(docker image inspect -f '{{.Id}}' "$name:$tag")
  remote=$(registry_image_id "$name" "$tag")
  [[ $remote == "$id" ]] && return 0
  ref="${MKL_REGISTRY_ADDR}/library/$name:$tag"
  log "pushing $name:$tag to $ref"
  docker tag "$name:$tag" "$ref"
  if ! docker push "$ref" >"$BUILD/push.log" 2>&1; then
    cat "$BUILD/push.log" >&2
    die "docker push $ref failed"
  fi
  rm -f "$BUILD/push.log"
  docker rmi "$ref" >/dev/null # keep `docker images` tidy; the registry has it
  remote=$(registry_image_id "$name" "$tag")
  [[ $remote == "$id" ]] || die "registry has $remote for $name:$tag, expected $id"
}

# ---------------------------------------------------------------------------------------------
# curl
# ---------------------------------------------------------------------------------------------
build_curl() {
  local ref=curlimages/curl:latest dir="$BUILD/curl" suite
  suite=$(debian_codename)
  log "building $ref (mmdebstrap $suite, curl; ~30 s)"
  rm -rf "$dir" && mkdir -p "$dir"
  local opts=(
    --variant=essential --include=curl,ca-certificates
    --aptopt='Acquire::Check-Valid-Until "false"'
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*'
  )
  if [[ -d /usr/share/mmdebstrap/hooks/maybe-merged-usr ]]; then
    opts+=(--hook-dir=/usr/share/mmdebstrap/hooks/maybe-merged-usr)
  fi
  local mirrors=()
  mapfile -t mirrors < <(mmdebstrap_mirrors)
  if ! mmdebstrap "${opts[@]}" "$suite" "$dir/rootfs" "${mirrors[@]}" </dev/null >"$dir/mmdebstrap.log" 2>&1; then
    tail -n 30 "$dir/mmdebstrap.log" >&2
    die "mmdebstrap failed (full log: $dir/mmdebstrap.log)"
  fi
  [[ -x $dir/rootfs/usr/bin/curl ]] || die "curl rootfs lacks /usr/bin/curl"
  import_dir "$dir/rootfs" "$ref" -c 'ENTRYPOINT ["curl"]' -c 'CMD ["--help"]' -c "$IMG_PATH_ENV"
  rm -rf "$dir"
}

main() {
  mkdir -p "$BUILD"
  registry_up=0
  if curl -fsS --max-time 2 -o /dev/null "http://${MKL_REGISTRY_ADDR}/v2/" 2>/dev/null; then
    registry_up=1
  fi

  # (plain `if`s, not `a || b`: errexit is off inside a function called as `b`)
  if ! img_exists registry.k8s.io/pause:3.10; then build_pause; fi
  if ! img_exists busybox:latest && ! restore busybox latest; then build_busybox; fi
  ensure_nginx
  tag_doc_images
  if ! img_exists curlimages/curl:latest; then build_curl; fi

  [[ $registry_up == 1 ]] || die "registry is not running on ${MKL_REGISTRY_ADDR} (run scripts/registry.sh)"
  for ref in nginx:latest nginx:1.23 nginx:1.22 busybox:latest busybox:1.28; do
    ensure_pushed "${ref%%:*}" "${ref#*:}"
  done
  log "images ready: nginx:latest nginx:1.23 nginx:1.22 busybox:latest $DOC_BUSYBOX_TAGS registry.k8s.io/pause:3.10 curlimages/curl:latest"
}

# Sourcing the file (for a test of one function) runs nothing.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
