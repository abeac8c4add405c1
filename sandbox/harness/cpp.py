"""C++: LeetCode's ``ListNode``/``TreeNode``, a small JSON library, the solution, then a generated ``main()``.

The library comes before the solution so that its macros (``#define int long long``) cannot break it, and
lives in ``namespace sandbox_harness`` so that its names cannot clash with the solution's. Conversions are
overloads of ``read``/``write``, so the generated code spells each type once. The result is converted to the
declared type first (an ``int`` returned for ``bool`` is written ``true``), as LeetCode's typed harness does.
"""

from __future__ import annotations

from sandbox.signature import Signature, Type

SCALARS = {"int": "int", "long": "long long", "double": "double", "bool": "bool", "string": "std::string",
           "char": "char", "ListNode": "ListNode*", "TreeNode": "TreeNode*"}

LIBRARY = r"""#include <bits/stdc++.h>
using namespace std;

struct ListNode {
    int val;
    ListNode *next;
    ListNode() : val(0), next(nullptr) {}
    ListNode(int x) : val(x), next(nullptr) {}
    ListNode(int x, ListNode *next) : val(x), next(next) {}
};

struct TreeNode {
    int val;
    TreeNode *left;
    TreeNode *right;
    TreeNode() : val(0), left(nullptr), right(nullptr) {}
    TreeNode(int x) : val(x), left(nullptr), right(nullptr) {}
    TreeNode(int x, TreeNode *left, TreeNode *right) : val(x), left(left), right(right) {}
};

namespace sandbox_harness {

const size_t MAX_NODES = 1000000;  // a returned list or tree with more is taken for a cycle

[[noreturn]] inline void fail(const std::string& why) {
    std::fprintf(stderr, "harness: %s\n", why.c_str());
    std::exit(2);
}

struct Json {
    enum Kind { Null, Bool, Number, String, Array } kind = Null;
    bool boolean = false;
    std::string text;  // a number's literal, or a string's UTF-8
    std::vector<Json> items;
};

struct Parser {  // the JSON the host wrote (json.dumps: ASCII, no objects), one value per line
    const std::string& s;
    size_t i = 0;

    [[noreturn]] void bad(const char* what) { throw std::runtime_error(std::string(what) + " at column " + std::to_string(i + 1)); }
    void space() { while (i < s.size() && std::isspace((unsigned char)s[i])) ++i; }
    bool eat(const char* word) {
        size_t n = std::strlen(word);
        if (s.compare(i, n, word) != 0) return false;
        i += n;
        return true;
    }
    unsigned hex4() {
        if (i + 4 > s.size()) bad("bad \\u escape");
        unsigned v = std::stoul(s.substr(i, 4), nullptr, 16);
        i += 4;
        return v;
    }
    static void utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) { out += char(cp); return; }
        if (cp < 0x800) { out += char(0xC0 | cp >> 6); }
        else {
            if (cp < 0x10000) { out += char(0xE0 | cp >> 12); }
            else { out += char(0xF0 | cp >> 18); out += char(0x80 | (cp >> 12 & 0x3F)); }
            out += char(0x80 | (cp >> 6 & 0x3F));
        }
        out += char(0x80 | (cp & 0x3F));
    }
    Json string() {
        Json j{Json::String};
        for (++i; ; ) {
            if (i >= s.size()) bad("unterminated string");
            char c = s[i++];
            if (c == '"') return j;
            if (c != '\\') { j.text += c; continue; }
            if (i >= s.size()) bad("unterminated string");
            char e = s[i++];
            const char* plain = std::strchr("\"\\/bfnrt", e);
            if (plain && e) { j.text += "\"\\/\b\f\n\r\t"[plain - "\"\\/bfnrt"]; continue; }
            if (e != 'u') bad("bad escape");
            unsigned cp = hex4();
            if (cp >= 0xD800 && cp < 0xDC00 && s.compare(i, 2, "\\u") == 0) {  // a surrogate pair
                i += 2;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4() - 0xDC00);
            }
            utf8(j.text, cp);
        }
    }
    Json value() {
        space();
        if (i >= s.size()) bad("expected a value");
        Json j;
        if (s[i] == '"') j = string();
        else if (eat("[")) {
            j.kind = Json::Array;
            space();
            if (!eat("]")) {
                do { j.items.push_back(value()); space(); } while (eat(","));
                if (!eat("]")) bad("expected ',' or ']'");
            }
        }
        else if (eat("true")) { j.kind = Json::Bool; j.boolean = true; }
        else if (eat("false")) { j.kind = Json::Bool; }
        else if (eat("null")) {}
        else {
            j.kind = Json::Number;
            size_t start = i;
            while (i < s.size() && std::strchr("+-.eE0123456789", s[i])) ++i;
            if (i == start) bad("unexpected character");
            j.text = s.substr(start, i - start);
        }
        space();
        return j;
    }
};

// read: JSON -> the parameter's C++ type. The host checked every value against its type already.
template <class T> std::enable_if_t<std::is_integral_v<T>> read(const Json& j, T& out) {
    auto [end, ec] = std::from_chars(j.text.data(), j.text.data() + j.text.size(), out);
    if (j.kind != Json::Number || ec != std::errc() || end != j.text.data() + j.text.size()) throw std::runtime_error("expected an integer");
}
inline void read(const Json& j, double& out) { out = std::strtod(j.text.c_str(), nullptr); }
inline void read(const Json& j, bool& out) { out = j.boolean; }
inline void read(const Json& j, char& out) { out = j.text.empty() ? '\0' : j.text[0]; }
inline void read(const Json& j, std::string& out) { out = j.text; }
template <class T> void read(const Json& j, std::vector<T>& out) {
    for (const Json& item : j.items) { T value{}; read(item, value); out.push_back(value); }
}
inline void read(const Json& j, ListNode*& out) {
    ListNode** tail = &out;
    for (const Json& item : j.items) { int v = 0; read(item, v); *tail = new ListNode(v); tail = &(*tail)->next; }
}
inline void read(const Json& j, TreeNode*& out) {  // level order; null marks a missing child
    out = nullptr;
    if (j.items.empty() || j.items[0].kind == Json::Null) return;
    auto node = [](const Json& item) { int v = 0; read(item, v); return new TreeNode(v); };
    out = node(j.items[0]);
    std::deque<TreeNode*> parents{out};
    for (size_t k = 1; k < j.items.size() && !parents.empty(); ++k) {
        TreeNode* parent = parents.front();
        TreeNode*& child = k % 2 ? parent->left : parent->right;
        if (j.items[k].kind != Json::Null) { child = node(j.items[k]); parents.push_back(child); }
        if (k % 2 == 0) parents.pop_front();
    }
}

template <class T> T argument(const std::vector<Json>& args, size_t index) {
    T value{};
    try { read(args.at(index), value); }
    catch (const std::exception& e) { fail("argument " + std::to_string(index + 1) + ": " + e.what()); }
    return value;
}

std::vector<Json> read_arguments() {  // one JSON value per non-empty stdin line
    std::vector<Json> args;
    for (std::string line; std::getline(std::cin, line); ) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        Parser p{line};
        try { args.push_back(p.value()); }
        catch (const std::exception& e) { fail("input line " + std::to_string(args.size() + 1) + ": " + e.what()); }
    }
    return args;
}

// write: the declared result type -> JSON. Non-ASCII is written as \u escapes, so the file is always ASCII.
template <class T> std::enable_if_t<std::is_integral_v<T>> write(std::string& out, T v) { out += std::to_string(v); }
inline void write(std::string& out, double v) {
    char buf[64];  // the shortest text that reads back as the same value; nan/inf are not JSON
    if (!std::isfinite(v)) fail("the result is not a finite number");
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
inline void write(std::string& out, bool v) { out += v ? "true" : "false"; }
inline void escape(std::string& out, unsigned cp) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", cp);
    out += buf;
}
inline void write(std::string& out, const std::string& s) {
    out += '"';
    for (size_t i = 0; i < s.size(); ) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') { out += '\\'; out += char(c); ++i; continue; }
        if (c >= 0x20 && c < 0x7F) { out += char(c); ++i; continue; }
        size_t n = c < 0x80 ? 1 : c >= 0xC2 && c < 0xE0 ? 2 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xF0 && c < 0xF5 ? 4 : 0;
        unsigned cp = n == 1 ? c : n ? c & (0x7F >> n) : 0xFFFD;  // 0xFFFD: not UTF-8
        for (size_t k = 1; k < n; ++k) {
            if (i + k >= s.size() || (s[i + k] & 0xC0) != 0x80) { cp = 0xFFFD; n = k; break; }
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        i += n ? n : 1;
        if (cp >= 0x10000) { cp -= 0x10000; escape(out, 0xD800 + (cp >> 10)); escape(out, 0xDC00 + (cp & 0x3FF)); }
        else escape(out, cp);
    }
    out += '"';
}
inline void write(std::string& out, char c) { write(out, std::string(1, c)); }
template <class T> void write(std::string& out, const std::vector<T>& v) {
    out += '[';
    for (size_t k = 0; k < v.size(); ++k) {
        if (k) out += ',';
        write(out, T(v[k]));  // T(...): vector<bool> hands out proxies
    }
    out += ']';
}
inline void write(std::string& out, ListNode* head) {
    std::vector<int> values;
    for (; head; head = head->next) {
        if (values.size() == MAX_NODES) fail("the returned list has a cycle or too many nodes");
        values.push_back(head->val);
    }
    write(out, values);
}
inline void write(std::string& out, TreeNode* root) {  // level order, trailing nulls trimmed
    std::vector<TreeNode*> order{root};
    for (size_t k = 0; k < order.size(); ++k) {
        if (order.size() > 2 * MAX_NODES) fail("the returned tree has a cycle or too many nodes");
        if (order[k]) { order.push_back(order[k]->left); order.push_back(order[k]->right); }
    }
    while (!order.empty() && !order.back()) order.pop_back();
    out += '[';
    for (size_t k = 0; k < order.size(); ++k) {
        if (k) out += ',';
        if (order[k]) write(out, order[k]->val); else out += "null";
    }
    out += ']';
}

template <class T> void write_result(const T& value) {
    std::string out;
    write(out, value);
    const char* path = std::getenv("SANDBOX_RESULT");
    FILE* f = path ? std::fopen(path, "w") : nullptr;
    if (!f || std::fwrite(out.data(), 1, out.size(), f) != out.size() || std::fclose(f) != 0) fail("cannot write the result");
}

}  // namespace sandbox_harness
"""


def cpp_type(kind: Type) -> str:
    text = SCALARS[kind.base]
    for _ in range(kind.dims):
        text = f"std::vector<{text}>"
    return text


def source(code: str, fn_name: str, sig: Signature) -> str:
    """``main.cpp``: the library, the solution (its own ``main``, written for testing, renamed away so it never
    runs), then a ``main()`` that calls ``Solution().fn_name`` (on the heap, as LeetCode: it may hold big
    arrays) and writes the result."""
    lines = ["    auto args = sandbox_harness::read_arguments();"]
    lines += [f"    auto a{k} = sandbox_harness::argument<{cpp_type(kind)}>(args, {k});"
              for k, (_, kind) in enumerate(sig.params)]
    args = ", ".join(f"a{k}" for k in range(len(sig.params)))
    lines += ["    Solution* solution = new Solution();",
              f"    sandbox_harness::write_result<{cpp_type(sig.returns)}>(solution->{fn_name}({args}));"]
    return (f'{LIBRARY}\n#define main solution_main\n#line 1 "solution.cpp"\n{code}\n#undef main\n'
            '#line 1 "harness_main.cpp"\nsigned main() {  // not `int`: a solution may #define int long long\n'
            + "\n".join(lines) + "\n}\n")
