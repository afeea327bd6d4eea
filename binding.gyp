{
  "targets": [{
    "target_name": "tlcv_native",
    "sources": [
      "native/core/live.cc",
      "native/core/ops.cc",
      "native/core/fast_call.cc",
      "native/core/runtime.cc",
      "native/core/dist_group.cc",
      "native/core/dist_reducer.cc",
      "native/napi/addon.cc",
      "native/napi/tensor.cc",
      "native/napi/ivalue.cc",
      "native/napi/autograd.cc",
      "native/napi/distributed.cc"
    ],
    "include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "native",
      "<!@(node scripts/libtorch-paths.cjs include)",
      "<!@(node scripts/libtorch-paths.cjs extra-includes)",
      "native/shim"
    ],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GLIBCXX_USE_CXX11_ABI=<!(node scripts/libtorch-paths.cjs abi)", "<!@(node scripts/libtorch-paths.cjs defines)"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
    "libraries": ["<!@(node scripts/libtorch-paths.cjs libdir)", "-ltorch", "-ltorch_cpu", "-lc10", "<!@(node scripts/libtorch-paths.cjs extra-libs)"]
  }]
}
