{
  "targets": [
    {
      "target_name": "select_reactor",
      "sources": [
        "native/addon.cc",
        "native/address.cc",
        "native/args.cc",
        "native/epoll.cc",
        "native/errors.cc",
        "native/interrupt.cc",
        "native/io.cc",
        "native/outbox.cc",
        "native/poll.cc",
        "native/resource.cc",
        "native/select.cc",
        "native/signals.cc",
        "native/socket.cc",
        "native/sys.cc",
        "native/wait.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-fexceptions"],
      "configurations": {
        "Debug": {
          "defines": ["SR_CHECKS"]
        }
      },
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0",
        "OTHER_CPLUSPLUSFLAGS": ["-Wall", "-Wextra"]
      }
    }
  ]
}
