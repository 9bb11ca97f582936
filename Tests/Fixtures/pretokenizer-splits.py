#!/usr/bin/env python3
"""Writes pretokenizer-splits.json: the expected word splits of tricky strings for the three pre-tokenizers,
computed with the `regex` module from the expressions in Hugging Face's tokenizer.json files (which llama.cpp's
hand-written scanners reproduce). Run: python3 Tests/Fixtures/pretokenizer-splits.py > Tests/Fixtures/pretokenizer-splits.json
"""
import json
import regex

LLAMA3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"

STRINGS = [
    "Hello world",
    " Hello world",
    "Hello   world",
    "   ",
    " ",
    "trailing spaces   ",
    "  leading",
    "tabs\t\tand\nnewlines\r\n\r\nend",
    "line\n\n\nbreaks  \n  indented",
    "I'm you'RE he'Ll IT'S we'VE they'D",
    "'s alone and 'x and ''s",
    "don't l'été O'Neil rock'n'roll",
    "1234567890 12 123 1234",
    "３４５６ fullwidth, ٣٤٥٦ Arabic-Indic, ½ ² ⅷ Ⅻ",
    "(word) [x] {y} <tag/>",
    "!!!\n\n...\r\n?",
    "  \n  x",
    "x  \n",
    "\u00a0nbsp\u00a0and\u3000ideographic",
    "日本語のテキスト、中文文本。",
    "Ünïcödé naïve café Ærøskøbing",
    "emoji 🦙🚀 mix 😶\u200d🌫️!",
    "a\u200bb zero-width",
    "x\u2028y\u2029z\u0085w",
    "$100.00 costs €5,99",
    "--flag=value && ls -la ~/",
    "    indented code\n\tmore\n",
    "def f(x):\n    return x**2  # square\n",
    "emails: a.b@c.de, urls: https://x.org/a?b=1",
    "мир Привет हिन्दी العربية ไทย",
    "\r\n",
    "a\r\rb",
    "\t \t",
    "word,\n",
    " !\n",
    "x!",
    "3.14159e-10",
    "ǅemo ǈ titlecase",
    "\U0001d400\U0001d401 math letters",
]


def split_llama3(s):
    return regex.findall(LLAMA3, s)


def split_gpt2(s):
    return regex.findall(GPT2, s)


def split_digits_then_gpt2(s):
    # Digits(individual_digits=True): every \p{N} character is its own piece; the GPT-2 expression then
    # runs on each piece separately (so its lookahead cannot see past a piece).
    words = []
    for piece in regex.split(r"(\p{N})", s):
        if piece:
            words.extend(split_gpt2(piece))
    return words


cases = []
for s in STRINGS:
    for name, fn in (("llama3", split_llama3), ("gpt2", split_gpt2), ("digitsThenGPT2", split_digits_then_gpt2)):
        words = fn(s)
        assert "".join(words) == s, (name, s, words)
        cases.append({"preTokenizer": name, "text": s, "words": words})
print(json.dumps({"generator": "Tests/Fixtures/pretokenizer-splits.py", "regex_module": regex.__version__,
                  "cases": cases}, ensure_ascii=False, indent=1))
