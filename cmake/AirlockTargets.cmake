# Compile settings for airlock's own targets.
#
# Two kinds of code live here:
#  - broker-side code (broker, audit, policy, host SDK, CLI, tests): warnings as errors and, in a
#    sanitizer build, ASan + UBSan;
#  - sandboxed code (worker SDK, worker executables): same warnings, never sanitized, because the
#    sanitizer runtimes need /proc and syscalls the worker's seccomp allowlist refuses. The sandbox
#    is the boundary for that code, not the sanitizer.

set(AIRLOCK_WARNINGS -Wall -Wextra -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # GCC 12 at -O3 reports std::string concatenations and assignments as overlapping memcpy
  # (-Wrestrict false positives, GCC PR 105651); Release builds would fail on library code.
  list(APPEND AIRLOCK_WARNINGS -Wno-restrict)
endif()
# GCC 12 reports the std::string inside kj's ExceptionOr<std::string> as maybe-uninitialized when
# it inlines kj::PromiseAndFulfiller<std::string>::fulfill (broker/main.cc's stop promise); whether
# it does depends on how much else the file holds. A false positive: the Maybe is engaged first.
set(AIRLOCK_KJ_STRING_PROMISE_WORKAROUND)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  set(AIRLOCK_KJ_STRING_PROMISE_WORKAROUND -Wno-maybe-uninitialized)
endif()
set(AIRLOCK_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)

# The fuzz build (AIRLOCK_FUZZ, clang): broker-side code gets libFuzzer's coverage
# instrumentation without its main(), so coverage guides the fuzzers into the libraries they
# call; the fuzz targets themselves link libFuzzer (airlock_fuzz_target).
# The ignorelist holds one known toml++ bug the fuzzer would otherwise stop on in every run.
set(AIRLOCK_FUZZ_LIBRARY_FLAGS -fsanitize=fuzzer-no-link,address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer
    -fsanitize-ignorelist=${PROJECT_SOURCE_DIR}/fuzz/toml_ubsan_ignorelist.txt)
set(AIRLOCK_FUZZ_TARGET_FLAGS -fsanitize=fuzzer,address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)

# airlock_broker_side(target): warnings, plus sanitizers when AIRLOCK_SANITIZE is on, plus
# coverage instrumentation in the fuzz build.
function(airlock_broker_side target)
  target_compile_options(${target} PRIVATE ${AIRLOCK_WARNINGS})
  if(AIRLOCK_SANITIZE)
    target_compile_options(${target} PRIVATE ${AIRLOCK_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE ${AIRLOCK_SANITIZER_FLAGS})
  elseif(AIRLOCK_FUZZ)
    target_compile_options(${target} PRIVATE ${AIRLOCK_FUZZ_LIBRARY_FLAGS})
    target_link_options(${target} PRIVATE ${AIRLOCK_FUZZ_LIBRARY_FLAGS})
  endif()
endfunction()

# airlock_fuzz_target(target): a libFuzzer executable (fuzz/).
function(airlock_fuzz_target target)
  target_compile_options(${target} PRIVATE ${AIRLOCK_WARNINGS} ${AIRLOCK_FUZZ_TARGET_FLAGS})
  target_link_options(${target} PRIVATE ${AIRLOCK_FUZZ_TARGET_FLAGS})
endfunction()

# airlock_sandboxed(target): warnings only; code that runs inside the worker sandbox.
function(airlock_sandboxed target)
  target_compile_options(${target} PRIVATE ${AIRLOCK_WARNINGS})
endfunction()
