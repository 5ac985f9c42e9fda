#!/usr/bin/env bash
# Builds the base image of ferry's container image without any image registry: a Debian
# bookworm root filesystem made by debootstrap from Debian's package mirror, with a JRE and the
# tools kube-proxy's own image carries (iptables with both the nf_tables and the legacy
# backend, ipset, conntrack, iproute2, kmod), imported into the local Docker engine.
# socat is there for the multi-node test's backends and client; procps for sysctl.
#
#   deploy/image/build-base.sh [IMAGE]      (default ferry-base:bookworm; needs root)
#
# Idempotent: does nothing when the image already exists (delete it to rebuild).
# Environment: FERRY_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              FERRY_DEBIAN_SECURITY (default http://deb.debian.org/debian-security).
set -euo pipefail

image="${1:-ferry-base:bookworm}"
mirror="${FERRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${FERRY_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
packages=(openjdk-17-jre-headless iptables ipset conntrack iproute2 kmod procps socat ca-certificates)

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "build-base: $image exists; nothing to do"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "build-base: must run as root (debootstrap and chroot)" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "build-base: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build-base: no Docker engine answers (start dockerd)" >&2; exit 1; }

root="$(mktemp -d /var/tmp/ferry-base.XXXXXX)"
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

start=$SECONDS
debootstrap --variant=minbase bookworm "$root" "$mirror"
echo "build-base: debootstrap took $((SECONDS - start)) s"

cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES
# Packages must not start daemons inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
# The JRE's post-install scripts (ca-certificates-java) run java, which wants /proc.
mount -t proc proc "$root/proc"

step=$SECONDS
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update
chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${packages[@]}"
chroot "$root" apt-get clean
echo "build-base: package install took $((SECONDS - step)) s"

umount "$root/proc"
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/tmp/* "$root"/var/log/*.log
# The image's /etc/hosts, /etc/hostname and /etc/resolv.conf are supplied by Docker at run time.

step=$SECONDS
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  - "$image"
echo "build-base: import took $((SECONDS - step)) s; $image built in $((SECONDS - start)) s"
