"""LMAC-Net's query decoders run as one batched computation over the modalities, for inference.

Why: at batch 1 the decoders are a few hundred small ops on (K=5)-row matrices. Their time goes to dispatch and
to streaming the weights, not to arithmetic (`benchmarks/bench_model.py`: about 100 MFLOP per video at T=70).
Stacking the modalities' weights into (M, ...) tensors turns every per-modality op into one batched op, so a
video takes a third of the ops. The first layer's query features are input-independent (p starts at zero), so
its queries and their products with the key weights are computed once per set of weights, not per video.

Used by `LMACNet.forward` when autograd is off and the model is in eval mode (scoring, evaluation, `lmac
predict`); training runs the per-modality modules in `lmac_net.py`, which remain the definition. The result is
the same computation in another order: equal to float rounding (tests/test_stacked_decode.py). Modalities of
different widths are zero-padded to the widest, which adds exact zeros.

The stacked weights are cached on the model and rebuilt when any parameter changes (an optimiser step or a
load bumps the tensor's version counter; moving the model gives new storage), and dropped by every `train()` or
`eval()` call, since torch's fused AdamW updates in place without bumping version counters. So code that updates
the weights in place without such a bump while the model stays in eval mode must call `model.eval()` again (or
set `LMACNet.stacked_scoring = False`) before scoring.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def sinusoidal_positions(T: int, d: int, device=None, dtype=torch.float32) -> torch.Tensor:
    from lmac.models.lmac_net import sinusoidal_positions as positions  # one definition; imported late (a cycle)

    return positions(T, d, device, dtype)


def _param_key(model: nn.Module) -> tuple:
    """Identifies the current weights: storage, dtype and in-place version of every parameter. (The cache also
    holds the storages, so an address cannot be reused by other weights while it is cached.)"""
    key = []
    for p in model.parameters():
        key += [p.data_ptr(), p.dtype, -1 if p.is_inference() else p._version]
    return tuple(key)


def _stack_rows(mats: list[torch.Tensor], width: int) -> torch.Tensor:
    """Stack (D_m, n) matrices into (M, width, n), zero rows below each."""
    out = mats[0].new_zeros(len(mats), width, mats[0].shape[1])
    for i, w in enumerate(mats):
        out[i, : w.shape[0]] = w
    return out


def _stack_cols(mats: list[torch.Tensor], width: int) -> torch.Tensor:
    """Stack (n, D_m) matrices into (M, n, width), zero columns right of each."""
    out = mats[0].new_zeros(len(mats), mats[0].shape[0], width)
    for i, w in enumerate(mats):
        out[i, :, : w.shape[1]] = w
    return out


def _vec(ts: list[torch.Tensor]) -> torch.Tensor:
    """Stack per-modality vectors (n,) into (M, 1, n), to broadcast over rows."""
    return torch.stack(ts)[:, None, :]


@torch.no_grad()
def _build(model, have: tuple[str, ...]) -> dict:
    cfg = model.config
    decs = [model.decoders[m] for m in have]
    width = max(dec.layers[0].cross.key.weight.shape[1] for dec in decs)
    w = {"width": width, "queries": torch.stack([dec.queries.weight for dec in decs]), "layers": []}  # (M, K, d)
    for i in range(cfg.num_layers):
        lay = [dec.layers[i] for dec in decs]
        cross = [ly.cross for ly in lay]
        L = {
            "WqT": torch.stack([c.query.weight.T for c in cross]),  # (M, d, d)
            "bq": _vec([c.query.bias for c in cross]),
            "Wk": _stack_cols([c.key.weight for c in cross], width),  # (M, d, width)
            "inv_scale": torch.stack([1.0 / (c.d * c.log_tau.exp()) for c in cross]).view(-1, 1, 1, 1),
            "ln1": (_vec([ly.norm1.weight for ly in lay]), _vec([ly.norm1.bias for ly in lay])),
            "fc1T": torch.stack([ly.ffn.fc1.weight.T for ly in lay]), "b1": _vec([ly.ffn.fc1.bias for ly in lay]),
            "fc2T": torch.stack([ly.ffn.fc2.weight.T for ly in lay]), "b2": _vec([ly.ffn.fc2.bias for ly in lay]),
            "ln2": (_vec([ly.norm2.weight for ly in lay]), _vec([ly.norm2.bias for ly in lay])),
        }
        if cfg.value_mlp:
            L["v1T"] = _stack_rows([c.value[0].weight.T for c in cross], width)  # (M, width, d)
            L["vb1"] = _vec([c.value[0].bias for c in cross])
            L["v2T"] = torch.stack([c.value[3].weight.T for c in cross])
            L["vb2"] = _vec([c.value[3].bias for c in cross])
        else:
            L["WvT"] = _stack_rows([c.value.weight.T for c in cross], width)  # (M, width, d)
            L["bv"] = _vec([c.value.bias for c in cross])
        if lay[0].self_attn is not None:
            d = cfg.d_model  # in_proj rows: query, key, value; queries and keys both read p + q, values p
            L["inT_qk"] = torch.stack([ly.self_attn.in_proj_weight[: 2 * d].T for ly in lay])  # (M, d, 2d)
            L["bin_qk"] = _vec([ly.self_attn.in_proj_bias[: 2 * d] for ly in lay])
            L["inT_v"] = torch.stack([ly.self_attn.in_proj_weight[2 * d:].T for ly in lay])  # (M, d, d)
            L["bin_v"] = _vec([ly.self_attn.in_proj_bias[2 * d:] for ly in lay])
            L["outT"] = torch.stack([ly.self_attn.out_proj.weight.T for ly in lay])
            L["bout"] = _vec([ly.self_attn.out_proj.bias for ly in lay])
            L["ln3"] = (_vec([ly.norm3.weight for ly in lay]), _vec([ly.norm3.bias for ly in lay]))
        w["layers"].append({k: v.contiguous() if isinstance(v, torch.Tensor) else v for k, v in L.items()})
    # layer 1 starts from p = 0, so its query features W_q q + b and their keys' weights are input-independent
    L0 = w["layers"][0]
    w["Q0"] = torch.baddbmm(L0["bq"], w["queries"], L0["WqT"])  # (M, K, d)
    w["Q0Wk"] = torch.bmm(w["Q0"], L0["Wk"])  # (M, K, width)
    return w


def stacked_weights(model, have: tuple[str, ...]) -> dict:
    key = (have, _param_key(model))
    cache = model.__dict__.get("_stacked_cache")
    if cache is None or cache[0] != key:
        storages = [p.untyped_storage() for p in model.parameters()]
        cache = (key, storages, _build(model, have))
        model.__dict__["_stacked_cache"] = cache  # a plain attribute: not a buffer, not in the state_dict
    return cache[2]


def _layer_norm(x: torch.Tensor, wb: tuple) -> torch.Tensor:
    # x (M, R, d); per-modality affine (M, 1, d)
    return torch.addcmul(wb[1], F.layer_norm(x, x.shape[-1:]), wb[0])


def stacked_decode(model, feats: dict[str, torch.Tensor], mask: torch.Tensor, have: list[str],
                   present: torch.Tensor | None = None):
    """The decoders of the modalities in `have`, at once. Returns what the per-modality loop (or, with joint
    attention, `LMACNet._joint_decode`) returns: ({m: p (B, K, d)}, {m: attention (B, L, K, T)})."""
    cfg = model.config
    have = tuple(have)
    w = stacked_weights(model, have)
    M, width = len(have), w["width"]
    B, T = mask.shape
    K, d = cfg.num_queries, cfg.d_model
    X = None
    for i, m in enumerate(have):
        xm = model.decoders[m].input_norm(feats[m])  # (B, T, D_m)
        if X is None:
            X = xm.new_zeros(M, B, T, width)
        X[i, :, :, : xm.shape[-1]] = xm
    Xf = X.view(M * B, T, width)
    XT = Xf.transpose(1, 2)  # (M*B, width, T)
    pad = ~mask  # (B, T)
    q = w["queries"][:, None].expand(M, B, K, d).reshape(M, B * K, d)
    p = None  # starts at zero
    pe = sinusoidal_positions(T, d, X.device, X.dtype) if cfg.pos_encoding == "sine" else None
    joint = cfg.attention == "joint" and M > 1
    alphas = []
    for i, L in enumerate(w["layers"]):
        if p is None:  # layer 1: W_q q + b and (W_q q + b) W_k were computed with the weights
            Q = w["Q0"][:, None].expand(M, B, K, d).reshape(M * B, K, d)
            QWk = w["Q0Wk"][:, None].expand(M, B, K, width).reshape(M * B, K, width)
        else:
            Q = torch.baddbmm(L["bq"], p + q, L["WqT"])  # (M, B*K, d)
            QWk = torch.bmm(Q, L["Wk"]).view(M * B, K, width)
            Q = Q.view(M * B, K, d)
        logits = torch.bmm(QWk, XT)  # (M*B, K, T)
        if pe is not None:
            logits = logits + Q @ pe.T
        logits = (logits.view(M, B, K, T) * L["inv_scale"]).masked_fill(pad[None, :, None, :], float("-inf"))
        if joint:
            if model.joint_gate is not None:
                idx = [model.modalities.index(m) for m in have]
                g = model.joint_gate[i, idx].softmax(0)
                wts = (g / g.sum()).view(M, 1, 1, 1)
                padm = pad[None, :, None, :]
                logits = (wts * logits.masked_fill(padm, 0.0)).sum(0).masked_fill(padm[0], float("-inf"))
            else:
                logits = logits.mean(0)
            alpha1 = logits.softmax(-1)  # (B, K, T), shared
            alpha = alpha1.expand(M, B, K, T).reshape(M * B, K, T)
        else:
            alpha = logits.softmax(-1).view(M * B, K, T)
        if "WvT" in L:  # linear values: (alpha x) W_v^T + b, rows of alpha sum to 1
            att = torch.baddbmm(L["bv"], torch.bmm(alpha, Xf).view(M, B * K, width), L["WvT"])  # (M, B*K, d)
        else:
            V = torch.baddbmm(L["vb1"], X.view(M, B * T, width), L["v1T"])
            V = torch.baddbmm(L["vb2"], F.gelu(V), L["v2T"]).view(M * B, T, d)
            att = torch.bmm(alpha, V).view(M, B * K, d)
        p = _layer_norm(att if p is None else p + att, L["ln1"])
        h = torch.baddbmm(L["b1"], p, L["fc1T"]).relu_()
        p = _layer_norm(p + torch.baddbmm(L["b2"], h, L["fc2T"]), L["ln2"])
        if "inT_qk" in L:  # self-attention across the queries (nn.MultiheadAttention's computation)
            H = cfg.num_heads
            hd = d // H
            qk_proj = torch.baddbmm(L["bin_qk"], p + q, L["inT_qk"])  # (M, B*K, 2d)
            v_proj = torch.baddbmm(L["bin_v"], p, L["inT_v"])  # (M, B*K, d)

            def heads(t):
                return t.reshape(M * B, K, H, hd).transpose(1, 2)  # (M*B, H, K, hd)

            mixed = F.scaled_dot_product_attention(heads(qk_proj[..., :d]), heads(qk_proj[..., d:]), heads(v_proj))
            mixed = mixed.transpose(1, 2).reshape(M, B * K, d)
            p = _layer_norm(p + torch.baddbmm(L["bout"], mixed, L["outT"]), L["ln3"])
        alphas.append(alpha1 if joint else alpha.view(M, B, K, T))
    if joint:
        a = torch.stack(alphas, dim=1)  # (B, L, K, T)
        attn = {m: a for m in have}
    else:
        a = torch.stack(alphas, dim=2)  # (M, B, L, K, T)
        attn = {m: a[i] for i, m in enumerate(have)}
    p = p.view(M, B, K, d)
    return {m: p[i] for i, m in enumerate(have)}, attn
