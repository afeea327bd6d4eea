{
  "variables": {
    "tlcv_include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "native",
      "<!@(node scripts/libtorch-paths.cjs include)",
      "<!@(node scripts/libtorch-paths.cjs extra-includes)",
      "native/shim"
    ],
    "tlcv_defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GLIBCXX_USE_CXX11_ABI=<!(node scripts/libtorch-paths.cjs abi)", "<!@(node scripts/libtorch-paths.cjs defines)"],
    "tlcv_cflags": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
  },
  "targets": [{
    "target_name": "tlcv_native",
    "sources": [
      "native/core/live.cc",
      "native/core/ops.cc",
      "native/core/fast_call.cc",
      "native/core/runtime.cc",
      "native/core/fused_optim.cc",
      "native/core/fused_optim_default.cc",
      "native/core/profiler.cc",
      "native/core/cpu_cache.cc",
      "native/core/system_malloc.cc",
      "native/core/dist_group.cc",
      "native/core/dist_reducer.cc",
      "native/napi/addon.cc",
      "native/napi/tensor.cc",
      "native/napi/ivalue.cc",
      "native/napi/autograd.cc",
      "native/napi/optim.cc",
      "native/napi/profiler.cc",
      "native/napi/memory.cc",
      "native/napi/distributed.cc"
    ],
    "include_dirs": ["<@(tlcv_include_dirs)"],
    "defines": ["<@(tlcv_defines)"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["<@(tlcv_cflags)", "-fopenmp"],
    "ldflags": ["-fopenmp"],
    "libraries": ["<!@(node scripts/libtorch-paths.cjs libdir)", "-ltorch", "-ltorch_cpu", "-lc10", "<!@(node scripts/libtorch-paths.cjs extra-libs)"],
    "conditions": [["target_arch=='x64'", {"defines": ["TLCV_HAVE_AVX2"], "dependencies": ["tlcv_fused_avx2"]}]]
  }, {
    "target_name": "tlcv_fused_avx2",
    "type": "static_library",
    "sources": ["native/core/fused_optim_avx2.cc"],
    "include_dirs": ["<@(tlcv_include_dirs)"],
    "defines": ["<@(tlcv_defines)", "TLCV_HAVE_AVX2"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
    "cflags_cc": ["<@(tlcv_cflags)", "-fPIC", "-mavx2", "-mfma"]
  }]
}
