#!/usr/bin/env bash
# Fetch ONNX Runtime's C/C++ headers (Debian trixie's libonnxruntime-dev, ~85 kB) into DEST,
# without installing anything: a private apt state, `apt-get download`, `dpkg -x`.
# Usage: fetch_onnxruntime_headers.sh DEST   -> headers in DEST/include/onnxruntime
# The onnxruntime wheel ships the library but no headers; this is how CMake gets them on a
# fresh Debian machine. Users with their own ONNX Runtime set -DHADML_ONNXRUNTIME_ROOT instead.
set -euo pipefail
dest=${1:?usage: $0 DEST}
mirror=${HADML_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
if [ -f "$dest/include/onnxruntime/onnxruntime_cxx_api.h" ]; then exit 0; fi
command -v apt-get >/dev/null && command -v dpkg >/dev/null || {
  echo "fetch_onnxruntime_headers: needs apt-get and dpkg (Debian/Ubuntu)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$work/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
      -o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
apt-get "${opts[@]}" -qq update
(cd "$work" && apt-get "${opts[@]}" -qq download libonnxruntime-dev)
dpkg -x "$work"/libonnxruntime-dev_*.deb "$work/x"
mkdir -p "$dest/include"
rm -rf "$dest/include/onnxruntime"
cp -r "$work/x/usr/include/onnxruntime" "$dest/include/onnxruntime"
echo "fetch_onnxruntime_headers: $(ls "$dest/include/onnxruntime" | wc -l) headers in $dest/include/onnxruntime"
