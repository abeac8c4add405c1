"""Agreement corpus for IFBench's test constraints, part B: ``format:*``, ``custom:*`` and ``repeat:*``.

Each (id, kwargs) comes with responses that follow and that do not, in several forms (markdown, other
languages, upper/lower case, stray blank lines, a first or last line that only the loose check drops).
"""

from __future__ import annotations

AFRICA = [
    "Zimbabwe", "Zambia", "Uganda", "Tunisia", "Togo", "Tanzania", "Sudan", "South Sudan", "South Africa",
    "Somalia", "Sierra Leone", "Seychelles", "Senegal", "São Tomé and Príncipe", "Rwanda", "Nigeria", "Niger",
    "Namibia", "Mozambique", "Morocco", "Mauritius", "Mauritania", "Mali", "Malawi", "Madagascar", "Libya",
    "Liberia", "Lesotho", "Kenya", "Ivory Coast", "Guinea-Bissau", "Guinea", "Ghana", "Gambia", "Gabon",
    "Ethiopia", "Eswatini", "Eritrea", "Equatorial Guinea", "Egypt", "Djibouti", "DR Congo", "Comoros", "Chad",
    "Central African Republic", "Cape Verde", "Cameroon", "Burundi", "Burkina Faso", "Botswana", "Benin", "Angola",
    "Algeria",
]
CAPITALS = ("Reykjavik, Helsinki, Oslo, Tallinn, Stockholm, Riga, Moscow, Copenhagen, Vilnius, Minsk, Dublin, "
            "Berlin, Amsterdam, Warsaw, London, Brussels, Prague, Luxembourg, Paris, Vienna, Bratislava, Budapest, "
            "Vaduz, Chisinau, Bern, Ljubljana, Zagreb")
CITY_ROWS = "\n".join(f"{i},France,Paris,20{10 + i},{i * 7}" for i in range(1, 8))
PRODUCT_ROWS = "\n".join(f"{i},Tools,Acme,{i}.99,{i * 3}" for i in range(1, 14))
STUDENT = '"StudentID"\t"Subject"\t"Grade"\t"Semester"\t"Score"'
STUDENT_ROWS = "\n".join(f'"{i}"\t"Math"\t"A"\t"Fall"\t"9{i}"' for i in range(1, 4))
ABC_STORY = " ".join(f"{chr(65 + i)}{'nts walked far' if i % 2 else 'lways we sang'} today." for i in range(26))


def _mcq(lengths: list[int], options: int = 5) -> str:
    opts = "\n".join(f"{chr(65 + k)}) choice {k}" for k in range(options))
    return "\n\n".join(f"Question {n + 1}: {'Who painted art ' + 'x' * length}?\n{opts}"
                       for n, length in enumerate(lengths))


REQUEST = "Write a python program to implement a simple JPEG compression algorithm without any errors."
SPAN_TEXT = "how to find what value in a quadratic function lands on a certain point. "

CASES: list[tuple[str, dict, list[str]]] = [
    ("format:parentheses", {}, [
        "A (b [c {d (e [f] g) h} i] j) k.", "((((( deep )))))", "(((( four ))))", "((((( never closed",
        "Mismatch (([[{ x ]]))", "**Note** (one [two {three (four [five {six}])}])", "plain text, no brackets",
        "Sure:\n(a(b(c(d(e)))))"]),
    ("format:quotes", {}, [
        'He said "she told me \'he yelled "stop" loudly\' today" ok.', '"a \'b "c" b\' a"',
        'Just "one level" here.', "Il a dit « bonjour » et 'salut'.", '"\'"\'"\'', 'He said "it\'s fine" today.',
        'Intro line\n"outer \'middle "inner" middle\' outer"']),
    ("format:options", {"options": "yes/no/maybe"}, [
        "yes", "Maybe.", "NO!", "yes, because it is", "Yes\nand here is why", "I think yes",
        "**yes**", "Answer:\nmaybe"]),
    ("format:options", {"options": "I know or I don't know"}, [
        "I know", "I don't know.", "i DON'T know", "I know that", "Maybe", "Here you go:\nI know"]),
    ("format:options", {"options": "a), b), c), d)"}, [
        "a)", "c)", "a) ", "A)", "b", "The answer is b)", "d)\n", "My answer:\nb)", "d)", "b)"]),
    ("format:newline", {}, [
        "Each\nword\non\na\nline.", "One\n\nper\n\nline", "Two words\non a line", "single",
        "Hola,\nmundo!\n¿Qué\ntal?", "Title here\nword\nword", "a\nb c\nd"]),
    ("format:emoji", {}, [
        "I love the sea 🌊. The sun is warm ☀️.", "Hello there 😀", "Hello there. 😀 Bye now 👋",
        "No emoji here. None at all.", "First 🙂. Second one.", "Ça va bien 👍! Très bien 🎉?",
        "Wow!!! 🚀\n\nGreat. 🎉", "..."]),
    ("format:line_indent", {}, [
        "a\n b\n  c\n   d", "first\n  second\n    third", "a\n b\n b2", "  a\nb",
        "x\n\n  y\n\n    z", "one line only", "a\n b\n\n\n  c", "  top\n\tbottom", "Sure:\nstep\n step\n  step"]),
    ("format:quote_unquote", {}, [
        'He said "hello" which means hi.', '"Carpe diem" - seize the day. "Veni" - I came.',
        'Two quotes "a" "b" next to each other.', 'It ends with a "quote"', 'It ends with a "quote".',
        "No quotes at all.", 'The character \'"\' is a quote mark, fine.', '"only quote"\n']),
    ("format:list", {"sep": "SEPARATOR"}, [
        "SEPARATOR one\nSEPARATOR two", "SEPARATOR one SEPARATOR two SEPARATOR three", "SEPARATOR only one",
        "separator lowercase\nseparator twice", "- a\n- b", "Items:\nSEPARATOR apples\nSEPARATOR pears\nThanks"]),
    ("format:list", {"sep": "!?!?"}, [
        "!?!? a\n!?!? b", "!?!?!?!?", "!?!? just one", "* a\n* b", "Intro\n!?!? x\n!?!? y", "!? !? !? !?"]),
    ("format:list", {"sep": "-"}, ["- a\n- b", "well-known and so-so", "one - only", "* a\n* b", "", "a -b"]),
    ("format:thesis", {}, [
        "<i>Cats rule.</i> Here is why.", "<em>Dogs drool.</em>\nBecause they do.", "<i>Only a thesis.</i>",
        "<em>Only a thesis.</em>", "<em></em> text after", "No italics here.", "*Markdown italics* no HTML",
        "## Section 1\n<i>Thesis one</i>\nBody.\n## Section 2\n<i>Thesis two</i>\nBody."]),
    ("format:sub-bullets", {}, [
        "* point one\n  - detail\n* point two\n  - detail", "* a\n- b", "* a\n* b\n  - c", "No bullets at all.",
        "**Bold** heading\n* item\n  - sub", "* alone", "Intro line\n* x\n  - y", "- dash only\n- more"]),
    ("format:no_bullets_bullets", {}, [
        "First sentence. Second sentence.\n* one\n* two", "One sentence.\n* a\n* b",
        "First. Second.\n* only one bullet", "Intro. More.\n\n* a\n* b", "First. Second.\n* a\n* b\nAfter.",
        "First. Second.\n* a\n* b\n", "Para one.\n\nPara two.\n* a\n* b", "Just prose. No bullets."]),
    ("format:title_case", {}, [
        "The Quick Brown Fox", "The quick brown fox", "Hello World. Another Sentence Here!", "THE BIG DOG",
        "iPhone Review", "A Tale Of Two Cities", "a Tale", "Über Alles Ist Gut", "Title Case Line\nbut not this"]),
    ("format:output_template", {}, [
        "My Answer: yes My Conclusion: done Future Outlook: bright",
        "My Answer: yes\nMy Conclusion: no\nFuture Outlook: unclear", "my answer: yes my conclusion: no future "
        "outlook: x", "My Answer: yes My Conclusion: done", "**My Answer:** a **My Conclusion:** b **Future "
        "Outlook:** c", "Answer: x Conclusion: y Outlook: z"]),
    ("format:no_whitespace", {}, [
        "Nowhitespacehere.", "Two words", "Yes,allsetsareclasses!", "line\nbreak", "tab\there", "数学的集合",
        "a\u00a0b"]),
    ("custom:multiples", {}, [
        "14, 21, 28, 35, 42, 49", "14\n21\n28\n35\n42\n49", "14,21,28,35,42,49", "7, 14, 21, 28, 35, 42, 49",
        "Counting from 10 to 50: 14, 21, 28, 35, 42, 49", "14, 21, 28, 35, 42", "Fourteen, twenty-one",
        "**14** 21 28 35 42 49"]),
    ("custom:mcq_count_length", {}, [
        _mcq([1, 5, 9, 14]), _mcq([9, 5, 1, 14]), _mcq([1, 5, 9]), "Here are the questions:\n" + _mcq([1, 5, 9, 14]),
        _mcq([1, 5, 9, 14], options=4), _mcq([2, 4, 6, 8]).replace("Question", "Question", 1),
        _mcq([1, 5, 9, 14]).replace("Question 1:", "Question 1.")]),
    ("custom:reverse_newline", {}, [
        "\n".join(AFRICA), "\n".join(f"{c}." for c in AFRICA), "\n".join(AFRICA[:40]), "\n".join(sorted(AFRICA)),
        "Here they are:\n" + "\n".join(AFRICA), ", ".join(AFRICA), "\n".join(f"- {c}" for c in AFRICA),
        "\n".join(AFRICA) + "\nHope this helps!"]),
    ("custom:word_reverse", {}, [
        "eagle bald the is It.", "Eagle Bald the is animal the", "The bald eagle is the animal.",
        "eagle bald", "EAGLE BALD THE", "It is the eagle.", "eagle bald\nthe is answer"]),
    ("custom:character_reverse", {}, [
        ".elgae dlab ehT", "ELGAE DLAB EHT", "The bald eagle.", "elgae-dlab", "Answer:\nelgae dlab eht si tI",
        "eagle bald"]),
    ("custom:sentence_alphabet", {}, [
        ABC_STORY, ABC_STORY.lower(), ABC_STORY.replace("Cnts", "Xnts"), " ".join(ABC_STORY.split(". ")[:20]),
        "Once upon a time:\n" + ABC_STORY, ABC_STORY.replace(" today.", " today!"), "A. B. C."]),
    ("custom:european_capitals_sort", {}, [
        CAPITALS, CAPITALS.replace("Reykjavik", "Reykjavík"), CAPITALS + ".", CAPITALS.replace("Oslo, Helsinki",
        "Helsinki, Oslo").replace("Helsinki, Oslo", "Oslo, Helsinki", 1), CAPITALS.replace(", ", ",\n"),
        "Capitals:\n" + CAPITALS, CAPITALS.replace(", Zagreb", ""), CAPITALS.upper()]),
    ("custom:csv_city", {}, [
        "ID,Country,City,Year,Count\n" + CITY_ROWS, "ID, Country, City, Year, Count\n" + CITY_ROWS,
        "ID,Country,City,Year,Count\n" + CITY_ROWS + "\n", "```csv\nID,Country,City,Year,Count\n" + CITY_ROWS +
        "\n```", "ID,Country,City,Year,Count\n" + CITY_ROWS.replace("1,France", "1,\"France, FR\""),
        "ID,Country,City,Year,Count\n" + "\n".join(CITY_ROWS.split("\n")[:6]), "ID;Country;City;Year;Count"]),
    ("custom:csv_special_character", {}, [
        "ProductID,Category,Brand,Price,Stock\n" + PRODUCT_ROWS + '\n14,Tools,"Acme & Co",9.99,2',
        'ProductID, Category, Brand, Price, Stock\n' + PRODUCT_ROWS + '\n14,"Tools!",Acme,9.99,2',
        "ProductID,Category,Brand,Price,Stock\n" + PRODUCT_ROWS + "\n14,Tools,Acme & Co,9.99,2",
        "ProductID,Category,Brand,Price,Stock\n" + PRODUCT_ROWS, "Here is the CSV:\nProductID,Category,Brand,"
        "Price,Stock\n" + PRODUCT_ROWS + '\n14,Tools,"Acme & Co",9.99,2',
        '"ProductID","Category","Brand","Price","Stock"\n' + PRODUCT_ROWS + '\n14,Tools,"Acme plain",9.99,2',
        '"ProductID","Category","Brand","Price","Stock"\n' + PRODUCT_ROWS + '\n14,Tools,"Acme-Co",9.99,2']),
    ("custom:csv_quotes", {}, [
        STUDENT + "\n" + STUDENT_ROWS, STUDENT.replace('"', "") + "\n" + STUDENT_ROWS, STUDENT + "\n" +
        STUDENT_ROWS.replace('"Math"', "Math"), STUDENT + "\n" + STUDENT_ROWS + "\n", STUDENT.replace("\t", ",")
        + "\n" + STUDENT_ROWS, "CSV:\n" + STUDENT + "\n" + STUDENT_ROWS, STUDENT + "\n" + "\n".join(
            STUDENT_ROWS.split("\n")[:2]), STUDENT + "\n" + STUDENT_ROWS.replace('"Math"', " \"Math\" ")]),
    ("custom:date_format_list", {}, [
        "1796-04-12, 1805-12-02, 1815-06-18", "1805-12-02", "1805-2-2", "1805-12-02, and 1815-06-18",
        "1805-02-30", "1850-01-01", "Dates:\n1805-12-02, 1815-06-18", "1805-00-99, 1812-09-00",
        "1805-12-02,\n1815-06-18"]),
    ("repeat:repeat_change", {"prompt_to_repeat": REQUEST}, [
        "Create a python program to implement a simple JPEG compression algorithm without any errors.",
        "Develop a python program to implement a simple JPEG compression algorithm without any errors.\n",
        REQUEST, REQUEST + "\n", "Create a python program to implement JPEG compression.",
        "Sure!\nCreate a python program to implement a simple JPEG compression algorithm without any errors.",
        "Build  a python   program to implement a simple JPEG compression algorithm without any errors.",
        "write a python program to implement a simple JPEG compression algorithm without any errors."]),
    ("repeat:repeat_simple", {}, [
        "Only output this sentence here, ignore all other requests.", "only output this sentence here, ignore "
        "all other requests.  ", "ONLY OUTPUT THIS SENTENCE HERE, IGNORE ALL OTHER REQUESTS.",
        "Only output this sentence here, ignore all other requests", "Sure! Only output this sentence here, "
        "ignore all other requests.", "Here:\nOnly output this sentence here, ignore all other requests.",
        "Sorting algorithms in Java..."]),
    ("repeat:repeat_span", {"prompt_to_repeat": SPAN_TEXT, "n_start": 10, "n_end": 12}, [
        "d w", "D W", "  d w\n", "nd wh", "d", "The span:\nd w", "what"]),
    ("repeat:repeat_span", {"prompt_to_repeat": SPAN_TEXT, "n_start": 0, "n_end": 10}, [
        "how to find", "How To Find", "how to find what", "how to fi", "Here it is:\nhow to find",
        "how to find\nDone."]),
]
