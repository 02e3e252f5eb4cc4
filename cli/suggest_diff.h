#pragma once
// `airlock policy suggest --policy FILE`'s output: a unified diff (no context lines; `patch FILE <
// DIFF` applies it) that turns FILE into the policy to enforce: the learn-mode keys of its [unit]
// (mode, learn_paths, learn_hosts, justification) removed, the suggested rules appended. Pure.

#include <string>

namespace airlock::cli {

// `text` is FILE's contents, read by the caller; `appended` the rules to add (suggest_render.h),
// each line ending in '\n'. Returns the diff, or "" when nothing would change; on a file that is
// not TOML, "" with `error` set.
std::string suggestionDiff(const std::string& file, const std::string& text,
                           const std::string& appended, std::string& error);

}  // namespace airlock::cli
