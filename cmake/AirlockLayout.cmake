# Where airlock's files go when installed, and the build-tree paths that mirror that layout so
# the same include lines and the same airlockd default work in both.

include(GNUInstallDirs)

# Worker executables: private to airlockd, so under lib/airlock/ as Debian keeps a package's
# private programs (not the multiarch CMAKE_INSTALL_LIBDIR, which on Debian is
# lib/x86_64-linux-gnu; workers are looked up by airlockd, not by the dynamic linker).
set(AIRLOCK_INSTALL_WORKERSDIR "lib/airlock/workers" CACHE STRING
    "Where installed worker executables go, relative to the install prefix")
set(AIRLOCK_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/airlock" CACHE STRING
    "Where airlockConfig.cmake goes, relative to the install prefix")
set(AIRLOCK_INSTALL_SYSTEMDUNITDIR "lib/systemd/system" CACHE STRING
    "Where the systemd units go, relative to the install prefix")
# The Python package (sdk/python/airlock), where Debian's python3 looks for packages of every
# Python 3 version.
set(AIRLOCK_INSTALL_PYTHONDIR "lib/python3/dist-packages" CACHE STRING
    "Where the airlock Python package goes, relative to the install prefix")
foreach(dir AIRLOCK_INSTALL_PYTHONDIR AIRLOCK_INSTALL_WORKERSDIR AIRLOCK_INSTALL_CMAKEDIR AIRLOCK_INSTALL_SYSTEMDUNITDIR
            CMAKE_INSTALL_BINDIR CMAKE_INSTALL_LIBDIR)
  if(IS_ABSOLUTE "${${dir}}")
    # Relative paths are what keep the install tree relocatable (cmake --install --prefix P).
    message(FATAL_ERROR "${dir} is \"${${dir}}\": give it relative to the install prefix")
  endif()
endforeach()

# airlockd's default --workers: this path, taken from the directory its own executable is in.
# Relative, so an install tree moved as a whole (or installed with --prefix) still finds its
# workers; airlockd compiles it in (broker/CMakeLists.txt).
file(RELATIVE_PATH AIRLOCK_WORKERS_FROM_BINDIR "/prefix/${CMAKE_INSTALL_BINDIR}"
     "/prefix/${AIRLOCK_INSTALL_WORKERSDIR}")
# For every build of broker/main.cc (airlockd, and bench/'s variant of it).
add_library(airlock_workers_default INTERFACE)
target_compile_definitions(airlock_workers_default INTERFACE
  AIRLOCK_WORKERS_FROM_BINDIR="${AIRLOCK_WORKERS_FROM_BINDIR}")

# In the build tree airlockd sits in bin/ beside the workers: the same relative path from bin/
# leads to a link back to bin/, so an airlockd run from the build tree finds them the same way.
cmake_path(ABSOLUTE_PATH AIRLOCK_WORKERS_FROM_BINDIR BASE_DIRECTORY "${CMAKE_BINARY_DIR}/bin"
           NORMALIZE OUTPUT_VARIABLE airlock_build_workers)
if(NOT airlock_build_workers STREQUAL "${CMAKE_BINARY_DIR}/bin")
  cmake_path(GET airlock_build_workers PARENT_PATH airlock_build_workers_parent)
  file(MAKE_DIRECTORY "${airlock_build_workers_parent}")
  file(CREATE_LINK "${CMAKE_BINARY_DIR}/bin" "${airlock_build_workers}" SYMBOLIC)
endif()

# The public SDK headers as consumers include them (<airlock/worker/worker.h>,
# <airlock/host/client.h>): links into sdk/, so code in this tree that is also built out of it
# (examples/) uses the installed include lines.
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/include/airlock")
file(CREATE_LINK "${PROJECT_SOURCE_DIR}/sdk/worker" "${CMAKE_BINARY_DIR}/include/airlock/worker"
     SYMBOLIC)
file(CREATE_LINK "${PROJECT_SOURCE_DIR}/sdk/host" "${CMAKE_BINARY_DIR}/include/airlock/host"
     SYMBOLIC)

# What a Python worker's sandbox needs of airlock (sandbox/python_worker.h), found from bin/ by
# the same relative paths in the build tree (a link to the package mirrors the install layout)
# and in the install tree.
file(RELATIVE_PATH AIRLOCK_PYTHON_PACKAGE_FROM_BINDIR "/prefix/${CMAKE_INSTALL_BINDIR}"
     "/prefix/${AIRLOCK_INSTALL_PYTHONDIR}/airlock")
file(RELATIVE_PATH AIRLOCK_PYTHON_WORKER_LIBRARY_FROM_BINDIR "/prefix/${CMAKE_INSTALL_BINDIR}"
     "/prefix/lib/airlock/libairlock-python-worker.so")
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/${AIRLOCK_INSTALL_PYTHONDIR}")
file(CREATE_LINK "${PROJECT_SOURCE_DIR}/sdk/python/airlock"
     "${CMAKE_BINARY_DIR}/${AIRLOCK_INSTALL_PYTHONDIR}/airlock" SYMBOLIC)
