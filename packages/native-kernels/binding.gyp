{
  "variables": { "cblas_include%": "/usr/include" },
  "targets": [
    {
      "target_name": "native_kernels",
      "sources": ["native/kernels.c"],
      "cflags": ["-O3", "-std=c11", "-Wall"],
      "include_dirs": ["<(cblas_include)"],
      "libraries": ["-lopenblas"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
