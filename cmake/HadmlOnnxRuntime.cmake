# Locate ONNX Runtime for hadml: headers at build time, the shared library at run time (dlopen).
#
#   HADML_ONNXRUNTIME_ROOT     your own ONNX Runtime (release tarball or conda prefix): the headers
#                              under include/ and the library under lib/ are used.
#   HADML_ONNXRUNTIME_LIBRARY  the libonnxruntime.so to load by default (else: from the root above,
#                              or the onnxruntime Python package of the building interpreter).
#   HADML_FETCH_ORT_HEADERS    when no headers are found, fetch Debian trixie's libonnxruntime-dev
#                              headers (scripts/fetch_onnxruntime_headers.sh; apt-get + dpkg -x,
#                              nothing is installed).
# Result: target hadml::onnxruntime_headers and HADML_DEFAULT_ORT_LIBRARY.

set(HADML_ONNXRUNTIME_ROOT "" CACHE PATH "Your own ONNX Runtime installation (include/, lib/)")
set(HADML_ONNXRUNTIME_LIBRARY "" CACHE FILEPATH "libonnxruntime shared library to load by default")
option(HADML_FETCH_ORT_HEADERS "Fetch ONNX Runtime headers from Debian when none are found" ON)

set(_ort_hints)
if(HADML_ONNXRUNTIME_ROOT)
  list(APPEND _ort_hints ${HADML_ONNXRUNTIME_ROOT}/include ${HADML_ONNXRUNTIME_ROOT}/include/onnxruntime
       ${HADML_ONNXRUNTIME_ROOT}/include/onnxruntime/core/session)
  find_path(HADML_ORT_INCLUDE_DIR onnxruntime_cxx_api.h PATHS ${_ort_hints} NO_DEFAULT_PATH)
  if(NOT HADML_ORT_INCLUDE_DIR)
    message(FATAL_ERROR "HADML_ONNXRUNTIME_ROOT=${HADML_ONNXRUNTIME_ROOT} has no onnxruntime_cxx_api.h "
                        "under include/, include/onnxruntime or include/onnxruntime/core/session")
  endif()
  if(NOT HADML_ONNXRUNTIME_LIBRARY)
    find_library(HADML_ONNXRUNTIME_LIBRARY NAMES onnxruntime
                 PATHS ${HADML_ONNXRUNTIME_ROOT}/lib ${HADML_ONNXRUNTIME_ROOT}/lib64 NO_DEFAULT_PATH)
    if(NOT HADML_ONNXRUNTIME_LIBRARY)
      message(FATAL_ERROR "HADML_ONNXRUNTIME_ROOT=${HADML_ONNXRUNTIME_ROOT} has no libonnxruntime under lib/")
    endif()
  endif()
else()
  set(_ort_fetched ${CMAKE_BINARY_DIR}/_deps/onnxruntime-headers)
  find_path(HADML_ORT_INCLUDE_DIR onnxruntime_cxx_api.h
            PATHS /usr/include/onnxruntime /usr/local/include/onnxruntime ${_ort_fetched}/include/onnxruntime)
  if(NOT HADML_ORT_INCLUDE_DIR AND HADML_FETCH_ORT_HEADERS)
    message(STATUS "hadml: fetching ONNX Runtime headers (Debian trixie libonnxruntime-dev)")
    execute_process(COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/fetch_onnxruntime_headers.sh ${_ort_fetched}
                    RESULT_VARIABLE _ort_rc OUTPUT_VARIABLE _ort_out ERROR_VARIABLE _ort_err)
    if(NOT _ort_rc EQUAL 0)
      message(WARNING "hadml: fetching ONNX Runtime headers failed: ${_ort_err}")
    endif()
    unset(HADML_ORT_INCLUDE_DIR CACHE)
    find_path(HADML_ORT_INCLUDE_DIR onnxruntime_cxx_api.h PATHS ${_ort_fetched}/include/onnxruntime NO_DEFAULT_PATH)
  endif()
  if(NOT HADML_ORT_INCLUDE_DIR)
    message(FATAL_ERROR
      "hadml: ONNX Runtime headers not found. Either pass -DHADML_ONNXRUNTIME_ROOT=/path/to/onnxruntime "
      "(a release tarball or conda prefix with include/ and lib/), install headers under "
      "/usr/include/onnxruntime, or allow HADML_FETCH_ORT_HEADERS (needs apt-get and Debian's mirror).")
  endif()
  if(NOT HADML_ONNXRUNTIME_LIBRARY)
    execute_process(
      COMMAND ${Python_EXECUTABLE} -c
        "import glob, os, onnxruntime as o; c = sorted(glob.glob(os.path.join(os.path.dirname(o.__file__), 'capi', 'libonnxruntime.so*'))); print(c[-1] if c else '')"
      OUTPUT_VARIABLE _ort_lib OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_ort_lib)
      set(HADML_ONNXRUNTIME_LIBRARY ${_ort_lib} CACHE FILEPATH "" FORCE)
    else()
      message(WARNING "hadml: no onnxruntime Python package found by ${Python_EXECUTABLE}; the library "
                      "must be given at run time (HADML_ONNXRUNTIME_LIBRARY or the decayer's option)")
    endif()
  endif()
endif()

add_library(hadml_onnxruntime_headers INTERFACE)
add_library(hadml::onnxruntime_headers ALIAS hadml_onnxruntime_headers)
target_include_directories(hadml_onnxruntime_headers SYSTEM INTERFACE ${HADML_ORT_INCLUDE_DIR})
set(HADML_DEFAULT_ORT_LIBRARY "${HADML_ONNXRUNTIME_LIBRARY}")
message(STATUS "hadml: ONNX Runtime headers ${HADML_ORT_INCLUDE_DIR}; library ${HADML_DEFAULT_ORT_LIBRARY}")
