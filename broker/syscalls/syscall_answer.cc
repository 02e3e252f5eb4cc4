#include "broker/syscalls/syscall_answer.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>

#include <kj/debug.h>

#include <cerrno>
#include <cstring>

namespace airlock::broker::syscalls {

namespace _ {

void send(int listenerFd, uint64_t id, int error, int64_t value, uint32_t flags) {
  struct seccomp_notif_resp response;
  memset(&response, 0, sizeof(response));
  response.id = id;
  response.error = -error;
  response.val = value;
  response.flags = flags;
  if (ioctl(listenerFd, SECCOMP_IOCTL_NOTIF_SEND, &response) < 0) {
    if (errno == ENOENT) return;  // the thread died (or was killed) before the answer
    KJ_FAIL_SYSCALL("ioctl(SECCOMP_IOCTL_NOTIF_SEND)", errno, listenerFd);
  }
}

}  // namespace _

void leaveToKernel(int listenerFd, const sandbox::RefusedSyscall& call) {
  _::send(listenerFd, call.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

void answer(int listenerFd, const sandbox::RefusedSyscall& call, int error, int64_t value) {
  _::send(listenerFd, call.id, error, error == 0 ? value : 0, 0);
}

bool answerWithFd(int listenerFd, const sandbox::RefusedSyscall& call, int fd, bool closeOnExec) {
  struct seccomp_notif_addfd addfd;
  memset(&addfd, 0, sizeof(addfd));
  addfd.id = call.id;
  addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
  addfd.srcfd = static_cast<uint32_t>(fd);
  addfd.newfd_flags = closeOnExec ? O_CLOEXEC : 0;
  if (ioctl(listenerFd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) >= 0) return true;
  if (errno == ENOENT) return false;
  // EMFILE: the worker's descriptor table is full; the call fails as open(2) would.
  if (errno == EMFILE) {
    answer(listenerFd, call, EMFILE);
    return false;
  }
  KJ_FAIL_SYSCALL("ioctl(SECCOMP_IOCTL_NOTIF_ADDFD)", errno, listenerFd);
}

int replaceDescriptor(int listenerFd, const sandbox::RefusedSyscall& call, int fd, int slot,
                      bool closeOnExec) {
  struct seccomp_notif_addfd addfd;
  memset(&addfd, 0, sizeof(addfd));
  addfd.id = call.id;
  addfd.flags = SECCOMP_ADDFD_FLAG_SETFD;
  addfd.srcfd = static_cast<uint32_t>(fd);
  addfd.newfd = static_cast<uint32_t>(slot);
  addfd.newfd_flags = closeOnExec ? O_CLOEXEC : 0;
  return ioctl(listenerFd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) >= 0 ? 0 : errno;
}

bool stillPending(int listenerFd, const sandbox::RefusedSyscall& call) {
  uint64_t id = call.id;
  return ioctl(listenerFd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

}  // namespace airlock::broker::syscalls
