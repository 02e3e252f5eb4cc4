/* A worker written in C, compiled as C, served through the worker side of the C ABI
 * (<airlock/airlock_worker.h>); c_abi_worker_test.cc calls it through a real airlockd.
 *
 *   echo PAYLOAD   answers PAYLOAD
 *   read PATH      fs.open(PATH, read) through airlockd; answers the file's bytes, or fails with
 *                  "denied: WHY" / "failed: WHY"
 *   silent         answers nothing (the SDK fails the call for it)
 *   log TEXT       one line in airlockd's log; answers "logged"
 *   secret NAME    secrets.get(NAME); answers its value, or fails "denied: WHY" / "failed: WHY"
 *   connect HOST\nPORT\nDATA   net.connect; sends DATA, half-closes, answers what came back
 *   connect-unix PATH\nDATA     the same over a Unix socket
 *   invoke UNIT\nMETHOD\nPAYLOAD  units.invoke; answers "ok:ANSWER", or fails with
 *                  "denied: WHY" / "failed: WHY" / "no answer: WHY"
 *   pulled PAYLOAD handed out by airlock_worker_next, not a callback: answers "pulled:PAYLOAD"
 *   pulled-silent  pulled and released unanswered (the SDK fails the call for it)
 * With any argument, it serves through airlock_worker_serve; without, through the pull loop
 * (airlock_worker_next), in which the callback methods run too. */

#define _POSIX_C_SOURCE 200809L

#include <airlock/airlock_worker.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void echo(airlock_worker_call* call, void* context) {
  size_t size = 0;
  const void* payload = airlock_worker_call_payload(call, &size);
  (void)context;
  airlock_worker_call_reply(call, payload, size);
}

/* A failed request's answer: "denied: WHY" or "failed: WHY". Frees `why`. */
static void fail_with(airlock_worker_call* call, int status, char* why) {
  char answer[4096];
  snprintf(answer, sizeof answer, "%s: %s", status == AIRLOCK_DENIED ? "denied" : "failed",
           why ? why : "");
  airlock_string_free(why);
  airlock_worker_call_fail(call, answer);
}

static void read_file(airlock_worker_call* call, void* context) {
  size_t size = 0;
  const char* path = airlock_worker_call_payload(call, &size);
  int fd = -1;
  char* why = NULL;
  char answer[4096];
  (void)context;
  int status = airlock_worker_fs_open(call, path, size, AIRLOCK_OPEN_READ, &fd, &why);
  if (status != AIRLOCK_OK) {
    fail_with(call, status, why);
    return;
  }
  ssize_t got = read(fd, answer, sizeof answer);
  close(fd);
  if (got < 0) {
    airlock_worker_call_fail(call, "read failed");
    return;
  }
  airlock_worker_call_reply(call, answer, (size_t)got);
}

static void secret(airlock_worker_call* call, void* context) {
  size_t size = 0;
  char name[256];
  const char* payload = airlock_worker_call_payload(call, &size);
  char* value = NULL;
  size_t value_size = 0;
  char* why = NULL;
  (void)context;
  if (size >= sizeof name) size = sizeof name - 1;
  memcpy(name, payload, size);
  name[size] = '\0';
  int status = airlock_worker_secret_get(call, name, &value, &value_size, &why);
  if (status != AIRLOCK_OK) {
    fail_with(call, status, why);
    return;
  }
  airlock_worker_call_reply(call, value, value_size);
  airlock_secret_free(value, value_size);
}

/* Sends `data` on `fd`, half-closes, answers everything that comes back, closes `fd`. */
static void echo_round_trip(airlock_worker_call* call, int fd, const char* data) {
  char answer[4096];
  size_t got = 0;
  ssize_t n;
  if (write(fd, data, strlen(data)) < 0 || shutdown(fd, SHUT_WR) < 0) {
    close(fd);
    airlock_worker_call_fail(call, "write or shutdown failed");
    return;
  }
  while (got < sizeof answer && (n = read(fd, answer + got, sizeof answer - got)) > 0) {
    got += (size_t)n;
  }
  close(fd);
  airlock_worker_call_reply(call, answer, got);
}

/* The payload as NUL-terminated lines in `buffer`: up to `count` of them into `lines`. */
static size_t split_lines(airlock_worker_call* call, char* buffer, size_t buffer_size,
                          char** lines, size_t count) {
  size_t size = 0, found = 0;
  const char* payload = airlock_worker_call_payload(call, &size);
  if (size >= buffer_size) size = buffer_size - 1;
  memcpy(buffer, payload, size);
  buffer[size] = '\0';
  char* at = buffer;
  while (found < count) {
    lines[found++] = at;
    char* newline = strchr(at, '\n');
    if (newline == NULL || found == count) break;
    *newline = '\0';
    at = newline + 1;
  }
  return found;
}

static void connect_tcp(airlock_worker_call* call, void* context) {
  char buffer[4096];
  char* lines[3];
  int fd = -1;
  char* why = NULL;
  (void)context;
  if (split_lines(call, buffer, sizeof buffer, lines, 3) != 3) {
    airlock_worker_call_fail(call, "payload is HOST\\nPORT\\nDATA");
    return;
  }
  int status = airlock_worker_net_connect(call, lines[0], (uint16_t)atoi(lines[1]), &fd, &why);
  if (status != AIRLOCK_OK) {
    fail_with(call, status, why);
    return;
  }
  echo_round_trip(call, fd, lines[2]);
}

static void connect_unix(airlock_worker_call* call, void* context) {
  char buffer[4096];
  char* lines[2];
  int fd = -1;
  char* why = NULL;
  (void)context;
  if (split_lines(call, buffer, sizeof buffer, lines, 2) != 2) {
    airlock_worker_call_fail(call, "payload is PATH\\nDATA");
    return;
  }
  int status = airlock_worker_net_connect_unix(call, lines[0], &fd, &why);
  if (status != AIRLOCK_OK) {
    fail_with(call, status, why);
    return;
  }
  echo_round_trip(call, fd, lines[1]);
}

static void invoke(airlock_worker_call* call, void* context) {
  char buffer[4096];
  char* lines[3];
  char* answer = NULL;
  size_t answer_size = 0;
  char* why = NULL;
  char reply[4200];
  (void)context;
  if (split_lines(call, buffer, sizeof buffer, lines, 3) != 3) {
    airlock_worker_call_fail(call, "payload is UNIT\\nMETHOD\\nPAYLOAD");
    return;
  }
  int status = airlock_worker_invoke(call, lines[0], lines[1], lines[2], strlen(lines[2]),
                                     &answer, &answer_size, &why);
  if (status == AIRLOCK_NO_ANSWER) {
    snprintf(reply, sizeof reply, "no answer: %s", why ? why : "");
    airlock_string_free(why);
    airlock_worker_call_fail(call, reply);
    return;
  }
  if (status != AIRLOCK_OK) {
    fail_with(call, status, why);
    return;
  }
  snprintf(reply, sizeof reply, "ok:%.*s", (int)answer_size, answer);
  airlock_string_free(answer);
  airlock_worker_call_reply(call, reply, strlen(reply));
}

static void silent(airlock_worker_call* call, void* context) {
  (void)call;
  (void)context;
}

static void log_line(airlock_worker_call* call, void* context) {
  size_t size = 0;
  const char* text = airlock_worker_call_payload(call, &size);
  (void)context;
  airlock_worker_log(call, 1, text, size);
  airlock_worker_call_reply(call, "logged", 6);
}

int main(int argc, char** argv) {
  airlock_worker* worker = airlock_worker_new(argc, argv);
  if (worker == NULL) return 1;
  airlock_worker_method(worker, "echo", echo, NULL);
  airlock_worker_method(worker, "read", read_file, NULL);
  airlock_worker_method(worker, "silent", silent, NULL);
  airlock_worker_method(worker, "log", log_line, NULL);
  airlock_worker_method(worker, "secret", secret, NULL);
  airlock_worker_method(worker, "connect", connect_tcp, NULL);
  airlock_worker_method(worker, "connect-unix", connect_unix, NULL);
  airlock_worker_method(worker, "invoke", invoke, NULL);
  airlock_worker_pull(worker, "pulled");
  airlock_worker_pull(worker, "pulled-silent");
  int status = 0;
  if (argc > 1) {
    status = airlock_worker_serve(worker);
  } else {
    airlock_worker_call* call = NULL;
    while ((status = airlock_worker_next(worker, &call)) == AIRLOCK_OK && call != NULL) {
      if (strcmp(airlock_worker_call_method(call), "pulled") == 0) {
        size_t size = 0;
        const char* payload = airlock_worker_call_payload(call, &size);
        char answer[4096];
        int length = snprintf(answer, sizeof answer, "pulled:%.*s", (int)size, payload);
        airlock_worker_call_reply(call, answer, (size_t)length);
      }
      airlock_worker_call_done(call);
    }
  }
  airlock_worker_free(worker);
  return status == AIRLOCK_OK ? 0 : 1;
}
