// docs/guide.md's examples: each one builds, runs, prints what guide/NAME.out says, and
// the guide shows exactly the code of runtime/examples/guide/NAME.c.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>
#include <string>

#include "test_util.h"

namespace
{

const char *const examples[] = {"hello",     "tasks", "gather", "cancel",    "timeouts",
                                "groups",    "sync",  "queue",  "generator", "sockets",
                                "to_thread", "debug", "testing"};

std::string source_root()
{
    const char *root = std::getenv("COSCOPE_SOURCE_ROOT");
    return root ? root : ".";
}

} // namespace

TEST_CASE("every guide example prints exactly its documented output")
{
    for (const char *name : examples) {
        std::string exe = std::string(GUIDE_BIN_DIR) + "/guide-" + name;
        command_result r = run_command(exe);
        std::string expected =
            slurp_file(source_root() + "/runtime/examples/guide/" + name + ".out");
        INFO(name << " stderr: " << r.err);
        CHECK(r.status == 0);
        CHECK(!expected.empty());
        CHECK(r.out == expected);
    }
}

TEST_CASE("the debug-mode guide example warns about each mistake it makes")
{
    command_result r = run_command(std::string(GUIDE_BIN_DIR) + "/guide-debug");
    INFO(r.err);
    CHECK(r.err.find("\"hog\" ran") != std::string::npos);
    CHECK(r.err.find("(slow slice)") != std::string::npos);
    CHECK(r.err.find("\"forgetful\" returned while holding 1 lock(s)") != std::string::npos);
    CHECK(r.err.find("\"failing\" failed") != std::string::npos);
}

TEST_CASE("the guide shows each example file verbatim")
{
    std::string guide = slurp_file(source_root() + "/docs/guide.md");
    REQUIRE(!guide.empty());
    // Each example is introduced by <!-- example: NAME.c --> and followed by a ```c block.
    std::regex block(R"(<!-- example: ([a-z_]+)\.c -->\n```c\n([\s\S]*?)```\n)");
    int found = 0;
    for (std::sregex_iterator it(guide.begin(), guide.end(), block), end; it != end; ++it) {
        std::string name = (*it)[1];
        std::string file = slurp_file(source_root() + "/runtime/examples/guide/" + name + ".c");
        INFO("example " << name);
        CHECK(!file.empty());
        CHECK((*it)[2].str() == file);
        found++;
    }
    CHECK(found == (int)(sizeof examples / sizeof examples[0]));
}
