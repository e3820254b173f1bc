"""Route arrows: choose the sides to join, spread shared sides, bend with a cubic curve.

Every pair of allowed sides is a candidate. Its cost is the curve's length weighted by how
much the ends face each other, plus heavy penalties for running through a shape or a label
(the two connected shapes included, so an arrow never crosses them) and for crossing other
arrows. Cells may only use the sides on the outside of their row/column. When no pair
faces (two cells of one column), the chosen curve loops out of a common side. A group's
frame may be crossed, but only as often as it must (once when one end is inside the group
and the other is not): a curve that leaves a frame to loop back in from its far side costs
:data:`_FRAME` per extra crossing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .layout import Anchor, Rect

Point = tuple[float, float]
NORMALS: dict[str, Point] = {"left": (-1, 0), "right": (1, 0), "top": (0, -1), "bottom": (0, 1)}
_CLEARANCE = 4.0  # gap between an arrow end and the outline it touches
_HIT = 10_000.0  # cost of running through a shape or label
_CROSS = 400.0  # cost of crossing another arrow
_FRAME = 2_000.0  # cost of each crossing of a group's frame beyond those it must make
_FRAME_MARGIN = 12.0  # a curve this close outside a frame counts as crossing it
_SAMPLES = 48


@dataclass
class Route:
    start: Point
    c1: Point
    c2: Point
    end: Point

    def at(self, t: float) -> Point:
        """Point of the cubic at ``t``."""
        u = 1 - t
        pts = (self.start, self.c1, self.c2, self.end)
        coef = (u**3, 3 * u * u * t, 3 * u * t * t, t**3)
        return (
            sum(c * p[0] for c, p in zip(coef, pts, strict=True)),
            sum(c * p[1] for c, p in zip(coef, pts, strict=True)),
        )

    def polyline(self) -> list[Point]:
        return [self.at(i / _SAMPLES) for i in range(_SAMPLES + 1)]

    def bounds(self) -> Rect:
        xs = [p[0] for p in (self.start, self.c1, self.c2, self.end)]
        ys = [p[1] for p in (self.start, self.c1, self.c2, self.end)]
        return Rect(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _side_point(rect: Rect, side: str, frac: float = 0.5) -> Point:
    if side == "left":
        return rect.x, rect.y + rect.h * frac
    if side == "right":
        return rect.right, rect.y + rect.h * frac
    if side == "top":
        return rect.x + rect.w * frac, rect.y
    return rect.x + rect.w * frac, rect.bottom


def curve(a: Rect, sa: str, fa: float, b: Rect, sb: str, fb: float) -> Route:
    """A cubic from side ``sa`` of ``a`` to side ``sb`` of ``b`` (``f*``: place along the side).

    It leaves and enters perpendicular to the sides; when the sides do not face each other
    the handles are longer, so the curve swings clear of the shapes.
    """
    na, nb = NORMALS[sa], NORMALS[sb]
    pa, pb = _side_point(a, sa, fa), _side_point(b, sb, fb)
    start = (pa[0] + na[0] * _CLEARANCE, pa[1] + na[1] * _CLEARANCE)
    end = (pb[0] + nb[0] * _CLEARANCE, pb[1] + nb[1] * _CLEARANCE)
    dx, dy = end[0] - start[0], end[1] - start[1]
    dist = math.hypot(dx, dy)
    facing = dx * na[0] + dy * na[1] > 8 and -(dx * nb[0] + dy * nb[1]) > 8
    reach = min(max(16.0, 0.4 * dist), 140.0) if facing else min(max(32.0, 0.5 * dist), 200.0)
    c1 = (start[0] + na[0] * reach, start[1] + na[1] * reach)
    c2 = (end[0] + nb[0] * reach, end[1] + nb[1] * reach)
    return Route(start, c1, c2, end)


def _box(points: list[Point]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def _hits(points: list[Point], rects: list[Rect]) -> int:
    inner = points[1:-1]
    box = _box(inner)
    count = 0
    for r in rects:
        x0, y0, x1, y1 = r.x - 2, r.y - 2, r.right + 2, r.bottom + 2
        if _overlap(box, (x0, y0, x1, y1)) and any(x0 < x < x1 and y0 < y < y1 for x, y in inner):
            count += 1
    return count


def _segments_cross(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    def orient(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


Box = tuple[float, float, float, float]
Segment = tuple[Box, Point, Point]
Polyline = tuple[Box, list[Segment]]


def _polyline(points: list[Point]) -> Polyline:
    """Points as segments with their bounding boxes, for fast crossing tests."""
    segs = [(_box([p, q]), p, q) for p, q in zip(points, points[1:], strict=False)]
    return _box(points), segs


def _crossings(points: list[Point], others: list[Polyline]) -> int:
    mine = _polyline(points[:: _SAMPLES // 16])
    count = 0
    for box, segs in others:
        if not _overlap(mine[0], box):
            continue
        for sbox, p1, p2 in mine[1]:
            for obox, q1, q2 in segs:
                if _overlap(sbox, obox) and _segments_cross(p1, p2, q1, q2):
                    count += 1
    return count


def _inside(point: Point, rect: Rect) -> bool:
    return rect.x < point[0] < rect.right and rect.y < point[1] < rect.bottom


def _encloses(frame: Rect, rect: Rect) -> bool:
    return (frame.x <= rect.x and rect.right <= frame.right
            and frame.y <= rect.y and rect.bottom <= frame.bottom)


def extra_frame_crossings(points: list[Point], frames: list[Rect], a: Rect, b: Rect) -> int:
    """How many more times the curve from ``a`` to ``b`` crosses the group frames than it
    must: once for a frame around one end only, never for one around both or neither. A
    frame counts :data:`_FRAME_MARGIN` wider, so a curve that grazes its corner (and would
    after the ends are spread along their sides) counts too."""
    extra = 0
    for frame in frames:
        grown = Rect(frame.x - _FRAME_MARGIN, frame.y - _FRAME_MARGIN,
                     frame.w + 2 * _FRAME_MARGIN, frame.h + 2 * _FRAME_MARGIN)
        inside = [_inside(p, grown) for p in points]
        crossings = sum(x != y for x, y in zip(inside, inside[1:], strict=False))
        extra += max(0, crossings - (_encloses(frame, a) != _encloses(frame, b)))
    return extra


def _cost(route: Route, sa: str, sb: str, obstacles: list[Rect], others: list[Polyline],
          frames: tuple[list[Rect], Rect, Rect] | None = None) -> float:
    """``frames``: the group frames, and the two ends' shapes."""
    na, nb = NORMALS[sa], NORMALS[sb]
    dx, dy = route.end[0] - route.start[0], route.end[1] - route.start[1]
    dist = math.hypot(dx, dy) or 1.0
    cos_a = (dx * na[0] + dy * na[1]) / dist
    cos_b = -(dx * nb[0] + dy * nb[1]) / dist
    points = route.polyline()
    return (
        dist * (3 - cos_a - cos_b)
        + _HIT * _hits(points, obstacles)
        + _CROSS * _crossings(points, others)
        + (_FRAME * extra_frame_crossings(points, *frames) if frames else 0.0)
    )


def choose_sides(
    a: Anchor, b: Anchor, obstacles: list[Rect], others: list[Polyline],
    frames: list[Rect] | None = None,
) -> tuple[str, str]:
    """The cheapest pair of sides (source side, target side)."""
    best: tuple[float, str, str] | None = None
    for sa in a.sides:
        for sb in b.sides:
            route = curve(a.rect, sa, 0.5, b.rect, sb, 0.5)
            cost = _cost(route, sa, sb, obstacles, others,
                         (frames, a.rect, b.rect) if frames else None)
            if best is None or cost < best[0]:
                best = (cost, sa, sb)
    assert best is not None
    return best[1], best[2]


def route_all(pairs: list[tuple[Anchor, Anchor]], obstacles: list[Rect],
              frames: list[Rect] | None = None) -> list[Route]:
    """Route every (source, target) pair (``frames``: the group frames, crossed no more
    than needed).

    A first pass ignores the other arrows; the second avoids crossing the first pass's
    curves. Arrows that share a side are then spread along it, ordered by where their
    other end lies so that they do not cross each other.
    """
    first = [choose_sides(a, b, obstacles, [], frames) for a, b in pairs]
    drafts = [
        _polyline(curve(a.rect, sa, 0.5, b.rect, sb, 0.5).polyline()[:: _SAMPLES // 16])
        for (a, b), (sa, sb) in zip(pairs, first, strict=True)
    ]
    sides = [
        choose_sides(a, b, obstacles, drafts[:i] + drafts[i + 1 :], frames)
        for i, (a, b) in enumerate(pairs)
    ]
    users: dict[tuple[int, str], list[tuple[float, int, int]]] = {}
    for i, ((a, b), (sa, sb)) in enumerate(zip(pairs, sides, strict=True)):
        for end, anchor, side, other in ((0, a, sa, b), (1, b, sb, a)):
            r = other.rect
            along = r.x + r.w / 2 if side in ("top", "bottom") else r.y + r.h / 2
            users.setdefault((id(anchor.rect), side), []).append((along, i, end))
    place: dict[tuple[int, int], float] = {}
    for entries in users.values():
        entries.sort()
        for k, (_, i, end) in enumerate(entries):
            place[(i, end)] = (k + 1) / (len(entries) + 1)
    return [
        curve(a.rect, sa, place[(i, 0)], b.rect, sb, place[(i, 1)])
        for i, ((a, b), (sa, sb)) in enumerate(zip(pairs, sides, strict=True))
    ]
