// The main() for test binaries that need no special set-up.
#include "catch_run.h"

int main(int argc, char **argv)
{
    return cs_catch_run(argc, argv);
}
