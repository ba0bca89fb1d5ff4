{
  "targets": [
    {
      "target_name": "winekernel_fd",
      "sources": ["src/fd_addon.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "winekernel_device",
      "sources": ["src/device_addon.c", "../kernel/lib/winekernel.c"],
      "include_dirs": ["../kernel/include", "../kernel/lib"],
      "cflags": ["-Wall", "-Wextra", "-O2", "-pthread"]
    }
  ]
}
