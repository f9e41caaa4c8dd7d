// Catch2's implementation, compiled once for every test binary (it is the slow part).
// Each binary brings its own small main() — catch_main.cpp or bpf_main.cpp — which
// calls cs_catch_run() (Catch::Session is only declared where the implementation is).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "catch_run.h"

int cs_catch_run(int argc, char **argv)
{
    return Catch::Session().run(argc, argv);
}
