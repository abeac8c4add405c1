"""JavaScript: LeetCode's ``ListNode``/``TreeNode`` constructors, the solution in a scope of its own (so that it
may define its own ``class ListNode`` or helpers without clashing), then a call of ``new Solution().fn`` or the
plain function ``fn`` that gives back the JSON result. Values are written as returned (JavaScript has no
declared types to convert to). A ``long`` is a number, as on LeetCode, so tests with one beyond 2^53 (which a
number cannot hold exactly) are refused: see :func:`refusal`.

One Node serves all of a submission's tests (:mod:`sandbox.served`): a Node start is ~100 ms on Docker, a
test in a warm one ~1 ms. Each test runs in a new V8 context (``vm.createContext``, 0.7 ms): its own globals
and built-ins, so a sloppy global, ``globalThis.x`` or ``Array.prototype.x`` set by one test is not there in
the next, and the solution's top-level code runs again. Shared: Node's module cache (``require`` is given to
the context), ``process`` and the files of the work dir. As for Java, none of it can carry an expected value
(they never enter the sandbox); the event loop never runs between tests (the server reads stdin
synchronously), so a timer cannot act in a later test; a test that fails gets the next a fresh Node."""

from __future__ import annotations

import json

from sandbox.signature import Signature, Type
from sandbox.testcases import TestSuite

SAFE_INTEGER = 2**53 - 1  # Number.MAX_SAFE_INTEGER

PRELUDE = """\
function ListNode(val, next) { this.val = (val === undefined ? 0 : val); this.next = (next === undefined ? null : next); }
function TreeNode(val, left, right) {
    this.val = (val === undefined ? 0 : val);
    this.left = (left === undefined ? null : left);
    this.right = (right === undefined ? null : right);
}
"""

CALL = r"""
(function (fn, kinds, returns) {
    const MAX_NODES = 1000000;  // a returned list or tree with more is taken for a cycle
    const list = (values) => { let head = null; for (let k = values.length - 1; k >= 0; k--) head = new ListNode(values[k], head); return head; };
    const tree = (values) => {
        if (!values.length || values[0] === null) return null;
        const root = new TreeNode(values[0]), parents = [root];
        for (let k = 1, p = 0; k < values.length && p < parents.length; k++) {
            const child = values[k] === null ? null : new TreeNode(values[k]);
            if (child) parents.push(child);
            if (k % 2) parents[p].left = child; else parents[p++].right = child;
        }
        return root;
    };
    const fromList = (head) => {
        const out = [];
        for (; head; head = head.next) { if (out.length === MAX_NODES) throw new Error("the returned list has a cycle or too many nodes"); out.push(head.val); }
        return out;
    };
    const fromTree = (root) => {
        const order = [root];
        for (let k = 0; k < order.length; k++) {
            if (order.length > 2 * MAX_NODES) throw new Error("the returned tree has a cycle or too many nodes");
            if (order[k]) order.push(order[k].left, order[k].right);
        }
        while (order.length && !order[order.length - 1]) order.pop();
        return order.map((node) => (node ? node.val : null));
    };
    const args = SANDBOX_INPUT.split("\n").filter((line) => line.trim()).map((line, k) => {
        const value = JSON.parse(line);
        return kinds[k] === "ListNode" ? list(value) : kinds[k] === "TreeNode" ? tree(value) : value;
    });
    let result = fn(...args);
    result = returns === "ListNode" ? fromList(result) : returns === "TreeNode" ? fromTree(result) : result;
    const text = JSON.stringify(result, (key, value) => {
        if (typeof value === "bigint") return Number(value);
        if (typeof value === "number" && !Number.isFinite(value)) throw new Error("the result holds " + value + ", which is not JSON");
        return value;
    });
    if (text === undefined) throw new Error("the function returned undefined");
    return text;
})(SANDBOX_SOLUTION, SANDBOX_KINDS, SANDBOX_RETURNS);
"""

# The server: each request ([token, the test's input]) runs the test's script in a new context (fresh
# globals and built-ins); the answer goes to the raw stdout, which nothing else of the solution's reaches.
SERVER = r"""
"use strict";
const vm = require("vm"), fs = require("fs"), { StringDecoder } = require("string_decoder");
const script = new vm.Script(SANDBOX_TEST, { filename: "solution.js" });
const pause = new Int32Array(new SharedArrayBuffer(4));
const retried = (io) => { for (;;) { try { return io(); } catch (e) { if (e.code !== "EAGAIN") throw e; Atomics.wait(pause, 0, 0, 1); } } };
const say = (text) => {  // the pipe is non-blocking once anything touched process.stdout
    const bytes = Buffer.from(text, "utf8");
    for (let o = 0; o < bytes.length; ) o += retried(() => fs.writeSync(1, bytes, o));
};
process.stdout.write = () => true;
process.stderr.write = () => true;
const silent = {};
for (const key of Object.keys(console)) silent[key] = () => {};
const GIVEN = { require, process, Buffer, setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate,
                queueMicrotask, structuredClone, TextEncoder, TextDecoder, URL, URLSearchParams, performance };
function* lines() {
    const chunk = Buffer.alloc(1 << 16), decoder = new StringDecoder("utf8");
    let pending = "";
    for (;;) {
        const n = retried(() => fs.readSync(0, chunk, 0, chunk.length, null));
        if (n === 0) return;
        pending += decoder.write(chunk.subarray(0, n));
        for (let end; (end = pending.indexOf("\n")) >= 0; ) {
            const line = pending.slice(0, end);
            pending = pending.slice(end + 1);
            if (line.trim()) yield line;
        }
    }
}
for (const line of lines()) {
    const [token, input] = JSON.parse(line);
    const module = { exports: {} };
    const context = vm.createContext({ ...GIVEN, console: silent, module, exports: module.exports, SANDBOX_INPUT: input });
    let reply;
    try {
        const text = script.runInContext(context, { displayErrors: false });
        if (typeof text !== "string") throw new Error("the harness's result is not text");
        reply = ["value", JSON.parse(text), true];
    } catch (e) {
        let why = "an exception";
        try {  // the stack up to the harness's own frames
            const stack = String((e && e.stack) || e).split("\n"), end = stack.findIndex((l) => l.includes("node:vm"));
            why = stack.slice(0, end < 0 ? stack.length : end - 2).join("\n").slice(0, 4000);
        } catch (_) { /* a thrown value that cannot be shown */ }
        reply = ["raised", why, false];
    }
    say(token + " " + JSON.stringify(reply) + "\n");
}
process.exit(0);
"""


def source(code: str, fn_name: str, sig: Signature) -> str:
    """``main.js``: the server, holding the test's script: the constructors, the solution in a function that
    hands back what to call, the call."""
    name = json.dumps(fn_name)
    finder = (f"\n;return (typeof Solution === \"function\" && typeof Solution.prototype[{name}] === \"function\")"
              f" ? (...a) => new Solution()[{name}](...a)\n"
              f"    : (typeof {fn_name} === \"function\" ? {fn_name} : () => {{ throw new Error("
              f"{json.dumps(f'no function or Solution method named {fn_name}')}); }});\n")
    kinds = json.dumps([str(kind) for _, kind in sig.params])
    call = (CALL.replace("SANDBOX_KINDS", kinds).replace("SANDBOX_RETURNS", json.dumps(str(sig.returns))))
    test = f"{PRELUDE}const SANDBOX_SOLUTION = (function () {{\n{code}{finder}}})();\n{call}"
    return SERVER.replace("SANDBOX_TEST", json.dumps(test))


def _inexact(value: object, kind: Type) -> bool:
    if kind.base != "long" or not isinstance(value, list | int):
        return False
    if isinstance(value, list):
        return any(_inexact(item, kind.element) for item in value)
    return abs(value) > SAFE_INTEGER


def refusal(suite: TestSuite, sig: Signature) -> str | None:
    """Why these tests cannot be run in JavaScript (a long no number holds exactly), or None."""
    beyond = "a long beyond 2^53, which a JavaScript number cannot hold exactly"
    for i, case in enumerate(suite.cases):
        args = [json.loads(line) for line in case.stdin.splitlines()]
        for arg, (name, kind) in zip(args, sig.params, strict=True):
            if _inexact(arg, kind):
                return f"test {i}: parameter {name!r}: {beyond}"
        if _inexact(case.expected, sig.returns):
            return f"test {i}: expected output: {beyond}"
    return None
