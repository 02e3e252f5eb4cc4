#include "tests/integration/support/chromium_page.h"

#include <sstream>

#include "tests/integration/support/broker_process.h"

namespace airlock::testing {

namespace {
constexpr int CHROMIUM_SECONDS = 180;  // a bound on a hang, not a threshold
}  // namespace

PageLoad loadInChromium(const std::string& htmlPath) {
  TempDir run;
  auto result = runProgram(
      {"/bin/sh", "-c", "out=$1 err=$2; shift 2; exec \"$@\" >\"$out\" 2>\"$err\"", "sh",
       run.file("dom.html"), run.file("chromium.log"), CHROMIUM, "--headless", "--no-sandbox",
       "--disable-gpu", "--no-first-run", "--user-data-dir=" + run.file("profile"),
       "--enable-logging=stderr", "--v=0", "--dump-dom", "file://" + htmlPath},
      CHROMIUM_SECONDS);
  PageLoad load;
  load.exitCode = result.exitCode;
  load.dom = readFile(run.file("dom.html"));
  std::istringstream log(readFile(run.file("chromium.log")));
  for (std::string line; std::getline(log, line);) {
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) {
      load.consoleLines += line + "\n";
    }
  }
  return load;
}

}  // namespace airlock::testing
