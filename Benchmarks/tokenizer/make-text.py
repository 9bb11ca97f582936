#!/usr/bin/env python3
"""Writes a deterministic ~1 MB mix of English prose, source code and CJK text for the tokenizer benchmark.

    python3 Benchmarks/tokenizer/make-text.py > /tmp/tokenizer-bench.txt

Same output on every run and Python version (seeded `random.Random`, fixed word lists): about 60 % English,
25 % code and 15 % Chinese/Japanese by bytes, in paragraphs that alternate the three.
"""
import random
import sys

TARGET_BYTES = 1_000_000

ENGLISH = """the of and to in is that it was for on are as with his they at be this from have or by one had
not but what all were when we there can an your which their said if do will each about how up out them then
she many some so these would other into has more her two like him see time could no make than first been its
who now people my made over did down only way find use may water long little very after words called just
where most know get through back much before go good new write our used me man too any day same right look
think also around another came come work three word must because does part even place well such here take why
things help put years different away again off went old number great tell men say small every found still
between name should home big give air line set own under read last never us left end along while might next
sound below saw something thought both few those always looked show large often together asked house don't
world going want school important until form food keep children feet land side without boy once animals life
enough took sometimes four head above kind began almost live page got earth need far hand high year mother
light parts country father let night following picture being study second eyes soon times story boys since
white days ever paper hard near sentence better best across during today others however sure means knew it's
try told young miles sun ways thing whole hear example heard several change answer room sea against top turned
learn point city play toward five using himself usually model server token inference memory latency""".split()

CODE = [
    "def {f}({a}, {b}):\n    \"\"\"Return the {w} of {a} and {b}.\"\"\"\n    if {a} < {n}:\n        return {b} * {n}\n    return {f}({a} - 1, {b}) + {n}\n",
    "func {f}(_ {a}: [Int], {b}: Int) -> Int {{\n    var total = {n}\n    for x in {a} where x % {b} == 0 {{\n        total += x &* {n}\n    }}\n    return total\n}}\n",
    "for (int {a} = 0; {a} < {n}; ++{a}) {{\n\t{b}[{a}] = {f}({a}) >> 2; // {w}\n}}\n",
    "const {f} = async ({a}) => {{ const res = await fetch(`/api/{w}/${{{a}}}`); return res.json(); }};\n",
    "SELECT {a}, COUNT(*) AS {b}_count FROM {w}s WHERE {a} > {n} GROUP BY {a} ORDER BY {b}_count DESC;\n",
    "    {{\"{a}\": {n}, \"{b}\": \"{w}\", \"ok\": true, \"ratio\": {n}.{n}}},\n",
]
IDENTIFIERS = ["x", "y", "idx", "count", "value", "buffer", "tokens", "cache", "node", "items", "key", "row"]
FUNCTIONS = ["compute", "merge_pairs", "encodeWord", "load_vocab", "fibonacci", "parseHeader", "step"]

CJK = [
    "日本語のテキストを分割して、トークンに変換します。", "中文文本的分词需要处理没有空格的长句子。",
    "東京は日本の首都であり、人口が最も多い都市です。", "机器学习模型在推理时需要大量的内存和计算。",
    "今日はいい天気ですね。明日も晴れるでしょう。", "服务器收到请求后，会返回一个流式的回答。",
    "文字コードはUTF-8で、一文字が三バイトになることが多い。", "这个句子包含数字２０２４和标点符号：逗号、句号。",
]


def english_paragraph(rng):
    sentences = []
    for _ in range(rng.randint(3, 7)):
        words = [rng.choice(ENGLISH) for _ in range(rng.randint(6, 18))]
        words[0] = words[0].capitalize()
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), str(rng.randint(1, 99999)))
        sentences.append(" ".join(words) + rng.choice([".", ".", ".", "?", "!", ";"]))
    return " ".join(sentences) + "\n\n"


def code_block(rng):
    lines = []
    for _ in range(rng.randint(1, 4)):
        a, b = rng.sample(IDENTIFIERS, 2)
        lines.append(rng.choice(CODE).format(f=rng.choice(FUNCTIONS), a=a, b=b, w=rng.choice(ENGLISH), n=rng.randint(0, 4096)))
    return "".join(lines) + "\n"


def cjk_paragraph(rng):
    return "".join(rng.choice(CJK) for _ in range(rng.randint(2, 6))) + "\n\n"


def main():
    rng = random.Random(20240602)
    parts, sizes = [], {"english": 0, "code": 0, "cjk": 0}
    total = 0
    while total < TARGET_BYTES:
        # Pick the kind furthest below its share of the bytes so far.
        shares = {"english": 0.60, "code": 0.25, "cjk": 0.15}
        kind = min(shares, key=lambda k: sizes[k] - shares[k] * total)
        text = {"english": english_paragraph, "code": code_block, "cjk": cjk_paragraph}[kind](rng)
        size = len(text.encode("utf-8"))
        parts.append(text)
        sizes[kind] += size
        total += size
    sys.stdout.write("".join(parts))
    print(f"{total} bytes: " + ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in sizes.items()), file=sys.stderr)


main()
