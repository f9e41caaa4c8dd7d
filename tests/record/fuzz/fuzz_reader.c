/*
 * libFuzzer target for the recording reader (and the report formats that read what it
 * returns): no input may crash it, make it loop, or leak; and whatever it holds (names
 * are any bytes), the json, chrome and svg reports must be UTF-8 text, the json and chrome
 * ones strict JSON and the svg one well-formed XML (checked with expat when run_fuzz.sh
 * finds it: FUZZ_HAVE_EXPAT).
 * Built and run by run_fuzz.sh.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "json_reader.h"
#include "recording_reader.h"
#include "report_summary.h"
#include "utf8.h"

#ifdef FUZZ_HAVE_EXPAT
#include <expat.h>
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A report format written into memory: text and len once the stream is closed. */
struct mem_out {
    char *text;
    size_t len;
    FILE *f;
};

static FILE *mem_open(struct mem_out *m)
{
    m->text = NULL;
    m->f = open_memstream(&m->text, &m->len);
    if (!m->f)
        abort();
    return m->f;
}

/* Every output: well-formed UTF-8 with no control character but newlines (cheap). */
static void require_utf8(const char *format, const char *text, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t seq = text[i] ? cs_utf8_seq_len(text + i) : 0;
        if (seq == 0 || ((unsigned char)text[i] < 0x20 && text[i] != '\n')) {
            fprintf(stderr, "report --format %s: byte 0x%02x at %zu is no UTF-8 text\n", format,
                    (unsigned char)text[i], i);
            abort();
        }
        i += seq;
    }
}

/* Every eighth json and chrome report also goes through the strict JSON reader: parsing
 * them all takes four times as long as the rest of a run. */
static void require_json(const char *format, const char *text, size_t len)
{
    static unsigned reports;
    require_utf8(format, text, len);
    if (reports++ % 8)
        return;
    struct cs_jv *v = NULL;
    struct cs_json_error err;
    if (cs_json_parse(text, len, &v, &err) == -EINVAL) {
        fprintf(stderr, "report --format %s is not JSON: %s at %u:%u\n", format, err.message,
                err.line, err.column);
        abort();
    }
    cs_jv_free(v);
}

static void require_xml(const char *text, size_t len)
{
    require_utf8("svg", text, len);
#ifdef FUZZ_HAVE_EXPAT
    XML_Parser p = XML_ParserCreate(NULL);
    if (!p)
        abort();
    if (XML_Parse(p, text, (int)len, 1) != XML_STATUS_OK) {
        fprintf(stderr, "report --format svg is not well-formed XML: %s at %lu:%lu\n",
                XML_ErrorString(XML_GetErrorCode(p)), (unsigned long)XML_GetCurrentLineNumber(p),
                (unsigned long)XML_GetCurrentColumnNumber(p));
        abort();
    }
    XML_ParserFree(p);
#else
    (void)text;
    (void)len;
#endif
}

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
            struct mem_out m;
            cs_report_write_text(sink, &r);
            cs_report_write_folded(sink, &r);
            cs_report_write_json(mem_open(&m), &r);
            fclose(m.f);
            require_json("json", m.text, m.len);
            free(m.text);
            cs_report_write_chrome(mem_open(&m), &r);
            fclose(m.f);
            require_json("chrome", m.text, m.len);
            free(m.text);
            int svg_err = cs_report_write_svg(mem_open(&m), &r);
            fclose(m.f);
            if (!svg_err)
                require_xml(m.text, m.len);
            free(m.text);
            cs_report_free(&r);
        }
    }
    cs_recording_free(&rec);
    return 0;
}
