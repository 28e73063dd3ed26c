# Detection area: the fake NVML library that tests load through the same
# dlopen path as the real libnvidia-ml.so.1. It sits next to the weir binary
# so integration tests find it from $WEIR_BIN.
add_library(weir_fake_nvml SHARED ${CMAKE_SOURCE_DIR}/tests/fixtures/fake_nvml/fake_nvml.cpp)
set_target_properties(weir_fake_nvml PROPERTIES
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
  CXX_VISIBILITY_PRESET default)

# weir_tests is defined after the area files, so its settings are deferred to
# the end of this directory.
cmake_language(DEFER CALL add_dependencies weir_tests weir_fake_nvml)
cmake_language(DEFER CALL target_compile_definitions weir_tests PRIVATE
  WEIR_FAKE_NVML_LIBRARY="$<TARGET_FILE:weir_fake_nvml>"
  WEIR_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
