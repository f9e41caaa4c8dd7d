// Test helpers for the libcorun verbs (ps, stat): the tree target and pulling tasks out
// of coscope's JSON.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "stall_session.h"

// One task object of `coscope ps --json`.
struct ps_task {
    long long id = 0;
    long long parent = -1; // -1: null
    std::string name, state, waiting_on;
    std::string outcome; // "" while not done (JSON null)
    long long error = 0; // the error a failed task returned
    long long age_us = -1;
    std::vector<long long> children;
};

inline std::vector<long long> parse_id_list(const std::string &s)
{
    std::vector<long long> out;
    std::regex num("[0-9]+");
    for (auto it = std::sregex_iterator(s.begin(), s.end(), num); it != std::sregex_iterator();
         ++it)
        out.push_back(std::stoll(it->str()));
    return out;
}

// Tasks by name (the tree target's names are unique).
inline std::map<std::string, ps_task> parse_ps_tasks(const std::string &json)
{
    std::map<std::string, ps_task> out;
    std::regex task_re("\\{\"id\":([0-9]+),\"parent\":(null|[0-9]+),\"name\":\"([^\"]*)\","
                       "\"state\":\"([a-z]+)\",\"waiting_on\":(null|\"[^\"]*\"),"
                       "\"age_us\":(-?[0-9]+),\"children\":\\[([0-9,]*)\\],"
                       "\"outcome\":(null|\"[a-z]+\"),\"error\":(null|-?[0-9]+)\\}");
    for (auto it = std::sregex_iterator(json.begin(), json.end(), task_re);
         it != std::sregex_iterator(); ++it) {
        const std::smatch &m = *it;
        ps_task t;
        t.id = std::stoll(m[1]);
        t.parent = m[2] == "null" ? -1 : std::stoll(m[2]);
        t.name = m[3];
        t.state = m[4];
        std::string w = m[5];
        t.waiting_on = w == "null" ? "" : w.substr(1, w.size() - 2);
        t.age_us = std::stoll(m[6]);
        t.children = parse_id_list(m[7]);
        std::string o = m[8];
        t.outcome = o == "null" ? "" : o.substr(1, o.size() - 2);
        t.error = m[9] == "null" ? 0 : std::stoll(m[9]);
        out[t.name] = t;
    }
    return out;
}

// The tree target, started and parked ("ready").
struct tree_target {
    child_proc proc;
    void start(const std::vector<std::string> &args = {})
    {
        std::vector<std::string> argv = {TARGET_CORUN_TREE};
        argv.insert(argv.end(), args.begin(), args.end());
        REQUIRE(proc.start(argv));
        REQUIRE(proc.read_line(20000) == "ready");
    }
};
