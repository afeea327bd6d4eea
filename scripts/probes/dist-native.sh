#!/bin/sh
# Builds and runs scripts/probes/dist-native.cc against LIBTORCH (a libtorch zip or a pip
# site-packages/torch; default Debian's) with the defines scripts/libtorch-paths.cjs chooses:
#   LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))') sh scripts/probes/dist-native.sh
set -e
cd "$(dirname "$0")/../.."
q() { node scripts/libtorch-paths.cjs "$1"; }
defines=$(q defines | sed 's/\([^ ]*\)/-D\1/g')
case "$defines" in *TLCV_WITH_DIST*) ;; *) echo "dist-native: this libtorch has no c10d with Gloo headers (defines: $(q defines))"; exit 1 ;; esac
includes=""
for d in $(q include) $(q extra-includes) native native/shim; do includes="$includes -I$d"; done
out=${TMPDIR:-/tmp}/tlcv-dist-native
# shellcheck disable=SC2086
g++ -std=c++17 -O1 -D_GLIBCXX_USE_CXX11_ABI=$(q abi) $defines $includes \
  scripts/probes/dist-native.cc native/core/dist_group.cc native/core/dist_reducer.cc \
  -o "$out" $(q libdir) -ltorch -ltorch_cpu -lc10 $(q extra-libs) -pthread
"$out"
