/* A host written in C, compiled as C, calling units through libairlock (<airlock/airlock.h>):
 * every function of the ABI once at least. It prints one line per step, "STEP: STATUS DETAIL",
 * and the integration test (c_abi_test.cc) compares the lines and airlockd's audit log.
 *
 *   c-abi-host SOCKET CLIENT_KEY BROKER_PUB TYPED_PROBE_ID TYPED_BASE_ID NAME FILE
 *
 * NAME is the path a descriptor grant of FILE (opened here, read-only) goes under.
 *
 * Units (from the test's policies): "probe" (tests/integration/programs/probe_worker.cc: echo,
 * crash and hang allowed, nothing else), "typed" (programs/typed_worker.cc) and "cat" (a
 * program unit running /usr/bin/cat). */

#define _POSIX_C_SOURCE 200809L /* open(2), O_CLOEXEC */

#include <airlock/airlock.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_reply(const char* step, int status, const airlock_reply* reply) {
  size_t size = 0;
  const char* data = (const char*)airlock_reply_data(reply, &size);
  printf("%s: %s", step, airlock_status_name(status));
  if (status != airlock_reply_status(reply)) printf(" (reply says %d)", airlock_reply_status(reply));
  if (status == AIRLOCK_OK) {
    printf(" %.*s\n", (int)size, data);
  } else {
    printf(" rule=%s\n", airlock_reply_rule(reply));
    fprintf(stderr, "%s: %s | %s\n", step, airlock_reply_message(reply),
            airlock_reply_describe(reply));
  }
}

static void call(airlock_client* client, const char* step, const char* unit, const char* method,
                 const char* payload, uint32_t timeout_ms) {
  airlock_reply* reply = NULL;
  int status = airlock_call(client, unit, method, payload, payload ? strlen(payload) : 0,
                            timeout_ms, &reply);
  print_reply(step, status, reply);
  airlock_reply_free(reply);
}

/* The first pointer of a one-segment Cap'n Proto message's root struct, read as Text: enough to
 * read TypedProbe's results ((text :Text), (pong :Text)) without a Cap'n Proto library. */
static int read_text_field(const unsigned char* message, size_t size, char* out, size_t out_size) {
  uint32_t header[2];
  uint64_t root, field;
  if (size < 16) return -1;
  memcpy(header, message, sizeof header);
  if (header[0] != 0 || 8 + (size_t)header[1] * 8 > size) return -1;
  const unsigned char* segment = message + 8;
  size_t words = header[1];
  memcpy(&root, segment, 8);
  int32_t struct_offset = (int32_t)(uint32_t)root >> 2;
  size_t data_words = (size_t)((root >> 32) & 0xffff);
  size_t pointers = (size_t)(root >> 48);
  size_t field_at = 1 + (size_t)struct_offset + data_words;
  if ((root & 3) != 0 || pointers < 1 || field_at >= words) return -1;
  memcpy(&field, segment + field_at * 8, 8);
  if ((field & 3) != 1 || ((field >> 32) & 7) != 2) return -1; /* a list of bytes */
  size_t text_at = field_at + 1 + (size_t)((int32_t)(uint32_t)field >> 2);
  size_t count = (size_t)(field >> 35);
  if (count == 0 || count > out_size || text_at * 8 + count > words * 8) return -1;
  memcpy(out, segment + text_at * 8, count); /* count includes the NUL */
  return 0;
}

/* TypedProbe.echo's params (text :Text) as a one-segment message, built by hand. */
static size_t echo_params(const char* text, unsigned char* out, size_t out_size) {
  size_t length = strlen(text) + 1;
  size_t text_words = (length + 7) / 8;
  size_t words = 2 + text_words;
  uint32_t header[2] = {0, (uint32_t)words};
  uint64_t root = (uint64_t)1 << 48; /* struct, offset 0, no data, one pointer */
  uint64_t field = 1 | ((uint64_t)((length << 3) | 2) << 32); /* list of bytes, offset 0 */
  if (8 + words * 8 > out_size) return 0;
  memset(out, 0, 8 + words * 8);
  memcpy(out, header, 8);
  memcpy(out + 8, &root, 8);
  memcpy(out + 16, &field, 8);
  memcpy(out + 24, text, length);
  return 8 + words * 8;
}

static void typed(airlock_client* client, const char* step, uint64_t interface_id,
                  uint16_t method, const void* params, size_t params_size) {
  airlock_reply* reply = NULL;
  int status = airlock_call_typed(client, "typed", interface_id, method, params, params_size,
                                  &reply);
  if (status == AIRLOCK_OK) {
    size_t size = 0;
    const unsigned char* results = airlock_reply_data(reply, &size);
    char text[256];
    if (read_text_field(results, size, text, sizeof text) == 0) {
      printf("%s: ok %s\n", step, text);
    } else {
      printf("%s: ok but unreadable results (%zu bytes)\n", step, size);
    }
  } else {
    printf("%s: %s\n", step, airlock_status_name(status));
    fprintf(stderr, "%s: %s\n", step, airlock_reply_describe(reply));
  }
  airlock_reply_free(reply);
}

static void run_cat(airlock_client* client) {
  const char* argv[] = {"-"};
  const char input[] = "piped through cat";
  airlock_reply* reply = NULL;
  int status = airlock_run(client, "cat", argv, 1, input, strlen(input), 0, &reply);
  size_t out_size = 0, err_size = 0;
  const char* out = airlock_reply_stdout(reply, &out_size);
  (void)airlock_reply_stderr(reply, &err_size);
  printf("run: %s exit=%d signal=%d cut=%d refused=%s stdout=%.*s stderr-bytes=%zu\n",
         airlock_status_name(status), airlock_reply_exit_status(reply), airlock_reply_signal(reply),
         airlock_reply_output_cut(reply), airlock_reply_refused_syscall(reply), (int)out_size, out,
         err_size);
  airlock_reply_free(reply);
}

/* The probe worker's read of `name`, handing it `file` as a descriptor grant under that name. */
static void granted(airlock_client* client, const char* name, const char* file) {
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  airlock_grant grant = {name, AIRLOCK_GRANT_READ, fd};
  airlock_reply* reply = NULL;
  int status =
      airlock_call_granted(client, "granted", "read", name, strlen(name), &grant, 1, 0, &reply);
  print_reply("granted-fd", status, reply);
  airlock_reply_free(reply);
  grant.modes = 0;
  status =
      airlock_call_granted(client, "granted", "read", name, strlen(name), &grant, 1, 0, &reply);
  print_reply("grant-no-modes", status, reply);
  airlock_reply_free(reply);
  close(fd);
}

static void* call_from_another_thread(void* client) {
  call((airlock_client*)client, "other-thread", "probe", "echo", "x", 0);
  airlock_client_free((airlock_client*)client); /* refused too: left to its own thread */
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s SOCKET CLIENT_KEY BROKER_PUB TYPED_PROBE_ID TYPED_BASE_ID NAME FILE\n", argv[0]);
    return 2;
  }
  const char* socket = argv[1];
  uint64_t probe_id = strtoull(argv[4], NULL, 0), base_id = strtoull(argv[5], NULL, 0);
  printf("abi: %d\n", airlock_abi_version());

  airlock_client* client = NULL;
  char* error = NULL;
  int status = airlock_connect(socket, argv[2], "/nonexistent/broker.pub", &client, &error);
  printf("connect-unpinned: %s client=%s message=%s\n", airlock_status_name(status),
         client ? "set" : "null", error && *error ? "set" : "none");
  airlock_string_free(error);
  status = airlock_connect(socket, argv[2], argv[3], &client, &error);
  printf("connect: %s error=%s\n", airlock_status_name(status), error ? error : "none");
  if (status != AIRLOCK_OK) return 1;
  airlock_client* second = NULL;
  status = airlock_connect(socket, argv[2], argv[3], &second, NULL);
  printf("connect-second: %s client=%s\n", airlock_status_name(status), second ? "set" : "null");
  airlock_client_free(second);

  call(client, "echo", "probe", "echo", "hello from C", 0);
  call(client, "denied", "probe", "read", "/etc/passwd", 0);
  call(client, "crash", "probe", "crash", "", 0);
  call(client, "after-crash", "probe", "echo", "still served", 0);
  call(client, "timeout", "probe", "hang", "", 300);
  call(client, "no-unit", "nonexistent", "echo", "", 0);
  call(client, "null-unit", NULL, "echo", "", 0);
  airlock_reply* refused = NULL;
  status = airlock_call(client, "probe", "echo", NULL, 5, 0, &refused);
  print_reply("null-payload", status, refused);
  airlock_reply_free(refused);
  printf("null-reply-out: %s\n",
         airlock_status_name(airlock_call(client, "probe", "echo", "", 0, 0, NULL)));

  pthread_t thread;
  pthread_create(&thread, NULL, call_from_another_thread, client);
  pthread_join(thread, NULL);
  call(client, "own-thread", "probe", "echo", "mine", 0);

  run_cat(client);
  granted(client, argv[6], argv[7]);

  typed(client, "typed-ping", base_id, 0, NULL, 0);
  unsigned char params[128];
  size_t params_size = echo_params("typed from C", params, sizeof params);
  typed(client, "typed-echo", probe_id, 0, params, params_size);
  typed(client, "typed-denied", probe_id, 6, NULL, 0);
  typed(client, "typed-malformed", probe_id, 0, "not a message", 13);
  unsigned char garbage[16] = {0, 0, 0, 0, 200, 0, 0, 0}; /* claims 200 words, has 1 */
  typed(client, "typed-garbage", probe_id, 0, garbage, sizeof garbage);

  printf("names:");
  for (int code = 0; code <= 11; ++code) printf(" %s,", airlock_status_name(code));
  for (int code = 100; code <= 105; ++code) printf(" %s,", airlock_status_name(code));
  printf("\n");
  airlock_reply_free(NULL);
  airlock_client_free(client);
  airlock_client_free(NULL);
  printf("done\n");
  return 0;
}
