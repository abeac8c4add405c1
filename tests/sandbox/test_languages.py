"""Every language on both backends: small problems solved right and wrong, and every verdict a program of each
language can earn (compile errors with the compiler's own words, exceptions, exit codes, endless loops)."""

from __future__ import annotations

import pytest

from sandbox import Limits, Verdict, get_language, judge, parse_tests
from sandbox.languages.java import entry_points

LANGUAGES = ("python", "cpp", "java", "javascript", "go", "rust")
COMPILED = ("cpp", "java", "go", "rust")

# --- three problems: a sum past 32 bits, words reversed, 50 000 lines of output ------------------------------

SUM = parse_tests([{"input": "3\n1 2 3\n", "output": "6\n"},
                   {"input": "4\n1000000000 1000000000 1000000000 7\n", "output": "3000000007\n"},
                   {"input": "1\n-5\n", "output": "-5\n"}])
REVERSE = parse_tests([{"input": "hello big world\n", "output": "world big hello\n"},
                       {"input": "  one   two  \n", "output": "two one\n"},
                       {"input": "single\n", "output": "single\n"}])
SQUARES = parse_tests([{"input": "3\n", "output": "1\n4\n9\n"},
                       {"input": "50000\n", "output": "".join(f"{i * i}\n" for i in range(1, 50001))}])

SOLUTIONS = {
    ("python", "sum"): "n, *xs = map(int, open(0).read().split())\nprint(sum(xs[:n]))\n",
    ("python", "reverse"): "print(' '.join(input().split()[::-1]))\n",
    ("python", "squares"): "import sys\nn = int(input())\nsys.stdout.write(''.join(f'{i * i}\\n' for i in range(1, n + 1)))\n",
    ("cpp", "sum"): """#include <bits/stdc++.h>
using namespace std;
int main() { int n; cin >> n; long long s = 0, x; for (int i = 0; i < n; i++) { cin >> x; s += x; } cout << s << "\\n"; }
""",
    ("cpp", "reverse"): """#include <iostream>
#include <sstream>
#include <string>
#include <vector>
int main() {
    std::string line, w; std::getline(std::cin, line); std::istringstream in(line); std::vector<std::string> v;
    while (in >> w) v.push_back(w);
    for (size_t i = v.size(); i-- > 0;) std::cout << v[i] << (i ? " " : "\\n");
}
""",
    ("cpp", "squares"): "#include <cstdio>\nint main() { long long n; scanf(\"%lld\", &n); "
                        "for (long long i = 1; i <= n; i++) printf(\"%lld\\n\", i * i); }\n",
    ("java", "sum"): """import java.util.*;

public class Main {
    public static void main(String[] args) {
        Scanner sc = new Scanner(System.in);
        int n = sc.nextInt();
        long s = 0;
        for (int i = 0; i < n; i++) s += sc.nextLong();
        System.out.println(s);
    }
}
""",
    ("java", "reverse"): """import java.io.*;
import java.util.*;

public class Solution {
    public static void main(String[] args) throws IOException {
        String[] words = new BufferedReader(new InputStreamReader(System.in)).readLine().trim().split("\\\\s+");
        Collections.reverse(Arrays.asList(words));
        System.out.println(String.join(" ", words));
    }
}
""",
    ("java", "squares"): """import java.io.*;

class Squares {
    public static void main(String[] args) throws IOException {
        int n = Integer.parseInt(new BufferedReader(new InputStreamReader(System.in)).readLine().trim());
        StringBuilder out = new StringBuilder();
        for (long i = 1; i <= n; i++) out.append(i * i).append('\\n');
        System.out.print(out);
    }
}
""",
    ("javascript", "sum"): "const [n, ...xs] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
                           "console.log(xs.slice(0, n).reduce((a, b) => a + b, 0));\n",
    ("javascript", "reverse"): "const rl = require('readline').createInterface({ input: process.stdin });\n"
                               "rl.once('line', (line) => { console.log(line.trim().split(/\\s+/).reverse().join(' '));"
                               " rl.close(); });\n",
    ("javascript", "squares"): "const n = Number(require('fs').readFileSync(0, 'utf8'));\nconst out = [];\n"
                               "for (let i = 1; i <= n; i++) out.push(i * i);\n"
                               "process.stdout.write(out.join('\\n') + '\\n');\n",
    ("go", "sum"): """package main

import (
\t"bufio"
\t"fmt"
\t"os"
)

func main() {
\tin := bufio.NewReader(os.Stdin)
\tvar n int
\tfmt.Fscan(in, &n)
\tvar s int64
\tfor i := 0; i < n; i++ {
\t\tvar x int64
\t\tfmt.Fscan(in, &x)
\t\ts += x
\t}
\tfmt.Println(s)
}
""",
    ("go", "reverse"): """package main

import (
\t"bufio"
\t"fmt"
\t"os"
\t"strings"
)

func main() {
\tline, _ := bufio.NewReader(os.Stdin).ReadString('\\n')
\tw := strings.Fields(line)
\tfor i, j := 0, len(w)-1; i < j; i, j = i+1, j-1 {
\t\tw[i], w[j] = w[j], w[i]
\t}
\tfmt.Println(strings.Join(w, " "))
}
""",
    ("go", "squares"): """package main

import (
\t"bufio"
\t"fmt"
\t"os"
)

func main() {
\tvar n int64
\tfmt.Scan(&n)
\tout := bufio.NewWriter(os.Stdout)
\tdefer out.Flush()
\tfor i := int64(1); i <= n; i++ {
\t\tfmt.Fprintln(out, i*i)
\t}
}
""",
    ("rust", "sum"): """use std::io::Read;

fn main() {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).unwrap();
    let mut it = s.split_whitespace().map(|x| x.parse::<i64>().unwrap());
    let n = it.next().unwrap() as usize;
    println!("{}", it.take(n).sum::<i64>());
}
""",
    ("rust", "reverse"): """fn main() {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).unwrap();
    let words: Vec<&str> = line.split_whitespace().rev().collect();
    println!("{}", words.join(" "));
}
""",
    ("rust", "squares"): """use std::io::{self, BufWriter, Write};

fn main() {
    let mut s = String::new();
    io::stdin().read_line(&mut s).unwrap();
    let n: u64 = s.trim().parse().unwrap();
    let mut out = BufWriter::new(io::stdout().lock());
    for i in 1..=n {
        writeln!(out, "{}", i * i).unwrap();
    }
}
""",
}
PROBLEMS = {"sum": SUM, "reverse": REVERSE, "squares": SQUARES}

# Wrong on the second sum test: 32-bit sums where they overflow silently, an element dropped where they cannot.
WRONG_SUM = {
    "python": "n, *xs = map(int, open(0).read().split())\nprint(sum(xs[:n - 1]) if n > 3 else sum(xs))\n",
    "cpp": "#include <iostream>\nint main() { int n, s = 0, x; std::cin >> n; while (n--) { std::cin >> x; s += x; } "
           "std::cout << s << \"\\n\"; }\n",
    "java": "import java.util.*;\npublic class Main { public static void main(String[] a) { Scanner sc = new Scanner("
            "System.in); int n = sc.nextInt(), s = 0; while (n-- > 0) s += sc.nextInt(); System.out.println(s); } }\n",
    "javascript": "const [n, ...xs] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
                  "console.log(xs.slice(0, n > 3 ? n - 1 : n).reduce((a, b) => a + b, 0));\n",
    "go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tvar n, s, x int32\n\tfmt.Scan(&n)\n"
          "\tfor ; n > 0; n-- {\n\t\tfmt.Scan(&x)\n\t\ts += x\n\t}\n\tfmt.Println(s)\n}\n",
    "rust": "use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap();"
            " let v: Vec<i32> = s.split_whitespace().map(|x| x.parse().unwrap()).collect();"
            " let mut t: i32 = 0; for x in &v[1..] { t = t.wrapping_add(*x); } println!(\"{}\", t); }\n",
}

# One program per language that does what its input says: the right answer, a wrong one, an exception, exit 3,
# or loop for ever. Each earns its own verdict in one submission.
BEHAVIOUR = parse_tests([{"input": cmd + "\n", "output": "42\n"} for cmd in ("ok", "wrong", "throw", "exit", "loop")])
EXPECTED = [Verdict.accepted, Verdict.wrong_answer, Verdict.runtime_error, Verdict.runtime_error, Verdict.time_limit]
BEHAVIOURS = {
    "python": """import sys
cmd = input().strip()
if cmd == "throw":
    raise ValueError("boom")
if cmd == "exit":
    sys.exit(3)
while cmd == "loop":
    pass
print(42 if cmd == "ok" else 41)
""",
    "cpp": """#include <bits/stdc++.h>
int main() {
    std::string cmd; std::cin >> cmd;
    if (cmd == "throw") throw std::runtime_error("boom");
    if (cmd == "exit") return 3;
    for (volatile unsigned long long i = 0; cmd == "loop"; i++) {}
    std::cout << (cmd == "ok" ? 42 : 41) << "\\n";
}
""",
    "java": """import java.util.*;

public class Main {
    public static void main(String[] args) {
        String cmd = new Scanner(System.in).next();
        if (cmd.equals("throw")) throw new IllegalStateException("boom");
        if (cmd.equals("exit")) System.exit(3);
        while (cmd.equals("loop")) {}
        System.out.println(cmd.equals("ok") ? 42 : 41);
    }
}
""",
    "javascript": """const cmd = require('fs').readFileSync(0, 'utf8').trim();
if (cmd === 'throw') throw new Error('boom');
if (cmd === 'exit') process.exit(3);
while (cmd === 'loop') {}
console.log(cmd === 'ok' ? 42 : 41);
""",
    "go": """package main

import (
\t"fmt"
\t"os"
)

func main() {
\tvar cmd string
\tfmt.Scan(&cmd)
\tif cmd == "throw" {
\t\tpanic("boom")
\t}
\tif cmd == "exit" {
\t\tos.Exit(3)
\t}
\tfor cmd == "loop" {
\t}
\tif cmd == "ok" {
\t\tfmt.Println(42)
\t} else {
\t\tfmt.Println(41)
\t}
}
""",
    "rust": """fn main() {
    let mut cmd = String::new();
    std::io::stdin().read_line(&mut cmd).unwrap();
    let cmd = cmd.trim();
    if cmd == "throw" {
        panic!("boom");
    }
    if cmd == "exit" {
        std::process::exit(3);
    }
    let mut spins = 0u64;
    while cmd == "loop" {
        unsafe { std::ptr::write_volatile(&mut spins, spins + 1) };
    }
    println!("{}", if cmd == "ok" { 42 } else { 41 });
}
""",
}

# Each compiler must name what it could not find.
COMPILE_ERRORS = {
    "cpp": "int main() { return undefinedThing; }\n",
    "java": "public class Main { public static void main(String[] a) { System.out.println(undefinedThing); } }\n",
    "go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(undefinedThing)\n}\n",
    "rust": "fn main() {\n    println!(\"{}\", undefinedThing);\n}\n",
}

FAST = Limits(time_s=1.0, item_time_s=60.0)


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_right_solution_is_accepted(backend, language, problem):
    report = judge(SOLUTIONS[language, problem], get_language(language), PROBLEMS[problem], backend)
    assert report.verdict is Verdict.accepted and report.passed == report.total, report


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_wrong_solution_is_a_wrong_answer(backend, language):
    report = judge(WRONG_SUM[language], get_language(language), SUM, backend)
    assert report.verdict is Verdict.wrong_answer and report.passed == 1, report


@pytest.mark.slow
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_verdict_of_a_run_is_reachable(backend, language):
    report = judge(BEHAVIOURS[language], get_language(language), BEHAVIOUR, backend, FAST, stop_on_failure=False)
    assert [t.verdict for t in report.tests] == EXPECTED, report
    thrown, exited = report.tests[2].detail or "", report.tests[3].detail or ""
    assert "boom" in thrown and "exit code 3" in exited, report


@pytest.mark.parametrize("language", COMPILED)
def test_a_compile_error_carries_the_compilers_message(backend, language):
    report = judge(COMPILE_ERRORS[language], get_language(language), SUM, backend)
    assert report.verdict is Verdict.compile_error and report.passed == 0, report
    assert "undefinedThing" in (report.compile_output or ""), report


@pytest.mark.parametrize("language, syntax_error", [("python", "print(\n"), ("javascript", "console.log(;\n")])
def test_an_interpreted_syntax_error_is_a_runtime_error(backend, language, syntax_error):
    report = judge(syntax_error, get_language(language), SUM, backend)
    assert report.verdict is Verdict.runtime_error and "SyntaxError" in (report.tests[0].detail or ""), report


JAVA_CLASSES = {
    "public Main": "public class Main { public static void main(String[] a) { System.out.println(42); } }\n",
    "public Solution": "public class Solution {\n    public static void main(String[] args) {\n"
                       "        System.out.println(42);\n    }\n}\n",
    "not public, with a helper": "import java.util.*;\n\nclass Helper { static int answer() { return 42; } }\n\n"
                                 "final class Program {\n    public static void main(String[] args) {\n"
                                 "        System.out.println(Helper.answer());\n    }\n}\n",
}


@pytest.mark.parametrize("form", sorted(JAVA_CLASSES))
def test_java_runs_its_main_class_whatever_its_name(backend, form):
    suite = parse_tests([{"input": "", "output": "42\n"}])
    report = judge(JAVA_CLASSES[form], get_language("java"), suite, backend)
    assert report.verdict is Verdict.accepted, report


def test_java_recursion_runs_deep(backend):
    # The JVM's default stack (1 MB) overflows near ten thousand frames; solutions recurse far deeper.
    code = ("public class Main {\n    static long depth(int n) { return n == 0 ? 0 : 1 + depth(n - 1); }\n"
            "    public static void main(String[] a) { System.out.println(depth(300000)); }\n}\n")
    report = judge(code, get_language("java"), parse_tests([{"input": "", "output": "300000\n"}]), backend)
    assert report.verdict is Verdict.accepted, report


FENCES = [("python", "py"), ("python", "python3"), ("cpp", "c++"), ("cpp", "cpp"), ("java", "java"),
          ("javascript", "js"), ("javascript", "javascript"), ("javascript", "node"), ("go", "go"),
          ("go", "golang"), ("rust", "rust"), ("rust", "rs")]


@pytest.mark.parametrize("language, tag", FENCES)
def test_the_fence_tags_models_write_pick_the_language(backend, language, tag):
    from reward_service.grading.code import grade_code
    completion = f"Reading all numbers first.\n\n```{tag}\n{SOLUTIONS[language, 'sum']}```\n"
    verdict = grade_code(completion, [{"input": c.stdin, "output": c.expected} for c in SUM.cases], language,
                         backend=backend.name)
    assert verdict.score == 1.0, verdict


# --- naming Java's file and main class (no sandbox) ------------------------------------------------------------

@pytest.mark.parametrize("code, expected", [
    ("public class Main { public static void main(String[] a) {} }", ("Main.java", "Main")),
    ("class Program { public static void main(String[] a) {} }", ("Main.java", "Program")),
    ("package a.b;\npublic class Sol { static void main(String... a) {} }", ("Sol.java", "a.b.Sol")),
    ("public interface Shape {}\nclass Main { public static void main(String[] a) {} }", ("Shape.java", "Main")),
    # a public class in a comment or a string, a nested public class with a main of its own: none counts
    ("// public class Fake {\n/* public class Fake2 */\nclass Helper { String s = \"public class Y {\"; }\n"
     "public final class Solution {\n  public static class Inner { public static void main(String[] a) {} }\n"
     "  static public void main(String[] args) {}\n}\n", ("Solution.java", "Solution")),
])
def test_java_file_and_class_names(code, expected):
    assert entry_points(code) == expected
