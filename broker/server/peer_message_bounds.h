#pragma once
// A host connection's stream that ends the connection when the peer announces a Cap'n Proto
// message larger than the connection may send (frame_scanner.h says why this must be seen before
// Cap'n Proto reads it): PRE_AUTH_MAX_MESSAGE_BYTES until the handshake succeeds, then the
// largest max_payload_bytes of the units in force plus MESSAGE_OVERHEAD_BYTES; or when it has
// more than MAX_OPEN_QUESTIONS_PER_CONNECTION questions open. The refusal is recorded
// (rate-limited, rule connection.max_message_bytes or connection.max_open_questions).
//
// Broker-side, event-loop thread only.

#include <kj/async-io.h>

#include <string>

#include "broker/host/gateway.h"
#include "broker/server/forwarding_stream.h"
#include "broker/server/frame_scanner.h"
#include "broker/state/routing.h"

namespace airlock::broker {

// Before authenticating a host sends `hello` and `authenticate`: a client name (64 bytes), a
// nonce and a signature (64 bytes each) and Cap'n Proto's framing. 16 KiB is many times that,
// and 64 connections of it (connection_limits.h) is 1 MiB.
inline constexpr size_t PRE_AUTH_MAX_MESSAGE_BYTES = 16 << 10;
// A call's message beyond its payload: method name, ids, Cap'n Proto's framing and pointers.
inline constexpr size_t MESSAGE_OVERHEAD_BYTES = 64 << 10;
// Questions a host has asked and not finished (frame_scanner.h): Cap'n Proto keeps each one's
// answer until then. An ordinary client finishes a question when it drops the answer, so it has
// at most its calls in flight and the answers it keeps; 1,024 is four times the bound on either
// (gateway.h), and holds a connection's kept answers to ~1,024 messages.
inline constexpr uint64_t MAX_OPEN_QUESTIONS_PER_CONNECTION = 1024;

size_t authenticatedMaxMessageBytes(const PolicySet& policy);
// The largest max_payload_bytes of `policy`'s units plus MESSAGE_OVERHEAD_BYTES.

class PeerMessageBounds final : public ForwardingStream {
 public:
  // Borrows `routing`, which outlives every connection. `peer` for the record and the log.
  PeerMessageBounds(kj::Own<kj::AsyncCapabilityStream> inner, kj::Own<HostConnectionState> connection,
                    Routing& routing, PeerCredentials peer)
      : ForwardingStream(kj::mv(inner)), connection_(kj::mv(connection)), routing_(routing),
        peer_(peer) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
  kj::Promise<ReadResult> tryReadWithFds(void* buffer, size_t minBytes, size_t maxBytes,
                                         kj::AutoCloseFd* fdBuffer, size_t maxFds) override;

 private:
  size_t checked(const void* buffer, size_t n);  // n, or throws after refusing the connection
  [[noreturn]] void refuse(const char* bound, audit::AuditRecord record);

  kj::Own<HostConnectionState> connection_;
  Routing& routing_;
  PeerCredentials peer_;
  FrameScanner frames_;
};

}  // namespace airlock::broker
