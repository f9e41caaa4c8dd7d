// Names from a target are any bytes; JSON and SVG (XML) outputs must stay valid: well-formed
// UTF-8 kept as it is, U+FFFD for each byte of no valid sequence (base/utf8.h).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" {
#include "json_writer.h"
#include "utf8.h"
}

namespace
{
// What cs_json_string writes for `s`.
std::string json_of(const std::string &s)
{
    char *buf = nullptr;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cs_json w;
    cs_json_init(&w, out);
    cs_json_string(&w, s.c_str());
    std::fclose(out);
    std::string r(buf, len);
    std::free(buf);
    return r;
}

// What cs_xml_write_text writes for `s` (at most max bytes of it), and how much it took.
std::string xml_of(const std::string &s, size_t max = 1000, size_t *took = nullptr)
{
    char *buf = nullptr;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    size_t n = cs_xml_write_text(out, s.c_str(), max);
    std::fclose(out);
    if (took)
        *took = n;
    std::string r(buf, len);
    std::free(buf);
    return r;
}

const std::string fffd = "\xef\xbf\xbd";
} // namespace

TEST_CASE("well-formed UTF-8 sequences are recognised with their length, and nothing else")
{
    CHECK(cs_utf8_seq_len("a") == 1);
    CHECK(cs_utf8_seq_len("\x7f") == 1);
    CHECK(cs_utf8_seq_len("\xc3\xa9") == 2);         // é
    CHECK(cs_utf8_seq_len("\xe2\x82\xac") == 3);     // €
    CHECK(cs_utf8_seq_len("\xed\x9f\xbf") == 3);     // U+D7FF, just below the surrogates
    CHECK(cs_utf8_seq_len("\xef\xbf\xbd") == 3);     // U+FFFD
    CHECK(cs_utf8_seq_len("\xf0\x9f\x98\x80") == 4); // 😀
    CHECK(cs_utf8_seq_len("\xf4\x8f\xbf\xbf") == 4); // U+10FFFF, the last one
    CHECK(cs_utf8_seq_len("\x80") == 0);             // a stray continuation byte
    CHECK(cs_utf8_seq_len("\xbf") == 0);
    CHECK(cs_utf8_seq_len("\xff") == 0); // never in UTF-8
    CHECK(cs_utf8_seq_len("\xfe") == 0);
    CHECK(cs_utf8_seq_len("\xf5\x80\x80\x80") == 0); // past U+10FFFF
    CHECK(cs_utf8_seq_len("\xf4\x90\x80\x80") == 0); // U+110000
    CHECK(cs_utf8_seq_len("\xc0\xaf") == 0);         // overlong '/'
    CHECK(cs_utf8_seq_len("\xc1\xbf") == 0);         // overlong
    CHECK(cs_utf8_seq_len("\xe0\x80\xaf") == 0);     // overlong, 3 bytes
    CHECK(cs_utf8_seq_len("\xf0\x80\x80\xaf") == 0); // overlong, 4 bytes
    CHECK(cs_utf8_seq_len("\xed\xa0\x80") == 0);     // U+D800, a surrogate
    CHECK(cs_utf8_seq_len("\xed\xbf\xbf") == 0);     // U+DFFF
    CHECK(cs_utf8_seq_len("\xc3") == 0);             // cut by the NUL
    CHECK(cs_utf8_seq_len("\xe2\x82") == 0);
    CHECK(cs_utf8_seq_len("\xf0\x9f\x98") == 0);
    CHECK(cs_utf8_seq_len("\xe2\x28\xa1") == 0); // cut by an ASCII byte
    CHECK(cs_utf8_seq_len("\xf0\x9f\x98\x41") == 0);
}

TEST_CASE("JSON strings: each byte that is not UTF-8 becomes \\ufffd, the rest is kept")
{
    CHECK(json_of("plain") == "\"plain\"");
    CHECK(json_of("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
          "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    CHECK(json_of("\xff\xfeloop") == "\"\\ufffd\\ufffdloop\"");    // invalid lead bytes
    CHECK(json_of("a\xc3") == "\"a\\ufffd\"");                     // truncated at the end
    CHECK(json_of("\xe2\x82x") == "\"\\ufffd\\ufffdx\"");          // truncated inside
    CHECK(json_of("\xc0\xaf") == "\"\\ufffd\\ufffd\"");            // overlong
    CHECK(json_of("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\""); // surrogate
    CHECK(json_of("\x80x") == "\"\\ufffdx\"");                     // stray continuation
    CHECK(json_of("\x7f") == "\"\\u007f\"");                       // DEL
    CHECK(json_of("\x01\x1f") == "\"\\u0001\\u001f\"");            // control characters
    CHECK(json_of("\"\\\n\t\r") == "\"\\\"\\\\\\n\\t\\r\"");
    CHECK(json_of("\xc3\xa9\xff\xc3\xa9") == "\"\xc3\xa9\\ufffd\xc3\xa9\""); // resyncs at once
}

TEST_CASE("XML text: escaped, no control characters, U+FFFD for what is not UTF-8")
{
    CHECK(xml_of("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c'");
    CHECK(xml_of("caf\xc3\xa9 \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xf0\x9f\x98\x80");
    CHECK(xml_of("\xff\xfeloop") == fffd + fffd + "loop");
    CHECK(xml_of("a\xc3") == "a" + fffd);
    CHECK(xml_of("\xe0\x80\xaf") == fffd + fffd + fffd); // overlong
    CHECK(xml_of("\xed\xbf\xbf") == fffd + fffd + fffd); // surrogate
    CHECK(xml_of("\x01x\x1f\t\n\r") == fffd + "x" + fffd + fffd + fffd + fffd);
    CHECK(xml_of("\x7f") == fffd);
    CHECK(xml_of("\xef\xbf\xbe\xef\xbf\xbf") == fffd + fffd); // U+FFFE, U+FFFF: no characters
}

TEST_CASE("XML text cut to a length never splits a character")
{
    size_t took = 0;
    CHECK(xml_of("ab\xe2\x82\xac", 3, &took) == "ab"); // the euro sign would not fit whole
    CHECK(took == 2);
    CHECK(xml_of("ab\xe2\x82\xac", 5, &took) == "ab\xe2\x82\xac");
    CHECK(took == 5);
    CHECK(xml_of("ab\xff", 3, &took) == "ab" + fffd); // an invalid byte is one byte
    CHECK(took == 3);
}
