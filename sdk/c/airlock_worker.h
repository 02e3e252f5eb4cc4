#ifndef AIRLOCK_AIRLOCK_WORKER_H
#define AIRLOCK_AIRLOCK_WORKER_H
/*
 * The worker SDK as a C ABI: a worker program in C (or any language that can call C) serves a
 * unit's methods by callback. It wraps the C++ worker SDK (<airlock/worker/worker.h>) and
 * behaves as it does: started by airlockd inside its sandbox with the broker channel on fd 3;
 * methods run one at a time on the main thread; brokered requests block until airlockd answers.
 *
 *   static void thumbnail(airlock_worker_call* call, void* context) {
 *     size_t size = 0;
 *     const char* path = airlock_worker_call_payload(call, &size);  // not NUL-terminated
 *     int fd = -1;
 *     char* why = NULL;
 *     if (airlock_worker_fs_open(call, path, size, AIRLOCK_OPEN_READ, &fd, &why) != AIRLOCK_OK) {
 *       airlock_worker_call_fail(call, why);
 *       airlock_string_free(why);
 *       return;
 *     }
 *     ... read fd, close(fd) ...
 *     airlock_worker_call_reply(call, png, png_size);
 *   }
 *   int main(int argc, char** argv) {
 *     airlock_worker* worker = airlock_worker_new(argc, argv);
 *     airlock_worker_method(worker, "thumbnail", thumbnail, NULL);
 *     int status = airlock_worker_serve(worker);
 *     airlock_worker_free(worker);
 *     return status;
 *   }
 *
 * Linked statically (libairlock-worker-c.a with the worker SDK's archives; pkg-config
 * airlock-worker-c), as the C++ worker SDK is: a worker carries no airlock shared library into
 * its sandbox, whose root holds only the system's library directories.
 *
 * Rules: no exception crosses into C (a failure is a status and a message); what a function
 * hands out (an fd, a string) is the caller's, released once (close(2), airlock_string_free);
 * what an accessor returns is borrowed for as long as the call it came from runs; arguments are
 * borrowed for the duration of the function. Status codes are airlock.h's.
 */

#include <stddef.h>
#include <stdint.h>

#include "airlock.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct airlock_worker airlock_worker;
typedef struct airlock_worker_call airlock_worker_call;

/* A method: called once per host call of its name, on the main thread. `call` is borrowed and
 * valid until the function returns (its capabilities expire then); `context` is what
 * airlock_worker_method was given. It answers with exactly one of airlock_worker_call_reply or
 * airlock_worker_call_fail (the last one wins); answering neither fails the call ("the method
 * gave no answer"). */
typedef void (*airlock_worker_method_fn)(airlock_worker_call* call, void* context);

/* Checks that fd 3 is the broker channel, exiting with a message on stderr otherwise (as the C++
 * SDK does). The worker is the caller's: airlock_worker_free. NULL only when out of memory. */
AIRLOCK_API airlock_worker* airlock_worker_new(int argc, char** argv);
AIRLOCK_API void airlock_worker_free(airlock_worker* worker);

/* Registers `method` under `name` (copied) before airlock_worker_serve. `context` is borrowed
 * for as long as the worker serves. AIRLOCK_INVALID_ARGUMENT for a NULL worker, name or method. */
AIRLOCK_API int airlock_worker_method(airlock_worker* worker, const char* name,
                                      airlock_worker_method_fn method, void* context);

/* Serves calls until airlockd closes the channel; returns the process exit status to use. */
AIRLOCK_API int airlock_worker_serve(airlock_worker* worker);

/* The pull form, for languages that C cannot call back into without writable executable memory
 * (Python's ctypes callbacks need it, and the sandbox grants none by default):
 *
 *   airlock_worker_pull(worker, "parse");
 *   airlock_worker_call* call;
 *   while (airlock_worker_next(worker, &call) == AIRLOCK_OK && call != NULL) {
 *     ... airlock_worker_call_method(call), _payload, _fs_open, ..., _reply or _fail ...
 *     airlock_worker_call_done(call);
 *   }
 *
 * airlock_worker_pull registers `name` (copied) before the first airlock_worker_next; its calls
 * are handed out by airlock_worker_next instead of run by a callback. AIRLOCK_INVALID_ARGUMENT
 * for a NULL worker or name. */
AIRLOCK_API int airlock_worker_pull(airlock_worker* worker, const char* name);

/* Runs the channel on the calling (main) thread until a call of a pulled name arrives (calls of
 * callback methods are run meanwhile) and hands it out in *call_out: the caller's until
 * airlock_worker_call_done. *call_out is NULL once airlockd closes the channel: serving is over
 * (exit with status 0). Answer and release each call before asking for the next. Another status
 * (with *call_out NULL) means the channel failed: exit non-zero. */
AIRLOCK_API int airlock_worker_next(airlock_worker* worker, airlock_worker_call** call_out);

/* Sends the call's answer (the last airlock_worker_call_reply or _fail; neither: "the method gave
 * no answer") and releases it: `call` and what its accessors returned are invalid afterwards.
 * Only for calls of airlock_worker_next; NULL does nothing. */
AIRLOCK_API void airlock_worker_call_done(airlock_worker_call* call);

/* The call's method name (NUL-terminated) and payload (`*size_out` bytes, not NUL-terminated);
 * both borrowed for the duration of the call. */
AIRLOCK_API const char* airlock_worker_call_method(const airlock_worker_call* call);
AIRLOCK_API const void* airlock_worker_call_payload(const airlock_worker_call* call,
                                                    size_t* size_out);

/* The call's answer: `data` (`size` bytes, copied; NULL only with size 0), or a failure with
 * `message` (copied), which the host sees as AIRLOCK_WORKER_FAILED with that message. */
AIRLOCK_API int airlock_worker_call_reply(airlock_worker_call* call, const void* data,
                                          size_t size);
AIRLOCK_API int airlock_worker_call_fail(airlock_worker_call* call, const char* message);

/* How airlock_worker_fs_open opens, or-ed together (the C++ SDK's airlock::Open). */
enum airlock_open_flag {
  AIRLOCK_OPEN_READ = 1,
  AIRLOCK_OPEN_WRITE = 2,
  AIRLOCK_OPEN_CREATE = 4,
  AIRLOCK_OPEN_TRUNCATE = 8,
  AIRLOCK_OPEN_APPEND = 16,
  AIRLOCK_OPEN_EXCLUSIVE = 32 /* with CREATE: fail if the path exists, even as a symlink */
};

/* fs.open through airlockd: `path` is `path_size` bytes (a host path; NUL-free), decided by the
 * unit's fs.open rules and recorded. AIRLOCK_OK: *fd_out is an open descriptor the caller now
 * owns (close(2) it). AIRLOCK_DENIED: the policy refused (the message names the rule).
 * AIRLOCK_WORKER_FAILED: allowed, but the open failed (the message has the errno name).
 * Otherwise, and on every failure, *fd_out is -1 and, if message_out is not NULL, *message_out
 * is a new string saying why (airlock_string_free); on AIRLOCK_OK it is set to NULL. */
AIRLOCK_API int airlock_worker_fs_open(airlock_worker_call* call, const char* path,
                                       size_t path_size, unsigned flags, int* fd_out,
                                       char** message_out);

/* secrets.get through airlockd: the secret `name` as the unit's secrets.get rules allow.
 * AIRLOCK_OK: *value_out is a new buffer of *size_out bytes (plus a NUL not counted), the
 * caller's, released with airlock_secret_free, which wipes it first. AIRLOCK_DENIED: the policy
 * refused; AIRLOCK_WORKER_FAILED: allowed, but the store could not read it. Otherwise
 * *value_out is NULL and, if message_out is not NULL, *message_out a new string saying why
 * (airlock_string_free). */
AIRLOCK_API int airlock_worker_secret_get(airlock_worker_call* call, const char* name,
                                          char** value_out, size_t* size_out, char** message_out);
/* Wipes then frees a value of airlock_worker_secret_get (`size` as it gave). NULL does nothing. */
AIRLOCK_API void airlock_secret_free(char* value, size_t size);

/* net.connect through airlockd: TCP to `host` (a name or an IPv4/IPv6 literal) and `port`, or a
 * Unix stream socket at the absolute host path `path`, as the unit's net.connect rules allow;
 * airlockd connects and passes the socket. Answers and ownership as airlock_worker_fs_open: on
 * AIRLOCK_OK *fd_out is a connected, blocking socket the caller owns (close(2) it). */
AIRLOCK_API int airlock_worker_net_connect(airlock_worker_call* call, const char* host,
                                           uint16_t port, int* fd_out, char** message_out);
AIRLOCK_API int airlock_worker_net_connect_unix(airlock_worker_call* call, const char* path,
                                                int* fd_out, char** message_out);

/* Calls `method` of `unit` through airlockd with `payload` (`payload_size` bytes) and blocks until
 * it answers; allowed only if this unit's invoke rules allow it and `unit`'s call rules list this
 * unit in caller_unit (refused for a unit already on the chain of calls, itself included).
 * AIRLOCK_OK: *answer_out is a new buffer of *answer_size_out bytes (plus a NUL not counted),
 * the caller's (airlock_string_free). AIRLOCK_WORKER_FAILED: the callee's method reported an
 * error; AIRLOCK_DENIED: either side's policy or the chain refused; AIRLOCK_NO_ANSWER: no answer.
 * Otherwise *answer_out is NULL and, if message_out is not NULL, *message_out says why (a new
 * string: airlock_string_free). */
AIRLOCK_API int airlock_worker_invoke(airlock_worker_call* call, const char* unit,
                                      const char* method, const void* payload,
                                      size_t payload_size, char** answer_out,
                                      size_t* answer_size_out, char** message_out);

/* One line in airlockd's log, tagged with the unit and this worker's pid (`message` is
 * `size` bytes). Levels: 0 debug, 1 info, 2 warn, 3 error. */
AIRLOCK_API int airlock_worker_log(airlock_worker_call* call, int level, const char* message,
                                   size_t size);

#ifdef __cplusplus
}
#endif

#endif /* AIRLOCK_AIRLOCK_WORKER_H */
