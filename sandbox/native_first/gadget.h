/* Where the native-first library (native_first.c) maps its one syscall instruction, and the
 * seccomp filter (seccomp_filter.cc) lets the sandbox's own-view calls from there run natively.
 * Shared by the C library and the C++ filter, so the two can never disagree. x86-64 only. */
#ifndef AIRLOCK_SANDBOX_NATIVE_FIRST_GADGET_H
#define AIRLOCK_SANDBOX_NATIVE_FIRST_GADGET_H

/* A page no x86-64 process maps by itself: above a non-PIE program's heap, below where PIE
 * programs (0x55...) and the mmap area (0x7f...) are placed. MAP_FIXED_NOREPLACE: if it is taken
 * anyway, the library stays off and every call takes the broker's path. */
#define AIRLOCK_GADGET_ADDRESS 0x4a1c00000000ULL

/* The gadget's code: syscall(nr, a1..a6) in the SysV calling convention.
 *   mov rax,rdi; mov rdi,rsi; mov rsi,rdx; mov rdx,rcx; mov r10,r8; mov r8,r9;
 *   mov r9,[rsp+8]; syscall; ret */
#define AIRLOCK_GADGET_CODE                                                            \
  0x48, 0x89, 0xf8, 0x48, 0x89, 0xf7, 0x48, 0x89, 0xd6, 0x48, 0x89, 0xca, 0x4d, 0x89, \
      0xc2, 0x4d, 0x89, 0xc8, 0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05, 0xc3

/* What seccomp sees as the instruction pointer of a call made by the gadget: the address right
 * after its `syscall` instruction (bytes 23 and 24). */
#define AIRLOCK_GADGET_SYSCALL_RETURN (AIRLOCK_GADGET_ADDRESS + 25ULL)

#endif
