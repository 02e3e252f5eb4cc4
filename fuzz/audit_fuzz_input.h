#pragma once
// How audit_verify_fuzzer reads its input, shared with make_audit_seeds which writes its seeds:
// the bytes are the files of one log, oldest first, separated by FILE_SEPARATOR lines (none for a
// single file), and the seeds are signed with a key from a fixed, published seed so the fuzzer
// can also verify with --key. That key signs nothing but fuzz seeds.

#include <array>
#include <string_view>

namespace airlock::fuzz {

inline constexpr std::string_view FILE_SEPARATOR = "#next-file\n";

inline constexpr std::array<unsigned char, 32> SEED_LOG_KEY_SEED = {
    'a', 'i', 'r', 'l', 'o', 'c', 'k', '-', 'f', 'u', 'z', 'z', '-', 's', 'e', 'e',
    'd', '-', 'l', 'o', 'g', '-', 'k', 'e', 'y', '-', 'p', 'u', 'b', 'l', 'i', 'c'};

}  // namespace airlock::fuzz
