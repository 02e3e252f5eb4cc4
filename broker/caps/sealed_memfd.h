#pragma once
// A read-only in-kernel copy of some bytes, to hand a worker a value (a secret) as a descriptor
// rather than inside a Cap'n Proto message: the broker's message buffers are freed without being
// zeroed, the memfd's pages are the kernel's to clear. Sealed against writing, growing, shrinking
// and further sealing before it leaves, so the receiver reads exactly what was put in.
//
// Broker-side; any thread.

#include <kj/common.h>
#include <kj/io.h>

#include <string>

namespace airlock::broker {

// A memfd holding `bytes`, sealed, offset 0. Null with `error` set (the failing call and its
// errno, never the bytes) if the kernel refused any step.
kj::Maybe<kj::AutoCloseFd> sealedMemfd(kj::ArrayPtr<const kj::byte> bytes, std::string& error);

}  // namespace airlock::broker
