"""Draw layer graphs as Mermaid flowcharts or Graphviz DOT, with findings highlighted.

``bnlint graph PATH --format mermaid`` prints one fenced ```` ```mermaid ````
block per model (``flowchart TD``), ready to paste into GitHub Markdown;
``--format dot`` prints one ``digraph`` per model for Graphviz. A node is
one layer call, labelled with its layer name and class; a node with
findings gets the codes in its label and the ``finding`` style (red).
"""

from __future__ import annotations

from bnlint.diagnostics import Diagnostic
from bnlint.graph import ModelGraph

__all__ = ["node_findings", "mermaid", "mermaid_warnings", "dot"]

#: Mermaid's default limits (GitHub renders with them): more edges or text than this is not drawn.
MERMAID_MAX_EDGES = 500
MERMAID_MAX_TEXT = 50_000


def node_findings(graph: ModelGraph, diagnostics: list[Diagnostic]) -> dict[int, list[str]]:
    """The rule codes reported on each node of *graph* (nodes without findings are absent).

    A finding covers a node when it was reported at the node's origin for
    one of the node's layer names in *graph*'s model.
    """
    found: dict[int, list[str]] = {}
    for node, layer in graph.layers():
        for diagnostic in diagnostics:
            if (diagnostic.origin == layer.origin and layer.name in diagnostic.instances
                    and (not diagnostic.models or graph.name in diagnostic.models)):
                codes = found.setdefault(node, [])
                if diagnostic.code not in codes:
                    codes.append(diagnostic.code)
    return found


def _label_lines(graph: ModelGraph, node: int, codes: list[str]) -> list[str]:
    layer = graph.layer(node)
    lines = [layer.name, layer.class_name]
    if layer.submodel is not None:
        lines[1] += f" (model {layer.submodel.name})"
    if codes:
        lines.append(" ".join(sorted(codes)))
    return lines


_MERMAID_ENTITIES = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;",
                     "\n": " ", "\r": " "}


def mermaid_escape(text: str) -> str:
    """*text* safe inside a quoted Mermaid label (entity codes for ``" < > & # ` ``).

    >>> mermaid_escape('a "b" <c>')
    'a #quot;b#quot; #lt;c#gt;'
    """
    return "".join(_MERMAID_ENTITIES.get(char, char) for char in text)


def mermaid(graphs: list[tuple[ModelGraph, dict[int, list[str]]]]) -> str:
    """Markdown with one ```` ```mermaid ```` flowchart per ``(graph, findings by node)``.

    >>> from bnlint.graph import Layer
    >>> g = ModelGraph("m")
    >>> a = g.add_layer(Layer("drop", "Dropout", "dropout"))
    >>> b = g.add_layer(Layer("bn", "BatchNormalization", "batchnorm"))
    >>> g.add_edge(a, b)
    >>> print(mermaid([(g, {a: ["BN003"]})]))  # doctest: +NORMALIZE_WHITESPACE
    ```mermaid
    flowchart TD
      %% model m
      n0["drop<br/>Dropout<br/>BN003"]:::finding
      n1["bn<br/>BatchNormalization"]
      n0 --> n1
      classDef finding fill:#ffe0e0,stroke:#d00000,stroke-width:2px,color:#000000
    ```
    """
    blocks = []
    for graph, findings in graphs:
        title = " ".join(f"{graph.name} ({graph.origin})".split()) if graph.origin else graph.name
        lines = ["```mermaid", "flowchart TD", f"  %% model {title}"]
        for node, _ in graph.layers():
            label = "<br/>".join(mermaid_escape(line) for line in _label_lines(graph, node, findings.get(node, [])))
            lines.append(f'  n{node}["{label}"]' + (":::finding" if node in findings else ""))
        for producer, consumer, _ in graph.edges():
            lines.append(f"  n{producer} --> n{consumer}")
        lines.append("  classDef finding fill:#ffe0e0,stroke:#d00000,stroke-width:2px,color:#000000")
        lines.append("```")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def mermaid_warnings(graphs: list[tuple[ModelGraph, dict[int, list[str]]]]) -> list[str]:
    """Why Mermaid (and GitHub) would refuse to draw some of these graphs, one sentence per graph."""
    warnings = []
    for graph, findings in graphs:
        edges = sum(1 for _ in graph.edges())
        size = len(mermaid([(graph, findings)]))
        if edges > MERMAID_MAX_EDGES or size > MERMAID_MAX_TEXT:
            where = getattr(graph.origin, "path", None)  # (the file, as every other warning names it)
            warnings.append(
                f"{where + ': ' if where else ''}model {graph.name} has {edges} edges and {size} characters of Mermaid; Mermaid draws at most "
                f"{MERMAID_MAX_EDGES} edges and {MERMAID_MAX_TEXT} characters by default (GitHub too): "
                "use --format dot for it")
    return warnings


def dot_quote(text: str) -> str:
    """*text* as a double-quoted DOT string (backslashes and quotes escaped, newlines as ``\\n``).

    >>> print(dot_quote('say "hi"\\\\'))
    "say \\"hi\\"\\\\"
    """
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "\\n")
    return f'"{escaped}"'


def dot(graphs: list[tuple[ModelGraph, dict[int, list[str]]]]) -> str:
    """Graphviz DOT: one ``digraph`` per ``(graph, findings by node)``."""
    parts = []
    for graph, findings in graphs:
        title = f"{graph.name} ({graph.origin})" if graph.origin else graph.name
        lines = [f"digraph {dot_quote(graph.name)} {{", f"  label={dot_quote(title)};", "  labelloc=t;",
                 "  rankdir=TB;", '  node [shape=box, style="rounded", fontname="Helvetica"];']
        for node, _ in graph.layers():
            label = "\\n".join(dot_quote(line)[1:-1] for line in _label_lines(graph, node, findings.get(node, [])))
            attributes = [f'label="{label}"']
            if node in findings:
                attributes += ['class="finding"', 'style="rounded,filled"', 'fillcolor="#ffe0e0"', 'color="#d00000"',
                               "penwidth=2"]
            lines.append(f"  n{node} [{', '.join(attributes)}];")
        for producer, consumer, index in graph.edges():
            lines.append(f"  n{producer} -> n{consumer}" + (f' [label="{index}"]' if index else "") + ";")
        lines.append("}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + ("\n" if parts else "")
