"""The ONVIF driver against simulated cameras whose snapshot asks for HTTP Basic or Digest:
whatever the challenge asks is answered, and only a refusal of that scheme is `auth`."""

from __future__ import annotations

import pytest
from onvif_farm import driving, eventually

from drivers.base import Outcome
from simulators.onvif import CameraSpec, Fault

pytestmark = pytest.mark.integration

SCHEMES = {"basic": "HTTP Basic", "digest": "HTTP Digest"}


async def test_a_camera_answering_basic_challenges_is_online_with_a_passing_picture() -> None:
    specs = [CameraSpec("cam-basic", snapshot_auth="basic"),
             CameraSpec("cam-digest", snapshot_auth="digest")]
    async with driving(specs, {"events": False}) as (farm, driver, sink):
        await eventually(lambda: all(len(sink.probes(s.id)) >= 3 for s in specs),
                         "three probes of each camera")
    for spec in specs:
        assert set(sink.checks(spec.id)) == {"ok"}
        assert {o.outcome for o in sink.seen(spec.id)} == {Outcome.OK}
        prober = driver.prober(spec.id)
        assert prober is not None and prober.link.login.scheme == spec.snapshot_auth
    # After the first challenge the scheme is sent up front: one request per snapshot.
    assert [farm.camera(s.id).snapshot_refusals for s in specs] == [1, 1]


@pytest.mark.parametrize("scheme", ["basic", "digest"])
async def test_a_wrong_password_is_auth_under_either_scheme(scheme: str) -> None:
    spec = CameraSpec("cam-001", snapshot_auth=scheme, faults={Fault.WRONG_PASSWORD: True})
    async with driving([spec], {"events": False}) as (farm, _driver, sink):
        await eventually(lambda: len(sink.seen("cam-001")) >= 2, "two probes")
        assert set(sink.checks("cam-001")) == {"auth"}
        assert sink.seen("cam-001")[-1].outcome is Outcome.DEGRADED
        farm.set_fault("cam-001", Fault.WRONG_PASSWORD, False)
        await eventually(lambda: sink.checks("cam-001")[-1] == "ok", "ok once it is fixed")
        # The password changed under a working session: the snapshot's own scheme refuses
        # it too, and the reason says which scheme that was.
        farm.set_fault("cam-001", Fault.WRONG_PASSWORD, True)
        await eventually(lambda: sink.checks("cam-001")[-1] == "auth", "auth again")
    reason = sink.seen("cam-001")[-1].reason
    assert reason.startswith("wrong credentials: camera answered NotAuthorized (user 'admin'), "
                             f"and its snapshot refused them under {SCHEMES[scheme]}; ")


async def test_a_camera_switching_scheme_is_followed_without_an_auth_probe() -> None:
    spec = CameraSpec("cam-001", snapshot_auth="digest")
    async with driving([spec], {"events": False}) as (farm, driver, sink):
        await eventually(lambda: len(sink.probes("cam-001")) >= 2, "two probes")
        farm.set_fault("cam-001", Fault.SNAPSHOT_AUTH, "basic")
        prober = driver.prober("cam-001")
        assert prober is not None
        await eventually(lambda: prober.link.login.scheme == "basic", "basic answered")
        count = len(sink.probes("cam-001"))
        await eventually(lambda: len(sink.probes("cam-001")) >= count + 2, "two more probes")
        farm.set_fault("cam-001", Fault.SNAPSHOT_AUTH, "digest")
        await eventually(lambda: prober.link.login.scheme == "digest", "digest again")
        count = len(sink.probes("cam-001"))
        await eventually(lambda: len(sink.probes("cam-001")) >= count + 2, "two more probes")
    assert set(sink.checks("cam-001")) == {"ok"}


async def test_a_snapshot_refused_although_onvif_accepts_names_the_scheme() -> None:
    # ONVIF and the web server keep separate user lists on many cameras: here the snapshot
    # asks for Basic and knows another password (the SOAP side still has the old one).
    spec = CameraSpec("cam-001", snapshot_auth="basic")
    async with driving([spec], {"events": False}) as (farm, _driver, sink):
        await eventually(lambda: len(sink.probes("cam-001")) >= 1, "a first probe")
        camera = farm.camera("cam-001")
        camera.basic.check = (  # type: ignore[method-assign]
            lambda authorization, *, username, password: "wrong user name or password")
        await eventually(lambda: sink.checks("cam-001")[-1] == "auth", "an auth probe")
    reason = sink.seen("cam-001")[-1].reason
    assert reason == ("wrong credentials: camera refused the snapshot with HTTP 401 under "
                      "HTTP Basic (user 'admin') although ONVIF accepted them; check "
                      "options.username/password of cam-001")
