"""Golden references for NVIDIA Tacotron2 + WaveGlow (hub_models::tts).

    python xtask/golden/tts.py --out target/golden/tts [--force]

Runs inside target/golden-venv (torch 2.15.0 CPU, safetensors). No package is added.

Why a reference written here: the PyPI packages `tacotron2-model` 0.2.4 and `waveglow`
22.12.28 are ports of NVIDIA/tacotron2 and NVIDIA/waveglow, not of NVIDIA/DeepLearningExamples
(branch `torchhub`, PyTorch/SpeechSynthesis/Tacotron2), whose checkpoints torch.hub loads: the
`waveglow` package's WN has one fused `cond_layer` (DeepLearningExamples: one `cond_layers.i` per
layer, different keys), and `tacotron2-model`'s prenet draws an independent dropout mask per
element and has no `infer(inputs, input_lengths)`. So `Tacotron2` and `WaveGlow` below are a
faithful PyTorch reference written from DeepLearningExamples' `tacotron2/model.py`,
`waveglow/model.py` and `common/layers.py`, with the same module names, hence the same
state-dict keys. Its only departure: the random draws (prenet dropout masks, WaveGlow's
Gaussian noise) come from a seeded `torch.Generator` and are recorded, so the Rust tests can
replay exactly the same numbers.

Layout of OUT (every tensor in io.safetensors is f32 unless noted):

    tacotron2/            full-size NVIDIA config (148 symbols, 512 embedding, ...), seeded
                          random weights, BatchNorm statistics and affine parameters randomised
        model.pth         {'state_dict': ..., 'config': ...}, keys prefixed `module.` like NGC's
        io.safetensors    sequence [1, T] i64; embedded [1, 512, T]; encoder_outputs [1, T, 512];
                          run A (gate bias lowered, runs to max_decoder_steps):
                            a_prenet_masks [steps, 2, prenet_dim] (0/1), a_mel [1, 80, steps],
                            a_mel_postnet, a_gate [1, steps], a_alignments [1, steps, T],
                            a_mel_lengths [1] i64
                          run B (same weights and masks, gate threshold chosen so that the gate
                            stops decoding before max_decoder_steps): b_* likewise
        meta.json         config, max_decoder_steps, thresholds of both runs
    waveglow_small/       real structure (80 mels, 12 flows, group 8, early every 4 size 2,
                          WN 8 layers kernel 3) with WN channels 32; weight norm NOT removed
        model.pth         {'state_dict' (weight_g / weight_v, `module.` keys), 'config'}
        model_removed.pth the same weights after remove_weightnorm (plain `weight`), no prefix
        io.safetensors    mel [1, 80, 6]; noise_0 .. noise_k (the Gaussian draws in order),
                          audio [1, samples] for sigma = 0.6
    waveglow_wn_full/     one full-size WN coupling network (n_in 4, 640 conditioning channels,
                          8 layers, 512 channels, kernel 3), weight norm kept
        model.pth         state dict of the WN module alone (keys `start.weight_g`, ...)
        io.safetensors    audio [1, 4, 48], spect [1, 640, 48], output [1, 8, 48]
"""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from common import parser, save_state_dict, save_tensors, seed_for, write_index, write_json

GENERATOR_VERSION = 1


# ----------------------------------------------------------------------------------------------
# Tacotron2 (DeepLearningExamples tacotron2/model.py, common/layers.py)


class LinearNorm(nn.Module):
    def __init__(self, in_dim, out_dim, bias=True):
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)

    def forward(self, x):
        return self.linear_layer(x)


class ConvNorm(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, padding, bias=True):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, padding=padding, bias=bias)

    def forward(self, x):
        return self.conv(x)


class LocationLayer(nn.Module):
    def __init__(self, n_filters, kernel_size, attention_dim):
        super().__init__()
        self.location_conv = ConvNorm(2, n_filters, kernel_size, (kernel_size - 1) // 2, bias=False)
        self.location_dense = LinearNorm(n_filters, attention_dim, bias=False)

    def forward(self, weights_cat):
        return self.location_dense(self.location_conv(weights_cat).transpose(1, 2))


class Attention(nn.Module):
    def __init__(self, rnn_dim, embedding_dim, attention_dim, n_filters, kernel_size):
        super().__init__()
        self.query_layer = LinearNorm(rnn_dim, attention_dim, bias=False)
        self.memory_layer = LinearNorm(embedding_dim, attention_dim, bias=False)
        self.v = LinearNorm(attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(n_filters, kernel_size, attention_dim)

    def forward(self, query, memory, processed_memory, weights_cat):
        energies = self.v(torch.tanh(
            self.query_layer(query.unsqueeze(1)) + self.location_layer(weights_cat) + processed_memory
        )).squeeze(-1)
        weights = F.softmax(energies, dim=1)
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)
        return context, weights


class Prenet(nn.Module):
    def __init__(self, in_dim, sizes):
        super().__init__()
        in_sizes = [in_dim] + sizes[:-1]
        self.layers = nn.ModuleList([LinearNorm(i, o, bias=False) for i, o in zip(in_sizes, sizes)])
        self.generator = None
        self.masks = []  # recorded [prenet_dim] masks, two per step
        self.replay = None

    def forward(self, x):
        # inference=True branch: one Bernoulli(0.5) mask from the first row, shared by the batch,
        # scaled by 2.
        for linear in self.layers:
            x = F.relu(linear(x))
            if self.replay is not None:
                mask = self.replay.pop(0)
            else:
                mask = torch.bernoulli(torch.full((x.size(1),), 0.5), generator=self.generator)
            self.masks.append(mask)
            x = x * mask.unsqueeze(0).expand(x.size(0), x.size(1)) * 2
        return x


class Postnet(nn.Module):
    def __init__(self, n_mel, dim, kernel, n):
        super().__init__()
        pad = (kernel - 1) // 2
        chans = [n_mel] + [dim] * (n - 1) + [n_mel]
        self.convolutions = nn.ModuleList([
            nn.Sequential(ConvNorm(chans[i], chans[i + 1], kernel, pad), nn.BatchNorm1d(chans[i + 1]))
            for i in range(n)
        ])

    def forward(self, x):
        for conv in self.convolutions[:-1]:
            x = torch.tanh(conv(x))
        return self.convolutions[-1](x)


class Encoder(nn.Module):
    def __init__(self, n_conv, dim, kernel):
        super().__init__()
        self.convolutions = nn.ModuleList([
            nn.Sequential(ConvNorm(dim, dim, kernel, (kernel - 1) // 2), nn.BatchNorm1d(dim))
            for _ in range(n_conv)
        ])
        self.lstm = nn.LSTM(dim, dim // 2, 1, batch_first=True, bidirectional=True)

    def forward(self, x):
        for conv in self.convolutions:
            x = F.relu(conv(x))
        out, _ = self.lstm(x.transpose(1, 2))
        return out


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.prenet = Prenet(c["n_mel_channels"] * c["n_frames_per_step"], [c["prenet_dim"], c["prenet_dim"]])
        self.attention_rnn = nn.LSTMCell(c["prenet_dim"] + c["encoder_embedding_dim"], c["attention_rnn_dim"])
        self.attention_layer = Attention(c["attention_rnn_dim"], c["encoder_embedding_dim"], c["attention_dim"],
                                         c["attention_location_n_filters"], c["attention_location_kernel_size"])
        self.decoder_rnn = nn.LSTMCell(c["attention_rnn_dim"] + c["encoder_embedding_dim"], c["decoder_rnn_dim"], 1)
        self.linear_projection = LinearNorm(c["decoder_rnn_dim"] + c["encoder_embedding_dim"],
                                            c["n_mel_channels"] * c["n_frames_per_step"])
        self.gate_layer = LinearNorm(c["decoder_rnn_dim"] + c["encoder_embedding_dim"], 1)

    def infer(self, memory, max_steps, threshold):
        c = self.c
        b, t = memory.size(0), memory.size(1)
        z = lambda n: memory.new_zeros(b, n)  # noqa: E731
        ah, ac, dh, dc = z(c["attention_rnn_dim"]), z(c["attention_rnn_dim"]), z(c["decoder_rnn_dim"]), z(c["decoder_rnn_dim"])
        aw, awc, ctx = z(t), z(t), z(c["encoder_embedding_dim"])
        processed = self.attention_layer.memory_layer(memory)
        frame = z(c["n_mel_channels"] * c["n_frames_per_step"])
        mels, gates, aligns = [], [], []
        lengths = torch.zeros(b, dtype=torch.int32)
        not_finished = torch.ones(b, dtype=torch.int32)
        while True:
            x = self.prenet(frame)
            ah, ac = self.attention_rnn(torch.cat((x, ctx), -1), (ah, ac))
            cat = torch.cat((aw.unsqueeze(1), awc.unsqueeze(1)), dim=1)
            ctx, aw = self.attention_layer(ah, memory, processed, cat)
            awc = awc + aw
            dh, dc = self.decoder_rnn(torch.cat((ah, ctx), -1), (dh, dc))
            hc = torch.cat((dh, ctx), dim=1)
            mel = self.linear_projection(hc)
            gate = self.gate_layer(hc)
            mels.append(mel)
            gates.append(gate)
            aligns.append(aw)
            dec = torch.le(torch.sigmoid(gate), threshold).to(torch.int32).squeeze(1)
            not_finished = not_finished * dec
            lengths += not_finished
            if torch.sum(not_finished) == 0 or len(mels) == max_steps:
                break
            frame = mel
        mel = torch.stack(mels).transpose(0, 1).reshape(b, -1, c["n_mel_channels"]).transpose(1, 2)
        gate = torch.stack(gates).transpose(0, 1).squeeze(-1)
        align = torch.stack(aligns).transpose(0, 1)
        return mel, gate, align, lengths


class Tacotron2(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embedding = nn.Embedding(c["n_symbols"], c["symbols_embedding_dim"])
        self.encoder = Encoder(c["encoder_n_convolutions"], c["encoder_embedding_dim"], c["encoder_kernel_size"])
        self.decoder = Decoder(c)
        self.postnet = Postnet(c["n_mel_channels"], c["postnet_embedding_dim"], c["postnet_kernel_size"],
                               c["postnet_n_convolutions"])


TACOTRON2_CONFIG = {
    "mask_padding": False, "n_mel_channels": 80, "n_symbols": 148, "symbols_embedding_dim": 512,
    "encoder_kernel_size": 5, "encoder_n_convolutions": 3, "encoder_embedding_dim": 512,
    "attention_rnn_dim": 1024, "attention_dim": 128, "attention_location_n_filters": 32,
    "attention_location_kernel_size": 31, "n_frames_per_step": 1, "decoder_rnn_dim": 1024,
    "prenet_dim": 256, "max_decoder_steps": 2000, "gate_threshold": 0.5,
    "p_attention_dropout": 0.1, "p_decoder_dropout": 0.1, "postnet_embedding_dim": 512,
    "postnet_kernel_size": 5, "postnet_n_convolutions": 5, "decoder_no_early_stopping": False,
}


def randomise_batchnorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) * 0.8 + 0.6)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) * 0.8 + 0.6)


def tacotron2_entry(out: Path):
    name = "tacotron2"
    seed = seed_for(name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    c = dict(TACOTRON2_CONFIG)
    model = Tacotron2(c).eval()
    randomise_batchnorm(model, gen)
    steps = 12
    with torch.no_grad():
        # Lower the gate bias so that run A reaches max_decoder_steps.
        model.decoder.gate_layer.linear_layer.bias.fill_(-6.0)
        seq = torch.randint(1, 64, (1, 23), generator=gen)
        embedded = model.embedding(seq).transpose(1, 2)
        memory = model.encoder(embedded)
        prenet = model.decoder.prenet
        prenet.generator = torch.Generator().manual_seed(seed + 1)
        mel, gate, align, lengths = model.decoder.infer(memory, steps, 1.0 - 1e-7)
        masks = torch.stack(prenet.masks).reshape(-1, 2, c["prenet_dim"])
        post = mel + model.postnet(mel)
        tensors = {"sequence": seq, "embedded": embedded, "encoder_outputs": memory,
                   "a_prenet_masks": masks, "a_mel": mel, "a_mel_postnet": post, "a_gate": gate,
                   "a_alignments": align, "a_mel_lengths": lengths.long()}
        thresholds = {"a": 1.0 - 1e-7}
        # Run B: a threshold between the running maximum before step k and step k's gate.
        sig = torch.sigmoid(gate[0]).tolist()
        k = next((i for i in range(3, steps - 1) if sig[i] > max(sig[:i])), None)
        if k is not None:
            threshold = (max(sig[:k]) + sig[k]) / 2
            prenet.masks = []
            prenet.replay = list(masks.reshape(-1, c["prenet_dim"]))
            mel_b, gate_b, align_b, lengths_b = model.decoder.infer(memory, steps, threshold)
            prenet.replay = None
            assert mel_b.size(2) == k + 1, (mel_b.shape, k)
            tensors.update({"b_prenet_masks": masks[: k + 1].clone(), "b_mel": mel_b,
                            "b_mel_postnet": mel_b + model.postnet(mel_b), "b_gate": gate_b,
                            "b_alignments": align_b, "b_mel_lengths": lengths_b.long()})
            thresholds["b"] = threshold
    state = {("module." + k if i % 2 == 0 else k): v for i, (k, v) in enumerate(model.state_dict().items())}
    c["gate_threshold"] = 0.5
    save_state_dict(out / name / "model.pth", {"state_dict": state, "config": c})
    save_tensors(out / name / "io.safetensors", tensors)
    return name, {"entry": name, "config": c, "max_decoder_steps": steps, "thresholds": thresholds,
                  "generator_version": GENERATOR_VERSION}


# ----------------------------------------------------------------------------------------------
# WaveGlow (DeepLearningExamples waveglow/model.py)


class Invertible1x1Conv(nn.Module):
    def __init__(self, c, gen):
        super().__init__()
        self.conv = nn.Conv1d(c, c, 1, bias=False)
        w = torch.linalg.qr(torch.randn(c, c, generator=gen))[0]
        if torch.det(w) < 0:
            w[:, 0] = -w[:, 0]
        # NVIDIA assigns the QR factor's view as is: column-major strides. burn-store 0.21's
        # pickle reader ignores strides (reads every tensor as row-major), so such a file would
        # load transposed; the reference stores a contiguous copy (see the tts report / docs).
        self.conv.weight.data = w.contiguous().view(c, c, 1)

    def reverse(self, z):
        w_inv = self.conv.weight.squeeze().float().inverse()
        return F.conv1d(z, w_inv[..., None])


class WN(nn.Module):
    def __init__(self, n_in, n_mel, n_layers, n_channels, kernel_size):
        super().__init__()
        self.n_layers, self.n_channels = n_layers, n_channels
        wn = torch.nn.utils.weight_norm
        self.in_layers, self.res_skip_layers, self.cond_layers = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        self.start = wn(nn.Conv1d(n_in, n_channels, 1), name="weight")
        # NVIDIA zero-initialises `end`; random here so that the coupling does something.
        self.end = nn.Conv1d(n_channels, 2 * n_in, 1)
        for i in range(n_layers):
            d = 2 ** i
            self.in_layers.append(wn(nn.Conv1d(n_channels, 2 * n_channels, kernel_size, dilation=d,
                                               padding=(kernel_size * d - d) // 2), name="weight"))
            self.cond_layers.append(wn(nn.Conv1d(n_mel, 2 * n_channels, 1), name="weight"))
            res = 2 * n_channels if i < n_layers - 1 else n_channels
            self.res_skip_layers.append(wn(nn.Conv1d(n_channels, res, 1), name="weight"))

    def forward(self, audio, spect):
        audio = self.start(audio)
        n = self.n_channels
        output = None
        for i in range(self.n_layers):
            a = self.in_layers[i](audio) + self.cond_layers[i](spect)
            acts = torch.tanh(a[:, :n]) * torch.sigmoid(a[:, n:])
            rs = self.res_skip_layers[i](acts)
            if i < self.n_layers - 1:
                audio = rs[:, :n] + audio
                skip = rs[:, n:]
            else:
                skip = rs
            output = skip if output is None else skip + output
        return self.end(output)


class WaveGlow(nn.Module):
    def __init__(self, n_mel_channels, n_flows, n_group, n_early_every, n_early_size, WN_config, gen):
        super().__init__()
        self.upsample = nn.ConvTranspose1d(n_mel_channels, n_mel_channels, 1024, stride=256)
        self.n_flows, self.n_group = n_flows, n_group
        self.n_early_every, self.n_early_size = n_early_every, n_early_size
        self.WN, self.convinv = nn.ModuleList(), nn.ModuleList()
        n_half, remaining = n_group // 2, n_group
        for k in range(n_flows):
            if k % n_early_every == 0 and k > 0:
                n_half -= n_early_size // 2
                remaining -= n_early_size
            self.convinv.append(Invertible1x1Conv(remaining, gen))
            self.WN.append(WN(n_half, n_mel_channels * n_group, **WN_config))
        self.n_remaining_channels = remaining

    def infer(self, spect, sigma, gen, draws):
        spect = self.upsample(spect)
        spect = spect[:, :, : -(self.upsample.kernel_size[0] - self.upsample.stride[0])]
        spect = spect.unfold(2, self.n_group, self.n_group).permute(0, 2, 1, 3)
        spect = spect.contiguous().view(spect.size(0), spect.size(1), -1).permute(0, 2, 1)
        noise = torch.randn(spect.size(0), self.n_remaining_channels, spect.size(2), generator=gen)
        draws.append(noise)
        audio = sigma * noise
        for k in reversed(range(self.n_flows)):
            n_half = audio.size(1) // 2
            a0, a1 = audio[:, :n_half], audio[:, n_half:]
            out = self.WN[k](a0, spect)
            s, b = out[:, n_half:], out[:, :n_half]
            audio = torch.cat([a0, (a1 - b) / torch.exp(s)], 1)
            audio = self.convinv[k].reverse(audio)
            if k % self.n_early_every == 0 and k > 0:
                z = torch.randn(spect.size(0), self.n_early_size, spect.size(2), generator=gen)
                draws.append(z)
                audio = torch.cat((sigma * z, audio), 1)
        return audio.permute(0, 2, 1).contiguous().view(audio.size(0), -1)


def randomise_wn_end(model, gen, scale):
    for m in model.modules():
        if isinstance(m, WN):
            with torch.no_grad():
                m.end.weight.copy_(torch.randn(m.end.weight.shape, generator=gen) * scale)
                m.end.bias.copy_(torch.randn(m.end.bias.shape, generator=gen) * scale)


def randomise_weight_g(model, gen):
    for name, p in model.named_parameters():
        if name.endswith("weight_g"):
            with torch.no_grad():
                p.mul_(torch.rand(p.shape, generator=gen) * 0.8 + 0.6)


def waveglow_entry(out: Path):
    name = "waveglow_small"
    seed = seed_for(name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    config = {"n_mel_channels": 80, "n_flows": 12, "n_group": 8, "n_early_every": 4, "n_early_size": 2,
              "WN_config": {"n_layers": 8, "kernel_size": 3, "n_channels": 32}}
    model = WaveGlow(**config, gen=gen).eval()
    randomise_wn_end(model, gen, 0.02)
    randomise_weight_g(model, gen)
    sigma = 0.6
    with torch.no_grad():
        mel = torch.randn(1, 80, 6, generator=gen) * 2 - 5
        draws = []
        audio = model.infer(mel, sigma, torch.Generator().manual_seed(seed + 1), draws)
        tensors = {"mel": mel, "audio": audio}
        tensors.update({f"noise_{i}": d for i, d in enumerate(draws)})
        state = {"module." + k: v for k, v in model.state_dict().items()}
        save_state_dict(out / name / "model.pth", {"state_dict": state, "config": config})
        for wn in model.WN:
            torch.nn.utils.remove_weight_norm(wn.start)
            for layers in (wn.in_layers, wn.cond_layers, wn.res_skip_layers):
                for layer in layers:
                    torch.nn.utils.remove_weight_norm(layer)
        assert torch.allclose(model.infer(mel, sigma, torch.Generator().manual_seed(seed + 1), []), audio,
                              rtol=1e-4, atol=1e-5 * audio.abs().max().item())
        save_state_dict(out / name / "model_removed.pth", {"state_dict": model.state_dict(), "config": config})
        # An fp16 checkpoint (like NVIDIA's fp16 variant): the loader must upcast it. The expected
        # audio is computed from the same half-precision values upcast to fp32.
        half = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
        save_state_dict(out / name / "model_fp16.pth",
                        {"state_dict": {"module." + k: v for k, v in half.items()}, "config": config})
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
        tensors["audio_fp16"] = model.infer(mel, sigma, torch.Generator().manual_seed(seed + 1), [])
    save_tensors(out / name / "io.safetensors", tensors)
    return name, {"entry": name, "config": config, "sigma": sigma, "noise_draws": len(draws),
                  "generator_version": GENERATOR_VERSION}


def wn_full_entry(out: Path):
    name = "waveglow_wn_full"
    seed = seed_for(name)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    cfg = {"n_in": 4, "n_mel": 640, "n_layers": 8, "n_channels": 512, "kernel_size": 3}
    wn = WN(cfg["n_in"], cfg["n_mel"], cfg["n_layers"], cfg["n_channels"], cfg["kernel_size"]).eval()
    randomise_wn_end(wn, gen, 0.05)
    randomise_weight_g(wn, gen)
    with torch.no_grad():
        audio = torch.randn(1, 4, 48, generator=gen)
        spect = torch.randn(1, 640, 48, generator=gen)
        output = wn(audio, spect)
    save_state_dict(out / name / "model.pth", wn.state_dict())
    save_tensors(out / name / "io.safetensors", {"audio": audio, "spect": spect, "output": output})
    return name, {"entry": name, "config": cfg, "generator_version": GENERATOR_VERSION}


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--force", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    present = []
    for build in (tacotron2_entry, waveglow_entry, wn_full_entry):
        name, meta = build(args.out)
        write_json(args.out / name / "meta.json", meta)
        present.append(name)
        print(f"{name}: written", flush=True)
    write_index(args.out / "index.json", present)


if __name__ == "__main__":
    main()
