#include "broker/caps/fs_request.h"

namespace airlock::broker {

std::string requestPath(capnp::Text::Reader text) {
  return std::string(text.begin(), kj::min(text.size(), MAX_REQUEST_PATH + 1));
}

void denyEscape(policy::Decision& decision, const std::string& message) {
  decision.verdict = policy::Verdict::DENY;
  decision.reason = "rule matched, but resolving beneath " + decision.rule->fs().path.root() +
                    " refused it: " + message;
}

void denyMove(policy::Decision& decision, const std::string& why) {
  decision.verdict = policy::Verdict::DENY;
  decision.reason = "rule matched both paths, but " + why;
}

}  // namespace airlock::broker
