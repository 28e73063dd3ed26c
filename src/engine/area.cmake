# Built-in engine: the AVX2/FMA kernel build gets its instruction-set flags
# alone, so the rest of Weir still runs on CPUs without AVX2.
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/engine/kernels_avx2.cpp
  PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma;-mf16c")
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
target_link_libraries(weir_core PUBLIC PkgConfig::PCRE2)
# libcurl downloads model files for `weir models pull URL`.
find_package(CURL REQUIRED)
target_link_libraries(weir_core PUBLIC CURL::libcurl)
