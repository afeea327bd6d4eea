#!/usr/bin/env bash
# All the set-up a fresh Debian machine needs, as root: system packages, npm packages, the addon.
set -euo pipefail
cd "$(dirname "$0")/.."
# OpenBLAS: libtorch links libblas.so.3, and the reference BLAS runs matmuls 10-30x slower.
# libgloo-dev: the Gloo headers that c10d's ProcessGroupGloo includes (data-parallel training).
# python3-onnx: tests only, its onnx.checker judges every exported file.
# libsleef-dev: ATen's AVX2 vector headers include sleef.h (the fused optimizer step uses them).
pkgs=(libtorch-dev libsleef-dev libgloo-dev libopenblas0-openmp python3-torch python3-torchvision python3-onnx dataset-fashion-mnist chromium fonts-dejavu-core)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The same skip as .npmrc says, for npm versions that no longer pass unknown .npmrc keys on.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
