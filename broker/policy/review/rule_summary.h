#pragma once
// One line saying what a rule allows or denies, for `airlock policy diff` (policy_diff.h): the
// effect, the operation and its conditions, e.g. `allow fs.open path=/srv/** mode=read`.

#include <string>
#include <vector>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

std::string ruleSummary(const Rule& rule);

namespace _ {

// "a,b,c": a list as a summary shows it.
std::string joined(const std::vector<std::string>& items);

// Each appends " key=value ..." for the conditions of its operation's rules; the operation's row
// (operations.h) points at it.
void summarizeFsOpen(const Rule& rule, std::string& out);      // path, mode
void summarizeFsPath(const Rule& rule, std::string& out);      // path
void summarizeCall(const Rule& rule, std::string& out);        // caller..., method
void summarizeGrant(const Rule& rule, std::string& out);       // caller..., path, mode
void summarizeSecretsGet(const Rule& rule, std::string& out);  // name
void summarizeNetConnect(const Rule& rule, std::string& out);  // host and port, or unix_path
void summarizeInvoke(const Rule& rule, std::string& out);      // unit, method

}  // namespace _

}  // namespace airlock::policy
