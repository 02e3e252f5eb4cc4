#ifndef AIRLOCK_AIRLOCK_H
#define AIRLOCK_AIRLOCK_H
/*
 * libairlock: the host SDK as a C ABI, for applications in C and for other languages' foreign
 * function interfaces (Python's ctypes in sdk/python/, Go's cgo, Rust, ...). It wraps the C++
 * host SDK (<airlock/host/client.h>) and behaves as it does; docs/c-and-python.md shows it used.
 *
 *   airlock_client* broker = NULL;
 *   char* why = NULL;
 *   if (airlock_connect("/run/airlock/airlock.sock", "web.key", "broker.pub", &broker, &why)) {
 *     fprintf(stderr, "%s\n", why);
 *     airlock_string_free(why);
 *     return 1;
 *   }
 *   airlock_reply* reply = NULL;
 *   airlock_call(broker, "thumbnailer", "thumbnail", path, strlen(path), 0, &reply);
 *   if (airlock_reply_status(reply) == AIRLOCK_OK) {
 *     size_t size = 0;
 *     const void* png = airlock_reply_data(reply, &size);
 *     ...
 *   } else {
 *     fprintf(stderr, "%s\n", airlock_reply_describe(reply));  // "denied by rule ...: ..."
 *   }
 *   airlock_reply_free(reply);
 *   airlock_client_free(broker);
 *
 * Rules every function keeps:
 *  - No C++ exception and no C++ type crosses this boundary: every failure is a status code
 *    (enum airlock_status) plus a message.
 *  - Ownership: a handle or string a function hands out through an `out` parameter belongs to
 *    the caller, who releases it with the matching *_free function, exactly once. Pointers that
 *    accessors return (airlock_reply_data, airlock_reply_message, ...) are borrowed: they stay
 *    valid until the reply they came from is freed, and must not be freed themselves. Every
 *    pointer the caller passes in is borrowed for the duration of the call only; nothing is kept.
 *  - Threads: a client is used and freed only on the thread that connected it (it owns that
 *    thread's event loop), and a thread holds at most one client at a time. A call on another
 *    thread answers AIRLOCK_WRONG_THREAD and does nothing. Replies are plain data: any thread
 *    may read or free them. Different threads may each hold their own client.
 *  - Calls block until airlockd answers, as the C++ SDK's do.
 *  - NULL is accepted wherever a *_free function takes a handle, and does nothing.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define AIRLOCK_API __attribute__((visibility("default")))
#else
#define AIRLOCK_API
#endif

/* The ABI's version. The SONAME (libairlock.so.0) changes when this does. */
#define AIRLOCK_ABI_VERSION 0
AIRLOCK_API int airlock_abi_version(void);

/* What a function or a call came to. 1..11 are airlockd's answers to a call, one per error kind
 * of the C++ SDK (airlock::CallErrorKind); 100 and above are this library's own. */
enum airlock_status {
  AIRLOCK_OK = 0,
  AIRLOCK_DENIED = 1,           /* the policy refused the call; airlock_reply_rule names the rule */
  AIRLOCK_UNIT_CRASHED = 2,     /* the worker died while handling it */
  AIRLOCK_TIMED_OUT = 3,        /* no answer within the unit's call timeout (or the call's own) */
  AIRLOCK_BAD_REQUEST = 4,      /* malformed arguments, e.g. a payload over max_payload_bytes */
  AIRLOCK_UNIT_UNAVAILABLE = 5, /* no worker could be started, or the unit is parked after a
                                   crash loop (then airlock_reply_rule names the limit, e.g.
                                   "unit.crash_loop_limit", until a policy reload) */
  AIRLOCK_NO_SUCH_METHOD = 6,
  AIRLOCK_WORKER_FAILED = 7,    /* the method reported an error: airlock_reply_message says it */
  AIRLOCK_NO_SUCH_UNIT = 8,
  AIRLOCK_BROKER_ERROR = 9,     /* airlockd could not complete it (e.g. audit log unwritable) */
  AIRLOCK_DISCONNECTED = 10,    /* the connection to airlockd was lost */
  AIRLOCK_BUSY = 11,            /* the unit is at its flow limit (the rule names it): nothing ran */

  AIRLOCK_CONNECT_FAILED = 100, /* no socket, an unusable key file, a peer that is not the pinned
                                   airlockd, or airlockd's refusal (its audit log, event "auth") */
  AIRLOCK_INVALID_ARGUMENT = 101, /* a NULL where a value is needed, a bad size; nothing was sent */
  AIRLOCK_WRONG_THREAD = 102,   /* the client belongs to another thread; nothing was sent */
  AIRLOCK_LIBRARY_ERROR = 103,  /* this library failed (e.g. out of memory); the message says how */
  AIRLOCK_NO_ANSWER = 104       /* a worker's invoke got no answer: no such unit or method, the
                                   callee crashed, timed out or is unavailable (the message says
                                   which; airlock_worker.h) */
};

/* A short name for a status: "ok", "denied", "unit crashed", ... Static storage: never freed. */
AIRLOCK_API const char* airlock_status_name(int status);

/* Frees a string or buffer this library handed out (the `error_out` of airlock_connect, the
 * messages and answers of airlock_worker.h), with free(3). */
AIRLOCK_API void airlock_string_free(char* text);

/* ---- Connecting ------------------------------------------------------------------------------ */

typedef struct airlock_client airlock_client;

/* Connects to airlockd at `socket_path` and authenticates as the client whose secret key is
 * `client_key_file` (NAME.key from `airlock keygen --client NAME`, mode 0600), accepting only
 * the airlockd whose public key is `broker_key_file` (broker.pub). The secret key is read, used
 * to sign one handshake answer and wiped from memory before this returns.
 *
 * On AIRLOCK_OK, *client_out is a new client (the caller's: airlock_client_free). Otherwise
 * *client_out is NULL and, if `error_out` is not NULL, *error_out is a new string saying what
 * failed (the caller's: airlock_string_free); on AIRLOCK_OK *error_out is set to NULL. */
AIRLOCK_API int airlock_connect(const char* socket_path, const char* client_key_file,
                                const char* broker_key_file, airlock_client** client_out,
                                char** error_out);

/* Closes the connection and frees the client, on the thread that connected it (on any other
 * thread it is left alone, leaked rather than broken). Replies already returned stay valid. */
AIRLOCK_API void airlock_client_free(airlock_client* client);

/* ---- Replies --------------------------------------------------------------------------------- */

/* What one call, run or typed call gave: its status and, depending on it, the answer's bytes or
 * the refusal's message and rule. Every call function below sets *reply_out to a new reply,
 * whatever the status, so the caller always has one to read and free (airlock_reply_free). Two
 * exceptions: a NULL reply_out (the function answers AIRLOCK_INVALID_ARGUMENT and sets nothing)
 * and out of memory (*reply_out is NULL; the status says it failed). The accessors take NULL as
 * an empty reply. */
typedef struct airlock_reply airlock_reply;

AIRLOCK_API void airlock_reply_free(airlock_reply* reply);
AIRLOCK_API int airlock_reply_status(const airlock_reply* reply);
/* The answer's bytes when the status is AIRLOCK_OK (empty otherwise): *size_out gets their
 * length; the pointer is never NULL. Borrowed from the reply. */
AIRLOCK_API const void* airlock_reply_data(const airlock_reply* reply, size_t* size_out);
/* Why the call failed ("" when it did not). NUL-terminated, borrowed from the reply. */
AIRLOCK_API const char* airlock_reply_message(const airlock_reply* reply);
/* The rule that decided a refusal (set for AIRLOCK_DENIED, AIRLOCK_BUSY and a parked unit;
 * "" otherwise). Borrowed from the reply. */
AIRLOCK_API const char* airlock_reply_rule(const airlock_reply* reply);
/* One line for people: "denied by rule default-deny: no rule allows ...", or "ok". Borrowed. */
AIRLOCK_API const char* airlock_reply_describe(const airlock_reply* reply);

/* ---- Calls ----------------------------------------------------------------------------------- */

/* Calls `method` of `unit` with `payload` (`payload_size` bytes; NULL only with size 0).
 * `timeout_ms` > 0 shortens the call's deadline to that long after airlockd receives it (never
 * past the unit's call_timeout_ms); 0 leaves the unit's. Returns the reply's status. */
AIRLOCK_API int airlock_call(airlock_client* client, const char* unit, const char* method,
                             const void* payload, size_t payload_size, uint32_t timeout_ms,
                             airlock_reply** reply_out);

/* A grant: what one call alone may reach (docs/policy.md "Call-scoped grants"). The unit's
 * `grant` rules must let this client grant it, or the call is refused (AIRLOCK_DENIED) before any
 * worker sees it; its worker may then open `path` with `modes` until the call is answered.
 * With `fd` >= 0, a descriptor grant: this process's open file `fd` (a regular file or a
 * directory) is what the worker gets when it opens `path`; `modes` must be within what `fd`
 * permits (a read-only descriptor grants only AIRLOCK_GRANT_READ). `fd` stays the caller's: the
 * call sends a copy. Every field is borrowed for the call only. */
#define AIRLOCK_GRANT_READ 1u
#define AIRLOCK_GRANT_WRITE 2u
#define AIRLOCK_GRANT_CREATE 4u
#define AIRLOCK_GRANT_TRUNCATE 8u
#define AIRLOCK_GRANT_APPEND 16u
typedef struct airlock_grant {
  const char* path; /* absolute, as the worker will ask for it */
  unsigned modes;   /* AIRLOCK_GRANT_* or'ed; at least one */
  int fd;           /* -1: a path grant */
} airlock_grant;

/* airlock_call, handing the call `grant_count` grants (at most 32; `grants` NULL only with 0).
 * A grant with a NULL path, no or unknown modes is AIRLOCK_INVALID_ARGUMENT before anything is
 * sent. */
AIRLOCK_API int airlock_call_granted(airlock_client* client, const char* unit,
                                     const char* method, const void* payload,
                                     size_t payload_size, const airlock_grant* grants,
                                     size_t grant_count, uint32_t timeout_ms,
                                     airlock_reply** reply_out);

/* Runs a program unit ([unit] program) once with `argc` arguments `argv` (each NUL-terminated;
 * argv may be NULL when argc is 0) and `input` as its stdin, decided by the unit's call rules as
 * method "run". The status says whether it ran; when AIRLOCK_OK, the accessors below give its
 * exit and output. */
AIRLOCK_API int airlock_run(airlock_client* client, const char* unit, const char* const* argv,
                            size_t argc, const void* input, size_t input_size,
                            uint32_t timeout_ms, airlock_reply** reply_out);
/* For a reply of airlock_run (0, "" or empty for other replies): */
AIRLOCK_API int airlock_reply_exit_status(const airlock_reply* reply); /* when signal is 0 */
AIRLOCK_API int airlock_reply_signal(const airlock_reply* reply);      /* what ended it, or 0 */
AIRLOCK_API const void* airlock_reply_stdout(const airlock_reply* reply, size_t* size_out);
AIRLOCK_API const void* airlock_reply_stderr(const airlock_reply* reply, size_t* size_out);
AIRLOCK_API int airlock_reply_output_cut(const airlock_reply* reply); /* 1: one was cut */
/* The syscall the sandbox stopped the program for, or "". Borrowed. */
AIRLOCK_API const char* airlock_reply_refused_syscall(const airlock_reply* reply);

/* Calls method `method_id` (its ordinal) of interface `interface_id` (its 64-bit Cap'n Proto id)
 * on the unit's typed interface ([unit] interface in its policy), decided and recorded by the
 * method's schema name as the C++ SDK's typed calls are.
 *
 * `params` is one Cap'n Proto message in the standard (unpacked, segment-table-first)
 * serialization whose root is the method's parameter struct; `params_size` 0 (params NULL) sends
 * the defaults. Capabilities cannot be passed this way. When the status is AIRLOCK_OK, the
 * reply's data (airlock_reply_data) is the method's result struct as one such message. A failure
 * keeps the kind airlockd gave it (AIRLOCK_DENIED, AIRLOCK_WORKER_FAILED, ...), and a `params`
 * that is not a well-formed message is AIRLOCK_INVALID_ARGUMENT with a reply saying why. */
AIRLOCK_API int airlock_call_typed(airlock_client* client, const char* unit,
                                   uint64_t interface_id, uint16_t method_id, const void* params,
                                   size_t params_size, airlock_reply** reply_out);

#ifdef __cplusplus
}
#endif

#endif /* AIRLOCK_AIRLOCK_H */
