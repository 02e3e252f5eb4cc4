#include "sandbox/profile_grants.h"

#include <cerrno>

#include <algorithm>
#include <map>
#include <optional>

namespace airlock::sandbox {

namespace _ {
namespace {

// The ceiling of a syscall: the first entry of a group that is not dangerous, with its group.
struct Ceiling {
  const SyscallEntry* entry = nullptr;
  const SyscallGroup* group = nullptr;
  const SyscallGroup* dangerousOnly = nullptr;  // set when only a dangerous group lists it
};

Ceiling ceilingOf(const std::string& name) {
  Ceiling ceiling;
  for (auto& group : syscallGroups()) {
    for (auto& entry : group.syscalls) {
      if (name != entry.name) continue;
      if (group.danger != nullptr) {
        if (ceiling.dangerousOnly == nullptr) ceiling.dangerousOnly = &group;
        continue;
      }
      ceiling.entry = &entry;
      ceiling.group = &group;
      return ceiling;
    }
  }
  return ceiling;
}

// The conjunction of two rules' comparisons as one libseccomp rule, which takes at most one
// comparison per register: two on one register are merged when both are masked equalities
// (EQ is one with every bit in the mask), and otherwise cannot be written.
struct Conjunction {
  enum Kind { HOLDS_SOMETIMES, NEVER_HOLDS, NOT_EXPRESSIBLE } kind = HOLDS_SOMETIMES;
  std::vector<scmp_arg_cmp> conditions;
  scmp_arg_cmp clash{};  // NOT_EXPRESSIBLE: the comparison that could not be merged
};

std::optional<scmp_arg_cmp> asMasked(const scmp_arg_cmp& cmp) {
  if (cmp.op == SCMP_CMP_EQ) return scmp_arg_cmp{cmp.arg, SCMP_CMP_MASKED_EQ, ~0ull, cmp.datum_a};
  if (cmp.op == SCMP_CMP_MASKED_EQ) return cmp;
  return std::nullopt;
}

Conjunction conjoin(const std::vector<scmp_arg_cmp>& a, const std::vector<scmp_arg_cmp>& b) {
  Conjunction out;
  std::vector<scmp_arg_cmp> all = a;
  all.insert(all.end(), b.begin(), b.end());
  for (const scmp_arg_cmp& cmp : all) {
    auto same = std::find_if(out.conditions.begin(), out.conditions.end(),
                             [&](const scmp_arg_cmp& c) { return c.arg == cmp.arg; });
    if (same == out.conditions.end()) {
      out.conditions.push_back(cmp);
      continue;
    }
    if (same->op == cmp.op && same->datum_a == cmp.datum_a && same->datum_b == cmp.datum_b) {
      continue;
    }
    auto x = asMasked(*same), y = asMasked(cmp);
    if (!x || !y) {
      out.kind = Conjunction::NOT_EXPRESSIBLE;
      out.clash = x ? cmp : *same;
      return out;
    }
    // (r & m1) == v1 and (r & m2) == v2: one masked equality on m1|m2, unless they disagree on
    // a bit both masks cover (or a value has a bit its mask drops: that one never holds).
    uint64_t overlap = x->datum_a & y->datum_a;
    if ((x->datum_b & ~x->datum_a) || (y->datum_b & ~y->datum_a) ||
        ((x->datum_b ^ y->datum_b) & overlap)) {
      out.kind = Conjunction::NEVER_HOLDS;
      return out;
    }
    *same = scmp_arg_cmp{cmp.arg, SCMP_CMP_MASKED_EQ, x->datum_a | y->datum_a,
                         x->datum_b | y->datum_b};
  }
  return out;
}

std::vector<scmp_arg_cmp> conditionsOf(const ProfileRule& rule) {
  std::vector<scmp_arg_cmp> out;
  for (const ProfileArg& arg : rule.args) {
    out.push_back(scmp_arg_cmp{arg.index, arg.op, arg.value, arg.valueTwo});
  }
  return out;
}

// Why `name` cannot be granted at all, or nullopt with `ceiling` filled in.
std::optional<std::string> refusalOf(const std::string& name, Ceiling& ceiling) {
  int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str());
  if (nr == __NR_SCMP_ERROR) {
    return std::string("no architecture libseccomp knows has a syscall of that name");
  }
  if (nr < 0) return std::string("not an x86-64 syscall");
  for (auto& forbidden : forbiddenSyscalls()) {
    if (name == forbidden.name) return std::string("never granted: ") + forbidden.reason;
  }
  ceiling = ceilingOf(name);
  if (ceiling.entry != nullptr) return std::nullopt;
  if (ceiling.dangerousOnly != nullptr) {
    return std::string("only group ") + ceiling.dangerousOnly->name +
           " lists it, a dangerous allowance no profile grants: name the group in [sandbox] "
           "syscalls with a justification";
  }
  return std::string(
      "in no group of airlock's syscall table (not reviewed for workers; `airlock doctor` lists "
      "the groups)");
}

// The rules granting `name` under profile rule `rule` and the table entry: a reason instead when
// none can be written or none ever holds.
std::optional<std::string> intersect(const ProfileRule& rule, const SyscallEntry& entry,
                                     std::vector<CompiledRule>& into) {
  std::vector<scmp_arg_cmp> wanted = conditionsOf(rule);
  size_t before = into.size();
  for (const CompiledRule& bound : rulesOf(entry)) {
    Conjunction both = conjoin(wanted, bound.conditions);
    if (both.kind == Conjunction::NOT_EXPRESSIBLE) {
      into.resize(before);
      return std::string("its filter on arg ") + std::to_string(both.clash.arg) + " (" +
             compareOpName(both.clash.op) + ") cannot be combined with airlock's (" +
             describeAction(entry) + ") in one seccomp rule";
    }
    if (both.kind == Conjunction::HOLDS_SOMETIMES) {
      into.push_back(CompiledRule{bound.action, std::move(both.conditions)});
    }
  }
  if (into.size() == before) {
    return std::string("its argument filter never holds where airlock's does (") +
           describeAction(entry) + ")";
  }
  return std::nullopt;
}

}  // namespace
}  // namespace _

size_t ProfileGrants::grantedBeyondDefault() const {
  return static_cast<size_t>(std::count_if(granted.begin(), granted.end(),
                                           [](const GrantedSyscall& g) { return !g.inDefaultGroup; }));
}

int ProfileGrants::errnoFor(const std::string& syscall) const {
  auto found = errnoOf.find(syscall);
  if (found != errnoOf.end()) return found->second;
  return defaultErrno != 0 ? defaultErrno : ENOSYS;
}

ProfileGrants grantProfile(const SeccompProfile& profile, const WorkerConditions& worker) {
  std::map<std::string, GrantedSyscall> granted;
  std::map<std::string, RefusedProfileSyscall> refused;
  for (const ProfileRule& rule : profile.rules) {
    if (rule.action != ProfileAction::ALLOW || !ruleAppliesToWorker(rule, worker)) continue;
    for (const std::string& name : rule.names) {
      auto refuse = [&](std::string reason) {
        refused.emplace(name, RefusedProfileSyscall{name, rule.path, std::move(reason)});
      };
      _::Ceiling ceiling;
      if (auto why = _::refusalOf(name, ceiling)) {
        refuse(*why);
        continue;
      }
      std::vector<CompiledRule> rules;
      if (auto why = _::intersect(rule, *ceiling.entry, rules)) {
        refuse(*why);
        continue;
      }
      auto [it, fresh] = granted.try_emplace(name);
      GrantedSyscall& out = it->second;
      if (fresh) {
        out.name = name;
        out.group = ceiling.group->name;
        out.inDefaultGroup = isDefaultGroup(ceiling.group->name);
        out.path = rule.path;
      }
      out.argumentFiltered = out.argumentFiltered || !rule.args.empty();
      for (auto& compiled : rules) {
        auto same = [&](const CompiledRule& r) {
          return r.action == compiled.action && r.conditions.size() == compiled.conditions.size() &&
                 std::equal(r.conditions.begin(), r.conditions.end(), compiled.conditions.begin(),
                            [](const scmp_arg_cmp& a, const scmp_arg_cmp& b) {
                              return a.arg == b.arg && a.op == b.op && a.datum_a == b.datum_a &&
                                     a.datum_b == b.datum_b;
                            });
        };
        if (std::none_of(out.rules.begin(), out.rules.end(), same)) {
          out.rules.push_back(std::move(compiled));
        }
      }
    }
  }
  ProfileGrants grants;
  // What a refused syscall is answered under on_refused_syscall = "errno": the profile's own
  // errno for it, else the profile's default one (EPERM when it names none), else ENOSYS.
  constexpr uint32_t PROFILE_DEFAULT_ERRNO = EPERM;  // what libseccomp's SCMP_ACT_ERRNO means bare
  if (profile.defaultAction == ProfileAction::ERRNO) {
    grants.defaultErrno = static_cast<int>(profile.defaultErrnoRet.value_or(PROFILE_DEFAULT_ERRNO));
  }
  for (const ProfileRule& rule : profile.rules) {
    if (rule.action != ProfileAction::ERRNO || !ruleAppliesToWorker(rule, worker)) continue;
    for (const std::string& name : rule.names) {
      grants.errnoOf.try_emplace(name, static_cast<int>(rule.errnoRet.value_or(PROFILE_DEFAULT_ERRNO)));
    }
  }
  for (auto& [name, g] : granted) grants.granted.push_back(std::move(g));
  for (auto& [name, r] : refused) grants.refused.push_back(std::move(r));
  return grants;
}

}  // namespace airlock::sandbox
