"""(being written)"""

from markdown.extensions import Extension


class CalloutExtension(Extension):
    def extendMarkdown(self, md):  # noqa: N802
        pass


def makeExtension(**kwargs):  # noqa: N802 - Python-Markdown's name
    return CalloutExtension(**kwargs)
