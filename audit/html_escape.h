#pragma once
// Text from an audit log into HTML. The log is attacker-influenced (a worker chooses the paths
// it asks for, a client the name it sends), so every string taken from it passes through here
// before it reaches a page, whether as element text or as a quoted attribute value.
//
// Pure; callable from any thread.

#include <string>
#include <string_view>

namespace airlock::audit {

// `&`, `<`, `>`, `"` and `'` as character references, so the result is inert both as text and
// inside a single- or double-quoted attribute; C0 control bytes and DEL (which HTML either
// drops or turns into errors) shown as the text \xNN. Other bytes unchanged.
std::string htmlEscape(std::string_view text);

}  // namespace airlock::audit
