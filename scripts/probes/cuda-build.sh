#!/usr/bin/env bash
# Builds the addon with g++ alone (no node-gyp, no make) against the libtorch that LIBTORCH
# names, for a GPU machine that has a compiler and a pip CUDA torch but none of node-gyp's
# tools. It reads binding.gyp's sources and asks scripts/libtorch-paths.cjs for the same
# include folders, defines and libraries as `npm run build:native`, compiling on every core.
#
#   LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))') \
#     NODE_INCLUDE=/usr/include/node bash scripts/probes/cuda-build.sh
#
# TLCV_DIST=off leaves c10d out (a torch without Gloo's headers).
set -euo pipefail
: "${LIBTORCH:?set LIBTORCH to a libtorch folder or a pip torch package}"
node_include=${NODE_INCLUDE:-$(dirname "$(dirname "$(command -v node)")")/include/node}
[ -f "$node_include/node_api.h" ] || { echo "node_api.h not found in $node_include: set NODE_INCLUDE" >&2; exit 2; }
q() { node scripts/libtorch-paths.cjs "$1"; }

inc=(-I"$(node -p "require('node-addon-api').include_dir")" -Inative -Inative/shim -I"$node_include")
for d in $(q include) $(q extra-includes); do inc+=(-I"$d"); done
defs=(-DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED -D_GLIBCXX_USE_CXX11_ABI="$(q abi)" -DTLCV_HAVE_AVX2)
for d in $(q defines); do defs+=(-D"$d"); done
flags=(-std=c++17 -fexceptions -frtti -O2 -fPIC -fopenmp -Wno-unused-parameter -Wno-deprecated-declarations)
echo "defines: ${defs[*]}"

obj=build/Release/obj.cuda
mkdir -p "$obj"
mapfile -t sources < <(node -e "console.log(JSON.parse(require('fs').readFileSync('binding.gyp', 'utf8')).targets[0].sources.join('\n'))")
pids=()
for s in "${sources[@]}"; do
  g++ "${flags[@]}" "${defs[@]}" "${inc[@]}" -c "$s" -o "$obj/$(basename "$s" .cc).o" &
  pids+=($!)
done
g++ "${flags[@]}" "${defs[@]}" "${inc[@]}" -mavx2 -mfma -c native/core/fused_optim_avx2.cc -o "$obj/fused_optim_avx2.o" &
pids+=($!)
failed=0
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || { echo "compilation failed" >&2; exit 1; }
# shellcheck disable=SC2046
g++ -shared -fopenmp -o build/Release/tlcv_native.node "$obj"/*.o $(q libdir) -ltorch -ltorch_cpu -lc10 $(q extra-libs)
echo "built build/Release/tlcv_native.node against $LIBTORCH"
