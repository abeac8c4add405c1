"""Java: the imports LeetCode gives, the solution's own imports hoisted above ``Harness`` (a small JSON reader,
typed readers, the call, a writer), ``public class Main`` (the server), LeetCode's ``ListNode``/``TreeNode``,
then the solution with ``public`` taken off its top-level classes (javac wants one public class, named after
the file: ``Main``). The writer goes by the returned object (arrays and Lists alike), so ``List<Integer>``
serves for ``int[]``.

One JVM serves all of a submission's tests (:mod:`sandbox.served`): a JVM start is ~55 ms, a test in a warm
one ~3 ms. For each test ``Main`` loads ``Harness``, the node classes and every class of the solution's
through a class loader of its own, from the bytes javac wrote (read before the first test): each test gets
fresh classes, so static fields start over. Shared between tests: the JDK's own classes and state (System
properties, the heap, the JIT's work) and the files of the work dir (as between the processes of a test per
process). None of it can change a verdict: the expected values never enter the sandbox, so what one test can
pass to the next is only its input and the solution's own output. Time is the one thing a warm JVM changes,
and only for the better, as a JVM start is not the solution's cost. A test that leaves a thread running, or
fails in any way, gets the next test a fresh JVM."""

from __future__ import annotations

import re

from sandbox.signature import NODES, Signature, Type

IMPORTS = ("import java.util.*;\nimport java.util.function.*;\nimport java.util.stream.*;\nimport java.math.*;\n"
           "import java.io.*;\n")
_IMPORT = re.compile(r"^\s*(?:import\s+(?:static\s+)?[\w.]+(?:\.\*)?\s*;|package\s+[\w.]+\s*;)[ \t]*$", re.M)
_PUBLIC = re.compile(r"^public\s+(?=(?:(?:final|abstract|static)\s+)*(?:class|interface|enum|record)\b)", re.M)
# (Java type, expression turning the JSON value `o` into it)
SCALARS = {"int": ("int", "Integer.parseInt(num(o))"), "long": ("long", "Long.parseLong(num(o))"),
           "double": ("double", "Double.parseDouble(num(o))"), "bool": ("boolean", "(Boolean) o"),
           "string": ("String", "(String) o"), "char": ("char", "((String) o).charAt(0)"),
           "ListNode": ("ListNode", "list(o)"), "TreeNode": ("TreeNode", "tree(o)")}

MAIN = r"""
final class Harness implements Main.Call {
    static final int MAX_NODES = 1000000;  // a returned list or tree with more is taken for a cycle

    static final class Num { final String text; Num(String text) { this.text = text; } }

    static final class Parser {  // the JSON the host wrote (json.dumps: ASCII, no objects)
        final String s; int i = 0;
        Parser(String s) { this.s = s; }
        void space() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }
        Object value() {
            space();
            char c = s.charAt(i);
            Object v;
            if (c == '[') {
                List<Object> items = new ArrayList<>();
                i++; space();
                if (s.charAt(i) == ']') i++;
                else while (true) { items.add(value()); char d = s.charAt(i++); if (d == ']') break; }
                v = items;
            } else if (c == '"') {
                StringBuilder b = new StringBuilder();
                for (i++; s.charAt(i) != '"'; i++) {
                    char d = s.charAt(i);
                    if (d != '\\') { b.append(d); continue; }
                    d = s.charAt(++i);
                    if (d == 'u') { b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16)); i += 4; }
                    else b.append(d == 'n' ? '\n' : d == 't' ? '\t' : d == 'r' ? '\r' : d == 'b' ? '\b' : d == 'f' ? '\f' : d);
                }
                i++;
                v = b.toString();
            } else if (s.startsWith("true", i)) { i += 4; v = Boolean.TRUE; }
            else if (s.startsWith("false", i)) { i += 5; v = Boolean.FALSE; }
            else if (s.startsWith("null", i)) { i += 4; v = null; }
            else { int start = i; while (i < s.length() && "+-.eE0123456789".indexOf(s.charAt(i)) >= 0) i++; v = new Num(s.substring(start, i)); }
            space();
            return v;
        }
    }

    @SuppressWarnings("unchecked") static List<Object> items(Object o) { return (List<Object>) o; }
    static String num(Object o) { return ((Num) o).text; }
    static ListNode list(Object o) {
        ListNode head = null; List<Object> v = items(o);
        for (int k = v.size() - 1; k >= 0; k--) head = new ListNode(Integer.parseInt(num(v.get(k))), head);
        return head;
    }
    static TreeNode tree(Object o) {
        List<Object> v = items(o);
        if (v.isEmpty() || v.get(0) == null) return null;
        TreeNode root = new TreeNode(Integer.parseInt(num(v.get(0))));
        List<TreeNode> parents = new ArrayList<>(List.of(root));
        for (int k = 1, p = 0; k < v.size() && p < parents.size(); k++) {
            TreeNode child = v.get(k) == null ? null : new TreeNode(Integer.parseInt(num(v.get(k))));
            if (child != null) parents.add(child);
            if (k % 2 == 1) parents.get(p).left = child; else parents.get(p++).right = child;
        }
        return root;
    }
READERS
    static void string(StringBuilder out, String s) {
        out.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c >= 0x20 && c < 0x7f) out.append(c);
            else out.append(String.format("\\u%04x", (int) c));
        }
        out.append('"');
    }
    static void write(StringBuilder out, Object v) {
        if (v == null) out.append("null");
        else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) throw new IllegalStateException("the result holds " + d + ", which is not JSON");
            out.append(d);
        }
        else if (v instanceof Number || v instanceof Boolean) out.append(v);
        else if (v instanceof Character) string(out, v.toString());
        else if (v instanceof String) string(out, (String) v);
        else if (v instanceof ListNode) {
            List<Object> values = new ArrayList<>();
            for (ListNode n = (ListNode) v; n != null; n = n.next) {
                if (values.size() == MAX_NODES) throw new IllegalStateException("the returned list has a cycle or too many nodes");
                values.add(n.val);
            }
            write(out, values);
        }
        else if (v instanceof TreeNode) {
            List<TreeNode> order = new ArrayList<>(); order.add((TreeNode) v);
            for (int k = 0; k < order.size(); k++) {
                if (order.size() > 2 * MAX_NODES) throw new IllegalStateException("the returned tree has a cycle or too many nodes");
                TreeNode n = order.get(k);
                if (n != null) { order.add(n.left); order.add(n.right); }
            }
            while (!order.isEmpty() && order.get(order.size() - 1) == null) order.remove(order.size() - 1);
            List<Object> values = new ArrayList<>();
            for (TreeNode n : order) values.add(n == null ? null : n.val);
            write(out, values);
        }
        else if (v instanceof Iterable) {
            out.append('['); boolean first = true;
            for (Object item : (Iterable<?>) v) { if (!first) out.append(','); first = false; write(out, item); }
            out.append(']');
        }
        else if (v.getClass().isArray()) {
            out.append('[');
            for (int k = 0; k < java.lang.reflect.Array.getLength(v); k++) { if (k > 0) out.append(','); write(out, java.lang.reflect.Array.get(v, k)); }
            out.append(']');
        }
        else throw new IllegalStateException("the result is a " + v.getClass().getName() + ", which has no JSON form here");
    }

    public String call(String request) throws Exception {  // the test's input as a JSON string
        List<Object> args = new ArrayList<>();  // one JSON value per line of it
        for (String line : ((String) new Parser(request).value()).split("\n")) if (!line.isBlank()) args.add(new Parser(line).value());
CALL
        StringBuilder out = new StringBuilder();
        write(out, result);
        return out.toString();
    }
}

/** The server: each request runs a fresh Harness, loaded with the solution by a class loader of its own. */
public class Main {
    public interface Call { String call(String request) throws Exception; }

    static final Map<String, byte[]> BYTES = new HashMap<>();  // every class but these, as compiled

    /** Defines the classes of BYTES itself (their statics start over), leaves the rest to the parent. */
    static final class Fresh extends ClassLoader {
        Fresh() { super(Main.class.getClassLoader()); }
        @Override protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                byte[] bytes = BYTES.get(name);
                if (c == null && bytes != null) c = defineClass(name, bytes, 0, bytes.length);
                if (c == null) return super.loadClass(name, resolve);
                if (resolve) resolveClass(c);
                return c;
            }
        }
    }

    static void reply(PrintStream protocol, String token, String kind, String payload, boolean clean) {
        protocol.print(token + " [\"" + kind + "\"," + payload + "," + clean + "]\n");
        protocol.flush();
    }

    static String quoted(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c >= 0x20 && c < 0x7f) out.append(c);
            else out.append(String.format("\\u%04x", (int) c));
        }
        return out.append('"').toString();
    }

    public static void main(String[] argv) throws Exception {
        for (File f : new File(".").listFiles()) {  // before any test runs: nothing of the solution's yet
            String file = f.getName();
            if (file.endsWith(".class") && !file.equals("Main.class") && !file.startsWith("Main$"))
                BYTES.put(file.substring(0, file.length() - 6), java.nio.file.Files.readAllBytes(f.toPath()));
        }
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), false, "UTF-8");
        PrintStream sink = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(sink);
        System.setErr(sink);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        int threads = Thread.activeCount();
        for (String line; (line = in.readLine()) != null; ) {
            if (line.isBlank()) continue;
            int comma = line.indexOf(',');  // [token, input]: the token is hex, the input a JSON string
            String token = line.substring(2, comma - 1);
            try {
                String input = line.substring(comma + 1, line.length() - 1);
                java.lang.reflect.Constructor<?> make = new Fresh().loadClass("Harness").getDeclaredConstructor();
                make.setAccessible(true);  // a class of another loader: another runtime package
                String text = ((Call) make.newInstance()).call(input);
                reply(protocol, token, "value", text, Thread.activeCount() <= threads);
            } catch (Throwable e) {
                StringBuilder why = new StringBuilder(e.toString());
                StackTraceElement[] trace = e.getStackTrace();
                for (int k = 0; k < Math.min(trace.length, 8) && !trace[k].getClassName().equals("Harness"); k++)
                    why.append("\n\tat ").append(trace[k]);
                reply(protocol, token, "raised", quoted(why.toString()), false);
            }
        }
    }
}

class ListNode {
    int val;
    ListNode next;
    ListNode() {}
    ListNode(int val) { this.val = val; }
    ListNode(int val, ListNode next) { this.val = val; this.next = next; }
}

class TreeNode {
    int val;
    TreeNode left;
    TreeNode right;
    TreeNode() {}
    TreeNode(int val) { this.val = val; }
    TreeNode(int val, TreeNode left, TreeNode right) { this.val = val; this.left = left; this.right = right; }
}
"""


def _reader(kind: Type) -> str:
    """A static method turning a JSON value into ``kind``: named like ``read_int_2`` (for int[][])."""
    java, expr = SCALARS[kind.base]
    name = f"read_{kind.base}_{kind.dims}"
    if not kind.dims:
        return f"    static {java} {name}(Object o) {{ return {expr}; }}\n"
    inner = f"read_{kind.base}_{kind.dims - 1}"
    array = java + "[]" * kind.dims
    alloc = f"new {java}[v.size()]" + "[]" * (kind.dims - 1)
    return (f"    static {array} {name}(Object o) {{\n        List<Object> v = items(o); {array} a = {alloc};\n"
            f"        for (int k = 0; k < a.length; k++) a[k] = {inner}(v.get(k));\n        return a;\n    }}\n")


def source(code: str, fn_name: str, sig: Signature) -> str:
    """``Main.java``: imports, ``Harness``, ``Main``, the node classes, the solution."""
    hoisted = "".join(m.group(0).strip() + "\n" for m in _IMPORT.finditer(code) if m.group(0).strip()[0] == "i")
    solution = _PUBLIC.sub("", _IMPORT.sub("", code))
    kinds = {Type(kind.base, d) for _, kind in sig.params for d in range(kind.dims + 1)}
    readers = "".join(_reader(kind) for kind in sorted(kinds, key=str))
    call = "".join(f"        {SCALARS[kind.base][0] + '[]' * kind.dims} a{k} = read_{kind.base}_{kind.dims}(args.get({k}));\n"
                   for k, (_, kind) in enumerate(sig.params))
    call += f"        Object result = new Solution().{fn_name}({', '.join(f'a{k}' for k in range(len(sig.params)))});"
    if sig.returns.base in NODES:
        call += "\n        if (result == null) result = List.of();  // the empty list or tree"
    main = MAIN.replace("READERS\n", readers).replace("CALL", call)
    return f"{IMPORTS}{hoisted}{main}\n{solution}\n"
