// The strict JSON reader behind `coscope compare`: what it accepts, what it refuses
// (with a position), and that no input, however broken, makes it crash.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "json_reader.h"
}

namespace
{

struct parsed {
    int rc;
    cs_jv *v;
    cs_json_error err;
    parsed(const std::string &text) : rc(0), v(nullptr), err()
    {
        rc = cs_json_parse(text.data(), text.size(), &v, &err);
    }
    ~parsed()
    {
        cs_jv_free(v);
    }
    parsed(const parsed &) = delete;
    parsed &operator=(const parsed &) = delete;
};

} // namespace

TEST_CASE("the JSON reader builds a tree of every value type")
{
    parsed p(" {\"a\": [1, -2.5e3, 0.125, true, false, null], \"b\": {\"c\": \"d\"}, "
             "\"e\": \"\"}\n");
    REQUIRE(p.rc == 0);
    REQUIRE(p.v->type == CS_JV_OBJECT);
    REQUIRE(p.v->u.object.len == 3);
    const cs_jv *a = cs_jv_get(p.v, "a");
    REQUIRE(a);
    REQUIRE(a->type == CS_JV_ARRAY);
    REQUIRE(a->u.array.len == 6);
    CHECK(a->u.array.items[0]->u.number == 1);
    CHECK(a->u.array.items[1]->u.number == -2500);
    CHECK(a->u.array.items[2]->u.number == 0.125);
    CHECK(a->u.array.items[3]->u.boolean);
    CHECK_FALSE(a->u.array.items[4]->u.boolean);
    CHECK(a->u.array.items[5]->type == CS_JV_NULL);
    const cs_jv *c = cs_jv_get(cs_jv_get(p.v, "b"), "c");
    REQUIRE(c);
    CHECK(std::string(c->u.string.chars) == "d");
    CHECK(cs_jv_get(p.v, "e")->u.string.len == 0);
    CHECK(cs_jv_get(p.v, "missing") == nullptr);
    CHECK(cs_jv_get(a, "a") == nullptr); // not an object
}

TEST_CASE("the JSON reader decodes escapes and surrogate pairs to UTF-8")
{
    parsed p("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00e9 \\u20ac \\ud83d\\ude00 \xc3\xa9\"");
    REQUIRE(p.rc == 0);
    REQUIRE(p.v->type == CS_JV_STRING);
    std::string s(p.v->u.string.chars, p.v->u.string.len);
    CHECK(s == "q\" b\\ s/ \b\f\n\r\t \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9");
}

TEST_CASE("the JSON reader accepts a bare scalar at the top level")
{
    parsed n("  -0.5 ");
    REQUIRE(n.rc == 0);
    CHECK(n.v->u.number == -0.5);
    parsed z("0");
    REQUIRE(z.rc == 0);
    CHECK(z.v->u.number == 0);
}

TEST_CASE("the JSON reader refuses malformed text and says where")
{
    struct bad_case {
        const char *text;
        const char *message_part;
    };
    // Strings with embedded NULs are built separately below.
    const bad_case cases[] = {
        {"", "expected a value"},
        {"   ", "expected a value"},
        {"{", "expected a string key"},
        {"}", "expected a value"},
        {"[", "expected a value"},
        {"[1,", "expected a value"},
        {"[1 2]", "expected ',' or ']'"},
        {"[1,]", "trailing comma"},
        {"{\"a\":1,}", "trailing comma"},
        {"{\"a\" 1}", "expected ':'"},
        {"{\"a\":}", "expected a value"},
        {"{a:1}", "expected a string key"},
        {"{'a':1}", "expected a string key"},
        {"{\"a\":1 \"b\":2}", "expected ',' or '}'"},
        {"{\"a\":1,\"a\":2}", "duplicate key"},
        {"[1]]", "after the value"},
        {"{} {}", "after the value"},
        {"01", "leading zero"},
        {"-", "invalid number"},
        {"+1", "expected a value"},
        {"1.", "decimal point"},
        {".5", "expected a value"},
        {"1e", "exponent"},
        {"1e+", "exponent"},
        {"1e999", "out of range"},
        {"-1e999", "out of range"},
        {"NaN", "expected a value"},
        {"Infinity", "expected a value"},
        {"tru", "expected a value"},
        {"nul", "expected a value"},
        {"True", "expected a value"},
        {"\"abc", "not closed"},
        {"\"a\nb\"", "control character"},
        {"\"a\tb\"", "control character"},
        {"\"\\x41\"", "invalid escape"},
        {"\"\\u12\"", "4 hex digits"},
        {"\"\\u12g4\"", "4 hex digits"},
        {"\"\\ud800\"", "without its low half"},
        {"\"\\ud800\\u0041\"", "without its low half"},
        {"\"\\udc00\"", "lone low surrogate"},
        {"\"\\u0000\"", "\\u0000"},
        {"\"\xff\"", "invalid UTF-8"},
        {"\"\xc3\"", "invalid UTF-8"},
        {"\"\xc0\xaf\"", "invalid UTF-8"},         // overlong '/'
        {"\"\xed\xa0\x80\"", "invalid UTF-8"},     // an encoded surrogate
        {"\"\xf4\x90\x80\x80\"", "invalid UTF-8"}, // past U+10FFFF
        {"\xef\xbb\xbf{}", "byte order mark"},
        {"// comment\n{}", "expected a value"},
        {"{\"a\":1 /* c */}", "expected ',' or '}'"},
        {"[1,2,3", "expected ',' or ']'"},
        {"\"\\", "not closed"},
    };
    for (const bad_case &c : cases) {
        INFO("input: " << c.text);
        parsed p(c.text);
        CHECK(p.rc == -EINVAL);
        CHECK(p.v == nullptr);
        CHECK(std::string(p.err.message).find(c.message_part) != std::string::npos);
        CHECK(p.err.line >= 1);
        CHECK(p.err.column >= 1);
    }
    SECTION("an error's line and column point at the offending byte")
    {
        parsed p("{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}");
        REQUIRE(p.rc == -EINVAL);
        CHECK(p.err.line == 3);
        CHECK(p.err.column == 14);
    }
    SECTION("a NUL byte inside a string or between values is refused")
    {
        CHECK(parsed(std::string("\"a\0b\"", 5)).rc == -EINVAL);
        CHECK(parsed(std::string("[1,\0 2]", 7)).rc == -EINVAL);
        CHECK(parsed(std::string("{}\0", 3)).rc == -EINVAL);
    }
}

TEST_CASE("the JSON reader refuses nesting deeper than its limit instead of overflowing")
{
    std::string ok(CS_JSON_MAX_NESTING, '[');
    ok += std::string(CS_JSON_MAX_NESTING, ']');
    CHECK(parsed(ok).rc == 0);
    std::string deep(100000, '[');
    parsed p(deep);
    CHECK(p.rc == -EINVAL);
    CHECK(std::string(p.err.message).find("nested deeper") != std::string::npos);
}

TEST_CASE("the JSON reader never crashes on mutated or cut-short input")
{
    const std::string seed =
        "{\"kind\": \"coscope-bench\", \"metrics_version\": 1, \"about\": {\"date\": "
        "\"2026-11-22\"}, \"metrics\": {\"echo.epoll.p99\": {\"value\": 774.14, \"unit\": "
        "\"us\", \"better\": \"lower\", \"limit\": \"+10%\"}, \"x\": [1, -2e-3, true, null, "
        "\"\\u00e9\\ud83d\\ude00\"]}}";
    REQUIRE(parsed(seed).rc == 0);
    // Every prefix: a recording cut short must be refused, not crash.
    for (size_t n = 0; n < seed.size(); n++)
        CHECK(parsed(seed.substr(0, n)).rc == -EINVAL);
    // Deterministic random mutations (xorshift): flip, insert, delete bytes.
    uint64_t state = 0x9e3779b97f4a7c15ULL;
    auto next = [&state]() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    const char interesting[] = "{}[],:\"\\u0123456789eE+-.tfn \x00\xff\xc3\xed";
    size_t accepted = 0;
    for (int i = 0; i < 20000; i++) {
        std::string s = seed;
        int edits = 1 + (int)(next() % 4);
        for (int e = 0; e < edits && !s.empty(); e++) {
            size_t at = next() % s.size();
            char c = (next() % 2) ? interesting[next() % (sizeof interesting - 1)]
                                  : (char)(next() & 0xff);
            switch (next() % 3) {
            case 0:
                s[at] = c;
                break;
            case 1:
                s.insert(at, 1, c);
                break;
            default:
                s.erase(at, 1);
            }
        }
        parsed p(s);
        REQUIRE((p.rc == 0 || p.rc == -EINVAL));
        REQUIRE((p.rc == 0) == (p.v != nullptr));
        accepted += p.rc == 0;
    }
    // Some mutations keep the text valid (a digit changed, a space inserted).
    CHECK(accepted > 0);
    CHECK(accepted < 20000);
}

TEST_CASE("the JSON reader reports a file it cannot read")
{
    cs_jv *v = nullptr;
    cs_json_error err;
    CHECK(cs_json_parse_file("/nonexistent/coscope.json", &v, &err) == -ENOENT);
    CHECK(std::string(err.message).find("No such file") != std::string::npos);
    CHECK(cs_json_parse_file("/", &v, &err) == -EISDIR);
    CHECK(v == nullptr);
}
