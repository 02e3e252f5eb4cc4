/* libairlock-native-first.so: preloaded into a program whose own file syscalls are brokered
 * (launcher.h, SandboxSpec::nativeFirst), so that what the sandbox's own read-only view holds
 * (the program, /usr, its libraries and data) is read without a round trip to the broker.
 *
 * It wraps the C library's path calls (open, stat, access, readlink, opendir and their *at
 * forms). A read-only call on an absolute path outside every brokered root is first made from
 * one fixed instruction (gadget.h), which the seccomp filter lets run natively: the kernel
 * decides it inside the sandbox's mount namespace and Landlock domain, exactly as when the
 * broker leaves a view path to the kernel. If it fails, or the call is anything else, the real
 * C library function runs, and its syscall reaches the broker as before, which decides it by
 * the rules and records it.
 *
 * It also makes chdir(2) into a directory beneath a brokered root work: the sandbox shows only an
 * empty stand-in of the root, so the kernel answers ENOENT; the directory is then opened through
 * the broker (decided as an fs.open read, like any other) and entered with fchdir(2). Both need
 * the unit's "working-directory" syscall group, as any chdir does.
 *
 * Nothing here is trusted: a program may call the gadget itself, which gains it nothing the
 * broker would not have left to the kernel (the filter lets only these read-only calls through
 * from there, and only on AT_FDCWD). A program that is static, or calls syscalls itself, simply
 * takes the broker's path. */

#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/native_first/gadget.h"

/* The code, on a page of its own in this library's file: mapped again, executable, at the
 * fixed address (anonymous memory may never be executable in a worker). */
static const unsigned char GADGET_PAGE[4096] __attribute__((aligned(4096), used)) = {
    AIRLOCK_GADGET_CODE};

typedef long (*gadget_fn)(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
static gadget_fn gadget;

#define MAX_ROOTS 64
static char* roots[MAX_ROOTS];
static size_t rootLengths[MAX_ROOTS];
static int rootCount;

struct find_segment {
  uintptr_t base, relative;
  off_t offset;
  int found;
};

static int segment_of(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  struct find_segment* find = data;
  if (info->dlpi_addr != find->base) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && find->relative >= ph->p_vaddr &&
        find->relative + sizeof(GADGET_PAGE) <= ph->p_vaddr + ph->p_filesz) {
      find->offset = (off_t)(ph->p_offset + (find->relative - ph->p_vaddr));
      find->found = 1;
      return 1;
    }
  }
  return 0;
}

static void map_gadget(void) {
  Dl_info info;
  if (!dladdr(GADGET_PAGE, &info) || info.dli_fname == NULL) return;
  struct find_segment find = {(uintptr_t)info.dli_fbase,
                              (uintptr_t)GADGET_PAGE - (uintptr_t)info.dli_fbase, 0, 0};
  dl_iterate_phdr(segment_of, &find);
  if (!find.found || find.offset % 4096 != 0) return;
  int fd = open(info.dli_fname, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  void* at = mmap((void*)(uintptr_t)AIRLOCK_GADGET_ADDRESS, sizeof(GADGET_PAGE),
                  PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, find.offset);
  close(fd);
  if (at == (void*)(uintptr_t)AIRLOCK_GADGET_ADDRESS) gadget = (gadget_fn)at;
}

/* AIRLOCK_BROKERED_ROOTS: the roots of the unit's fs rules, ':'-separated. The sandbox shows
 * each as an empty stand-in directory; what is at or beneath one is the broker's alone. */
static void read_roots(void) {
  const char* list = getenv("AIRLOCK_BROKERED_ROOTS");
  if (list == NULL) return;
  char* copy = strdup(list);
  if (copy == NULL) return;
  for (char* save = NULL, *root = strtok_r(copy, ":", &save); root != NULL;
       root = strtok_r(NULL, ":", &save)) {
    if (rootCount == MAX_ROOTS) {  /* cannot tell: leave everything to the broker */
      gadget = NULL;
      return;
    }
    roots[rootCount] = root;
    rootLengths[rootCount++] = strlen(root);
  }
}

__attribute__((constructor)) static void native_first_start(void) {
  map_gadget();
  read_roots();
}

/* An absolute path, spelled plainly (no "//", "/./" or "/../", which could name a root in a way
 * a prefix test misses), not at or beneath a brokered root. */
static int native_path(const char* path) {
  if (gadget == NULL || path == NULL || path[0] != '/') return 0;
  if (strstr(path, "//") != NULL || strstr(path, "/./") != NULL ||
      strstr(path, "/../") != NULL) {
    return 0;
  }
  size_t n = strlen(path);
  if ((n >= 2 && strcmp(path + n - 2, "/.") == 0) || (n >= 3 && strcmp(path + n - 3, "/..") == 0)) {
    return 0;
  }
  for (int i = 0; i < rootCount; ++i) {
    size_t len = rootLengths[i];
    if (strncmp(path, roots[i], len) == 0 && (path[len] == '\0' || path[len] == '/')) return 0;
    if (len == 1 && roots[i][0] == '/') return 0;
  }
  return 1;
}

static int read_only(int flags) {
  return (flags & O_ACCMODE) == O_RDONLY && !(flags & (O_CREAT | O_TRUNC | __O_TMPFILE));
}

/* The native attempt: the result if it succeeded, else -1 with *fallback set. */
static long try_native(int* fallback, long nr, long a1, long a2, long a3, long a4) {
  long r = gadget(nr, a1, a2, a3, a4, 0, 0);
  if (r < 0) {
    *fallback = 1;
    return -1;
  }
  *fallback = 0;
  return r;
}

/* The C library's own function, looked up once per call site (a lookup walks every loaded
 * object's symbol table; a pointer store is atomic on x86-64, and two threads racing here only
 * look it up twice). */
#define NEXT(name, type)                                    \
  ({                                                        \
    static void* next_;                                     \
    if (next_ == NULL) next_ = dlsym(RTLD_NEXT, name);      \
    (type)next_;                                            \
  })

static int open_common(const char* name, int dirfd, const char* path, int flags, mode_t mode) {
  if (native_path(path) && read_only(flags)) {
    int fallback;
    long r = try_native(&fallback, SYS_openat, AT_FDCWD, (long)path, flags, mode);
    if (!fallback) return (int)r;
  }
  typedef int (*openat_fn)(int, const char*, int, ...);
  openat_fn real = NEXT(name, openat_fn);
  if (real == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return real(dirfd, path, flags, mode);
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & (O_CREAT | __O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common("openat", dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common("openat64", dirfd, path, flags, mode);
}

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common("openat", AT_FDCWD, path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common("openat64", AT_FDCWD, path, flags, mode);
}

int __open_2(const char* path, int flags) { return open_common("openat", AT_FDCWD, path, flags, 0); }
int __open64_2(const char* path, int flags) {
  return open_common("openat64", AT_FDCWD, path, flags, 0);
}

static int stat_common(const char* name, int dirfd, const char* path, struct stat* st,
                       int flags) {
  if (native_path(path) && (flags & ~AT_SYMLINK_NOFOLLOW) == 0) {
    int fallback;
    long r = try_native(&fallback, SYS_newfstatat, AT_FDCWD, (long)path, (long)st, flags);
    if (!fallback) return (int)r;
  }
  typedef int (*fstatat_fn)(int, const char*, struct stat*, int);
  fstatat_fn real = NEXT(name, fstatat_fn);
  if (real == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return real(dirfd, path, st, flags);
}

int stat(const char* path, struct stat* st) { return stat_common("fstatat", AT_FDCWD, path, st, 0); }
int stat64(const char* path, struct stat64* st) {
  return stat_common("fstatat64", AT_FDCWD, path, (struct stat*)st, 0);
}
int lstat(const char* path, struct stat* st) {
  return stat_common("fstatat", AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
int lstat64(const char* path, struct stat64* st) {
  return stat_common("fstatat64", AT_FDCWD, path, (struct stat*)st, AT_SYMLINK_NOFOLLOW);
}
int fstatat(int dirfd, const char* path, struct stat* st, int flags) {
  return stat_common("fstatat", dirfd, path, st, flags);
}
int fstatat64(int dirfd, const char* path, struct stat64* st, int flags) {
  return stat_common("fstatat64", dirfd, path, (struct stat*)st, flags);
}

int faccessat(int dirfd, const char* path, int mode, int flags) {
  if (native_path(path) && flags == 0) {
    int fallback;
    long r = try_native(&fallback, SYS_faccessat, AT_FDCWD, (long)path, mode, 0);
    if (!fallback) return (int)r;
  }
  typedef int (*faccessat_fn)(int, const char*, int, int);
  faccessat_fn real = NEXT("faccessat", faccessat_fn);
  if (real == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return real(dirfd, path, mode, flags);
}

int access(const char* path, int mode) { return faccessat(AT_FDCWD, path, mode, 0); }

ssize_t readlinkat(int dirfd, const char* path, char* buf, size_t size) {
  if (native_path(path)) {
    int fallback;
    long r = try_native(&fallback, SYS_readlinkat, AT_FDCWD, (long)path, (long)buf, (long)size);
    if (!fallback) return r;
  }
  typedef ssize_t (*readlinkat_fn)(int, const char*, char*, size_t);
  readlinkat_fn real = NEXT("readlinkat", readlinkat_fn);
  if (real == NULL) {
    errno = ENOSYS;
    return -1;
  }
  return real(dirfd, path, buf, size);
}

ssize_t readlink(const char* path, char* buf, size_t size) {
  return readlinkat(AT_FDCWD, path, buf, size);
}

DIR* opendir(const char* path) {
  if (native_path(path)) {
    int fallback;
    long fd = try_native(&fallback, SYS_openat, AT_FDCWD, (long)path,
                         O_RDONLY | O_NONBLOCK | O_DIRECTORY | O_CLOEXEC, 0);
    if (!fallback) {
      DIR* dir = fdopendir((int)fd);
      if (dir != NULL) return dir;
      int error = errno;
      close((int)fd);
      errno = error;
      return NULL;
    }
  }
  typedef DIR* (*opendir_fn)(const char*);
  opendir_fn real = NEXT("opendir", opendir_fn);
  if (real == NULL) {
    errno = ENOSYS;
    return NULL;
  }
  return real(path);
}

/* The directory chdir() entered through the broker (absolute, lexically normal), or "": the
 * kernel cannot name a directory the sandbox does not show (getcwd(2) fails there), so the
 * library answers getcwd() with it until the next chdir or fchdir. */
static char entered[PATH_MAX];

/* `path` made absolute against the working directory and lexically normal into `out`. */
static int absolute_normal(const char* path, char* out, size_t size) {
  char joined[2 * PATH_MAX];
  if (path[0] == '/') {
    snprintf(joined, sizeof(joined), "%s", path);
  } else {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL) return -1;
    snprintf(joined, sizeof(joined), "%s/%s", cwd, path);
  }
  size_t n = 0;
  out[0] = '\0';
  for (char *save = NULL, *part = strtok_r(joined, "/", &save); part != NULL;
       part = strtok_r(NULL, "/", &save)) {
    if (strcmp(part, ".") == 0) continue;
    if (strcmp(part, "..") == 0) {
      while (n > 0 && out[n - 1] != '/') --n;
      if (n > 0) --n;
      out[n] = '\0';
      continue;
    }
    size_t len = strlen(part);
    if (n + 1 + len + 1 > size) {
      errno = ENAMETOOLONG;
      return -1;
    }
    out[n++] = '/';
    memcpy(out + n, part, len + 1);
    n += len;
  }
  if (n == 0) snprintf(out, size, "/");
  return 0;
}

char* getcwd(char* buf, size_t size) {
  typedef char* (*getcwd_fn)(char*, size_t);
  getcwd_fn real = NEXT("getcwd", getcwd_fn);
  if (real == NULL) {
    errno = ENOSYS;
    return NULL;
  }
  if (entered[0] == '\0') return real(buf, size);
  size_t need = strlen(entered) + 1;
  if (buf == NULL) {
    buf = malloc(size > need ? size : need);
    if (buf == NULL) return NULL;
    size = size > need ? size : need;
  }
  if (size < need) {
    errno = ERANGE;
    return NULL;
  }
  memcpy(buf, entered, need);
  return buf;
}

int fchdir(int fd) {
  typedef int (*fchdir_fn)(int);
  fchdir_fn real = NEXT("fchdir", fchdir_fn);
  if (real == NULL) {
    errno = ENOSYS;
    return -1;
  }
  int r = real(fd);
  if (r == 0) entered[0] = '\0';
  return r;
}

int chdir(const char* path) {
  typedef int (*chdir_fn)(const char*);
  typedef int (*fchdir_fn)(int);
  chdir_fn real = NEXT("chdir", chdir_fn);
  fchdir_fn realF = NEXT("fchdir", fchdir_fn);
  if (real == NULL || realF == NULL) {
    errno = ENOSYS;
    return -1;
  }
  char target[PATH_MAX];
  if (path[0] == '\0' || absolute_normal(path, target, sizeof(target)) != 0) return real(path);
  if (real(target) == 0) {  /* what the sandbox shows, a root's stand-in included */
    entered[0] = '\0';
    return 0;
  }
  int error = errno;
  if (error != ENOENT) return -1;
  int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != EACCES) errno = error;  /* a refusal says so; anything else as the kernel did */
    return -1;
  }
  int r = realF(fd);
  error = errno;
  close(fd);
  if (r == 0) memcpy(entered, target, strlen(target) + 1);
  errno = error;
  return r;
}
