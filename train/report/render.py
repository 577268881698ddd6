"""One document written twice: self-contained HTML (images inline) and Markdown
with the figures as PNG files beside it. Each call adds the same content to both."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from train.report.figures import Figure


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


class Document:
    def __init__(self, title: str):
        self.title = title
        self.figures: list[Figure] = []
        self._md = [f"# {title}"]
        self._html = [f"<h1>{html.escape(title)}</h1>"]

    def section(self, title: str) -> None:
        self._md.extend(["", f"## {title}", ""])
        self._html.append(f"<h2>{html.escape(title)}</h2>")

    def para(self, text: str) -> None:
        self._md.extend([text, ""])
        self._html.append(f"<p>{html.escape(text)}</p>")

    def table(self, header: list[str], rows: list[list], highlight: int | None = None) -> None:
        """A table; row number `highlight` (the selected model) is emphasised."""
        md = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
        hs = [
            "<table><thead><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in header)
            + "</tr></thead><tbody>"
        ]
        for k, row in enumerate(rows):
            cells = [str(c) for c in row]
            strong = k == highlight
            md.append(
                "| "
                + " | ".join(f"**{_md_cell(c)}**" if strong and c else _md_cell(c) for c in cells)
                + " |"
            )
            cls = ' class="winner"' if strong else ""
            hs.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        hs.append("</tbody></table>")
        self._md.extend(["\n".join(md), ""])
        self._html.append("".join(hs))

    def figure(self, fig: Figure | None) -> None:
        if fig is None:
            return
        self.figures.append(fig)
        self._md.extend([f"![{fig.title}](figures/{fig.name}.png)", ""])
        data = base64.b64encode(fig.png).decode()
        cap = f"<figcaption>{html.escape(fig.caption)}</figcaption>" if fig.caption else ""
        self._html.append(
            f'<figure><img alt="{html.escape(fig.title)}" src="data:image/png;base64,'
            f'{data}">{cap}</figure>'
        )
        if fig.caption:
            self._md.extend([f"*{fig.caption}*", ""])

    def markdown(self) -> str:
        return "\n".join(self._md) + "\n"

    def page(self) -> str:
        return _HTML.format(title=html.escape(self.title), body="\n".join(self._html))

    def write(self, out: Path) -> None:
        """report.html, report.md and figures/*.png into the folder `out`."""
        out = Path(out)
        (out / "figures").mkdir(exist_ok=True)
        for fig in self.figures:
            (out / "figures" / f"{fig.name}.png").write_bytes(fig.png)
        (out / "report.html").write_text(self.page())
        (out / "report.md").write_text(self.markdown())


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1a1a1a; line-height: 1.45; }}
h1 {{ font-size: 1.6em; }} h2 {{ margin-top: 2em; border-bottom: 1px solid #ccc; }}
table {{ border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
tr.winner td {{ background: #fff2cc; font-weight: 600; }}
figure {{ margin: 1em 0; }} img {{ max-width: 100%; height: auto; }}
figcaption {{ font-size: 0.85em; color: #555; }}
</style></head><body>
{body}
</body></html>
"""
