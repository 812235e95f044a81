"""Safe loading, checked on the source (issue 11): loading a file or a checkpoint never runs code from it.

An AST scan of the shipped code (``mmrqa/``, ``dataset_builder/``, ``train_sft.py``, ``space/``, ``benchmarks/``)
fails on:

- ``pickle``/``cPickle``/``dill``/``cloudpickle``/``joblib`` ``load(s)``, ``pandas.read_pickle`` and
  ``numpy.load(allow_pickle=True)``: unpickling runs arbitrary code. The only exception is a line marked
  ``# noqa: S301`` whose bytes the process produced itself (e.g. Ray task results), visible in review;
- ``torch.load`` without ``weights_only=True``;
- ``yaml.load`` without a safe loader, ``yaml.unsafe_load``/``yaml.full_load``;
- the builtins ``eval``/``exec``;
- ``trust_remote_code`` set to anything but ``False``;
- ``from_pretrained`` of a model class without ``use_safetensors=True`` (processors, tokenizers and configs load
  no weights; PEFT adapters load ``adapter_model.safetensors`` first and fall back to ``torch.load`` with
  ``weights_only=True``);
- a Hub download (``from_pretrained``, ``snapshot_download``, ``hf_hub_download``, ``load_dataset``) that cannot be
  pinned: the call passes ``revision=`` (or forwards ``**kwargs``), unless listed in ``LOCAL_ONLY`` with the reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("mmrqa", "dataset_builder", "train_sft.py", "space", "benchmarks")
UNPICKLERS = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib"}
HUB_CALLS = {"from_pretrained", "snapshot_download", "hf_hub_download", "load_dataset"}
NO_WEIGHTS = ("Processor", "Tokenizer", "Config", "FeatureExtractor", "ImageProcessor", "GenerationConfig")
#: (file, call) pairs that read a local folder only, with the reason they need no revision of their own.
LOCAL_ONLY = {
    (
        "mmrqa/pipeline/model.py",
        "PeftModel.from_pretrained",
    ): "reads the snapshot resolve_checkpoint(revision) fetched",
    ("dataset_builder/push.py", "load_dataset"): "reloads the builder's own local output folder before pushing",
    ("mmrqa/pretrain_mini.py", "load_dataset"): "reads the datasets the pretraining run built in its own work folder",
    (
        "mmrqa/pretrain_mini.py",
        "LlavaOnevisionForConditionalGeneration.from_pretrained",
    ): "reads the checkpoint the pretraining run wrote in its own work folder, to export its weights",
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    code: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.code}"


def _sources() -> list[Path]:
    files: list[Path] = []
    for name in SCANNED:
        target = REPO / name
        if target.is_file():
            files.append(target)
        elif target.is_dir():
            files.extend(p for p in target.rglob("*.py") if ".venv" not in p.parts)
    return sorted(files)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func) + "()"
    return "?"


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _is_const(node: ast.expr | None, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _forwards_kwargs(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords)


def _check_call(call: ast.Call, rel: str, line_text: str) -> list[str]:
    """The rules a call breaks (an empty list when it is safe)."""
    name = _dotted(call.func)
    parts = name.split(".")
    head, attr = parts[0], parts[-1]
    broken = []
    if head in UNPICKLERS and attr in ("load", "loads", "Unpickler") and "noqa: S301" not in line_text:
        broken.append("unpickling runs code from the data")
    if attr == "read_pickle":
        broken.append("pandas.read_pickle unpickles")
    if attr == "load" and head in ("np", "numpy") and not _is_const(_keyword(call, "allow_pickle"), False):
        if _keyword(call, "allow_pickle") is not None:
            broken.append("numpy.load with allow_pickle")
    if name == "torch.load" and not _is_const(_keyword(call, "weights_only"), True):
        broken.append("torch.load without weights_only=True")
    if head == "yaml" and attr in ("unsafe_load", "full_load", "unsafe_load_all", "full_load_all"):
        broken.append(f"yaml.{attr} constructs arbitrary objects")
    if name == "yaml.load" and "Safe" not in _dotted(_keyword(call, "Loader") or ast.Constant(None)):
        broken.append("yaml.load without SafeLoader")
    if name in ("eval", "exec"):
        broken.append(f"builtin {name}")
    trust = _keyword(call, "trust_remote_code")
    if trust is not None and not _is_const(trust, False):
        broken.append("trust_remote_code not False")
    if attr == "from_pretrained" and _loads_weights(parts) and not _is_const(_keyword(call, "use_safetensors"), True):
        broken.append("model from_pretrained without use_safetensors=True")
    if attr in HUB_CALLS and (rel, _short(name)) not in LOCAL_ONLY and rel.startswith(("mmrqa/", "space/", "dataset")):
        if not (_keyword(call, "revision") is not None or _forwards_kwargs(call)) and not _own_api(parts):
            broken.append("Hub download without revision=")
    return broken


def _short(name: str) -> str:
    return ".".join(name.split(".")[-2:])


def _loads_weights(parts: list[str]) -> bool:
    owner = parts[-2] if len(parts) > 1 else ""
    if any(word in owner for word in NO_WEIGHTS) or owner in ("PeftModel", "cls", "MMRQAPipeline", "processor_cls"):
        return False
    return owner.endswith(("Model", "LM", "Generation")) or owner.startswith("Auto")


def _own_api(parts: list[str]) -> bool:
    """MMRQA's own ``from_pretrained`` (the pipeline) takes ``revision`` itself; checked where it downloads."""
    return len(parts) > 1 and parts[-2] in ("MMRQAPipeline", "cls")


def scan() -> list[Finding]:
    findings = []
    for path in _sources():
        rel = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text, filename=rel)):
            if isinstance(node, ast.Call):
                line_text = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
                for rule in _check_call(node, rel, line_text):
                    findings.append(Finding(rel, node.lineno, rule, line_text.strip()[:120]))
    return findings


def test_source_tree_is_scanned():
    files = {p.relative_to(REPO).as_posix() for p in _sources()}
    assert "mmrqa/io/__init__.py" in files and "train_sft.py" in files
    assert len(files) > 20


def test_no_unsafe_loading_in_the_source():
    findings = scan()
    assert not findings, "unsafe loading:\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize(
    ("snippet", "rule"),
    [
        ("import pickle\npickle.loads(blob)", "unpickling"),
        ("import joblib\njoblib.load('m.joblib')", "unpickling"),
        ("import torch\ntorch.load('w.pt')", "weights_only"),
        ("import torch\ntorch.load('w.pt', weights_only=False)", "weights_only"),
        ("import yaml\nyaml.load(text)", "SafeLoader"),
        ("import yaml\nyaml.load(text, Loader=yaml.Loader)", "SafeLoader"),
        ("eval(expr)", "builtin eval"),
        ("AutoModel.from_pretrained(x, trust_remote_code=True)", "trust_remote_code"),
        ("LlavaOnevisionForConditionalGeneration.from_pretrained(x, revision=r)", "use_safetensors"),
        ("from huggingface_hub import snapshot_download\nsnapshot_download(repo_id)", "revision"),
        ("datasets.load_dataset(name)", "revision"),
    ],
)
def test_scanner_catches_each_unsafe_pattern(snippet, rule):
    """The scan is only worth something if it fires: one hostile line per rule."""
    broken = [
        r
        for node in ast.walk(ast.parse(snippet))
        if isinstance(node, ast.Call)
        for r in _check_call(node, "mmrqa/example.py", snippet.splitlines()[-1])
    ]
    assert any(rule in r for r in broken), broken


@pytest.mark.parametrize(
    "snippet",
    [
        "import torch\ntorch.load('w.pt', weights_only=True)",
        "import yaml\nyaml.safe_load(text)",
        "import yaml\nyaml.load(text, Loader=yaml.SafeLoader)",
        "AutoProcessor.from_pretrained(x, revision=r)",
        "Model.from_pretrained(x, revision=r, use_safetensors=True, trust_remote_code=False)",
        "model.eval()",
        "pickle.loads(blob)  # noqa: S301 - rows this process pickled",
    ],
)
def test_scanner_accepts_safe_patterns(snippet):
    broken = [
        r
        for node in ast.walk(ast.parse(snippet))
        if isinstance(node, ast.Call)
        for r in _check_call(node, "mmrqa/example.py", snippet.splitlines()[-1])
    ]
    assert not broken, broken
