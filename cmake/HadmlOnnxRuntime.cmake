# Locate ONNX Runtime's headers for hadml. The shared library is not linked: hadml dlopen()s it
# when the first model opens (cpp/src/ort_model.cpp), from the decayer's option,
# $HADML_ONNXRUNTIME_LIBRARY, or the onnxruntime Python package installed beside hadml.
#
# Routes to the headers, first that applies (the one taken is printed):
#   1. HADML_ONNXRUNTIME_ROOT     your own ONNX Runtime (release tarball or conda prefix): its
#                                 include/ and lib/ (that library becomes the run-time default);
#   2. the system's               /usr/include/onnxruntime, /usr/local/include/onnxruntime;
#   3. the official release       onnxruntime-linux-x64-<HADML_ORT_RELEASE>.tgz, pinned by SHA-256
#                                 (needs access to github.com; HADML_FETCH_ORT_RELEASE);
#   4. Debian's package           trixie's libonnxruntime-dev headers via apt-get download + dpkg -x,
#                                 nothing installed (machines that reach only package registries;
#                                 HADML_FETCH_ORT_HEADERS; scripts/fetch_onnxruntime_headers.sh).
# Result: target hadml::onnxruntime_headers, HADML_DEFAULT_ORT_LIBRARY and HADML_ORT_API_VERSION
# (the C API version of the headers: the onnxruntime floor in pyproject.toml must match it).

set(HADML_ONNXRUNTIME_ROOT "" CACHE PATH "Your own ONNX Runtime installation (include/, lib/)")
set(HADML_ONNXRUNTIME_LIBRARY "" CACHE FILEPATH "libonnxruntime to load when nothing else names one")
option(HADML_FETCH_ORT_RELEASE "Download the pinned official ONNX Runtime release for its headers" ON)
option(HADML_FETCH_ORT_HEADERS "Fetch Debian's libonnxruntime-dev headers when nothing else has them" ON)
# The release whose headers are pinned; its C API version (21) is the pyproject.toml floor.
set(HADML_ORT_RELEASE "1.21.0")
set(HADML_ORT_RELEASE_SHA256 "7485c7e7aac6501b27e353dcbe068e45c61ab51fbaf598d13970dfae669d20bf")

set(_ort_fetched ${CMAKE_BINARY_DIR}/_deps/onnxruntime-headers)
set(_ort_route "")
if(HADML_ONNXRUNTIME_ROOT)
  find_path(HADML_ORT_INCLUDE_DIR onnxruntime_cxx_api.h
            PATHS ${HADML_ONNXRUNTIME_ROOT}/include ${HADML_ONNXRUNTIME_ROOT}/include/onnxruntime
                  ${HADML_ONNXRUNTIME_ROOT}/include/onnxruntime/core/session NO_DEFAULT_PATH)
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
  set(_ort_route "HADML_ONNXRUNTIME_ROOT")
else()
  find_path(HADML_ORT_INCLUDE_DIR onnxruntime_cxx_api.h
            PATHS /usr/include/onnxruntime /usr/local/include/onnxruntime ${_ort_fetched}/include/onnxruntime)
  if(HADML_ORT_INCLUDE_DIR STREQUAL "${_ort_fetched}/include/onnxruntime")
    set(_ort_route "an earlier configure of this build directory")
    if(EXISTS ${_ort_fetched}/ROUTE)
      file(READ ${_ort_fetched}/ROUTE _ort_route)
    endif()
  elseif(HADML_ORT_INCLUDE_DIR)
    set(_ort_route "the system's headers")
  endif()
  if(NOT HADML_ORT_INCLUDE_DIR AND HADML_FETCH_ORT_RELEASE)
    set(_name onnxruntime-linux-x64-${HADML_ORT_RELEASE})
    set(_tgz ${CMAKE_BINARY_DIR}/_deps/${_name}.tgz)
    # (the hash is checked here, not by EXPECTED_HASH, which makes an unreachable host an error)
    file(DOWNLOAD https://github.com/microsoft/onnxruntime/releases/download/v${HADML_ORT_RELEASE}/${_name}.tgz
         ${_tgz} TIMEOUT 120 INACTIVITY_TIMEOUT 20 STATUS _dl)
    list(GET _dl 0 _dl_rc)
    list(GET _dl 1 _dl_msg)
    if(_dl_rc EQUAL 0)
      file(SHA256 ${_tgz} _sha)
      if(NOT _sha STREQUAL HADML_ORT_RELEASE_SHA256)
        set(_dl_rc 1)
        set(_dl_msg "SHA-256 ${_sha}, expected ${HADML_ORT_RELEASE_SHA256}")
      endif()
    endif()
    if(_dl_rc EQUAL 0)
      file(ARCHIVE_EXTRACT INPUT ${_tgz} DESTINATION ${CMAKE_BINARY_DIR}/_deps PATTERNS ${_name}/include)
      file(MAKE_DIRECTORY ${_ort_fetched}/include)
      file(COPY ${CMAKE_BINARY_DIR}/_deps/${_name}/include/ DESTINATION ${_ort_fetched}/include/onnxruntime)
      set(_ort_route "the official ONNX Runtime ${HADML_ORT_RELEASE} release (SHA-256 checked)")
    else()
      message(STATUS "hadml: the official ONNX Runtime ${HADML_ORT_RELEASE} release is not reachable "
                     "(${_dl_msg}); trying Debian's package")
    endif()
    file(REMOVE ${_tgz})
  endif()
  if(NOT _ort_route AND HADML_FETCH_ORT_HEADERS)
    execute_process(COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/fetch_onnxruntime_headers.sh ${_ort_fetched}
                    RESULT_VARIABLE _ort_rc OUTPUT_VARIABLE _ort_out ERROR_VARIABLE _ort_err)
    if(_ort_rc EQUAL 0)
      set(_ort_route "Debian trixie's libonnxruntime-dev (apt-get download, dpkg -x)")
    else()
      message(WARNING "hadml: fetching Debian's ONNX Runtime headers failed: ${_ort_err}")
    endif()
  endif()
  if(NOT HADML_ORT_INCLUDE_DIR AND _ort_route)
    file(WRITE ${_ort_fetched}/ROUTE "${_ort_route}")
    unset(HADML_ORT_INCLUDE_DIR CACHE)
    find_path(HADML_ORT_INCLUDE_DIR onnxruntime_cxx_api.h PATHS ${_ort_fetched}/include/onnxruntime NO_DEFAULT_PATH)
  endif()
  if(NOT HADML_ORT_INCLUDE_DIR)
    message(FATAL_ERROR
      "hadml: ONNX Runtime headers not found. Either pass -DHADML_ONNXRUNTIME_ROOT=/path/to/onnxruntime "
      "(a release tarball or conda prefix with include/ and lib/), install headers under "
      "/usr/include/onnxruntime, or allow HADML_FETCH_ORT_RELEASE (github.com) / HADML_FETCH_ORT_HEADERS "
      "(apt-get and Debian's mirror).")
  endif()
endif()

file(STRINGS ${HADML_ORT_INCLUDE_DIR}/onnxruntime_c_api.h _ort_api_line REGEX "^#define ORT_API_VERSION [0-9]+")
string(REGEX MATCH "[0-9]+" HADML_ORT_API_VERSION "${_ort_api_line}")

add_library(hadml_onnxruntime_headers INTERFACE)
add_library(hadml::onnxruntime_headers ALIAS hadml_onnxruntime_headers)
target_include_directories(hadml_onnxruntime_headers SYSTEM INTERFACE ${HADML_ORT_INCLUDE_DIR})
set(HADML_DEFAULT_ORT_LIBRARY "${HADML_ONNXRUNTIME_LIBRARY}")
if(HADML_DEFAULT_ORT_LIBRARY)
  set(_ort_lib_msg "run-time default ${HADML_DEFAULT_ORT_LIBRARY}")
else()
  set(_ort_lib_msg "library found at run time (the onnxruntime package beside hadml)")
endif()
message(STATUS "hadml: ONNX Runtime headers from ${_ort_route}: ${HADML_ORT_INCLUDE_DIR} "
               "(C API version ${HADML_ORT_API_VERSION}: needs onnxruntime >= 1.${HADML_ORT_API_VERSION}); "
               "${_ort_lib_msg}")
