# Which Herwig the plugin supports. The handler follows Herwig 7.2's hadronization chain
# (ClusterHadronizationHandler::handle), which Herwig 7.3 changed: only 7.2.x builds it.
#
# hadml_herwig_version(<herwig-config> <out-var>): the version "X.Y.Z" from `herwig-config
#   --version`, or (Herwig 7.2's herwig-config has no --version) from `<prefix>/bin/Herwig
#   --version`; empty when neither says.
# hadml_herwig_supported(<version> <out-ok> <out-message>): whether the plugin builds with it.
set(HADML_HERWIG_SUPPORTED "7.2" CACHE INTERNAL "Herwig release series the plugin supports")

function(hadml_herwig_version config out)
  set(version "")
  execute_process(COMMAND ${config} --version OUTPUT_VARIABLE text ERROR_QUIET RESULT_VARIABLE rc
                  TIMEOUT 30)
  if(rc EQUAL 0 AND text MATCHES "([0-9]+\\.[0-9]+\\.[0-9]+)")
    set(version ${CMAKE_MATCH_1})
  else()
    execute_process(COMMAND ${config} --prefix OUTPUT_VARIABLE prefix ERROR_QUIET
                    OUTPUT_STRIP_TRAILING_WHITESPACE TIMEOUT 30)
    if(prefix AND EXISTS ${prefix}/bin/Herwig)
      execute_process(COMMAND ${prefix}/bin/Herwig --version OUTPUT_VARIABLE text ERROR_QUIET TIMEOUT 60)
      if(text MATCHES "Herwig ([0-9]+\\.[0-9]+\\.[0-9]+)")
        set(version ${CMAKE_MATCH_1})
      endif()
    endif()
  endif()
  set(${out} "${version}" PARENT_SCOPE)
endfunction()

function(hadml_herwig_supported version ok message)
  if(version MATCHES "^${HADML_HERWIG_SUPPORTED}\\.[0-9]+$")
    set(${ok} TRUE PARENT_SCOPE)
    set(${message} "Herwig ${version}" PARENT_SCOPE)
  else()
    if(NOT version)
      set(version "an unknown version (neither herwig-config --version nor Herwig --version said)")
    endif()
    set(${ok} FALSE PARENT_SCOPE)
    set(${message} "the Herwig plugin supports Herwig ${HADML_HERWIG_SUPPORTED}.x (it follows that "
                   "release's ClusterHadronizationHandler chain), found ${version}: the plugin is not "
                   "built; the Python package builds without it" PARENT_SCOPE)
  endif()
endfunction()
