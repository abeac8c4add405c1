"""Go: ``package main``, the solution's imports hoisted to the top, the standard packages it uses but did not
import (LeetCode imports them for you: ``sort.Ints`` just works), LeetCode's ``ListNode``/``TreeNode``
(``Val``, ``Next``, ``Left``, ``Right``), the solution (a ``func main`` of its own renamed away), then a
``main`` that reads the arguments with encoding/json and writes the result. Harness names start ``sandbox``."""

from __future__ import annotations

import re

from sandbox.signature import Signature, Type

# package name -> (import path, a name in it: `var _ = sort.Ints` keeps an import used whatever the code does)
AUTO_IMPORTS = {"sort": ("sort", "Ints"), "strings": ("strings", "Split"), "strconv": ("strconv", "Itoa"),
                "math": ("math", "Abs"), "bits": ("math/bits", "OnesCount"), "heap": ("container/heap", "Init"),
                "unicode": ("unicode", "IsDigit"), "fmt": ("fmt", "Sprint"), "rand": ("math/rand", "Intn")}
SCALARS = {"int": "int", "long": "int64", "double": "float64", "bool": "bool", "string": "string", "char": "byte",
           "ListNode": "*ListNode", "TreeNode": "*TreeNode"}
_IMPORTS = re.compile(r"^import\s*\((?P<block>[^)]*)\)|^import[ \t]+(?P<one>[^\n]+)|^package[ \t]+\w+[ \t]*$", re.M)
_PATH = re.compile(r'"([^"]+)"')
_MAIN = re.compile(r"^func\s+main\s*\(", re.M)

HARNESS = r"""
type ListNode struct {
	Val  int
	Next *ListNode
}

type TreeNode struct {
	Val   int
	Left  *TreeNode
	Right *TreeNode
}

const sandboxMaxNodes = 1000000 // a returned list or tree with more is taken for a cycle

func sandboxRead(line string, into interface{}) {
	if err := sandboxJSON.Unmarshal([]byte(line), into); err != nil {
		panic("harness: cannot read an argument: " + err.Error())
	}
}

func sandboxList(values []int) *ListNode {
	var head *ListNode
	for k := len(values) - 1; k >= 0; k-- {
		head = &ListNode{Val: values[k], Next: head}
	}
	return head
}

func sandboxTree(values []*int) *TreeNode {
	if len(values) == 0 || values[0] == nil {
		return nil
	}
	root := &TreeNode{Val: *values[0]}
	parents := []*TreeNode{root}
	for k, p := 1, 0; k < len(values) && p < len(parents); k++ {
		var child *TreeNode
		if values[k] != nil {
			child = &TreeNode{Val: *values[k]}
			parents = append(parents, child)
		}
		if k%2 == 1 {
			parents[p].Left = child
		} else {
			parents[p].Right = child
			p++
		}
	}
	return root
}

func sandboxChars(s string) byte { return s[0] }

// sandboxValue: the result as encoding/json should write it (bytes are chars, nodes are lists).
func sandboxValue(v interface{}) interface{} {
	switch r := v.(type) {
	case byte:
		return string(rune(r))
	case []byte:
		out := make([]string, len(r))
		for k, c := range r {
			out[k] = string(rune(c))
		}
		return out
	case [][]byte:
		out := make([]interface{}, len(r))
		for k, row := range r {
			out[k] = sandboxValue(row)
		}
		return out
	case *ListNode:
		out := []int{}
		for ; r != nil; r = r.Next {
			if len(out) == sandboxMaxNodes {
				panic("the returned list has a cycle or too many nodes")
			}
			out = append(out, r.Val)
		}
		return out
	case *TreeNode:
		order := []*TreeNode{r}
		for k := 0; k < len(order); k++ {
			if len(order) > 2*sandboxMaxNodes {
				panic("the returned tree has a cycle or too many nodes")
			}
			if order[k] != nil {
				order = append(order, order[k].Left, order[k].Right)
			}
		}
		for len(order) > 0 && order[len(order)-1] == nil {
			order = order[:len(order)-1]
		}
		out := make([]interface{}, len(order))
		for k, n := range order {
			if n != nil {
				out[k] = n.Val
			}
		}
		return out
	}
	return v
}

func main() {
	sandboxLines := []string{}
	sandboxScanner := sandboxBufio.NewScanner(sandboxOS.Stdin)
	sandboxScanner.Buffer(make([]byte, 1<<20), 1<<30)
	for sandboxScanner.Scan() {
		if line := sandboxStrings.TrimSpace(sandboxScanner.Text()); line != "" {
			sandboxLines = append(sandboxLines, line)
		}
	}
CALL
	sandboxText, err := sandboxJSON.Marshal(sandboxValue(sandboxResult))
	if err != nil {
		panic("harness: the result has no JSON form: " + err.Error())
	}
	if err := sandboxOS.WriteFile(sandboxOS.Getenv("SANDBOX_RESULT"), sandboxText, 0o600); err != nil {
		panic(err)
	}
}
"""


def _reader(k: int, kind: Type) -> str:
    """Statements reading line ``k`` into ``a{k}``: chars and nodes via the JSON form they arrive in."""
    go = "[]" * kind.dims + SCALARS[kind.base]
    if kind.base == "char":
        raw = "[]" * kind.dims + "string"
        convert = f"a{k} = sandboxChars(r{k})"
        if kind.dims == 1:
            convert = f"a{k} = make({go}, len(r{k}))\n\tfor i, s := range r{k} {{ a{k}[i] = sandboxChars(s) }}"
        elif kind.dims == 2:
            convert = (f"a{k} = make({go}, len(r{k}))\n\tfor i, row := range r{k} {{\n\t\ta{k}[i] = make([]byte, len(row))\n"
                       f"\t\tfor j, s := range row {{ a{k}[i][j] = sandboxChars(s) }}\n\t}}")
        return f"\tvar r{k} {raw}\n\tsandboxRead(sandboxLines[{k}], &r{k})\n\tvar a{k} {go}\n\t{convert}\n"
    if kind.base == "ListNode":
        return f"\tvar r{k} []int\n\tsandboxRead(sandboxLines[{k}], &r{k})\n\ta{k} := sandboxList(r{k})\n"
    if kind.base == "TreeNode":
        return f"\tvar r{k} []*int\n\tsandboxRead(sandboxLines[{k}], &r{k})\n\ta{k} := sandboxTree(r{k})\n"
    return f"\tvar a{k} {go}\n\tsandboxRead(sandboxLines[{k}], &a{k})\n"


def _imports(code: str) -> tuple[str, str]:
    """(the import block, the code without its package line and imports)."""
    paths: list[str] = []
    for match in _IMPORTS.finditer(code):
        text = match.group("block") or match.group("one") or ""
        paths += [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("//")]
    body = _MAIN.sub("func sandboxSolutionMain(", _IMPORTS.sub("", code))
    imported = {m.group(1) for line in paths for m in _PATH.finditer(line)}
    anchors = []
    for name, (path, member) in AUTO_IMPORTS.items():
        if path not in imported and re.search(rf"(?<![\w.]){name}\.\w", body):
            paths.append(f'"{path}"')
            anchors.append(f"var _ = {name}.{member}\n")
    own = ['sandboxBufio "bufio"', 'sandboxJSON "encoding/json"', 'sandboxOS "os"', 'sandboxStrings "strings"']
    return "import (\n" + "".join(f"\t{p}\n" for p in own + paths) + ")\n\n" + "".join(anchors), body


def source(code: str, fn_name: str, sig: Signature) -> str:
    """``main.go``: package, imports, node types, the solution, then ``main``."""
    imports, body = _imports(code)
    call = "".join(_reader(k, kind) for k, (_, kind) in enumerate(sig.params))
    call += f"\tvar sandboxResult interface{{}} = {fn_name}({', '.join(f'a{k}' for k in range(len(sig.params)))})\n"
    return f"package main\n\n{imports}{HARNESS.replace('CALL', call)}\n{body}\n"
