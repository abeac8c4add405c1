"""JavaScript: LeetCode's ``ListNode``/``TreeNode`` constructors, the solution in a scope of its own (so that it
may define its own ``class ListNode`` or helpers without clashing), then a harness that calls
``new Solution().fn`` or the plain function ``fn`` and writes the JSON result. Values are written as returned
(JavaScript has no declared types to convert to). A ``long`` is a number, as on LeetCode, so tests with one
beyond 2^53 (which a number cannot hold exactly) are refused: see :func:`refusal`."""

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

HARNESS = r"""
(function (fn, kinds, returns) {
    const fs = require("fs");
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
    const lines = fs.readFileSync(0, "utf8").split("\n").filter((line) => line.trim());
    const args = lines.map((line, k) => {
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
    fs.writeFileSync(process.env.SANDBOX_RESULT, text);
})(SANDBOX_FN, SANDBOX_KINDS, SANDBOX_RETURNS);
"""


def source(code: str, fn_name: str, sig: Signature) -> str:
    """``main.js``: the constructors, the solution in a function that hands back what to call, the harness."""
    name = json.dumps(fn_name)
    finder = (f"\n;return (typeof Solution === \"function\" && typeof Solution.prototype[{name}] === \"function\")"
              f" ? (...a) => new Solution()[{name}](...a)\n"
              f"    : (typeof {fn_name} === \"function\" ? {fn_name} : () => {{ throw new Error("
              f"{json.dumps(f'no function or Solution method named {fn_name}')}); }});\n")
    kinds = json.dumps([str(kind) for _, kind in sig.params])
    harness = (HARNESS.replace("SANDBOX_FN", "SANDBOX_SOLUTION").replace("SANDBOX_KINDS", kinds)
               .replace("SANDBOX_RETURNS", json.dumps(str(sig.returns))))
    return f"{PRELUDE}const SANDBOX_SOLUTION = (function () {{\n{code}{finder}}})();\n{harness}"


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
