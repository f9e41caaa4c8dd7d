// The symbolizer's naming parts on their own: the demangler (C++, Rust legacy and v0)
// and the perf map reader (JIT code names).
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

extern "C" {
#include "demangle.h"
#include "perf_map.h"
}

namespace
{

std::string demangled(const char *name)
{
    char buf[1024];
    return cs_demangle(name, buf, sizeof buf) ? std::string(buf) : std::string("(not mangled)");
}

} // namespace

TEST_CASE("C++ names are demangled with their parameters, as perf shows them")
{
    CHECK(demangled("_ZN2ns6WorkerIiE5blockEi") == "ns::Worker<int>::block(int)");
    CHECK(demangled("_ZN2nsL9pace_rowsEi") == "ns::pace_rows(int)");
    CHECK(demangled("_Z3fooIiEvT_") == "void foo<int>(int)");
    CHECK(demangled("_ZN2ns6WorkerIiE5blockEi.cold") ==
          "ns::Worker<int>::block(int) [clone .cold]");
}

TEST_CASE("Rust names are demangled without the crate hash, legacy and v0 manglings")
{
    // Legacy (rustc's default): the trailing "17h<16 hex>E" hash is dropped.
    CHECK(demangled("_ZN4core3fmt5write17h0123456789abcdefE") == "core::fmt::write");
    CHECK(demangled("_ZN3std2rt10lang_start28_$u7b$$u7b$closure$u7d$$u7d$17h5f5ef1c4e9b5bfc3E") ==
          "std::rt::lang_start::{{closure}}");
    CHECK(demangled("_ZN71_$LT$Test$u20$$u2b$$u20$$u27$static$u20$as$u20$foo..Bar$LT$Test$GT$$"
                    "GT$3bar17h930b740aa94f1d3aE") == "<Test + 'static as foo::Bar<Test>>::bar");
    // rustc 1.95 output for one function, `pub mod rows { fn checksum_rows }` in crate `r`,
    // with each mangling, and a generic from the v0 build's standard library.
    CHECK(demangled("_ZN1r4rows13checksum_rows17h815b471bad929cf0E") == "r::rows::checksum_rows");
    CHECK(demangled("_RNvNtCs6GmmlP4bgsG_1r4rows13checksum_rows") == "r::rows::checksum_rows");
    CHECK(demangled("_RINvMNtCsgEmfK2I1SDS_4core5sliceSh11copy_withinINtNtNtB5_3ops5range14Range"
                    "InclusivejEECsfEOYDRpO4Ta_11miniz_oxide") ==
          "<[u8]>::copy_within::<core::ops::range::RangeInclusive<usize>>");
    // v0 (-C symbol-mangling-version=v0), examples of the mangling's RFC 2603.
    CHECK(demangled("_RNvNtCs1234_7mycrate3foo3bar") == "mycrate::foo::bar");
    CHECK(demangled("_RINvNtC3std3mem8align_ofjE") == "std::mem::align_of::<usize>");
    CHECK(demangled("_RNvMsr_NtCs3ssYzQotkvD_3std4pathNtB5_7PathBuf3newCs15kBYyAo9fc_7mycrate") ==
          "<std::path::PathBuf>::new");
}

TEST_CASE("C names, JIT names and garbage are left as they are")
{
    CHECK(demangled("main") == "(not mangled)");
    CHECK(demangled("stall_blocking_sleep") == "(not mangled)");
    CHECK(demangled("LazyCompile:*burn /tmp/x.js:3") == "(not mangled)");
    CHECK(demangled("_Zgarbage") == "(not mangled)");
    CHECK(demangled("_R") == "(not mangled)");
}

TEST_CASE("a perf map: lines parsed, bad ones skipped, the latest line covering an address wins")
{
    cs_perf_map *m = cs_perf_map_new();
    REQUIRE(m);
    const std::string text = "1000 100 LazyCompile:~burn /tmp/burn.js:3\n"
                             "not a line\n"
                             "2000 zz bad size\n"
                             "3000 0 empty\n"
                             "4000 10\n"
                             "0x5000 0x20 Builtin:ArgumentsAdaptorTrampoline\n"
                             "1040 20 LazyCompile:*burn /tmp/burn.js:3\n"
                             "ffffffffffffffff 10 wraps\n"
                             "10000000000000000 10 too long\n";
    REQUIRE(cs_perf_map_add_text(m, text.data(), text.size()) == 0);
    uint64_t off = 0;
    const char *name = cs_perf_map_lookup(m, 0x1010, &off);
    REQUIRE(name);
    CHECK(std::string(name) == "LazyCompile:~burn /tmp/burn.js:3");
    CHECK(off == 0x10);
    // Replaced by the optimized code, a later line over part of the range.
    name = cs_perf_map_lookup(m, 0x1050, &off);
    REQUIRE(name);
    CHECK(std::string(name) == "LazyCompile:*burn /tmp/burn.js:3");
    CHECK(off == 0x10);
    CHECK(std::string(cs_perf_map_lookup(m, 0x10ff, nullptr)) ==
          "LazyCompile:~burn /tmp/burn.js:3");
    CHECK(std::string(cs_perf_map_lookup(m, 0x5000, nullptr)) ==
          "Builtin:ArgumentsAdaptorTrampoline");
    CHECK(cs_perf_map_lookup(m, 0x1100, nullptr) == nullptr); // end is exclusive
    CHECK(cs_perf_map_lookup(m, 0x2000, nullptr) == nullptr);
    CHECK(cs_perf_map_lookup(m, 0x3000, nullptr) == nullptr);
    CHECK(cs_perf_map_lookup(m, 0x4000, nullptr) == nullptr);
    CHECK(cs_perf_map_lookup(m, 0xfff, nullptr) == nullptr);
    CHECK(cs_perf_map_lookup(m, 0xffffffffffffffffull, nullptr) == nullptr);

    // A line the JIT is still writing is taken once its newline comes.
    const char part1[] = "6000 10 LazyComp", part2[] = "ile:later\n";
    REQUIRE(cs_perf_map_add_text(m, part1, sizeof part1 - 1) == 0);
    CHECK(cs_perf_map_lookup(m, 0x6000, nullptr) == nullptr);
    REQUIRE(cs_perf_map_add_text(m, part2, sizeof part2 - 1) == 0);
    REQUIRE(cs_perf_map_lookup(m, 0x6000, nullptr));
    CHECK(std::string(cs_perf_map_lookup(m, 0x6000, nullptr)) == "LazyCompile:later");
    cs_perf_map_free(m);
}

TEST_CASE("a perf map is read only as a regular file, never through a symbolic link, and "
          "re-read as it grows")
{
    std::string map = "/tmp/perf-" + std::to_string(getpid()) + ".map";
    std::string real = "/tmp/cs-test-perf-map-" + std::to_string(getpid());
    unlink(map.c_str());
    char path[128];

    errno = 0;
    CHECK(cs_perf_map_open(getpid(), path, sizeof path) < 0);
    CHECK(errno == ENOENT);

    FILE *f = fopen(real.c_str(), "w");
    REQUIRE(f);
    fputs("1000 10 secret\n", f);
    fclose(f);
    REQUIRE(symlink(real.c_str(), map.c_str()) == 0);
    errno = 0;
    CHECK(cs_perf_map_open(getpid(), path, sizeof path) < 0);
    CHECK(errno == EPERM);
    unlink(map.c_str());

    REQUIRE(mkfifo(map.c_str(), 0600) == 0);
    errno = 0;
    CHECK(cs_perf_map_open(getpid(), path, sizeof path) < 0);
    CHECK(errno == EPERM);
    unlink(map.c_str());

    f = fopen(map.c_str(), "w");
    REQUIRE(f);
    fputs("1000 10 first\n", f);
    fflush(f);
    int fd = cs_perf_map_open(getpid(), path, sizeof path);
    REQUIRE(fd >= 0);
    CHECK(std::string(path) == map);
    cs_perf_map *m = cs_perf_map_new();
    size_t read_to = 0;
    REQUIRE(cs_perf_map_update(m, fd, &read_to) == 0);
    REQUIRE(cs_perf_map_lookup(m, 0x1000, nullptr));
    CHECK(cs_perf_map_lookup(m, 0x2000, nullptr) == nullptr);
    fputs("2000 10 appended\n", f);
    fflush(f);
    REQUIRE(cs_perf_map_update(m, fd, &read_to) == 0);
    REQUIRE(cs_perf_map_lookup(m, 0x2000, nullptr));
    CHECK(std::string(cs_perf_map_lookup(m, 0x2000, nullptr)) == "appended");
    cs_perf_map_free(m);
    close(fd);
    fclose(f);
    unlink(map.c_str());
    unlink(real.c_str());
}
