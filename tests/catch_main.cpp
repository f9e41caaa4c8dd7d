// The one Catch2 main for test binaries that need no special set-up.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
