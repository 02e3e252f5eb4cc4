#pragma once
// The edge of the C ABI: no exception may unwind into a C caller (that is undefined behaviour,
// and a Python process would abort), so every entry point runs its body through guarded(),
// which turns whatever is thrown into a status and a message.

#include <kj/exception.h>

#include <exception>
#include <new>
#include <string>

#include "sdk/c/airlock.h"

namespace airlock::c_abi {

// Runs `body` (which returns a status); anything it throws becomes AIRLOCK_LIBRARY_ERROR (or
// `thrownStatus`) with `onFailure(status, message)` called to record the message. `onFailure`
// itself must not throw (it only stores, and runs under its own catch).
template <typename Body, typename OnFailure>
int guarded(Body&& body, OnFailure&& onFailure, int thrownStatus = AIRLOCK_LIBRARY_ERROR) noexcept {
  std::string message;
  try {
    return body();
  } catch (const kj::Exception& exception) {
    message = exception.getDescription().cStr();
  } catch (const std::bad_alloc&) {
    thrownStatus = AIRLOCK_LIBRARY_ERROR;
    message = "out of memory";
  } catch (const std::exception& exception) {
    message = exception.what();
  } catch (...) {
    message = "an unknown exception";
  }
  try {
    onFailure(thrownStatus, std::move(message));
  } catch (...) {
    // Nothing left to report it with: the status alone says it failed.
  }
  return thrownStatus;
}

}  // namespace airlock::c_abi
