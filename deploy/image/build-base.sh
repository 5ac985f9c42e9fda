#!/usr/bin/env bash
# Builds the base images of ferry's container image without any image registry, from Debian's
# package mirror (debootstrap of bookworm's minbase), and imports them into the local Docker engine:
#
#   IMAGE       the production base: kube-proxy's tools (iptables with both the nf_tables and the
#               legacy backend, ipset, conntrack, iproute2, kmod) and a Java runtime made by jlink
#               with only the JDK modules the proxy needs (deploy/image/java-modules) in /opt/java.
#               Without Debian's package manager, perl, documentation, locales and iconv modules:
#               nothing in the image installs packages or needs them.
#   IMAGE-test  IMAGE plus one layer with the multi-node test's tools (socat for its backends and
#               clients, procps for sysctl): never under a production image.
#
#   deploy/image/build-base.sh [IMAGE]      (default ferry-runtime:bookworm; needs root)
#
# Idempotent: does nothing when both images exist and were built from this script and this
# module list (a label holds their hash); otherwise builds both again.
# Environment: FERRY_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#              FERRY_DEBIAN_SECURITY (default http://deb.debian.org/debian-security).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
image="${1:-ferry-runtime:bookworm}"
test_image="${image}-test"
mirror="${FERRY_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${FERRY_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
tools=(iptables ipset conntrack iproute2 kmod)
test_tools=(socat procps)
jdk=openjdk-17-jdk-headless # jlink and the jmods; removed again once the runtime is made
modules="$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/java-modules" | tr -d ' ' | paste -sd, -)"
hash="$(cat "$0" "$here/java-modules" | sha256sum | cut -c1-16)"

built_here() {
  [ "$(docker image inspect -f '{{index .Config.Labels "dev.ferry.base"}}' "$1" 2>/dev/null)" = "$hash" ]
}
if built_here "$image" && built_here "$test_image"; then
  echo "build-base: $image and $test_image are up to date; nothing to do"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "build-base: must run as root (debootstrap and chroot)" >&2
  exit 1
fi
command -v debootstrap >/dev/null || { echo "build-base: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
command -v strip >/dev/null || { echo "build-base: strip is not installed (apt-get install binutils)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build-base: no Docker engine answers (start dockerd)" >&2; exit 1; }

work="$(mktemp -d /var/tmp/ferry-base.XXXXXX)"
root="$work/root"
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
in_root() {
  chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive "$@"
}

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
# The JDK's post-install scripts (ca-certificates-java) run java, which wants /proc.
mount -t proc proc "$root/proc"

step=$SECONDS
in_root apt-get update
in_root apt-get install -y --no-install-recommends "${tools[@]}" "$jdk"
echo "build-base: package install took $((SECONDS - step)) s"

# --compress=2 keeps lib/modules small: the classes the proxy uses come from the class data
# sharing archive that deploy/Dockerfile makes (JDK and proxy classes), not from lib/modules. No
# default CDS archive: that one would hold only the JDK's classes. The native libraries lose their
# symbol tables below (jlink's --strip-native-debug-symbols would need objcopy in the root).
in_root jlink --add-modules "$modules" --output /opt/java --compress=2 --strip-java-debug-attributes --no-man-pages \
  --no-header-files
# Debian ships libjvm.so with its full symbol table (4 MB): without it, a JVM crash report names
# native frames by their exported symbols only. The host's strip, as the root has no binutils.
find "$root/opt/java" -type f \( -name '*.so' -o -path '*/bin/*' \) -exec strip --strip-unneeded {} +
in_root apt-get purge -y --autoremove "$jdk" openjdk-17-jre-headless ca-certificates-java java-common
in_root /opt/java/bin/java -version
umount "$root/proc"

# The production image holds the root file system without these (a pattern per line, for tar):
# the package manager and what only it, perl or the documentation use, the libraries only they
# load (gnutls and its helpers: the check below fails if any program or library kept needs one).
cat >"$work/exclude" <<'EXCLUDE'
./proc/*
./tmp/*
./usr/sbin/policy-rc.d
./var/lib/apt
./var/cache/*
./var/log/*
./var/lib/dpkg
./usr/bin/apt*
./usr/bin/dpkg*
./usr/lib/apt
./usr/lib/dpkg
./usr/lib/*-linux-gnu/libapt-*
./usr/sbin/update-alternatives
./usr/bin/perl*
./usr/lib/*-linux-gnu/perl-base
./usr/share/perl5
./usr/lib/*-linux-gnu/gconv
./usr/share/doc
./usr/share/man
./usr/share/info
./usr/share/locale
./usr/share/lintian
./usr/share/bash-completion
./usr/share/zoneinfo
./usr/lib/*-linux-gnu/libgnutls*
./usr/lib/*-linux-gnu/libunistring*
./usr/lib/*-linux-gnu/libp11-kit*
./usr/lib/*-linux-gnu/pkcs11
./usr/lib/*-linux-gnu/libnettle*
./usr/lib/*-linux-gnu/libhogweed*
./usr/lib/*-linux-gnu/libidn2*
./usr/lib/*-linux-gnu/libtasn1*
./usr/lib/*-linux-gnu/libffi*
./usr/lib/*-linux-gnu/libxxhash*
./usr/lib/*-linux-gnu/libseccomp*
EXCLUDE

step=$SECONDS
tar --numeric-owner -C "$root" -X "$work/exclude" -c . | docker import \
  --change 'ENV PATH=/opt/java/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV JAVA_HOME=/opt/java' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL dev.ferry.base=$hash" \
  --change 'CMD ["/bin/bash"]' \
  - "$image"
echo "build-base: $image imported in $((SECONDS - step)) s"
# Whatever was left out, no program or library kept may miss a library that it found before
# (the JDK's libraries find libjvm.so once java has loaded it: the check puts it on the path).
unresolved='export LD_LIBRARY_PATH=/opt/java/lib/server
  for f in /usr/bin/* /usr/sbin/* /opt/java/bin/* $(find /usr/lib /opt/java/lib -name "*.so*" -type f); do
    ldd "$f" 2>/dev/null | grep "not found" | sed "s|^|$f: |"
  done | sort'
before="$(chroot "$root" /bin/sh -c "$unresolved")"
after="$(docker run --rm --entrypoint /bin/sh "$image" -c "$unresolved")"
missing="$(comm -13 <(echo "$before") <(echo "$after"))"
if [ -n "$missing" ]; then
  echo "build-base: $image lacks libraries that its programs need:" >&2
  echo "$missing" >&2
  docker rmi "$image" >/dev/null
  exit 1
fi

# The test image's layer: whatever installing its tools added or changed (found by ctime: dpkg
# keeps the packages' mtimes), on top of the production image.
touch "$work/stamp"
mount -t proc proc "$root/proc"
in_root apt-get install -y --no-install-recommends "${test_tools[@]}"
umount "$root/proc"
(cd "$root" && find . -xdev -cnewer "$work/stamp" ! -type d) >"$work/test-files"
mkdir "$work/layer"
tar --numeric-owner -C "$root" -X "$work/exclude" --no-recursion -T "$work/test-files" -cf "$work/layer/test-tools.tar"
printf 'FROM %s\nADD test-tools.tar /\n' "$image" >"$work/layer/Dockerfile"
docker build -q -t "$test_image" "$work/layer"
echo "build-base: $image and $test_image built in $((SECONDS - start)) s"
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "${image%%:*}"
