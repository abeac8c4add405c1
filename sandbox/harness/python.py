"""Python with ``ListNode``/``TreeNode`` in the signature: Python's own harness passes the JSON values as they
are, which is all other types need, but a LeetCode solution walks ``head.next``. This one builds the nodes
(LeetCode's classes, given to the solution as LeetCode does) and turns a returned node back into its list."""

from __future__ import annotations

import json

from sandbox.languages.python import FIND_FUNCTION, PRELUDE
from sandbox.signature import Signature

HARNESS = """\
import json, os, sys
sys.setrecursionlimit(100000)
MAX_NODES = 1000000  # a returned list or tree with more is taken for a cycle

class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next

class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right

def to_list(values):
    head = None
    for value in reversed(values):
        head = ListNode(value, head)
    return head

def to_tree(values):
    if not values or values[0] is None:
        return None
    root = TreeNode(values[0])
    parents, p = [root], 0
    for k in range(1, len(values)):
        if p == len(parents):
            break
        child = None if values[k] is None else TreeNode(values[k])
        if child is not None:
            parents.append(child)
        if k % 2:
            parents[p].left = child
        else:
            parents[p].right = child
            p += 1
    return root

def from_list(head):
    out = []
    while head is not None:
        if len(out) == MAX_NODES:
            sys.exit("the returned list has a cycle or too many nodes")
        out.append(head.val)
        head = head.next
    return out

def from_tree(root):
    order = [root]
    for node in order:
        if len(order) > 2 * MAX_NODES:
            sys.exit("the returned tree has a cycle or too many nodes")
        if node is not None:
            order += [node.left, node.right]
    while order and order[-1] is None:
        order.pop()
    return [None if node is None else node.val for node in order]

READ = {"ListNode": to_list, "TreeNode": to_tree}
WRITE = {"ListNode": from_list, "TreeNode": from_tree}
namespace = {"__name__": "solution", "ListNode": ListNode, "TreeNode": TreeNode}
exec(compile(PRELUDE + SOURCE, "solution.py", "exec"), namespace)
args = [json.loads(line) for line in sys.stdin.read().splitlines() if line.strip()]
args = [READ.get(kind, lambda value: value)(arg) for kind, arg in zip(KINDS, args)]
fn = find_function(namespace, NAME)
if fn is None:
    sys.exit("no function or Solution method named %r" % NAME)
result = WRITE.get(RETURNS, lambda value: value)(fn(*args))
with open(os.environ["SANDBOX_RESULT"], "w") as out:
    json.dump(result, out)
"""


def source(code: str, fn_name: str, sig: Signature) -> str:
    constants = {"PRELUDE": PRELUDE, "SOURCE": code, "NAME": fn_name, "KINDS": [str(k) for _, k in sig.params],
                 "RETURNS": str(sig.returns)}
    return "".join(f"{name} = {json.dumps(value)}\n" for name, value in constants.items()) + FIND_FUNCTION + HARNESS
