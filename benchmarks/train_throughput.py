"""LoRA SFT throughput of LLaVA-OneVision-Qwen2-0.5B: TRL's stock settings vs the MMRQA recipe, in one run.

The real-size architecture is built from a config with random weights (nothing can be downloaded): Qwen2 (hidden 896,
intermediate 4864, 24 layers, 14 heads, 2 KV heads, vocab 151 936) + SigLIP so400m/14 at 384 px (hidden 1152,
intermediate 4304, 26 layers, 16 heads), see :mod:`mmrqa.modeling.real_size`. Training examples are
real MRI slices (nibabel's ``anatomical.nii``) with a grounded question and answer, collated the way TRL's
``DataCollatorForVisionLanguageModeling`` does (chat template, assistant-only labels), so the script needs only
torch, transformers and peft (no trl, no datasets).

Settings compared (same model, same slices, same LoRA r=32 on the language model, bf16, AdamW):
  (a) stock: TRL ``SFTConfig`` defaults: batch 8, gradient checkpointing on, slices at 512 px (AnyRes picks a
      768x768 grid: 1 base + 4 tiles of 729 tokens), default attention.
  (b) recipe: slices rendered at 384 px (one tile fits: 1 base + 1 tile), SDPA attention, gradient checkpointing
      off (the H200 has the memory), batch 16.
Reported per setting: samples/s, tokens/s (LLM sequence tokens incl. image tokens), peak GPU memory, MFU (6 x params
x tokens for the language model and the vision tower, over the H200's 989 TFLOP/s dense bf16 peak).

    python benchmarks/train_throughput.py            # GPU, < 6 min on an H200
    python benchmarks/train_throughput.py --smoke    # tiny config on CPU: checks the code path in seconds
"""

from __future__ import annotations

import argparse
import importlib.resources
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing mmrqa

H200_PEAK_BF16 = 989e12  # dense bf16 FLOP/s (NVIDIA H200 SXM datasheet, without sparsity)


@dataclass
class Setting:
    name: str
    image_size: int
    batch_size: int
    gradient_checkpointing: bool
    attn_implementation: str | None


def build(smoke: bool, setting: Setting, device: str, dtype):
    """Model (LoRA-wrapped), processor and the vision/LLM parameter counts."""
    from peft import LoraConfig, get_peft_model
    from transformers import LlavaOnevisionForConditionalGeneration

    from mmrqa.modeling import MMRQA_CHAT_TEMPLATE, ImageOnlyLlavaOnevisionProcessor, lora_target_regex
    from mmrqa.modeling.processor import make_image_processor
    from mmrqa.modeling.real_size import real_size_config
    from mmrqa.modeling.tiny import TINY_PINPOINTS, _tiny_config
    from mmrqa.modeling.tokenizer import train_tiny_tokenizer

    tokenizer = train_tiny_tokenizer()
    config = _tiny_config(tokenizer) if smoke else real_size_config(tokenizer)
    size = config.vision_config.image_size
    pinpoints = TINY_PINPOINTS if smoke else config.image_grid_pinpoints
    processor = ImageOnlyLlavaOnevisionProcessor(
        image_processor=make_image_processor(size=size, pinpoints=pinpoints),
        tokenizer=tokenizer,
        num_image_tokens=(size // config.vision_config.patch_size) ** 2,
        vision_feature_select_strategy="full",
        chat_template=MMRQA_CHAT_TEMPLATE,
    )
    torch.manual_seed(0)
    config._attn_implementation = setting.attn_implementation
    with torch.device(device):
        model = LlavaOnevisionForConditionalGeneration(config).to(dtype)
    n_vision = sum(p.numel() for p in model.model.vision_tower.parameters())
    n_llm = sum(p.numel() for p in model.model.language_model.parameters())
    if setting.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    lora = LoraConfig(r=32, lora_alpha=64, lora_dropout=0.0, target_modules=lora_target_regex(), task_type="CAUSAL_LM")
    return get_peft_model(model, lora), processor, n_vision, n_llm


def slices(image_size: int, n: int):
    """``n`` real axial MRI slices (nibabel anatomical.nii), windowed to 8 bit and resized to ``image_size``."""
    from PIL import Image

    try:
        import nibabel as nib

        data = nib.load(importlib.resources.files("nibabel.tests") / "data" / "anatomical.nii").get_fdata()
    except ImportError:  # the GPU machine may lack nibabel: an analytic ellipse phantom with Rician-like noise
        yy, xx = np.mgrid[-1:1:64j, -1:1:64j]
        head = ((xx / 0.8) ** 2 + (yy / 0.9) ** 2 < 1) * 100.0 + ((xx / 0.5) ** 2 + (yy / 0.6) ** 2 < 1) * 50.0
        rng = np.random.default_rng(0)
        data = np.stack([np.abs(head + rng.normal(0, 5, head.shape) + 1j * rng.normal(0, 5, head.shape))] * 16, -1)
    out = []
    for i in range(n):
        sl = data[:, :, 4 + i % (data.shape[2] - 8)]
        lo, hi = np.percentile(sl, [0.5, 99.5])
        u8 = np.round(np.clip((sl - lo) / max(hi - lo, 1e-6), 0, 1) * 255).astype(np.uint8)
        img = Image.fromarray(u8.T[::-1].copy()).convert("RGB").resize((image_size, image_size), Image.BICUBIC)
        out.append((img, f"{float(sl.mean()):.1f}"))
    return out


def collate(processor, batch):
    """TRL's VLM collation: chat template, right padding, labels on assistant tokens only."""
    conversations = [
        [
            {
                "role": "user",
                "content": [{"type": "image", "image": img}, {"type": "text", "text": "Mean intensity?"}],
            },
            {"role": "assistant", "content": [{"type": "text", "text": f"The mean intensity is {mean}."}]},
        ]
        for img, mean in batch
    ]
    out = processor.apply_chat_template(
        conversations,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
        return_assistant_tokens_mask=True,
        processor_kwargs={"padding": True, "padding_side": "right", "add_special_tokens": False},
    )
    labels = out["input_ids"].clone()
    labels[out["attention_mask"] == 0] = -100
    labels[out.pop("assistant_masks") == 0] = -100
    out["labels"] = labels
    return out


def run_setting(setting: Setting, args, device: str) -> dict:
    dtype = torch.float32 if args.smoke else torch.bfloat16
    model, processor, n_vision, n_llm = build(args.smoke, setting, device, dtype)
    model.train()
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    data = slices(setting.image_size, setting.batch_size)
    batch = {k: v.to(device) for k, v in collate(processor, data).items()}
    batch["pixel_values"] = batch["pixel_values"].to(dtype)
    vit_tokens = (
        batch["pixel_values"].shape[0] * batch["pixel_values"].shape[1] * model.config.vision_config.image_size**2
    )
    vit_tokens //= model.config.vision_config.patch_size**2
    llm_tokens = int(batch["attention_mask"].sum())
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    losses = []
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            sync()
            start = time.perf_counter()
        loss = model(**batch).loss
        loss.backward()
        optim.step()
        optim.zero_grad(set_to_none=True)
        losses.append(float(loss))
    sync()
    elapsed = time.perf_counter() - start
    flops = 6 * (n_llm * llm_tokens + n_vision * vit_tokens) * args.steps
    result = {
        "setting": setting.name,
        "image_size": setting.image_size,
        "batch_size": setting.batch_size,
        "gradient_checkpointing": setting.gradient_checkpointing,
        "attn_implementation": setting.attn_implementation or "default",
        "seq_len": int(batch["input_ids"].shape[1]),
        "samples_per_s": setting.batch_size * args.steps / elapsed,
        "tokens_per_s": llm_tokens * args.steps / elapsed,
        "peak_mem_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None,
        "mfu": flops / elapsed / H200_PEAK_BF16 if device == "cuda" else None,
        "loss_first_last": [round(losses[0], 4), round(losses[-1], 4)],
    }
    del model, optim, batch
    if device == "cuda":
        torch.cuda.empty_cache()
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny config on CPU (code-path check, not a benchmark)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per setting (default 20, smoke 2)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 3, smoke 1)")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    args.steps = args.steps or (2 if args.smoke else 20)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.smoke else 3)
    device = "cuda" if torch.cuda.is_available() and not args.smoke else "cpu"
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    if args.smoke:
        settings = [Setting("a-stock", 64, 2, True, None), Setting("b-recipe", 32, 4, False, "sdpa")]
    else:
        settings = [Setting("a-stock", 512, 8, True, None), Setting("b-recipe", 384, 16, False, "sdpa")]
    results = [run_setting(s, args, device) for s in settings]
    speedup = results[1]["samples_per_s"] / results[0]["samples_per_s"]
    report = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "smoke": args.smoke}
    report.update(torch=torch.__version__, results=results, speedup_samples=speedup)
    for r in results:
        mem = f"{r['peak_mem_gib']:.1f} GiB" if r["peak_mem_gib"] is not None else "n/a"
        mfu = f"{100 * r['mfu']:.1f}%" if r["mfu"] is not None else "n/a"
        print(
            f"{r['setting']:9s} img {r['image_size']:4d} bs {r['batch_size']:3d} seq {r['seq_len']:5d} "
            f"{r['samples_per_s']:8.2f} samples/s {r['tokens_per_s']:10.0f} tok/s peak {mem} MFU {mfu}"
        )
    print(f"speedup (b)/(a): {speedup:.2f}x samples/s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=2)
    return report


if __name__ == "__main__":
    main()
