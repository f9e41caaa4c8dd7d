#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "test_util.h"

extern "C" {
#include "bpf_support.h"
}

TEST_CASE("the BPF feature probe loads and attaches on this kernel")
{
    char why[256] = "";
    REQUIRE(cs_bpf_support_probe(why, sizeof why) == CS_BPF_OK);
    REQUIRE(std::string(why).empty());
}

TEST_CASE("coscope check reports success with exit code 0")
{
    auto r = run_command(COSCOPE_EXE " check");
    CHECK(r.status == 0);
    CHECK(r.out.find("ok:") != std::string::npos);
}

TEST_CASE("coscope rejects an unknown command with exit code 2")
{
    auto r = run_command(COSCOPE_EXE " frobnicate");
    CHECK(r.status == 2);
    CHECK(r.err.find("unknown command 'frobnicate'") != std::string::npos);
}
