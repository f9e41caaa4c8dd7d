// Catch2 main for test binaries that need BPF. Catch2 2.13 has no SKIP(), so the
// whole binary skips (exit 77, meson's skip code) with a printed reason when the
// kernel or the user's privileges refuse BPF. ./dev test sets COSCOPE_REQUIRE_BPF=1
// when it runs as root on a kernel with BTF: there a refusal is a real failure.
#include "catch_run.h"

#include <cstdio>
#include <cstdlib>

extern "C" {
#include "bpf_support.h"
}

int main(int argc, char **argv)
{
    char why[256] = "";
    if (cs_bpf_support_probe(why, sizeof why) != CS_BPF_OK) {
        const char *require = std::getenv("COSCOPE_REQUIRE_BPF");
        if (require && *require == '1') {
            std::fprintf(stderr, "FAIL: BPF is required here but refused: %s\n", why);
            return 1;
        }
        std::fprintf(stderr, "SKIP: %s\n", why);
        return 77;
    }
    return cs_catch_run(argc, argv);
}
