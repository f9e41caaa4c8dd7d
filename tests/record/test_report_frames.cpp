// How the report names a stall's frames by kind: an inlined function as "NAME (inlined)"
// in text and folded stacks, "kind" in JSON, JIT code a runtime did not name as "[jit]".
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" {
#include "record_encode.h"
#include "recording_reader.h"
#include "report_summary.h"
}

namespace
{

// What `write` printed for the report.
std::string output_of(void (*write)(FILE *, const cs_report *), const cs_report *r)
{
    char *text = nullptr;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    write(out, r);
    fclose(out);
    std::string s(text, len);
    free(text);
    return s;
}

} // namespace

TEST_CASE("the report names inlined and JIT frames in text, folded and JSON")
{
    cs_frame frames[4] = {
        {0x10, "checksum_rows", 0, "/bin/s", "rows.c", 7, CS_FRAME_INLINE},
        {0x10, "compactor", 16, "/bin/s", "compact.c", 40, CS_FRAME_NATIVE},
        {0x7f00, nullptr, 0, nullptr, nullptr, 0, CS_FRAME_JIT},
        {0x20, "main", 4, "/bin/s", "main.c", 3, CS_FRAME_NATIVE},
    };
    cs_stack stack{1, 4, frames};
    cs_stall st{};
    st.tid = 42;
    st.start_ns = 1000;
    st.duration_ns = 60000000;
    st.on_cpu_ns = 60000000;
    st.nstacks = 1;
    st.stacks = &stack;
    cs_rec_buf b{};
    REQUIRE(cs_rec_encode_header(&b) == 0);
    REQUIRE(cs_rec_encode_stall(&b, &st) == 0);
    cs_recording rec;
    REQUIRE(cs_recording_parse(b.data, b.len, &rec) == CS_REC_OK);
    cs_report r;
    REQUIRE(cs_report_build(&r, &rec) == 0);

    std::string folded = output_of(cs_report_write_folded, &r);
    INFO(folded);
    CHECK(folded.find(";main;[jit] 0x7f00;compactor;checksum_rows (inlined) 60000") !=
          std::string::npos);
    std::string text = output_of(cs_report_write_text, &r);
    INFO(text);
    CHECK(text.find("checksum_rows (inlined) (rows.c:7)") != std::string::npos);
    CHECK(text.find("compactor (compact.c:40)") != std::string::npos);
    std::string json = output_of(cs_report_write_json, &r);
    INFO(json);
    CHECK(json.find("\"symbol\":\"checksum_rows\"") != std::string::npos);
    CHECK(json.find("\"kind\":\"inline\"") != std::string::npos);
    CHECK(json.find("\"kind\":\"jit\"") != std::string::npos);
    CHECK(json.find("\"kind\":\"native\"") != std::string::npos);

    cs_report_free(&r);
    cs_recording_free(&rec);
    cs_rec_buf_free(&b);
}
