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

const what = process.argv[2];
try {
  const found = locate();
  if (what === 'include') console.log(found.include.join(' '));
  else if (what === 'libdir') console.log(found.lib ? `-L${found.lib} -Wl,-rpath,${found.lib}` : '');
  else if (what === 'abi') console.log(cxx11Abi());
  else throw new Error(`unknown query ${what}`);
} catch (e) {
  console.error(`tlcv: ${e.message}`);
  process.exit(1);
}
