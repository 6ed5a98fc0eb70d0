#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "command.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  tilesim::cli::Context ctx{std::cout, std::cerr};
  int rc = tilesim::cli::run_cli(args, ctx);
  // The last buffered bytes reach stdout only here; a failure to write them fails the run.
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout) || std::fclose(stdout) != 0;
  if (failed && rc == 0) {  // a failed command has already said why
    std::cerr << "tilesim: error: writing standard output failed (" << std::strerror(errno) << ")\n";
    rc = 1;
  }
  return rc;
}
