"""Hostile submissions in Java, JavaScript, Go and Rust, on both backends: the attacks of test_adversarial.py in
each runtime (the JVM and Go's runtime start threads of their own, Node and the JVM reserve memory in their own
ways), and compiler bombs. Each gets its verdict, and the next submission is judged right."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from sandbox import Limits, Verdict, get_language, judge, parse_tests
from tests.sandbox.test_adversarial import assert_still_serving

LIMITS = Limits(time_s=1.5, memory_mb=256, tmpfs_mb=32, file_size_mb=64)
# A memory bomb must meet the memory limit, not the clock: filling 256 MB page by page took Node and Go more
# than 1.5 s on a loaded 2-core machine (time_limit, a flaky failure). It ends at the memory limit anyway.
LIMITS_FOR = {"memory_bomb": replace(LIMITS, time_s=6.0)}
SAFE = parse_tests([{"input": "", "output": "SAFE"}])
RUNTIMES = ("java", "javascript", "go", "rust")
BOMBED = {Verdict.runtime_error, Verdict.time_limit, Verdict.memory_limit}  # whichever limit gives first
OUTSIDE = ("/etc/pwned", "/usr/pwned", "/pwned", "/opt/pwned")

# Each program, in its language's words; PORT is the host's listening port, PATHS the places to write.
ATTACKS: dict[str, tuple[dict[str, str], set[Verdict]]] = {
    # Processes that start copies of themselves (the JVM and Node start threads besides).
    "fork_bomb": ({
        "java": "public class Main { public static void main(String[] a) { while (true) { try { new ProcessBuilder("
                "\"/proc/self/exe\", \"-cp\", \".\", \"Main\").start(); } catch (Exception e) {} } } }\n",
        "javascript": "const cp = require('child_process');\n"
                      "for (;;) { try { cp.spawn(process.execPath, [__filename], { stdio: 'ignore' }); } catch (e) {} }\n",
        "go": "package main\n\nimport \"os/exec\"\n\nfunc main() {\n\tfor {\n\t\texec.Command(\"/proc/self/exe\").Start()\n"
              "\t}\n}\n",
        "rust": "fn main() { loop { let _ = std::process::Command::new(\"/proc/self/exe\").spawn(); } }\n",
    }, BOMBED),
    "memory_bomb": ({
        "java": "import java.util.*;\npublic class Main { public static void main(String[] a) { List<long[]> keep = "
                "new ArrayList<>(); while (true) keep.add(new long[1 << 22]); } }\n",
        "javascript": "const keep = [];\nfor (;;) keep.push(Buffer.alloc(1 << 24, 1));\n",
        "go": "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tb := make([]byte, 2<<30)\n"
              "\tfor i := 0; i < len(b); i += 4096 {\n\t\tb[i] = 1\n\t}\n\tfmt.Println(b[4096])\n}\n",
        "rust": "fn main() { let mut keep = Vec::new(); loop { keep.push(vec![1u8; 1 << 24]); "
                "eprintln!(\"{}\", keep.len()); } }\n",
    }, {Verdict.memory_limit}),
    "infinite_loop": ({
        "java": "public class Main { public static void main(String[] a) { while (true) {} } }\n",
        "javascript": "for (;;) {}\n",
        "go": "package main\n\nfunc main() {\n\tfor {\n\t}\n}\n",
        "rust": "fn main() { let mut i = 0u64; loop { unsafe { std::ptr::write_volatile(&mut i, i + 1) } } }\n",
    }, {Verdict.time_limit}),
    "giant_output": ({
        "java": "public class Main { public static void main(String[] a) { String line = \"x\".repeat(10000); "
                "while (true) System.out.println(line); } }\n",
        # with back-pressure (a bare loop never lets Node flush: it ends in the time limit, memory growing)
        "javascript": "const line = 'x'.repeat(10000) + '\\n';\n"
                      "(function more() { while (process.stdout.write(line)); process.stdout.once('drain', more); })();\n",
        "go": "package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n)\n\nfunc main() {\n\tline := strings.Repeat(\"x\", 10000)\n"
              "\tfor {\n\t\tfmt.Println(line)\n\t}\n}\n",
        "rust": "fn main() { let line = \"x\".repeat(10000); loop { println!(\"{}\", line); } }\n",
    }, {Verdict.output_limit}),
    "write_outside_workdir": ({
        "java": "import java.nio.file.*;\npublic class Main { public static void main(String[] a) { for (String p : "
                "new String[] {PATHS}) { try { Files.writeString(Path.of(p), \"x\"); System.out.println(\"WROTE \" + p);"
                " } catch (Exception e) {} } System.out.println(\"SAFE\"); } }\n",
        "javascript": "for (const p of [PATHS]) { try { require('fs').writeFileSync(p, 'x'); console.log('WROTE ' + p); }"
                      " catch (e) {} }\nconsole.log('SAFE');\n",
        "go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfor _, p := range []string{PATHS} {\n"
              "\t\tif os.WriteFile(p, []byte(\"x\"), 0o644) == nil {\n\t\t\tfmt.Println(\"WROTE\", p)\n\t\t}\n\t}\n"
              "\tfmt.Println(\"SAFE\")\n}\n",
        "rust": "fn main() { for p in [PATHS] { if std::fs::write(p, \"x\").is_ok() { println!(\"WROTE {}\", p); } } "
                "println!(\"SAFE\"); }\n",
    }, {Verdict.accepted}),
    "network_to_the_hosts_loopback": ({
        "java": "import java.net.*;\npublic class Main { public static void main(String[] a) { try (Socket s = new "
                "Socket()) { s.connect(new InetSocketAddress(\"127.0.0.1\", PORT), 2000); System.out.println(\"CONNECTED\");"
                " } catch (Exception e) { System.out.println(\"SAFE\"); } } }\n",
        "javascript": "const s = require('net').connect(PORT, '127.0.0.1');\n"
                      "s.on('connect', () => { console.log('CONNECTED'); s.destroy(); });\n"
                      "s.on('error', () => console.log('SAFE'));\n",
        "go": "package main\n\nimport (\n\t\"fmt\"\n\t\"net\"\n\t\"time\"\n)\n\nfunc main() {\n"
              "\tif _, err := net.DialTimeout(\"tcp\", \"127.0.0.1:PORT\", time.Second); err == nil {\n"
              "\t\tfmt.Println(\"CONNECTED\")\n\t} else {\n\t\tfmt.Println(\"SAFE\")\n\t}\n}\n",
        "rust": "use std::net::TcpStream;\nuse std::time::Duration;\nfn main() { let addr = \"127.0.0.1:PORT\".parse()"
                ".unwrap(); match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) { Ok(_) => println!("
                "\"CONNECTED\"), Err(_) => println!(\"SAFE\") } }\n",
    }, {Verdict.accepted}),
}
SLOW = {"fork_bomb", "infinite_loop"}


def _program(attack: str, language: str, port: int) -> str:
    paths = ", ".join(f"\"{p}\"" if language != "javascript" else f"'{p}'" for p in OUTSIDE)
    return ATTACKS[attack][0][language].replace("PORT", str(port)).replace("PATHS", paths)


@pytest.mark.parametrize("attack", [pytest.param(a, marks=pytest.mark.slow) if a in SLOW else a for a in ATTACKS])
@pytest.mark.parametrize("language", RUNTIMES)
def test_hostile_submission(backend, language, attack):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    try:
        report = judge(_program(attack, language, server.getsockname()[1]), get_language(language), SAFE, backend,
                       LIMITS_FOR.get(attack, LIMITS))
        try:
            server.accept()
            reached = True
        except TimeoutError:
            reached = False
    finally:
        server.close()
    assert report.verdict in ATTACKS[attack][1] and not reached, report
    assert_still_serving(backend)


# A shell started detached (its own session where the runtime allows) that marks the work dirs after a second.
DAEMON = "sleep 1; for d in . /work /tmp; do touch $d/DAEMON_WAS_HERE; done; sleep 60"
DAEMONS = {
    "java": "public class Main { public static void main(String[] a) throws Exception { new ProcessBuilder(\"sh\", "
            "\"-c\", \"SCRIPT\").redirectOutput(ProcessBuilder.Redirect.DISCARD).start(); System.out.println(\"SAFE\");"
            " } }\n",
    "javascript": "require('child_process').spawn('sh', ['-c', 'SCRIPT'], { detached: true, stdio: 'ignore' }).unref();\n"
                  "console.log('SAFE');\n",
    "go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os/exec\"\n\t\"syscall\"\n)\n\nfunc main() {\n"
          "\tcmd := exec.Command(\"sh\", \"-c\", \"SCRIPT\")\n\tcmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}\n"
          "\tcmd.Start()\n\tfmt.Println(\"SAFE\")\n}\n",
    "rust": "use std::process::{Command, Stdio};\nfn main() { Command::new(\"sh\").args([\"-c\", \"SCRIPT\"])"
            ".stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap(); println!(\"SAFE\"); }\n",
}
LOOK_FOR_THE_DAEMON = """
import os, time
time.sleep(1.5)
me = os.getpid()
left = []
for p in os.listdir('/proc'):
    if p.isdigit() and int(p) != me:
        try:
            left += [c for c in [open(f'/proc/{p}/cmdline').read()] if 'sleep' in c or 'DAEMON' in c]
        except OSError:
            pass
marks = [os.path.join(r, f) for d in ('/work', '/tmp') for r, _, fs in os.walk(d) for f in fs
         if f == 'DAEMON_WAS_HERE']
print('SAFE' if not marks and not left else f'DIRTY {marks} {left}')
"""


@pytest.mark.slow
@pytest.mark.parametrize("language", RUNTIMES)
def test_a_daemon_does_not_outlive_its_run(backend, language):
    launched = judge(DAEMONS[language].replace("SCRIPT", DAEMON), get_language(language), SAFE, backend, LIMITS)
    assert launched.verdict is Verdict.accepted, launched
    report = judge(LOOK_FOR_THE_DAEMON, get_language("python"), SAFE, backend, Limits(time_s=5.0, memory_mb=256))
    assert report.verdict is Verdict.accepted, report


# Compilers made to run long, or to read or write something huge: each ends within the compile's limits.
COMPILE_BOMBS = {
    "cpp deep templates": ("cpp", "template <int N> struct F { static const int v = F<N - 1>::v + 1; };\n"
                                  "template <> struct F<0> { static const int v = 0; };\n"
                                  "int main() { return F<100000>::v; }\n"),
    "cpp includes /dev/zero": ("cpp", "#include \"/dev/zero\"\nint main() {}\n"),
    "rust exponential macro": ("rust", "macro_rules! bomb { () => {}; ($x:tt $($rest:tt)*) => { bomb!($($rest)*); "
                                       "bomb!($($rest)*); }; }\nfn main() { bomb!(" + "a " * 40 + "); }\n"),
    "rust includes /dev/zero": ("rust", "static Z: &[u8] = include_bytes!(\"/dev/zero\");\n"
                                        "fn main() { println!(\"{}\", Z.len()); }\n"),
    "go gigabyte of static data": ("go", "package main\n\nvar x = [1 << 27]int64{1<<27 - 1: 1}\n\n"
                                         "func main() { println(x[1<<27-1]) }\n"),
    "java nesting past javac's stack": ("java", "public class Main { public static void main(String[] a) { int x = "
                                                + "(" * 20000 + "1" + ")" * 20000 + "; } }\n"),
}


@pytest.mark.slow
@pytest.mark.parametrize("bomb", sorted(COMPILE_BOMBS))
def test_a_compiler_bomb_ends_within_its_limits(backend, bomb):
    language, code = COMPILE_BOMBS[bomb]
    report = judge(code, get_language(language), SAFE, backend, Limits(compile_time_s=3.0))
    assert report.verdict in {Verdict.compile_error, Verdict.time_limit}, report
    assert_still_serving(backend)
