"""Broken storyboards and templates: (id, storyboard text, extra files, pinned message)."""

from __future__ import annotations

from helpers import png_bytes

OK_SCENE = """
title: T
scenes:
  - id: a
    prompt: A red kite over a grey sea.
    duration: 8
"""

CASES: list[tuple[str, str, dict[str, str | bytes], str]] = [
    (
        "bad-yaml-indent",
        """
title: T
scenes:
  - id: a
   prompt: x
""",
        {},
        "",
    ),
    ("bad-yaml-tab", "title: T\nscenes:\n\t- id: a\n", {}, ""),
    ("not-a-mapping", "- just\n- a list\n", {}, ""),
    ("empty-file", "", {}, ""),
    (
        "duplicate-yaml-key",
        """
title: T
title: U
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "missing-title",
        """
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    ("missing-scenes", "title: T\n", {}, ""),
    ("empty-scenes", "title: T\nscenes: []\n", {}, ""),
    (
        "unknown-top-key",
        """
title: T
scenez: []
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "unknown-scene-key",
        """
title: T
scenes:
  - id: a
    promt: A red kite over a grey sea.
    duration: 8
""",
        {},
        "",
    ),
    (
        "wrong-type-duration",
        """
title: T
scenes:
  - id: a
    prompt: A red kite over a grey sea.
    duration: eight
""",
        {},
        "",
    ),
    (
        "bad-duration",
        """
title: T
scenes:
  - id: a
    prompt: A red kite over a grey sea.
    duration: 10
""",
        {},
        "",
    ),
    (
        "no-duration",
        """
title: T
scenes:
  - id: a
    prompt: A red kite over a grey sea.
""",
        {},
        "",
    ),
    (
        "bad-size",
        """
title: T
size: 1920x1080
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "malformed-size",
        """
title: T
size: big
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "bad-slug",
        """
title: T
scenes:
  - {id: Scene One, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "duplicate-ids",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
  - {id: a, prompt: A blue kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "prompt-and-template",
        """
title: T
scenes:
  - {id: a, prompt: A red kite., template: shot.j2, subject: kite, duration: 8}
""",
        {},
        "",
    ),
    (
        "no-prompt",
        """
title: T
scenes:
  - {id: a, duration: 8}
""",
        {},
        "",
    ),
    (
        "prompt-too-short",
        """
title: T
scenes:
  - {id: a, prompt: "{{ 'x' }}", duration: 8}
""",
        {},
        "",
    ),
    (
        "prompt-too-long",
        """
title: T
vars: {word: "kite "}
scenes:
  - id: a
    prompt: "{{ word * 1300 }}"
    duration: 8
""",
        {},
        "",
    ),
    (
        "undefined-variable",
        """
title: T
scenes:
  - id: a
    prompt: |
      A kite over the sea.
      It belongs to {{ hero }}.
    duration: 8
""",
        {},
        "",
    ),
    (
        "template-syntax-error",
        """
title: T
scenes:
  - id: a
    prompt: "A kite {% if %} over the sea"
    duration: 8
""",
        {},
        "",
    ),
    (
        "sandbox-escape",
        """
title: T
scenes:
  - id: a
    prompt: "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    duration: 8
""",
        {},
        "",
    ),
    (
        "template-not-found",
        """
title: T
scenes:
  - {id: a, template: nope.j2, duration: 8}
""",
        {},
        "",
    ),
    (
        "template-file-undefined",
        """
title: T
scenes:
  - {id: a, template: mine.j2, duration: 8}
""",
        {"templates/mine.j2": "A kite.\nFlown by {{ pilot }}.\n"},
        "",
    ),
    (
        "template-file-syntax",
        """
title: T
scenes:
  - {id: a, template: mine.j2, duration: 8}
""",
        {"templates/mine.j2": "A kite.\n{% for x in %}\n"},
        "",
    ),
    (
        "include-escape",
        """
title: T
scenes:
  - {id: a, prompt: "{% include '../../etc/passwd' %}", duration: 8}
""",
        {},
        "",
    ),
    (
        "cycle",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, continuity: {mode: extend, from: b}}
  - {id: b, prompt: A red kite over a grey sea., duration: 8, continuity: {mode: extend, from: a}}
""",
        {},
        "",
    ),
    (
        "self-reference",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, continuity: {mode: last_frame, from: a}}
""",
        {},
        "",
    ),
    (
        "from-later-scene",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, continuity: {mode: last_frame, from: b}}
  - {id: b, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "from-unknown-scene",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
  - {id: b, prompt: A red kite over a grey sea., duration: 8, continuity: {mode: extend, from: aa}}
""",
        {},
        "",
    ),
    (
        "first-scene-extends",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, continuity: extend}
""",
        {},
        "",
    ),
    (
        "bad-continuity-mode",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
  - {id: b, prompt: A red kite over a grey sea., duration: 8, continuity: remix}
""",
        {},
        "",
    ),
    (
        "extend-with-first-frame",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
  - {id: b, prompt: A red kite over a grey sea., duration: 8, continuity: extend, first_frame: assets/f.png}
""",
        {"assets/f.png": png_bytes()},
        "",
    ),
    (
        "missing-first-frame",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, first_frame: assets/nope.png}
""",
        {},
        "",
    ),
    (
        "first-frame-escapes",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, first_frame: ../secret.png}
""",
        {},
        "",
    ),
    (
        "first-frame-http",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, first_frame: "http://example.com/a.png"}
""",
        {},
        "",
    ),
    (
        "first-frame-not-image",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, first_frame: notes.txt}
""",
        {"notes.txt": "hello"},
        "",
    ),
    (
        "too-many-results",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, number_results: 5}
""",
        {},
        "",
    ),
    (
        "bad-quality",
        """
title: T
output: {quality: 10}
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "bad-output-format",
        """
title: T
output: {format: AVI}
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "unknown-model",
        """
title: T
model: openai:3@9
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "bad-defaults-duration",
        """
title: T
defaults: {duration: 7}
scenes:
  - {id: a, prompt: A red kite over a grey sea.}
""",
        {},
        "",
    ),
    (
        "defaults-with-id",
        """
title: T
defaults: {id: x}
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "bad-transition",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, transition: wipe}
""",
        {},
        "",
    ),
    (
        "bad-trim",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8, trim: {in: 5, out: 2}}
""",
        {},
        "",
    ),
    (
        "missing-music",
        """
title: T
edit: {music: {file: music/bed.mp3}}
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "bad-loudness",
        """
title: T
edit: {loudness: 3}
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 8}
""",
        {},
        "",
    ),
    (
        "extend-unsupported-model",
        """
title: T
model: alibaba:wan@2.6
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 5}
  - {id: b, prompt: A red kite over a grey sea., duration: 5, continuity: extend}
""",
        {},
        "",
    ),
    (
        "dialogue-missing-line",
        """
title: T
scenes:
  - id: a
    prompt: A red kite over a grey sea.
    duration: 8
    dialogue:
      - {who: Ada}
""",
        {},
        "",
    ),
    (
        "unknown-cast",
        """
title: T
scenes:
  - {id: a, template: shot.j2, subject: a kite, vars: {cast: [bob]}, duration: 8}
""",
        {},
        "",
    ),
    (
        "several-problems",
        """
title: T
scenes:
  - {id: a, prompt: A red kite over a grey sea., duration: 9}
  - {id: b, prompt: "{{ nope }}", duration: 8}
  - {id: c, prompt: A red kite over a grey sea., duration: 8, number_results: 0}
""",
        {},
        "",
    ),
]
