# airlock_add_worker(NAME SOURCES src... [DESTINATION dir])
#
# Builds the worker executable NAME from SOURCES, linked with the worker SDK (airlock::worker),
# as airlockd's sandbox runs it. Link the library the worker wraps, and any typed interface,
# with target_link_libraries(NAME PRIVATE ...) afterwards.
#
# What the sandbox needs from the build: no sanitizer. ASan/UBSan/TSan runtimes read /proc and
# make syscalls the worker's seccomp allowlist refuses, so a sanitized worker is killed before
# main(); the sandbox, not a sanitizer, is the boundary for this code. Sanitizer flags in
# CMAKE_CXX_FLAGS or CMAKE_EXE_LINKER_FLAGS stop the configure with that reason.
#
# Installing: with an installed airlock (find_package(airlock)), `cmake --install` puts NAME in
# DESTINATION, by default AIRLOCK_WORKERS_INSTALL_DIR (lib/airlock/workers under the install
# prefix): where an airlockd installed to the same prefix finds workers that policies name
# without a path (worker = "NAME"). Inside airlock's own tree nothing is installed (the examples
# and test workers are not part of the install tree).
function(airlock_add_worker name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "DESTINATION" "SOURCES")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "airlock_add_worker(${name}): no SOURCES given "
                        "(usage: airlock_add_worker(NAME SOURCES src... [DESTINATION dir]))")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "airlock_add_worker(${name}): unexpected arguments "
                        "\"${arg_UNPARSED_ARGUMENTS}\" (usage: airlock_add_worker(NAME SOURCES "
                        "src... [DESTINATION dir]))")
  endif()
  foreach(flags CMAKE_CXX_FLAGS CMAKE_EXE_LINKER_FLAGS)
    if("${${flags}}" MATCHES "-fsanitize")
      message(FATAL_ERROR "airlock_add_worker(${name}): ${flags} has -fsanitize: a sanitizer "
                          "runtime needs /proc and syscalls the worker sandbox refuses, so the "
                          "worker would be killed at start. Build workers without it (sanitize "
                          "the host side per target instead).")
    endif()
  endforeach()
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE airlock::worker)
  if(NOT arg_DESTINATION)
    set(arg_DESTINATION "${AIRLOCK_WORKERS_INSTALL_DIR}")
  endif()
  if(arg_DESTINATION)
    install(TARGETS ${name} RUNTIME DESTINATION "${arg_DESTINATION}")
  endif()
endfunction()
