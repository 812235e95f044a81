"""Inference speed of ``MMRQAPipeline``: time from a NIfTI path to an ``Assessment``, split into loading, metrics,
rendering and generation, and generation throughput (new tokens per second).

    python benchmarks/bench_pipeline.py --tiny                 # CPU: the tiny random model (tests' model)
    python benchmarks/bench_pipeline.py --real-size --device cuda --batch 1 8 32   # the 0.5B architecture on a GPU

``--real-size`` builds LLaVA-OneVision-Qwen2-0.5B's architecture (Qwen2 hidden 896, 24 layers, 14 heads, 2 KV heads,
vocabulary 151,936; SigLIP so400m/14 at 384 px) with random weights from its config (nothing is downloaded), in
bfloat16, and measures greedy generation of ``--new-tokens`` tokens for one 384 px image per prompt (729 image
tokens) at several batch sizes; random weights do not stop early (``min_new_tokens`` forces the full length), so the
figure is the decoding throughput of the architecture, not of a trained model's answers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path


def bench_tiny(scan: Path, repeats: int, new_tokens: int) -> dict:
    from mmrqa.modeling import build_tiny_model
    from mmrqa.pipeline import MMRQAPipeline

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "tiny", seed=0)
        start = time.perf_counter()
        pipe = MMRQAPipeline.from_pretrained(model_dir, device="cpu", max_new_tokens=new_tokens, batch_size=16)
        model_load = time.perf_counter() - start
        pipe(scan)  # warm-up
        runs = []
        for _ in range(repeats):
            pipe.last_generated_tokens = 0
            start = time.perf_counter()
            result = pipe(scan)
            total = time.perf_counter() - start
            runs.append({**result.timings, "total": total, "tokens": pipe.last_generated_tokens})
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    median["tokens_per_s"] = median["tokens"] / median["generation"]
    return {"model_load_s": model_load, "median": median, "prompts": len(result.answers), "runs": runs}


def bench_real_size(device: str, batches: list[int], new_tokens: int) -> dict:
    import torch
    from PIL import Image
    from transformers import LlavaOnevisionForConditionalGeneration

    from mmrqa.modeling.real_size import real_size_config, real_size_processor
    from mmrqa.modeling.tokenizer import train_tiny_tokenizer

    tokenizer = train_tiny_tokenizer()
    config = real_size_config(tokenizer, image_grid_pinpoints=[[384, 384]])
    torch.manual_seed(0)
    model = LlavaOnevisionForConditionalGeneration(config).to(device, torch.bfloat16).eval()
    processor = real_size_processor(tokenizer, config)
    tokenizer.padding_side = "left"
    prompt = "<|im_start|>user\n<image>\nRate the overall image quality.<|im_end|>\n<|im_start|>assistant\n"
    image = Image.new("RGB", (384, 384), 128)
    out = {"params": sum(p.numel() for p in model.parameters()), "device": torch.cuda.get_device_name(0)}
    for batch in batches:
        inputs = processor(images=[image] * batch, text=[prompt] * batch, padding=True, return_tensors="pt")
        inputs = inputs.to(device)
        inputs["pixel_values"] = inputs["pixel_values"].to(torch.bfloat16)
        kwargs = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
        with torch.inference_mode():
            model.generate(**inputs, **kwargs)
            torch.cuda.synchronize()
            start = time.perf_counter()
            model.generate(**inputs, **kwargs)
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        out[f"batch_{batch}"] = {"seconds": seconds, "tokens_per_s": batch * new_tokens / seconds}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model on CPU, timing split per stage")
    parser.add_argument("--real-size", action="store_true", help="0.5B architecture, random weights, tokens/s")
    parser.add_argument("--scan", type=Path, default=None, help="NIfTI path (default: nibabel's anatomical.nii)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args(argv)
    results = {}
    if args.tiny or not args.real_size:
        from mmrqa.data import sample_path

        results["tiny_cpu"] = bench_tiny(args.scan or sample_path("t1"), args.repeats, args.new_tokens)
    if args.real_size:
        results["real_size"] = bench_real_size(args.device, args.batch, args.new_tokens)
    print(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
