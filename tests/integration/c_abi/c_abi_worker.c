/* A worker written in C, compiled as C, served through the worker side of the C ABI
 * (<airlock/airlock_worker.h>); c_abi_worker_test.cc calls it through a real airlockd.
 *
 *   echo PAYLOAD   answers PAYLOAD
 *   read PATH      fs.open(PATH, read) through airlockd; answers the file's bytes, or fails with
 *                  "denied: WHY" / "failed: WHY"
 *   silent         answers nothing (the SDK fails the call for it)
 *   log TEXT       one line in airlockd's log; answers "logged" */

#define _POSIX_C_SOURCE 200809L

#include <airlock/airlock_worker.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void echo(airlock_worker_call* call, void* context) {
  size_t size = 0;
  const void* payload = airlock_worker_call_payload(call, &size);
  (void)context;
  airlock_worker_call_reply(call, payload, size);
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
    snprintf(answer, sizeof answer, "%s: %s", status == AIRLOCK_DENIED ? "denied" : "failed",
             why ? why : "");
    airlock_string_free(why);
    airlock_worker_call_fail(call, answer);
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
  int status = airlock_worker_serve(worker);
  airlock_worker_free(worker);
  return status;
}
