"""An assistant answer: a Markdown widget the model's text streams into.

Its own module so that Markdown (markdown-it, pygments) is imported with the first answer, not
before the first paint (issue 15). ``ChatLog`` folds its far blocks (``block_fold``).
"""

from __future__ import annotations

from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownStream

from codeagent.sanitize import display_text
from codeagent.tui.widgets.block_fold import unfold_all
from codeagent.tui.widgets.chat import ChatLog


class AssistantMessage(Markdown):
    """One assistant answer, fed incrementally through a ``MarkdownStream``."""

    def __init__(self, item_id: str, text: str = "") -> None:
        text = display_text(text)
        super().__init__(text or None)
        self.item_id = item_id
        self._stream: MarkdownStream | None = None
        self.text = text
        #: exactly what arrived through ``write`` (``finish`` may replace ``text`` with the whole)
        self.streamed = ""

    async def write(self, delta: str) -> None:
        """Append ``delta`` to the answer."""
        delta = display_text(delta)
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        self.text += delta
        self.streamed += delta
        await self._stream.write(delta)
        if isinstance(self.parent, ChatLog):
            self.parent.refold_soon()

    @property
    def streaming(self) -> bool:
        """Whether text is still being streamed into this answer."""
        return self._stream is not None

    async def finish(self, text: str) -> None:
        """Stop streaming; if nothing was streamed, show ``text`` whole."""
        text = display_text(text)
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if text and text != self.text:
            self.text = text
            await unfold_all(self)
            await self.update(text)


__all__ = ["AssistantMessage"]
