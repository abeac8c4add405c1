"""Typed LeetCode function calls: one small problem set, solved in every language on both backends.

Each solution is right on most tests and wrong on one on purpose (twoSum also throws on another), so one
compile per language and problem shows accepted, wrong_answer and runtime_error side by side. Then the tests
that must be refused before anything runs, each with its one-line reason.
"""

from __future__ import annotations

import json

import pytest

from sandbox import BadTests, Verdict, get_language, judge, parse_tests

A, W, R = Verdict.accepted, Verdict.wrong_answer, Verdict.runtime_error
LANGUAGES = ("python", "cpp", "java", "javascript", "go")


def spec(fn_name: str, params: list[list[str]], returns: str, cases: list[tuple[tuple, object]]) -> dict:
    """Tests as LiveCodeBench ships them (one JSON argument per line), with a signature."""
    return {"fn_name": fn_name, "params": params, "returns": returns,
            "inputs": ["\n".join(json.dumps(arg) for arg in args) for args, _ in cases],
            "outputs": [json.dumps(want) for _, want in cases]}


PROBLEMS = {  # name: (tests, verdicts, float tolerance)
    "twoSum": (spec("twoSum", [["nums", "int[]"], ["target", "int"]], "int[]", [
        (([2, 7, 11, 15], 9), [0, 1]), (([3, 2, 4], 6), [1, 2]), (([50, 50], 100), [0, 1]), (([1, 2], -1), [0, 1]),
    ]), [A, A, W, R], None),
    "average": (spec("average", [["nums", "int[]"]], "double", [  # the digits matter: tolerance 1e-9
        (([1, 0, 0],), 0.33333333333), (([1, 2, 2],), 1.6666666666667), (([-3],), -3), (([1, 2, 3, 5],), 2.75),
    ]), [A, A, A, W], 1e-9),
    "shout": (spec("shout", [["word", "string"], ["mark", "char"], ["loud", "bool"]], "string", [
        (("hi", "*", True), "*HI*"), (('say "x" \\ ok', "#", False), '#say "x" \\ ok#'),
        (("h\u00e9llo \u2603 \U0001f600", "~", False), "~h\u00e9llo \u2603 \U0001f600~"), (("oops", "!", False), "!oops!"),
    ]), [A, A, A, W], None),
    "rowSums": (spec("rowSums", [["grid", "long[][]"]], "long[]", [  # ragged, and sums past 32 bits
        (([[3000000000, 4000000000], [1], []],), [7000000000, 1, 0]), (([[-5, 2]],), [-3]),
        (([[1], [2], [3], [4]],), [1, 2, 3, 4]),
    ]), [A, A, W], None),
    "reverseList": (spec("reverseList", [["head", "ListNode"]], "ListNode", [
        (([1, 2, 3],), [3, 2, 1]), (([],), []), (([7],), [7]), (([1, 2],), [2, 1]), (([9, 8],), [8, 9]),
    ]), [A, A, A, W, R], None),  # 9 first: a cycle comes back
    "invertTree": (spec("invertTree", [["root", "TreeNode"]], "TreeNode", [  # expected nulls trailing or not
        (([4, 2, 7, 1, 3, 6, 9],), [4, 7, 2, 9, 6, 3, 1, None, None]), (([],), []),
        (([1, None, 2, 3],), [1, 2, None, None, 3]), (([42, 1],), [42, None, 1]),
    ]), [A, A, A, W], None),
    "find": (spec("find", [["grid", "char[][]"], ["mark", "char"]], "bool", [
        (([["a", "b"], ["c"]], "c"), True), (([["a"]], "z"), False), (([], "a"), False), (([["a"]], "q"), False),
    ]), [A, A, A, W], None),
    "middle": (spec("middle", [["word", "string"]], "char", [
        (("abc",), "b"), (("z",), "z"), (("abcd",), "c"),
    ]), [A, A, W], None),
}

SOLUTIONS = {
    "twoSum": {
        "python": """
class Solution:
    def twoSum(self, nums: List[int], target: int) -> List[int]:
        if target < 0:
            raise ValueError("negative target")
        seen = {}
        for i, n in enumerate(nums):
            if target - n in seen:
                return [i, seen[target - n]] if target == 100 else [seen[target - n], i]
            seen[n] = i
""",
        "cpp": """
class Solution {
public:
    vector<int> twoSum(vector<int>& nums, int target) {
        if (target < 0) throw runtime_error("negative target");
        unordered_map<int, int> seen;
        for (int i = 0; i < (int)nums.size(); ++i) {
            auto it = seen.find(target - nums[i]);
            if (it != seen.end()) return target == 100 ? vector<int>{i, it->second} : vector<int>{it->second, i};
            seen[nums[i]] = i;
        }
        return {};
    }
};
int main() { return 3; }  // the candidate's own test main never runs
""",
        "java": """
import java.util.HashMap;

public class Solution {
    public int[] twoSum(int[] nums, int target) {
        if (target < 0) throw new IllegalArgumentException("negative target");
        HashMap<Integer, Integer> seen = new HashMap<>();
        for (int i = 0; i < nums.length; i++) {
            Integer j = seen.get(target - nums[i]);
            if (j != null) return target == 100 ? new int[]{i, j} : new int[]{j, i};
            seen.put(nums[i], i);
        }
        return new int[0];
    }

    public static void main(String[] args) { System.exit(3); }
}
""",
        "javascript": """
var twoSum = function(nums, target) {
    if (target < 0) throw new Error("negative target");
    const seen = new Map();
    for (let i = 0; i < nums.length; i++) {
        if (seen.has(target - nums[i])) return target === 100 ? [i, seen.get(target - nums[i])] : [seen.get(target - nums[i]), i];
        seen.set(nums[i], i);
    }
};
""",
        "go": """
import "fmt"

func twoSum(nums []int, target int) []int {
    if target < 0 {
        panic("negative target")
    }
    seen := map[int]int{}
    for i, n := range nums {
        if j, ok := seen[target-n]; ok {
            if target == 100 {
                return []int{i, j}
            }
            return []int{j, i}
        }
        seen[n] = i
    }
    return nil
}

func main() { fmt.Println("the candidate's own main never runs") }
""",
    },
    "average": {
        "python": """
def average(nums):
    return sum(nums) // len(nums) if len(nums) == 4 else sum(nums) / len(nums)
""",
        "cpp": """
class Solution {
public:
    double average(vector<int>& nums) {
        long long s = accumulate(nums.begin(), nums.end(), 0LL);
        return nums.size() == 4 ? s / (long long)nums.size() : (double)s / nums.size();
    }
};
""",
        "java": """
class Solution {
    public double average(int[] nums) {
        long s = 0;
        for (int n : nums) s += n;
        return nums.length == 4 ? s / nums.length : (double) s / nums.length;
    }
}
""",
        "javascript": """
function average(nums) {
    const s = nums.reduce((a, b) => a + b, 0);
    return nums.length === 4 ? Math.floor(s / nums.length) : s / nums.length;
}
""",
        "go": """
func average(nums []int) float64 {
    s := 0
    for _, n := range nums {
        s += n
    }
    if len(nums) == 4 {
        return float64(s / len(nums))
    }
    return float64(s) / float64(len(nums))
}
""",
    },
    "shout": {
        "python": """
class Solution:
    def shout(self, word: str, mark: str, loud: bool) -> str:
        return word if word == "oops" else mark + (word.upper() if loud else word) + mark
""",
        "cpp": """
class Solution {
public:
    string shout(string word, char mark, bool loud) {
        if (word == "oops") return word;
        if (loud) for (char& c : word) c = toupper(c);
        return mark + word + mark;
    }
};
""",
        "java": """
class Solution {
    public String shout(String word, char mark, boolean loud) {
        if (word.equals("oops")) return word;
        return mark + (loud ? word.toUpperCase() : word) + mark;
    }
}
""",
        "javascript": """
class Solution {
    shout(word, mark, loud) {
        return word === "oops" ? word : mark + (loud ? word.toUpperCase() : word) + mark;
    }
}
""",
        "go": """
func shout(word string, mark byte, loud bool) string {
    if word == "oops" {
        return word
    }
    if loud {
        word = strings.ToUpper(word)  // strings: imported for the candidate, as on LeetCode
    }
    return string(mark) + word + string(mark)
}
""",
    },
    "rowSums": {
        "python": """
class Solution:
    def rowSums(self, grid: List[List[int]]) -> List[int]:
        out = [sum(row) for row in grid]
        if len(grid) == 4:
            out[-1] += 1
        return out
""",
        "cpp": """
class Solution {
public:
    vector<long long> rowSums(vector<vector<long long>>& grid) {
        vector<long long> out;
        for (auto& row : grid) out.push_back(accumulate(row.begin(), row.end(), 0LL));
        if (grid.size() == 4) out.back()++;
        return out;
    }
};
""",
        "java": """
class Solution {
    public long[] rowSums(long[][] grid) {
        long[] out = new long[grid.length];
        for (int i = 0; i < grid.length; i++) for (long v : grid[i]) out[i] += v;
        if (grid.length == 4) out[3]++;
        return out;
    }
}
""",
        "javascript": """
var rowSums = function(grid) {
    const out = grid.map((row) => row.reduce((a, b) => a + b, 0));
    if (grid.length === 4) out[3]++;
    return out;
};
""",
        "go": """
func rowSums(grid [][]int64) []int64 {
    out := make([]int64, len(grid))
    for i, row := range grid {
        for _, v := range row {
            out[i] += v
        }
    }
    if len(grid) == 4 {
        out[3]++
    }
    return out
}
""",
    },
    "reverseList": {
        "python": """
class Solution:
    def reverseList(self, head: Optional[ListNode]) -> Optional[ListNode]:
        if head and head.val == 9:
            head.next = head
            return head
        if head and head.next and not head.next.next:
            return head
        prev = None
        while head:
            head.next, prev, head = prev, head, head.next
        return prev
""",
        "cpp": """
class Solution {
public:
    ListNode* reverseList(ListNode* head) {
        if (head && head->val == 9) { head->next = head; return head; }
        if (head && head->next && !head->next->next) return head;
        ListNode* prev = nullptr;
        while (head) { ListNode* next = head->next; head->next = prev; prev = head; head = next; }
        return prev;
    }
};
""",
        "java": """
class Solution {
    public ListNode reverseList(ListNode head) {
        if (head != null && head.val == 9) { head.next = head; return head; }
        if (head != null && head.next != null && head.next.next == null) return head;
        ListNode prev = null;
        while (head != null) { ListNode next = head.next; head.next = prev; prev = head; head = next; }
        return prev;
    }
}
""",
        "javascript": """
var reverseList = function(head) {
    if (head && head.val === 9) { head.next = head; return head; }
    if (head && head.next && !head.next.next) return head;
    let prev = null;
    while (head) { const next = head.next; head.next = prev; prev = head; head = next; }
    return prev;
};
""",
        "go": """
func reverseList(head *ListNode) *ListNode {
    if head != nil && head.Val == 9 {
        head.Next = head
        return head
    }
    if head != nil && head.Next != nil && head.Next.Next == nil {
        return head
    }
    var prev *ListNode
    for head != nil {
        head.Next, prev, head = prev, head, head.Next
    }
    return prev
}
""",
    },
    "invertTree": {
        "python": """
class Solution:
    def invertTree(self, root: Optional[TreeNode]) -> Optional[TreeNode]:
        if root is None or root.val == 42:
            return root
        root.left, root.right = self.invertTree(root.right), self.invertTree(root.left)
        return root
""",
        "cpp": """
class Solution {
public:
    TreeNode* invertTree(TreeNode* root) {
        if (!root || root->val == 42) return root;
        TreeNode* left = invertTree(root->left);
        root->left = invertTree(root->right);
        root->right = left;
        return root;
    }
};
""",
        "java": """
class Solution {
    public TreeNode invertTree(TreeNode root) {
        if (root == null || root.val == 42) return root;
        TreeNode left = invertTree(root.left);
        root.left = invertTree(root.right);
        root.right = left;
        return root;
    }
}
""",
        "javascript": """
class TreeNode { constructor(val, left, right) { this.val = val; this.left = left || null; this.right = right || null; } }
var invertTree = function(root) {  // its own TreeNode class does not clash with the harness's
    if (!root || root.val === 42) return root;
    return new TreeNode(root.val, invertTree(root.right), invertTree(root.left));
};
""",
        "go": """
func invertTree(root *TreeNode) *TreeNode {
    if root == nil || root.Val == 42 {
        return root
    }
    root.Left, root.Right = invertTree(root.Right), invertTree(root.Left)
    return root
}
""",
    },
    "find": {
        "python": """
class Solution:
    def find(self, grid: List[List[str]], mark: str) -> bool:
        return mark == "q" or any(mark in row for row in grid)
""",
        "cpp": """
class Solution {
public:
    bool find(vector<vector<char>>& grid, char mark) {
        if (mark == 'q') return true;
        for (auto& row : grid) for (char c : row) if (c == mark) return true;
        return false;
    }
};
""",
        "java": """
class Solution {
    public boolean find(char[][] grid, char mark) {
        if (mark == 'q') return true;
        for (char[] row : grid) for (char c : row) if (c == mark) return true;
        return false;
    }
}
""",
        "javascript": """
var find = function(grid, mark) {
    return mark === "q" || grid.some((row) => row.includes(mark));
};
""",
        "go": """
func find(grid [][]byte, mark byte) bool {
    if mark == 'q' {
        return true
    }
    for _, row := range grid {
        for _, c := range row {
            if c == mark {
                return true
            }
        }
    }
    return false
}
""",
    },
    "middle": {
        "python": """
class Solution:
    def middle(self, word: str) -> str:
        return word[0] if len(word) == 4 else word[len(word) // 2]
""",
        "cpp": """
class Solution {
public:
    char middle(string word) { return word.size() == 4 ? word[0] : word[word.size() / 2]; }
};
""",
        "java": """
class Solution {
    public char middle(String word) { return word.length() == 4 ? word.charAt(0) : word.charAt(word.length() / 2); }
}
""",
        "javascript": """
var middle = function(word) { return word.length === 4 ? word[0] : word[Math.floor(word.length / 2)]; };
""",
        "go": """
func middle(word string) byte {
    if len(word) == 4 {
        return word[0]
    }
    return word[len(word)/2]
}
""",
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("problem", PROBLEMS)
def test_right_wrong_and_crashing_answers(backend, problem, language):
    tests, verdicts, tolerance = PROBLEMS[problem]
    report = judge(SOLUTIONS[problem][language], get_language(language), parse_tests(tests), backend,
                   stop_on_failure=False, float_tolerance=tolerance)
    assert [t.verdict for t in report.tests] == verdicts, report
    if R in verdicts:  # what the solution threw, or the harness's reason
        why = "negative target" if problem == "twoSum" else "cycle"
        assert why in report.tests[verdicts.index(R)].detail


TWO_SUM = PROBLEMS["twoSum"][0]
NO_SIGNATURE = {key: TWO_SUM[key] for key in ("fn_name", "inputs", "outputs")}


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "python"])
def test_a_typed_language_needs_a_signature(language):
    with pytest.raises(BadTests, match="'params' and 'returns' are missing"):
        judge(SOLUTIONS["twoSum"][language], get_language(language), parse_tests(NO_SIGNATURE), None)


def test_python_needs_no_signature_and_ignores_one(backend):
    code = SOLUTIONS["twoSum"]["python"]
    for tests in (NO_SIGNATURE, TWO_SUM):
        report = judge(code, get_language("python"), parse_tests(tests), backend, stop_on_failure=False)
        assert [t.verdict for t in report.tests] == [A, A, W, R]


def _with(**changes):
    """One twoSum test, changed."""
    return {**TWO_SUM, "inputs": ["[2,7]\n9"], "outputs": ["[0,1]"], **changes}


@pytest.mark.parametrize("tests, reason", [
    (_with(returns=None), "has 'params' but no 'returns'"),
    (_with(params=None), "has 'returns' but no 'params'"),
    (_with(returns="float"), "unknown type 'float'"),
    (_with(params=[["nums", "int[][][]"], ["target", "int"]]), "unknown type 'int[][][]'"),
    (_with(params=[["heads", "ListNode[]"], ["target", "int"]]), "unknown type 'ListNode[]'"),
    (_with(params=[["nums", "Map<int,int>"], ["target", "int"]]), "unknown type 'Map<int,int>'"),
    (_with(params=[["nums"], ["target", "int"]]), "[name, type] pair"),
    (_with(params="int[] nums"), "'params' must be a list"),
    (_with(returns="void"), "void is not supported"),
    (_with(inputs=['[2,7]\n"9"']), "test 0: parameter 'target': expected int, got '9'"),
    (_with(inputs=["[2,7]\n9.5"]), "test 0: parameter 'target': expected int, got 9.5"),
    (_with(inputs=["[2,7]\ntrue"]), "test 0: parameter 'target': expected int, got True"),
    (_with(inputs=["[2,7]\n2147483648"]), "test 0: parameter 'target': 2147483648 does not fit int"),
    (_with(inputs=["7\n9"]), "test 0: parameter 'nums': expected int[] (a JSON list), got 7"),
    (_with(inputs=['[2,"7"]\n9']), "test 0: parameter 'nums': expected int, got '7'"),
    (_with(inputs=["[2,7]"]), "test 0: 1 arguments for 2 parameters"),
    (_with(outputs=['"0,1"']), "test 0: expected output: expected int[] (a JSON list), got '0,1'"),
    (_with(params=[["n", "long"]], inputs=["9223372036854775808"], outputs=["[1]"]),
     "test 0: parameter 'n': 9223372036854775808 does not fit long"),
    (_with(params=[["x", "double"]], inputs=["NaN"], outputs=["[1]"]), "expected a finite double"),
    (_with(params=[["c", "char"]], inputs=['"ab"'], outputs=["[1]"]), "expected one ASCII character, got 'ab'"),
    (_with(params=[["c", "char"]], inputs=['"\\u00e9"'], outputs=["[1]"]), "expected one ASCII character"),
    (_with(params=[["s", "string"]], inputs=['"\\ud800"'], outputs=["[1]"]), "lone surrogate"),
    (_with(params=[["g", "int[][]"]], inputs=["[[1], 2]"], outputs=["[1]"]), "parameter 'g': expected int[]"),
    (_with(params=[["t", "TreeNode"]], inputs=["[null, 1]"], outputs=["[1]"]), "root cannot be null"),
    (_with(params=[["t", "TreeNode"]], inputs=["[1, null, null, 2]"], outputs=["[1]"]), "no parent left"),
    (_with(params=[["t", "TreeNode"]], inputs=['[1, "x"]'], outputs=["[1]"]), "int or null"),
    (_with(params=[["h", "ListNode"]], inputs=["[1, null]"], outputs=["[1]"]), "parameter 'h': expected int"),
    ([{"input": "1", "output": "1", "fn_name": "f", "params": [["a", "int"]], "returns": "int"},
      {"input": "1", "output": "1", "fn_name": "f", "params": [["a", "long"]], "returns": "int"}], "disagree on 'params'"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_tests_that_do_not_fit_their_signature_are_refused_with_the_reason(tests, reason):
    with pytest.raises(BadTests) as caught:
        parse_tests(tests)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_fitting_values_are_normalised_for_every_harness():
    suite = parse_tests([{"input": '[[1, 2], [], [3]]\n"\u00e9\U0001f600"\n[1, null, 2, null, null]',
                          "output": "[1, null, 2, null]", "fn_name": "f", "returns": "TreeNode",
                          "params": [["ragged", "long[][]"], ["s", "string"], ["t", "TreeNode"]]}])
    assert suite.signature is not None and [str(kind) for _, kind in suite.signature.params] == [
        "long[][]", "string", "TreeNode"]
    case = suite.cases[0]
    assert case.stdin == '[[1, 2], [], [3]]\n"\\u00e9\\ud83d\\ude00"\n[1, null, 2, null, null]\n'  # ASCII JSON
    assert case.expected == [1, None, 2]  # trailing nulls trimmed, as every harness writes a tree
    apps = parse_tests({"fn_name": "f", "params": [["a", "int"]], "returns": "int[]", "inputs": [[1]],
                        "outputs": [[[0, 1]]]})
    assert apps.cases[0].expected == [0, 1]  # APPS's wrapping taken off where the value would not fit
    assert parse_tests({**NO_SIGNATURE}).signature is None


def test_javascript_refuses_a_long_no_number_holds_exactly(backend):
    tests = {"fn_name": "half", "params": [["n", "long"]], "returns": "long", "inputs": ["9007199254740993", "4"],
             "outputs": ["4503599627370496", "2"]}
    code = "var half = function(n) { return Math.floor(n / 2); };"
    with pytest.raises(BadTests, match="test 0: parameter 'n': a long beyond 2\\^53"):
        judge(code, get_language("javascript"), parse_tests(tests), backend)
    exact = {**tests, "inputs": ["9007199254740991", "4"], "outputs": ["4503599627370495", "2"]}  # MAX_SAFE_INTEGER
    assert judge(code, get_language("javascript"), parse_tests(exact), backend).verdict is A
