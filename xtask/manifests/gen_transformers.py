"""Writes hub's built-in `huggingface/pytorch-transformers` manifest.

    python3 xtask/manifests/gen_transformers.py > crates/hub-models/manifests/huggingface_pytorch-transformers.toml

The seed repo's hubconf.py takes a Hugging Face model id for every entrypoint; so does hub: each
entrypoint lists a few well-known ids (shown by `hub help`) and takes any other id, at any
revision, through its `model_ids` template. The architecture follows config.json's `model_type`
(bert or gpt2) for the entrypoint's task.
"""

HF = "https://huggingface.co"
BERT_IDS = ["bert-base-uncased", "bert-base-cased", "bert-large-uncased"]
GPT2_IDS = ["gpt2", "gpt2-medium", "distilgpt2"]
LICENSE = {"gpt2": "MIT", "gpt2-medium": "MIT"}  # the others: Apache-2.0
BERT_PAPER = "https://arxiv.org/abs/1810.04805"
GPT2_PAPER = "https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf"
HEAD_NOTE = (
    "Pre-trained checkpoints such as bert-base-uncased have no weights for this head: they are "
    "randomly initialised (a warning names them), as transformers does, ready for fine-tuning; "
    "a fine-tuned model id or --checkpoint gives meaningful outputs."
)

# name, architecture, task, aliases, ids, summary, usage, paper
ENTRIES = [
    ("tokenizer", "tokenizer", "tokenization", ["bertTokenizer", "gpt2Tokenizer"], BERT_IDS + GPT2_IDS,
     "The model id's tokenizer (WordPiece or byte-level BPE): tokens, ids, segments.",
     "hub run huggingface/pytorch-transformers tokenizer bert-base-uncased --text \"Hello, world!\"", None),
    ("model", "bert", "feature-extraction", ["bertModel", "gpt2Model"], BERT_IDS + GPT2_IDS,
     "The bare encoder/decoder: hidden states and mean-pooled sentence embeddings.",
     "hub run huggingface/pytorch-transformers model bert-base-uncased --text \"A sentence.\" --text \"Another one.\"", BERT_PAPER),
    ("modelForMaskedLM", "bert_masked_lm", "fill-mask", ["bertForMaskedLM"], BERT_IDS,
     "BERT with its masked-language-model head: fills [MASK] tokens.",
     "hub run huggingface/pytorch-transformers modelForMaskedLM bert-base-uncased --text \"The capital of France is [MASK].\"", BERT_PAPER),
    ("modelForCausalLM", "gpt2_lm_head", "text-generation", ["gpt2LMHeadModel"], GPT2_IDS,
     "GPT-2 with its tied language-model head: continues a prompt.",
     "hub run huggingface/pytorch-transformers modelForCausalLM gpt2 --prompt \"...\" --max-new-tokens 40 "
     "(greedy; --temperature, --sample-top-k, --top-p and --seed sample; several --prompt values run as one batch)", GPT2_PAPER),
    ("modelForSequenceClassification", "bert_sequence_classification", "text-classification", ["bertForSequenceClassification"], BERT_IDS + GPT2_IDS,
     "BERT or GPT-2 with a sequence-classification head: labels for a text or a text pair.",
     "hub run huggingface/pytorch-transformers modelForSequenceClassification MODEL_ID --text \"...\" [--text-pair \"...\"]", BERT_PAPER),
    ("modelForQuestionAnswering", "bert_question_answering", "question-answering", ["bertForQuestionAnswering"], BERT_IDS,
     "BERT with a span head: extracts the answer to a question from a context.",
     "hub run huggingface/pytorch-transformers modelForQuestionAnswering MODEL_ID --question \"...\" --context \"...\"", BERT_PAPER),
    ("bertForNextSentencePrediction", "bert_next_sentence", "next-sentence-prediction", [], BERT_IDS,
     "BERT with its next-sentence head: does sentence B follow sentence A?",
     "hub run huggingface/pytorch-transformers bertForNextSentencePrediction bert-base-uncased --text \"A\" --text-pair \"B\"", BERT_PAPER),
    ("bertForPreTraining", "bert_pretraining", "pre-training", [], BERT_IDS,
     "BERT with both pre-training heads: masked tokens and next sentence.",
     "hub run huggingface/pytorch-transformers bertForPreTraining bert-base-uncased --text \"... [MASK] ...\" --text-pair \"B\"", BERT_PAPER),
    ("bertForMultipleChoice", "bert_multiple_choice", "multiple-choice", [], BERT_IDS,
     "BERT with a multiple-choice head: scores each continuation of a prompt.",
     "hub run huggingface/pytorch-transformers bertForMultipleChoice MODEL_ID --text \"prompt\" --choice \"A\" --choice \"B\"", BERT_PAPER),
    ("bertForTokenClassification", "bert_token_classification", "token-classification", [], BERT_IDS,
     "BERT with a token-classification head (e.g. named entities): a label per token.",
     "hub run huggingface/pytorch-transformers bertForTokenClassification MODEL_ID --text \"...\"", BERT_PAPER),
    ("gpt2DoubleHeadsModel", "gpt2_double_heads", "multiple-choice", [], GPT2_IDS,
     "GPT-2 with its language-model and multiple-choice heads: scores each continuation of a prompt.",
     "hub run huggingface/pytorch-transformers gpt2DoubleHeadsModel gpt2 --text \"prompt\" --choice \"A\" --choice \"B\"", GPT2_PAPER),
]
NEW_HEADS = {"bert_sequence_classification", "bert_question_answering", "bert_next_sentence", "bert_pretraining",
             "bert_multiple_choice", "bert_token_classification", "gpt2_double_heads"}


def q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    out = [
        "# hub's description of huggingface/pytorch-transformers (whose hubconf.py builds these models in Python).",
        "# Generated by xtask/manifests/gen_transformers.py: edit that, not this.",
        "# Weights are Hugging Face model ids: the listed ones, or any other through `model_ids`, as",
        "# `id` or `id@revision` (or --revision); files come from https://huggingface.co/{id}/resolve/{revision}/.",
        "format = 1",
        'name = "huggingface/pytorch-transformers"',
        'description = "BERT and GPT-2 from Hugging Face transformers: tokenizers, encoders, language models and task heads."',
        "dependencies = [" + ", ".join(q(a) for a in sorted({e[1] for e in ENTRIES} | {"gpt2", "gpt2_sequence_classification"})) + "]",
    ]
    for name, arch, task, aliases, ids, summary, usage, paper in ENTRIES:
        code = "gpt2/modeling_gpt2.py" if arch.startswith("gpt2") else "bert/modeling_bert.py"
        docs = f"`{usage}`\nThe weights name is a Hugging Face model id (`owner/name`, optionally `@revision`)."
        if arch in NEW_HEADS:
            docs += "\n" + HEAD_NOTE
        out += ["", f"[entrypoints.{name}]", f"architecture = {q(arch)}", f"task = {q(task)}", f"summary = {q(summary)}"]
        if paper:
            out.append(f"paper = {q(paper)}")
        if arch != "tokenizer":
            out.append(f'code = "https://github.com/huggingface/transformers/blob/main/src/transformers/models/{code}"')
        if aliases:
            out.append("aliases = [" + ", ".join(q(a) for a in aliases) + "]")
        out.append(f"default_weights = {q(ids[0])}")
        out.append('docs = """\n' + docs + '\n"""')
        out += ["", f"[entrypoints.{name}.model_ids]",
                'url = "https://huggingface.co/{id}/resolve/{revision}/{file}"',
                'revision = "main"',
                'weights = []' if arch == "tokenizer" else 'weights = ["model.safetensors", "pytorch_model.bin"]',
                'files = []' if arch == "tokenizer" else 'files = ["config.json"]',
                'one_of = [["tokenizer.json"], ["vocab.txt"], ["vocab.json", "merges.txt"]]']
        for mid in ids:
            base = f"{HF}/{mid}/resolve/main"
            tok = "tokenizer.json"  # published for every listed id
            out += ["", f"[entrypoints.{name}.weights.{mid}]"]
            if arch == "tokenizer":
                out.append(f'url = "{base}/{tok}"')
            else:
                out += [f'url = "{base}/model.safetensors"', 'format = "safetensors"']
            out.append(f'license = "{LICENSE.get(mid, "Apache-2.0")}"')
            if arch != "tokenizer":
                out.append(f'files."config.json" = {{ url = "{base}/config.json" }}')
            out.append(f'files."{tok}" = {{ url = "{base}/{tok}" }}')
    print("\n".join(out))


if __name__ == "__main__":
    main()
