// airlock: the command-line tool for developers, the security team and auditors.
// Each subcommand group lives in its own file; this one only dispatches.

#include <cstdio>
#include <cstring>
#include <string>

#include "cli/admin_commands.h"
#include "cli/audit_export.h"
#include "cli/audit_query.h"
#include "cli/audit_report.h"
#include "cli/audit_stats.h"
#include "cli/audit_tail.h"
#include "cli/audit_unused.h"
#include "cli/audit_verify.h"
#include "cli/call_command.h"
#include "cli/doctor.h"
#include "cli/keygen.h"
#include "cli/policy_check.h"
#include "cli/policy_diff.h"
#include "cli/policy_explain.h"
#include "cli/policy_suggest.h"
#include "cli/run_command.h"
#include "cli/sandbox_run.h"

namespace {

const char USAGE[] = R"(usage: airlock COMMAND [ARGS]

commands:
  run             run an unmodified program under a unit's policy, its file calls brokered
  sandbox run     run a program inside the sandbox a unit's worker gets
  policy check    validate policy files the way airlockd loads them
  policy explain  what airlockd would decide for one request, and which rule decides it
  policy diff     what a reload from one policy set to another would change
  policy suggest  draft the rules a unit needs from what audit logs saw it do
  call            call a unit's method through a running airlockd
  reload          make a running airlockd re-read its policies and client keys (admins)
  status          what a running airlockd is running: units, pids, calls in flight (admins)
  drain           make a running airlockd finish its calls and stop, as SIGTERM does (admins)
  keygen          make the broker's key pair, or a host client's (--client NAME)
  audit verify    check an audit log's chain, signatures and anchor
  audit query     print the records that match filters, as JSON Lines or a table
  audit stats     count records by unit, operation, decision and rule; top denials; rate
  audit tail      print the last records of a log, and follow it (-f)
  audit report    one self-contained HTML page: verification, summary, denials, events
  audit export    the records as OCSF events (JSON Lines) for a SIEM
  audit unused    per unit, the rules that decided nothing and the grants wider than used
  doctor          what this kernel offers the sandbox, and whether it is at full strength

`airlock COMMAND --help` describes each command's options.
)";

// `airlock GROUP --help`: the lines of USAGE that name GROUP's subcommands, one source for both.
int groupHelp(const std::string& group) {
  std::string out = "usage: airlock " + group + " SUBCOMMAND [ARGS]\n\nsubcommands:\n";
  std::string prefix = "  " + group + " ";
  std::string usage = USAGE;
  for (size_t at = 0, end; at < usage.size(); at = end + 1) {
    end = usage.find('\n', at);
    if (end == std::string::npos) end = usage.size();
    std::string line = usage.substr(at, end - at);
    if (line.rfind(prefix, 0) == 0) out += line + "\n";
  }
  out += "\n`airlock " + group + " SUBCOMMAND --help` describes each subcommand's options.\n";
  fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
      !strcmp(argv[1], "help")) {
    fputs(USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  std::string sub = argc > 2 ? argv[2] : "";
  if (command == "run") return runMain(argc - 1, argv + 1);
  if (command == "sandbox" && sub == "run") return sandboxRunMain(argc - 2, argv + 2);
  if (command == "policy" && sub == "check") return policyCheckMain(argc - 2, argv + 2);
  if (command == "policy" && sub == "diff") return policyDiffMain(argc - 2, argv + 2);
  if (command == "policy" && sub == "explain") return policyExplainMain(argc - 2, argv + 2);
  if (command == "policy" && sub == "suggest") return policySuggestMain(argc - 2, argv + 2);
  if (command == "call") return callMain(argc - 1, argv + 1);
  if (command == "reload") return reloadMain(argc - 1, argv + 1);
  if (command == "status") return statusMain(argc - 1, argv + 1);
  if (command == "drain") return drainMain(argc - 1, argv + 1);
  if (command == "keygen") return keygenMain(argc - 1, argv + 1);
  if (command == "doctor") return doctorMain(argc - 1, argv + 1);
  if (command == "audit" && sub == "verify") return auditVerifyMain(argc - 2, argv + 2);
  if (command == "audit" && sub == "query") return auditQueryMain(argc - 2, argv + 2);
  if (command == "audit" && sub == "stats") return auditStatsMain(argc - 2, argv + 2);
  if (command == "audit" && sub == "tail") return auditTailMain(argc - 2, argv + 2);
  if (command == "audit" && sub == "report") return auditReportMain(argc - 2, argv + 2);
  if (command == "audit" && sub == "export") return auditExportMain(argc - 2, argv + 2);
  if (command == "audit" && sub == "unused") return auditUnusedMain(argc - 2, argv + 2);
  bool group = command == "sandbox" || command == "policy" || command == "audit";
  if (group && (sub == "--help" || sub == "-h" || sub == "help")) return groupHelp(command);
  if (group) {
    fprintf(stderr, "airlock %s: unknown subcommand \"%s\"\n%s", command.c_str(), sub.c_str(),
            USAGE);
    return 2;
  }
  fprintf(stderr, "airlock: unknown command \"%s\"\n%s", command.c_str(), USAGE);
  return 2;
}
