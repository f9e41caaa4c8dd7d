// What the end-to-end record tests share: the programs they run, scratch paths, `report`,
// and the Python checks of report outputs (report_check.py).
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <unistd.h>

#include "test_util.h"

namespace record_e2e
{

inline const std::string coscope = COSCOPE_EXE;
inline const std::string stallgen = STALLGEN_EXE;
inline const std::string check = std::string(COSCOPE_SOURCE_DIR) + "/tests/record/report_check.py";

inline std::string tmp_path(const std::string &what)
{
    return "/tmp/cs-record-" + std::to_string(getpid()) + "-" + what;
}

inline command_result report(const std::string &file, const std::string &format,
                             const std::string &out)
{
    return run_command(coscope + " report " + file + " --format " + format + " -o " + out);
}

// report_check.py SUBCOMMAND ARGS: what it printed (it must succeed).
inline std::string py(const std::string &args)
{
    auto r = run_command("python3 " + check + " " + args);
    INFO(r.err);
    REQUIRE(r.status == 0);
    return r.out;
}

} // namespace record_e2e
