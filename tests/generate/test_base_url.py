"""RUNWARE_BASE_URL is judged once, the same way by `render` and `status` (hostile F11):
`https://` (no host) is refused up front like `ftp://…`, `file://…` and `garbage`, and
`status` says so too instead of judging the takes as if the URL were fine."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import write_project

from storyboard.cli.main import main
from storyboard.errors import StoryboardError
from storyboard.generate.backend import BackendOptions

BAD = [
    "https://",
    "https:///v1",
    "ftp://127.0.0.1/",
    "file:///etc/passwd",
    "garbage",
    "http://[::1",
    # hostile helper-42: accepted, then each task journaled and sent to a host that cannot be
    "https://exa mple.com/v1",
    "https://exa%mple.com/v1",
    "https://host:99999/v1",
    "https://host:0/v1",
    "https://-host.example/v1",
    # hostile helper-46: passed the check (urlsplit drops tabs and line ends), then a traceback
    # or every scene failing on the network; a user and password went as Basic auth
    "http://127.0.0.1:8765/v1\r",
    "https://api.runware.ai/v1\n",
    "https://api.run\tware.ai/v1",
    " https://api.runware.ai/v1",
    "http://user:s3cret@127.0.0.1:8765/v1",
    "http://127.0.0.1:/v1",
]


@pytest.mark.parametrize("url", BAD)
def test_a_bad_url_is_one_message_from_render_and_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, url: str
) -> None:
    monkeypatch.setenv("RUNWARE_API_KEY", "x")
    monkeypatch.setenv("RUNWARE_BASE_URL", url)
    board = (
        "title: T\nmodel: google:3@3\nscenes:\n  - {id: a, prompt: A kite at sea., duration: 4}\n"
    )
    p = write_project(tmp_path / "p", board)
    said = []
    for cmd in (["render", str(p), "--no-compose", "--quiet"], ["status", str(p)]):
        assert main(cmd) == 1, cmd
        err = capsys.readouterr().err.strip().splitlines()
        assert err and "Traceback" not in "\n".join(err), err
        said.append(err[-1])
        assert f"RUNWARE_BASE_URL {url}" in err[-1] or f"RUNWARE_BASE_URL {url!r}" in err[-1], err
    assert said[0] == said[1]  # the same judgement, in the same words
    assert not (p / "build" / "takes").exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://api.runware.ai/v1",
        "http://127.0.0.1:9/v1",
        "https://api.runware.ai:443/v1",
        "https://[2001:db8::1]:8443/v1",
        "https://bücher.example/v1",
        "https://my_host.internal/v1",
        "http://localhost:65535/",
    ],
)
def test_good_urls_pass(url: str) -> None:
    assert BackendOptions(api_key="k", base_url=url).check() is None


def test_no_host_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoryboardError, match="names no host"):
        BackendOptions(api_key="k", base_url="https://").check()
