"""Coordinate checks (0/0, WGS-84, Shandong, community boundary) and whole-community records."""

from __future__ import annotations

import math

import pytest

from inventory.records import (
    CameraRecord,
    Circle,
    Polygon,
    boundary_from_json,
    check_coordinates,
    check_records,
    distance_m,
    point_in_polygon,
)

CENTRE = (117.0012, 36.6512)
CIRCLE = Circle(CENTRE, 800)
# A square of about 900 m x 1100 m around the centre.
SQUARE = Polygon(((116.996, 36.646), (117.006, 36.646), (117.006, 36.656), (116.996, 36.656)))


def test_haversine_distance_matches_known_values() -> None:
    # One degree of latitude is about 111.2 km anywhere.
    assert distance_m((117.0, 36.0), (117.0, 37.0)) == pytest.approx(111_195, rel=1e-3)
    # One degree of longitude at 36.65 N is cos(36.65) of that.
    assert distance_m((117.0, 36.65), (118.0, 36.65)) == pytest.approx(
        111_195 * math.cos(math.radians(36.65)), rel=2e-3)
    assert distance_m(CENTRE, CENTRE) == 0


def test_point_in_polygon_counts_edges_as_inside() -> None:
    assert point_in_polygon((117.0, 36.65), SQUARE.points)
    assert point_in_polygon((116.996, 36.65), SQUARE.points)  # on the west edge
    assert point_in_polygon((117.006, 36.656), SQUARE.points)  # a vertex
    assert not point_in_polygon((117.007, 36.65), SQUARE.points)
    # A concave ring (an L): the notch is outside.
    ell = ((0.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 2.0), (0.0, 2.0))
    assert point_in_polygon((0.5, 1.5), ell) and not point_in_polygon((1.5, 1.5), ell)


@pytest.mark.parametrize(("lon", "lat", "boundary", "expected"), [
    (117.0011, 36.6515, CIRCLE, []),
    (117.0011, 36.6515, SQUARE, []),
    (117.0011, 36.6515, None, []),
    (None, None, CIRCLE, ["longitude: missing; give WGS-84 decimal degrees, e.g. 117.0011",
                          "latitude: missing; give WGS-84 decimal degrees, e.g. 36.6515"]),
    (117.0011, None, CIRCLE, ["latitude: missing; give WGS-84 decimal degrees, e.g. 36.6515"]),
    (math.nan, 36.65, CIRCLE, ["longitude: nan is not a number"]),
    (0.0, 0.0, CIRCLE, ["longitude/latitude: 0, 0 is a placeholder, not a position; survey "
                        "the camera and enter its WGS-84 coordinates"]),
    (36.6515, 117.0011, CIRCLE, ["longitude/latitude: (36.6515, 117.0011) is not a WGS-84 "
                                 "position (latitude -90..90, longitude -180..180); longitude "
                                 "and latitude look swapped"]),
    (200.0, 36.0, CIRCLE, ["longitude/latitude: (200, 36) is not a WGS-84 position (latitude "
                           "-90..90, longitude -180..180)"]),
    (116.4074, 39.9042, CIRCLE, ["latitude: 39.9042 is outside Shandong (N 34.38–38.40)"]),
    (113.6, 34.75, CIRCLE, ["longitude: 113.6 is outside Shandong (E 114.79–122.71)"]),
    (126.53, 33.5, CIRCLE, ["latitude: 33.5 is outside Shandong (N 34.38–38.40)",
                            "longitude: 126.53 is outside Shandong (E 114.79–122.71)"]),
    (117.1, 36.6512, CIRCLE, ["longitude/latitude: (117.1, 36.6512) is 8814 m from the "
                              "community centre (117.0012, 36.6512), beyond the 800 m boundary "
                              "radius"]),
    (117.0012, 36.6600, CIRCLE, ["longitude/latitude: (117.0012, 36.66) is 979 m from the "
                                 "community centre (117.0012, 36.6512), beyond the 800 m "
                                 "boundary radius"]),
    (117.007, 36.65, SQUARE, ["longitude/latitude: (117.007, 36.65) is outside the community "
                              "boundary polygon (4 points)"]),
])
def test_coordinate_problems_name_the_field(lon: float | None, lat: float | None,
                                            boundary: Circle | Polygon | None,
                                            expected: list[str]) -> None:
    assert check_coordinates(lon, lat, boundary) == expected


def test_a_camera_just_inside_the_radius_passes() -> None:
    # 0.0071 degrees of latitude is about 790 m.
    assert check_coordinates(117.0012, 36.6583, CIRCLE) == []


def test_boundaries_round_trip_through_json() -> None:
    assert boundary_from_json(CIRCLE.to_json()) == CIRCLE
    assert boundary_from_json(SQUARE.to_json()) == SQUARE
    assert boundary_from_json(None) is None


def test_check_records_runs_every_check_for_every_camera() -> None:
    cams = [
        CameraRecord("cam-a", "37010200001320000001", "北苑北门入口", "370102", 117.0011, 36.6515),
        CameraRecord("cam-b", "37010200001320000001", "IPCamera", "370102", 117.0011, 36.6515),
        CameraRecord("cam-c", "37010200001180000003", "南门", "370103", 0.0, 0.0),
        CameraRecord("cam-d"),
    ]
    verdicts = {v.camera: v for v in check_records(cams, "370102", CIRCLE)}
    assert [v for v in verdicts] == ["cam-a", "cam-b", "cam-c", "cam-d"]
    a = verdicts["cam-a"]
    assert a.failed_checks == ("code",) and not a.passed
    assert a.problems["code"] == ("code: 37010200001320000001 is also used by cam-b; codes must "
                                  "be unique in the community",)
    assert verdicts["cam-b"].failed_checks == ("code", "name")
    c = verdicts["cam-c"]
    assert c.failed_checks == ("code", "civil_code", "coordinates")
    assert c.problems["civil_code"] == ("civil_code: 370103 differs from digits 1-6 of the code "
                                        "(370102); they must be equal",)
    assert verdicts["cam-d"].failed_checks == ("code", "civil_code", "name", "coordinates")
    assert all(v.notes == () for v in verdicts.values())


def test_without_a_boundary_the_community_test_is_skipped_and_said_so() -> None:
    cam = CameraRecord("cam-a", "37010200001320000001", "北苑北门入口", "370102", 117.5, 36.9)
    [verdict] = check_records([cam], "370102", None)
    assert verdict.passed
    assert verdict.notes == ("coordinates: the inventory declares no community boundary, so "
                             "whether the camera is inside the community was not checked; add "
                             "community.boundary",)
