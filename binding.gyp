{
  "targets": [{
    "target_name": "tlcv_native",
    "sources": [
      "native/core/live.cc",
      "native/core/ops.cc",
      "native/core/fast_call.cc",
      "native/core/runtime.cc",
      "native/napi/addon.cc",
      "native/napi/tensor.cc",
      "native/napi/ivalue.cc",
      "native/napi/autograd.cc"
    ],
    "include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "native",
      "<!@(node scripts/libtorch-paths.cjs include)"
    ],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GLIBCXX_USE_CXX11_ABI=<!(node scripts/libtorch-paths.cjs abi)"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
    "libraries": ["<!@(node scripts/libtorch-paths.cjs libdir)", "-ltorch", "-ltorch_cpu", "-lc10"]
  }]
}
