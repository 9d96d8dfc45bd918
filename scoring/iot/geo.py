"""Geofences and distances on the Earth, in whole millimetres.

A fence is a circle (centre and radius) or a simple polygon (at least three vertices). The
distance of a fix outside a fence is 0 inside or on the edge, else the shortest distance to
the fence: great-circle for a circle, to the nearest edge in a local equirectangular
projection for a polygon (exact to well under a metre for fences of a few kilometres).
Results are rounded to whole millimetres, so threshold comparisons are integer ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scoring.errors import ScoringValueError

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
E7 = 10_000_000


@dataclass(frozen=True)
class Circle:
    lat_e7: int
    lon_e7: int
    radius_m: int

    def __post_init__(self) -> None:
        _check_position(self.lat_e7, self.lon_e7)
        if self.radius_m <= 0:
            raise ScoringValueError(f"a circular fence needs a positive radius, got {self.radius_m}")

    @property
    def centre(self) -> tuple[int, int]:
        return self.lat_e7, self.lon_e7


@dataclass(frozen=True)
class Polygon:
    vertices: tuple[tuple[int, int], ...]  # (lat_e7, lon_e7), not closed (last != first)

    def __post_init__(self) -> None:
        if len(self.vertices) < 3:
            raise ScoringValueError(f"a polygon fence needs at least 3 vertices, got {len(self.vertices)}")
        for lat, lon in self.vertices:
            _check_position(lat, lon)

    @property
    def centre(self) -> tuple[int, int]:
        """The vertices' mean: a home point for stationary assets inside a small fence."""
        n = len(self.vertices)
        return round(sum(v[0] for v in self.vertices) / n), round(sum(v[1] for v in self.vertices) / n)


Fence = Circle | Polygon


def _check_position(lat_e7: int, lon_e7: int) -> None:
    if not (isinstance(lat_e7, int) and isinstance(lon_e7, int)):
        raise ScoringValueError("positions are integers, degrees x 1e7")
    if not (-90 * E7 <= lat_e7 <= 90 * E7 and -180 * E7 <= lon_e7 <= 180 * E7):
        raise ScoringValueError(f"({lat_e7}, {lon_e7}) is not a position in degrees x 1e7")


def fence_from_dict(data: Mapping[str, Any]) -> Fence:
    """``{"circle": {"lat_e7", "lon_e7", "radius_m"}}`` or ``{"polygon": [[lat_e7, lon_e7], ...]}``."""
    if "circle" in data:
        c = data["circle"]
        return Circle(int(c["lat_e7"]), int(c["lon_e7"]), int(c["radius_m"]))
    if "polygon" in data:
        vertices = tuple((int(lat), int(lon)) for lat, lon in data["polygon"])
        if len(vertices) > 3 and vertices[0] == vertices[-1]:
            vertices = vertices[:-1]
        return Polygon(vertices)
    raise ScoringValueError("a fence is {'circle': {...}} or {'polygon': [[lat_e7, lon_e7], ...]}")


def fence_to_dict(fence: Fence) -> dict:
    if isinstance(fence, Circle):
        return {"circle": {"lat_e7": fence.lat_e7, "lon_e7": fence.lon_e7, "radius_m": fence.radius_m}}
    return {"polygon": [list(v) for v in fence.vertices]}


def distance_mm(lat1_e7: int, lon1_e7: int, lat2_e7: int, lon2_e7: int) -> int:
    """Great-circle (haversine) distance between two positions, in millimetres."""
    p1, p2 = math.radians(lat1_e7 / E7), math.radians(lat2_e7 / E7)
    dp, dl = p2 - p1, math.radians((lon2_e7 - lon1_e7) / E7)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h))) * 1000)


def outside_mm(fence: Fence, lat_e7: int, lon_e7: int) -> int:
    """How far outside ``fence`` the position is, in millimetres; 0 inside or on the edge."""
    if isinstance(fence, Circle):
        return max(0, distance_mm(fence.lat_e7, fence.lon_e7, lat_e7, lon_e7) - fence.radius_m * 1000)
    points = [_project(lat_e7, lon_e7, v) for v in fence.vertices]  # the fix is the origin
    if _contains_origin(points):
        return 0
    edges = zip(points, points[1:] + points[:1])
    return round(min(_origin_to_segment(a, b) for a, b in edges) * 1000)


def _project(lat0_e7: int, lon0_e7: int, vertex: Sequence[int]) -> tuple[float, float]:
    """``vertex`` in metres east and north of (lat0, lon0), equirectangular."""
    lat0 = math.radians(lat0_e7 / E7)
    x = math.radians((vertex[1] - lon0_e7) / E7) * math.cos(lat0) * EARTH_RADIUS_M
    y = math.radians((vertex[0] - lat0_e7) / E7) * EARTH_RADIUS_M
    return x, y


def _contains_origin(points: Sequence[tuple[float, float]]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(points, list(points[1:]) + [points[0]]):
        if _origin_to_segment((x1, y1), (x2, y2)) < 1e-6:
            return True  # on the edge counts as inside
        if (y1 > 0) != (y2 > 0) and 0 < x1 + (0 - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _origin_to_segment(a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy)
