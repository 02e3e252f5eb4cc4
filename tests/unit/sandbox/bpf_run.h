#pragma once
// Runs a compiled seccomp program on one syscall, as the kernel would (classic BPF over
// struct seccomp_data), so unit tests can ask what a filter answers without installing it.

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include <kj/common.h>

namespace airlock::sandbox::testing {

// The filter's return value (SECCOMP_RET_*) for syscall `name` with `args` on x86-64.
inline uint32_t runFilter(kj::ArrayPtr<const sock_filter> program, const char* name,
                          std::initializer_list<uint64_t> args = {}) {
  seccomp_data data{};
  data.nr = seccomp_syscall_resolve_name(name);
  data.arch = AUDIT_ARCH_X86_64;
  size_t i = 0;
  for (uint64_t arg : args) data.args[i++] = arg;
  auto load = [&](uint32_t offset) {
    uint32_t word;
    if (offset + 4 > sizeof(data)) throw std::runtime_error("load past seccomp_data");
    memcpy(&word, reinterpret_cast<const char*>(&data) + offset, 4);
    return word;
  };
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& insn = program[pc];
    uint32_t src = BPF_SRC(insn.code) == BPF_X ? x : insn.k;
    switch (BPF_CLASS(insn.code)) {
      case BPF_LD:
        if (BPF_MODE(insn.code) == BPF_ABS) a = load(insn.k);
        else if (BPF_MODE(insn.code) == BPF_IMM) a = insn.k;
        else if (BPF_MODE(insn.code) == BPF_MEM) a = mem[insn.k];
        else throw std::runtime_error("unsupported load");
        break;
      case BPF_LDX:
        if (BPF_MODE(insn.code) == BPF_IMM) x = insn.k;
        else if (BPF_MODE(insn.code) == BPF_MEM) x = mem[insn.k];
        else throw std::runtime_error("unsupported ldx");
        break;
      case BPF_ST: mem[insn.k] = a; break;
      case BPF_STX: mem[insn.k] = x; break;
      case BPF_ALU:
        switch (BPF_OP(insn.code)) {
          case BPF_AND: a &= src; break;
          case BPF_OR: a |= src; break;
          case BPF_ADD: a += src; break;
          case BPF_SUB: a -= src; break;
          case BPF_LSH: a <<= src; break;
          case BPF_RSH: a >>= src; break;
          default: throw std::runtime_error("unsupported alu");
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(insn.code) == BPF_JA) {
          pc += insn.k;
          break;
        }
        bool taken;
        switch (BPF_OP(insn.code)) {
          case BPF_JEQ: taken = a == src; break;
          case BPF_JGT: taken = a > src; break;
          case BPF_JGE: taken = a >= src; break;
          case BPF_JSET: taken = (a & src) != 0; break;
          default: throw std::runtime_error("unsupported jump");
        }
        pc += taken ? insn.jt : insn.jf;
        break;
      }
      case BPF_RET: return BPF_RVAL(insn.code) == BPF_A ? a : insn.k;
      case BPF_MISC:
        if (BPF_MISCOP(insn.code) == BPF_TAX) x = a;
        else a = x;
        break;
      default: throw std::runtime_error("unsupported instruction class");
    }
  }
  throw std::runtime_error("fell off the end of the program");
}

}  // namespace airlock::sandbox::testing
