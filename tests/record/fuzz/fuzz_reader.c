/*
 * libFuzzer target for the recording reader (and the report formats that read what it
 * returns): no input may crash it, make it loop, or leak. Built and run by run_fuzz.sh.
 */
#include <stdint.h>
#include <stdio.h>

#include "recording_reader.h"
#include "report_summary.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    struct cs_recording rec;
    int st = cs_recording_parse(data, size, &rec);
    if (st == CS_REC_OK || st == CS_REC_TRUNCATED || st == CS_REC_CORRUPT) {
        struct cs_report r;
        if (cs_report_build(&r, &rec) == 0) {
            cs_report_write_text(sink, &r);
            cs_report_write_json(sink, &r);
            cs_report_write_chrome(sink, &r);
            cs_report_write_folded(sink, &r);
            cs_report_write_svg(sink, &r);
            cs_report_free(&r);
        }
    }
    cs_recording_free(&rec);
    return 0;
}
