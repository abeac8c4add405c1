"""Agreement corpus for open-instruct's IFEvalG additions (29 ids): (id, kwargs, responses), about half of
each id's responses following; markdown, other languages, cases, and loose-only forms (a first or last line
of chatter, ``*`` emphasis) included."""

from __future__ import annotations

REQUEST = "Write a limerick about a cat who loves the sea. Keep it short."
SPAN_PROMPT = "Explain photosynthesis to a child. Use simple words and one example."
HYPHENS = "The cat sat.-It was happy.-Then it slept."
COMPOSITION = ("The cat sat. A dog ran.\n***\nBirds sing loudly. Fish swim fast.\n***\n"
               "Trees grow tall. Rain falls down.")

CASES: list[tuple[str, dict, list[str]]] = [
    ("copy:repeat_phrase", {"phrase": "The early bird catches the worm", "small_n": 2}, [
        "The early cat catches the worm. The early bird eats the worm.",
        "The late bird catches the worm and The early bird catches a worm",
        "The early bird catches the worm. The early bird catches the worm.",
        "The early bird catches the worm.",
        "The early dog catches the worm. The early cat catches the worm. The early owl catches the worm.",
        "the early cat catches the worm. the early owl catches the worm.",
        "Sure!\nThe early cat catches the worm\nThe early owl catches the worm",
        "**The early cat catches the worm** and **The early owl catches the worm**",
        "The early big bird catches the worm. The early owl catches the worm.",
    ]),
    ("copy:copy", {"prompt_to_repeat": REQUEST}, [
        REQUEST, "  " + REQUEST.upper() + "\n", REQUEST + " Here is one.", "Sure! " + REQUEST,
        "Sure, here it is:\n" + REQUEST, "*" + REQUEST + "*", REQUEST.replace("cat", "dog"),
    ]),
    ("copy:copying_simple", {"prompt_to_repeat": REQUEST}, [
        REQUEST, REQUEST.lower(), "A cat by the sea...", REQUEST + "\nThere once was a cat.",
        "Repeat:\n" + REQUEST + "\nDone.", REQUEST[:-1],
    ]),
    ("copy:copying_multiple", {"prompt_to_repeat": REQUEST, "N": 3}, [
        "******".join([REQUEST] * 3), "\n******\n".join([REQUEST] * 3), "******".join([REQUEST] * 2),
        "******".join([REQUEST] * 4), "\n******\n".join([REQUEST, REQUEST.upper(), REQUEST.lower()]),
        "\n******\n".join([REQUEST, REQUEST, "Something else."]),
        "Here:\n" + "\n******\n".join([REQUEST] * 3),
        "******".join([REQUEST] * 3) + "******",
    ]),
    ("new:copy_span_idx", {"prompt_to_repeat": SPAN_PROMPT, "n_start": 8, "n_end": 22}, [
        SPAN_PROMPT[8:22], " " + SPAN_PROMPT[8:22].upper() + " ", SPAN_PROMPT[8:23], SPAN_PROMPT,
        "Here is the span:\n" + SPAN_PROMPT[8:22], SPAN_PROMPT[7:22], "*" + SPAN_PROMPT[8:22] + "*",
    ]),
    ("detectable_format:sentence_hyphens", {}, [
        HYPHENS, "The cat sat. - It was happy.", "The cat sat.-it was happy.-Then it slept.",
        "One sentence only.", "A well-known fact.-Another one.", "The cat sat.-It was happy.-",
        "Dr. Who came.-He left at 3.30 p.m. today.-Bye!", "Sure:\nThe cat sat.-It was happy.",
        "The cat sat. It was happy.-Then it slept.",
    ]),
    ("keywords:no_adjacent_consecutive", {}, [
        "The cat sat on my rug", "A big cat", "Zebras eat grass quietly", "Hello I am here",
        "One Two Three", "dog Eats", "1 2 3", "Rare moments", "quiet rest", "# Title\nzebra yak",
    ]),
    ("detectable_format:square_brackets", {}, [
        "[Hello] [world]", "[Hello] world", "[Hello], [world]", "[A] [b] [c]\n[d]",
        "Sure:\n[Hello] [world]", "[Hello][world] [ok]", "**[bold]**", "[Ünïcode] [ok]",
    ]),
    ("keywords:word_once", {"keyword": "ocean"}, [
        "The ocean is vast.", "OCEAN", "The ocean and the ocean.", "No water here.", "oceanic views",
        "Oceans and an ocean", "Le océan est grand.", "* ocean\n* sea",
    ]),
    ("keywords:word_count_different_numbers", {"keyword": "fox", "frequency": 2, "relation": "at least"}, [
        "fox fox", "Fox and FOX", "one fox", "no animal", "foxes foxglove", "fox, fox, fox!",
    ]),
    ("keywords:word_count_different_numbers", {"keyword": "fox", "frequency": 2, "relation": "less than"}, [
        "fox fox", "one fox", "no animal", "Foxes!", "the fox met a fox",
    ]),
    ("keywords:exclude_word_harder", {"keyword": "cat"}, [
        "I have a cat at home.", "I have a dog at home.", "Cat lovers unite.", "my cat.", "cat is here",
        "A Cat sleeps.", "The cats sleep.", "a cat sleeps and a cat eats", "the cat sat",
        "Sure:\nMy cat sleeps.",
    ]),
    ("paragraphs:paragraphs", {}, [
        "First.\n***\nSecond.", "First.\n\n***\n\nSecond.", "Only one paragraph.", "A\n***\nB\n***\nC",
        "***\nFirst.\n***\nSecond.\n***", "A\n***\n***\nB", "A *** B", "# Title\nA\n* * *\nB",
    ]),
    ("paragraphs:paragraphs2", {}, [
        "First paragraph.\n\nSecond paragraph.", "One.\n\nTwo.\n\nThree.", "Only one.",
        "\n\nFirst.\n\nSecond.\n\n", "First.\n\n\n\nSecond.", "First.\nStill first.\n\nSecond.",
        "First.\n\n\nSecond.", "Intro line\n\nA.\n\nB.",
    ]),
    ("first_word:first_word_sent", {"first_word": "Cats"}, [
        "Cats purr. Cats sleep. Cats eat!", "cats purr. CATS sleep.", "Cats purr. Dogs bark.",
        "Cats, purr. Cats sleep.", "Sure!\nCats purr. Cats sleep.", "Cats purr... Cats sleep?",
        "**Cats** purr. Cats sleep.", "Cats purr\nDogs bark",
    ]),
    ("first_word:first_word_answer", {"first_word": "Hello"}, [
        "Hello there.", "hello, world", "Hello, world", "Hi. Hello.", "\n  Hello friend", "**Hello** friend",
        "Hello", "Bonjour Hello",
    ]),
    ("last_word:last_word_sent", {"last_word": "today"}, [
        "I work today. You rest today!", "I work today. You rest tomorrow.", "Today is today.",
        "We go today... They go today?", "I work TODAY.", "I work today, ok.", "I work today. Ok\nfine",
        "*today* is it. Really *today*",
    ]),
    ("last_word:last_word_answer", {"last_word": "goodbye"}, [
        "Well, goodbye.", "GOODBYE!!!", "Goodbye and hello", "So long", "It is time to say goodbye\nP.S. bye",
        "Time to say **goodbye**", "good-bye", "say good bye",
    ]),
    ("detectable_format:bigram_wrapping", {}, [
        "<<I am>> <<at home>>", "<<I am>> at home", "<<I am>> <<at home>> <<alone",
        "<<I am>> <<at home>> alone", "I am <<at home>>", "<<Je suis>> <<à la>> <<maison>>",
        "Sure!\n<<I am>> <<at home>>", "<<one two three>> <<four five>>",
    ]),
    ("punctuation:punctuation_dot", {}, [
        "No dots here", "A dot.", "Use e g not e.g", "Trailing ellipsis…", "Numbers 3,14", "example com",
        "Hi!\nNo dots at all", "One. Two",
    ]),
    ("punctuation:punctuation_exclamation", {}, [
        "Calm words.", "Wow!", "Hello¡", "No exclamation, right?", "What?!", "Great job\nReally!",
        "Ça va ?", "!!",
    ]),
    ("count:lowercase_counting", {"N": 3}, [
        "THE CAT is here", "the cat is here", "The Cat Is Here", "a b c", "a b c d", "café au lait now",
        "ALL CAPS ONLY", "Sure!\nONE TWO three", "one two three four five", "Le chat est ici ce soir",
    ]),
    ("letters:letter_counting", {"N": 10, "relation": "less than"}, [
        "Short.", "This has many letters.", "123 456 789", "Ça va bien", "abcdefghi", "abcdefghij",
        "ÀÉÎÕÜ àéîõü", "**ab** *cd*",
    ]),
    ("letters:letter_counting", {"N": 5, "relation": "at least"}, [
        "Hello", "Hi", "12345!", "Hi there", "日本語のテキスト", "abcd e",
    ]),
    ("letters:letter_counting2", {"letter": "e", "let_frequency": 3, "let_relation": "at least"}, [
        "eee", "EEE", "ee", "Here we see", "Nothing", "élan étude", "E e\ne",
    ]),
    ("letters:letter_counting2", {"letter": "z", "let_frequency": 2, "let_relation": "less than"}, [
        "zebra", "zz top", "No letter", "ZZ", "Jazz", "z",
    ]),
    ("count:counting_composition", {"n_sent": 2, "n_words": 4}, [
        COMPOSITION, COMPOSITION.replace("\n***\n", "\n* * *\n"), "The cat sat. A dog ran.",
        COMPOSITION + "\n***\nOne more here. And another.",
        COMPOSITION.replace("The cat sat.", "The big cat sat."),
        "***\n" + COMPOSITION, COMPOSITION.replace("The cat sat. A dog ran.", "The cat sat."),
        "The cat sat. A dog ran.\n***\n***\nTrees grow tall. Rain falls down.",
        COMPOSITION.replace("\n***\n", " *** ") + "\n", COMPOSITION.upper(),
    ]),
    ("count:count_unique", {}, [
        "Every word here is unique", "The cat and the dog", "The cat and The dog", "Hello, world!",
        "One. Two.", "a b c d e f", "Bonjour le monde", "Hi\nhi", "the the", "Yes!\nA a A",
    ]),
    ("count:count_increment_word", {"keyword1": "sun", "keyword2": "moon"}, [
        "The sun and the moon and another moon.", "Sun, moon, MOON.", "sun moon", "sun sun moon moon",
        "The moon rose.", "sunny moonlight moonshine", "Sunday, a moon, a moon, a moon",
        "Le sun et la moon et la moon.",
    ]),
    ("keywords:palindrome", {}, [
        "Wow that is level", "racecar", "Nothing here", "A man", "Hello world", "noon.", "Anna runs",
        "**kayak** trip", "abc cba",
    ]),
    ("keywords:keyword_specific_position", {"keyword": "blue", "n": 2, "m": 3}, [
        "The sky is clear. It is blue today.", "The sky is clear. It is Blue today.", "It is blue. Yes.",
        "The sky is clear. The blue sky.", "One. Two, blue sea.", "One. Two blue sea.", "First. Then blue",
        "Hi there.\nI am blue",
    ]),
    ("keywords:start_end", {}, [
        "Hello and goodbye hello", "Hello world hello.", "Love is all you need love", "Single",
        "Why not why", "Cat dog cat!", "**Bold** text **Bold**", "Yes no",
    ]),
]
