#!/usr/bin/env bash
# Download the Debian packages of the tests' real toolbox (strace, tcpdump, curl, procps and the libraries they
# load) into a cache folder, without installing anything: the tests unpack them into a root filesystem and
# `docker import` it (tests/integration/toolbox_debs.py). Only `lib*` dependencies are kept: maintainer-script
# and packaging dependencies (perl, debconf, dpkg, adduser...) are not needed to run the binaries.
# Usage: download-toolbox-debs.sh [DIR]   (default: ${XDG_CACHE_HOME:-~/.cache}/debugbox/toolbox-debs)
set -euo pipefail
dir=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/debugbox/toolbox-debs}
tools=(strace tcpdump curl procps)
mkdir -p "$dir"
if ! apt-cache show "${tools[@]}" >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then echo "toolbox-debs: apt has no package lists; run apt-get update as root" >&2; exit 1; fi
  apt-get update -q >/dev/null
fi
mapfile -t pkgs < <(
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "${tools[@]}" 2>/dev/null |
    grep -v '^[ <]' | sort -u |
    grep -E '^(strace|tcpdump|curl|procps|lib.*|zlib1g)$' |
    grep -Ev 'perl|^libpam|^libsemanage|^libdebian-installer|^libnewt|^libslang|^libtextwrap|^libelogind|^libgdbm|^libdb5|^libreadline|^libaudit'
)
cd "$dir"
rm -f ./*.deb ./*.deb.part  # one version of each: the image is built from exactly what is here
# apt's sandbox user may not be able to write here; the download is of signed packages either way.
apt-get download -q -o APT::Sandbox::User=root "${pkgs[@]}" >/dev/null
echo "toolbox-debs: ${#pkgs[@]} packages in $dir"
