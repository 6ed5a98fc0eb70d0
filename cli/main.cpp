#include <iostream>

#include "command.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  tilesim::cli::Context ctx{std::cout, std::cerr};
  return tilesim::cli::run_cli(args, ctx);
}
