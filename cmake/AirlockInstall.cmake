# The install tree (`cmake --install BUILD --prefix P`; docs/install.md): airlockd and airlock,
# the worker and host SDKs with their headers, the Cap'n Proto schemas, a CMake package and
# pkg-config files for building workers and hosts out of this tree, the systemd units and the
# empty directory airlockd finds workers in. Every installed path is relative to the prefix, so
# the tree can be installed anywhere and moved.

include(CMakePackageConfigHelpers)

install(TARGETS airlockd airlock RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Preloaded into brokered programs (sandbox/native_first/); private to airlock, as the workers.
install(TARGETS airlock_native_first LIBRARY DESTINATION lib/airlock)
# Loaded by Python workers (sandbox/python_worker.h); private to airlock, as the workers.
install(TARGETS airlock_python_worker LIBRARY DESTINATION lib/airlock)

# The SDKs are static archives, so a worker carries no airlock shared library into its sandbox
# and no SONAME has to be kept stable yet. Each archive the SDKs need is installed beside them
# (libairlock-worker.a needs libairlock-capnp.a, ...); the CMake package and the .pc files link
# them in the right order. PIC so a consumer may link them into a shared library too.
set(AIRLOCK_INSTALLED_LIBRARIES
    airlock_worker_c worker_c airlock-worker-c
    airlock_worker_sdk worker airlock-worker
    airlock_host_sdk host airlock-host
    airlock_capnp capnp airlock-capnp
    airlock_socket_stream socket_stream airlock-socket-stream
    airlock_host_auth host_auth airlock-host-auth
    airlock_signing_key signing_key airlock-signing-key)
set(airlock_targets)
while(AIRLOCK_INSTALLED_LIBRARIES)
  list(POP_FRONT AIRLOCK_INSTALLED_LIBRARIES target export_name file_name)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name} OUTPUT_NAME ${file_name}
                                             POSITION_INDEPENDENT_CODE ON)
  list(APPEND airlock_targets ${target})
endwhile()
install(TARGETS ${airlock_targets} EXPORT airlockTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

# libairlock, the C ABI (sdk/c/airlock.h): a shared library, libairlock.so.0 (the runtime, in
# Debian's libairlock0) plus the libairlock.so link to build against (libairlock-dev). It is made
# of the archives above but exports only airlock_*, so it needs none of them installed.
set_target_properties(airlock_c PROPERTIES EXPORT_NAME c)
install(TARGETS airlock_c EXPORT airlockTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${PROJECT_SOURCE_DIR}/sdk/c/airlock.h ${PROJECT_SOURCE_DIR}/sdk/c/airlock_worker.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/airlock)

# The Python package over it (sdk/python/airlock), where Debian's python3 looks for packages of
# every Python 3 version (AIRLOCK_INSTALL_PYTHONDIR, cmake/AirlockLayout.cmake).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sdk/python/airlock DESTINATION ${AIRLOCK_INSTALL_PYTHONDIR}
        PATTERN __pycache__ EXCLUDE)

# Public headers, laid out as consumers include them: <airlock/worker/worker.h>,
# <airlock/host/client.h> and the generated <airlock/capnp/worker.capnp.h> that worker.h
# includes. The other headers in sdk/ are the SDKs' internals.
install(FILES ${PROJECT_SOURCE_DIR}/sdk/worker/worker.h ${PROJECT_SOURCE_DIR}/sdk/worker/fs.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/airlock/worker)
install(FILES ${PROJECT_SOURCE_DIR}/sdk/host/client.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/airlock/host)
install(FILES ${PROJECT_BINARY_DIR}/capnp/airlock/capnp/worker.capnp.h
              ${PROJECT_BINARY_DIR}/capnp/airlock/capnp/host.capnp.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/airlock/capnp)

# The schemas themselves, for typed clients in other languages and for reading the protocol.
install(FILES ${PROJECT_SOURCE_DIR}/capnp/worker.capnp ${PROJECT_SOURCE_DIR}/capnp/host.capnp
        DESTINATION ${CMAKE_INSTALL_DATADIR}/airlock/capnp)

# airlockd's default --workers (cmake/AirlockLayout.cmake), empty until workers are installed.
install(DIRECTORY DESTINATION ${AIRLOCK_INSTALL_WORKERSDIR})

# The CMake package: airlock::worker, airlock::host, airlock_add_worker().
install(EXPORT airlockTargets NAMESPACE airlock:: DESTINATION ${AIRLOCK_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/airlockConfig.cmake.in
  ${PROJECT_BINARY_DIR}/airlockConfig.cmake
  INSTALL_DESTINATION ${AIRLOCK_INSTALL_CMAKEDIR}
  PATH_VARS AIRLOCK_INSTALL_WORKERSDIR)
# The generated Cap'n Proto code only works with the runtime it was generated for (capnp checks
# CAPNP_VERSION at compile time), so consumers must find the same Cap'n Proto; 0.x releases are
# not compatible with each other, hence SameMinorVersion for airlock itself.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/airlockConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/airlockConfig.cmake
              ${PROJECT_BINARY_DIR}/airlockConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/AirlockAddWorker.cmake
        DESTINATION ${AIRLOCK_INSTALL_CMAKEDIR})

# pkg-config: prefix found from the .pc file's own directory (${pcfiledir}), so the files stay
# right wherever the tree is installed.
file(RELATIVE_PATH AIRLOCK_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" AIRLOCK_PC_TO_PREFIX "${AIRLOCK_PC_TO_PREFIX}")
foreach(pc airlock-worker airlock-host airlock airlock-worker-c)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# systemd units. The service's ExecStart names airlockd by absolute path (systemd requires it),
# so it is rewritten at install time to where this install put airlockd: the prefix is the one
# given to `cmake --install --prefix`, not the configure-time one. The file is written under
# DESTDIR (a staged install, as debian/rules makes) while ExecStart names the final path.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/airlockd.socket
        DESTINATION ${AIRLOCK_INSTALL_SYSTEMDUNITDIR})
install(CODE "
  set(unit_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${AIRLOCK_INSTALL_SYSTEMDUNITDIR}\")
  set(airlockd \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/airlockd\")
  file(READ \"${PROJECT_SOURCE_DIR}/deploy/systemd/airlockd.service\" unit)
  string(FIND \"\${unit}\" \"ExecStart=/usr/bin/airlockd \" at)
  if(at EQUAL -1)
    message(FATAL_ERROR \"deploy/systemd/airlockd.service: no 'ExecStart=/usr/bin/airlockd ' \"
                        \"line to point at \${airlockd}; update cmake/AirlockInstall.cmake with it\")
  endif()
  string(REPLACE \"ExecStart=/usr/bin/airlockd \" \"ExecStart=\${airlockd} \" unit \"\${unit}\")
  file(MAKE_DIRECTORY \"\${unit_dir}\")
  message(STATUS \"Installing: \${unit_dir}/airlockd.service\")
  file(WRITE \"\${unit_dir}/airlockd.service\" \"\${unit}\")
")
