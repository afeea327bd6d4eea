// Prints libtorch build settings for binding.gyp. LIBTORCH points at a pytorch.org
// zip or a pip torch folder (as tch-rs does); otherwise Debian's libtorch-dev is used.
'use strict';
const fs = require('fs');
const path = require('path');

function locate() {
  const root = process.env.LIBTORCH;
  if (root) {
    const inc = path.join(root, 'include');
    if (!fs.existsSync(path.join(inc, 'ATen', 'ATen.h'))) {
      throw new Error(`LIBTORCH=${root} has no include/ATen/ATen.h: point it at the unpacked libtorch zip or at site-packages/torch`);
    }
    return { include: [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')], lib: path.join(root, 'lib') };
  }
  if (fs.existsSync('/usr/include/ATen/ATen.h')) {
    return { include: ['/usr/include/torch/csrc/api/include'], lib: '' };
  }
  throw new Error('libtorch not found: install it (apt-get install libtorch-dev) or set LIBTORCH to a libtorch folder');
}

// pip wheels before torch 2.7 were built with the old C++ ABI; the zip names it in its file name.
function cxx11Abi() {
  const v = process.env.LIBTORCH_CXX11_ABI;
  if (v === '0' || v === '1') return v;
  return '1';
}

// Data-parallel training (native/core/dist_*.cc) is built on c10d, for libtorch 1.x and 2.x
// (native/core/dist_compat.h holds the differences). It needs Gloo's headers and, for NCCL, a
// CUDA build with nccl.h. TLCV_DIST=off leaves it out, so that a
// libtorch whose c10d does not compile with tlcv cannot stop the rest of the addon from building.
function torchMajor(dirs) {
  for (const d of dirs) {
    for (const rel of [['torch', 'version.h'], ['torch', 'headeronly', 'version.h']]) {
      const f = path.join(d, ...rel);
      const m = fs.existsSync(f) ? /TORCH_VERSION_MAJOR (\d+)/.exec(fs.readFileSync(f, 'utf8')) : null;
      if (m) return Number(m[1]);
    }
  }
  return NaN;
}

// pip's CUDA wheels put nccl.h and the CUDA runtime's headers beside torch, under
// site-packages/nvidia (nccl/include; cuda_runtime/include for CUDA 12, cu13/include for 13).
// They ship no Gloo headers: Debian's libgloo-dev (/usr/include) or GLOO_INCLUDE_DIR gives them
// (checked with torch 2.11 and Debian's Gloo 0.5.0 headers: scripts/probes/dist-native.sh).
function pipCudaIncludes(found) {
  if (!found.lib) return [];
  const nvidia = path.join(found.lib, '..', '..', 'nvidia');
  const names = fs.existsSync(nvidia) ? fs.readdirSync(nvidia).filter((n) => n === 'nccl' || n === 'cuda_runtime' || /^cu\d+$/.test(n)) : [];
  const dirs = names.map((n) => path.join(nvidia, n, 'include')).filter((d) => fs.existsSync(d));
  return dirs.length > 0 && fs.existsSync('/usr/local/cuda/include') ? [...dirs, '/usr/local/cuda/include'] : dirs;
}

function extraIncludes(found) {
  const env = ['NCCL_INCLUDE_DIR', 'GLOO_INCLUDE_DIR'].map((v) => process.env[v]).filter((d) => d !== undefined && d !== '');
  return [...env, ...pipCudaIncludes(found)];
}

function distributed(found) {
  if ((process.env.TLCV_DIST ?? '').toLowerCase() === 'off') return [];
  const dirs = [...found.include, '/usr/include', '/usr/local/include'];
  const has = (rel) => [...dirs, ...extraIncludes(found)].some((d) => fs.existsSync(path.join(d, rel)));
  const major = torchMajor(dirs);
  const defines = [];
  if ((major === 1 || major === 2) && has('gloo/config.h') && has('torch/csrc/distributed/c10d/ProcessGroupGloo.hpp')) {
    defines.push('TLCV_WITH_DIST', 'USE_C10D_GLOO');
    if (has('nccl.h') && found.lib && fs.existsSync(path.join(found.lib, 'libtorch_cuda.so'))) defines.push('USE_C10D_NCCL', 'USE_NCCL');
  }
  return defines;
}

function extraLibs(found) {
  if (!distributed(found).includes('USE_C10D_NCCL')) return '';
  return fs.existsSync(path.join(found.lib, 'libc10_cuda.so')) ? '-ltorch_cuda -lc10_cuda' : '-ltorch_cuda';
}

const what = process.argv[2];
try {
  const found = locate();
  if (what === 'include') console.log(found.include.join(' '));
  else if (what === 'libdir') console.log(found.lib ? `-L${found.lib} -Wl,-rpath,${found.lib}` : '');
  else if (what === 'abi') console.log(cxx11Abi());
  else if (what === 'defines') console.log(distributed(found).join(' '));
  else if (what === 'extra-libs') console.log(extraLibs(found));
  else if (what === 'extra-includes') console.log(extraIncludes(found).join(' '));
  else throw new Error(`unknown query ${what}`);
} catch (e) {
  console.error(`tlcv: ${e.message}`);
  process.exit(1);
}
