"""Charts drawn on the server as SVG: no script, no CDN; each sits next to a table with the same numbers."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 230
CHART_WIDTH = 440


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str, chart_id: str) -> SafeString:
    """Horizontal bars, one per (label, value), labelled with their value; `title` names it for screen readers.

    The SVG scales to its container (viewBox), so it stays readable on a phone.
    """
    most = max((value for _label, value in rows), default=0) or 1
    bar_room = CHART_WIDTH - LABEL_WIDTH - 60
    height = max(len(rows), 1) * (BAR_HEIGHT + GAP) + GAP
    bars = format_html_join(
        "",
        '<g transform="translate(0,{})"><text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>'
        '<rect x="{}" y="0" width="{}" height="{}" class="chart-bar"></rect>'
        '<text x="{}" y="{}" class="chart-value">{}</text></g>',
        (
            (
                GAP + index * (BAR_HEIGHT + GAP),
                LABEL_WIDTH - 8,
                BAR_HEIGHT * 0.7,
                label,
                LABEL_WIDTH,
                round(bar_room * value / most, 1),
                BAR_HEIGHT,
                LABEL_WIDTH + round(bar_room * value / most, 1) + 6,
                BAR_HEIGHT * 0.7,
                number_format(value, use_l10n=True, force_grouping=True),
            )
            for index, (label, value) in enumerate(rows)
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title" '
        'preserveAspectRatio="xMinYMin meet"><title id="{}-title">{}</title>{}</svg>',
        CHART_WIDTH,
        height,
        chart_id,
        chart_id,
        title,
        bars,
    )
