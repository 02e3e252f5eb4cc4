// A worker for integration tests that starts and never speaks: it does not answer the broker's
// hello (or read its channel at all), as a worker stuck in a library's initialisation would not.

#include <time.h>

int main() {
  for (;;) {
    struct timespec hour = {3600, 0};
    nanosleep(&hour, nullptr);
  }
}
