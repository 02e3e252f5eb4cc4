#pragma once
// A program's blocking connect(2) to an address that does not answer at once: the broker has
// already handed the program its connecting socket (in the slot it asked for) and recorded the
// decision; what is left is to wait for the peer and tell the program the outcome. That wait is
// on its own thread, so a peer that never answers holds up only the program that asked, never
// airlockd's event loop (the SDK's net.connect waits on the loop itself: net_dialer.h).

#include <kj/io.h>

#include <cstdint>

namespace airlock::broker::syscalls {

// Waiter threads at once, over all programs: a program connecting to black holes must not make
// airlockd start a thread per connect.
inline constexpr int MAX_CONNECT_WAITERS = 16;

// Waits (at most the SDK's CONNECT_TIMEOUT) for `socket` to connect, then answers notification
// `id` on `listener` with 0 or the connect's errno (ETIMEDOUT when the peer never answered).
// Takes both descriptors. False, with nothing started, when MAX_CONNECT_WAITERS are waiting.
[[nodiscard]] bool answerWhenConnected(kj::AutoCloseFd listener, uint64_t id,
                                       kj::AutoCloseFd socket);

}  // namespace airlock::broker::syscalls
