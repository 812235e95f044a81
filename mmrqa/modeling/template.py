"""The MMRQA chat template (ChatML, as used by Qwen2 and LLaVA-OneVision-Qwen2).

Why our own template: the official llava-hf OneVision template renders an assistant turn differently from its
generation prompt and leaves ``<|im_end|>`` outside ``{% generation %}``, so with ``assistant_only_loss=True`` the
model is never taught to stop. In this template

- every assistant turn is ``<|im_start|>assistant\\n`` + answer + ``<|im_end|>``, and the answer *and* the
  ``<|im_end|>`` sit inside ``{% generation %}...{% endgeneration %}`` (so they, and only they, carry loss);
- the generation prompt (``add_generation_prompt=True``) is exactly ``<|im_start|>assistant\\n``, the same prefix the
  model saw before every answer in training;
- message content may be a plain string or a list of parts ``{"type": "image"}`` / ``{"type": "text", "text": ...}``;
  an image part renders as ``<image>\\n`` (the processor expands it to the image's feature tokens). Parts coming back
  from Parquet carry ``"text": None`` on image parts; that is ignored.
"""

from __future__ import annotations

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
IMAGE_TOKEN = "<image>"
VIDEO_TOKEN = "<video>"
PAD_TOKEN = "<|endoftext|>"

#: The generation prompt, identical to the prefix of every assistant turn in training.
GENERATION_PROMPT = IM_START + "assistant\n"

MMRQA_CHAT_TEMPLATE = (
    "{%- macro render(content) -%}"
    "{%- if content is string -%}{{ content }}"
    "{%- else -%}{%- for part in content -%}"
    "{%- if part['type'] == 'image' -%}{{ '<image>\n' }}"
    "{%- elif part['type'] == 'video' -%}{{ '<video>\n' }}"
    "{%- elif part['type'] == 'text' and part['text'] is not none -%}{{ part['text'] }}"
    "{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{%- endmacro -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ render(message['content']) }}{{ '<|im_end|>' }}{% endgeneration %}"
    "{{ '\n' }}"
    "{%- else -%}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}{{ render(message['content']) }}{{ '<|im_end|>\n' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\n' }}{%- endif -%}"
)
