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

// Data-parallel training (native/core/dist_*.cc) is built on c10d's 1.x API, where Gloo and
// NCCL are ProcessGroups; 2.x made them Backends behind a dispatcher, which tlcv does not
// speak yet. It also needs Gloo's headers (Debian: libgloo-dev). NCCL comes with CUDA builds.
function distributed(found) {
  const dirs = [...found.include, '/usr/include', '/usr/local/include'];
  const has = (rel) => dirs.some((d) => fs.existsSync(path.join(d, rel)));
  const versionFile = dirs.map((d) => path.join(d, 'torch', 'version.h')).find((f) => fs.existsSync(f));
  const major = versionFile ? Number((/TORCH_VERSION_MAJOR (\d+)/.exec(fs.readFileSync(versionFile, 'utf8')) ?? [])[1]) : NaN;
  const defines = [];
  if (major === 1 && has('gloo/config.h') && has('torch/csrc/distributed/c10d/ProcessGroupGloo.hpp')) {
    defines.push('TLCV_WITH_DIST', 'USE_C10D_GLOO');
    const nccl = process.env.NCCL_INCLUDE_DIR ? fs.existsSync(path.join(process.env.NCCL_INCLUDE_DIR, 'nccl.h')) : has('nccl.h');
    if (nccl && found.lib && fs.existsSync(path.join(found.lib, 'libtorch_cuda.so'))) defines.push('USE_C10D_NCCL', 'USE_NCCL');
  }
  return defines;
}

const what = process.argv[2];
try {
  const found = locate();
  if (what === 'include') console.log(found.include.join(' '));
  else if (what === 'libdir') console.log(found.lib ? `-L${found.lib} -Wl,-rpath,${found.lib}` : '');
  else if (what === 'abi') console.log(cxx11Abi());
  else if (what === 'defines') console.log(distributed(found).join(' '));
  else if (what === 'extra-libs') console.log(distributed(found).includes('USE_C10D_NCCL') ? '-ltorch_cuda' : '');
  else if (what === 'extra-includes') console.log(process.env.NCCL_INCLUDE_DIR ?? '');
  else throw new Error(`unknown query ${what}`);
} catch (e) {
  console.error(`tlcv: ${e.message}`);
  process.exit(1);
}
