"""`scg inventory import|import-cameras|check|gb26875-devices`: the community register.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from scg.commands.common import (
    CommandError,
    connect,
    database_arg,
    database_url,
    guarded,
    require_migrated,
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    inv = sub.add_parser("inventory", help="the community register (devices, compounds, …)",
                         description="Validate and import a community's inventory YAML.")
    vsub = inv.add_subparsers(dest="inventory_command", metavar="COMMAND", required=True)
    imp = vsub.add_parser(
        "import", help="validate FILE and replace that community's register with it",
        description="Validate FILE, then replace the community's compounds, buildings, "
                    "devices, residents and device credentials in one transaction. Telemetry "
                    "history is kept. Residents and credentials are stored SM4-GCM sealed "
                    "under the key file (`scg keys init`); FILE is then the only plain copy: "
                    "keep it secret or delete it.")
    database_arg(imp)
    imp.add_argument("--key-file", default=os.environ.get("SCG_DATA_KEY_FILE"), metavar="PATH",
                     help="the key file sealing residents and device credentials (env "
                          "SCG_DATA_KEY_FILE); needed when FILE holds them")
    imp.add_argument("file", metavar="FILE", help="inventory YAML")
    imp.set_defaults(func=_inventory_import)
    cams = vsub.add_parser(
        "import-cameras", help="add or update cameras from a camera sheet (一机一档, CSV/XLSX)",
        description="Read the one-camera-one-record sheet a video platform exports (CSV or "
                    "XLSX; columns code, name, civil code, longitude, latitude, position type, "
                    "key-position id, public flag, compound, or their Chinese headers "
                    "设备编码/国标编码, 设备名称/点位名称, 行政区划, 经度, 纬度, 点位类型, "
                    "重点点位, 是否公共, 小区) "
                    "and upsert its cameras into community ID, which must already be imported. "
                    "Rows that cannot be used are reported by line number and skipped; the "
                    "others are imported even when their record is not compliant (compliance "
                    "is measured, see /api/communities/ID/cameras/records). Exit status 1 "
                    "when some rows were refused.")
    database_arg(cams)
    cams.add_argument("file", metavar="FILE", help="camera sheet, .csv or .xlsx")
    cams.add_argument("--community", required=True, metavar="ID",
                      help="the community the cameras belong to")
    cams.add_argument("--gateway", metavar="GW",
                      help="the gateway that probes these cameras (sets protocol onvif); "
                           "without it, new cameras are registered but not monitored")
    cams.add_argument("--replace", action="store_true",
                      help="also remove cameras imported from earlier sheets that this sheet "
                           "no longer lists")
    cams.set_defaults(func=_inventory_import_cameras)
    chk = vsub.add_parser("check", help="validate FILE without touching a database",
                          description="Validate FILE and print what it registers.")
    chk.add_argument("file", metavar="FILE", help="inventory YAML")
    chk.set_defaults(func=_inventory_check)
    gb = vsub.add_parser(
        "gb26875-devices", help="write a gateway's GB 26875 devices (with the zones' site "
                                "map) from FILE",
        description="Print the `devices:` rows of gateway GW's config for its GB 26875 "
                    "transmission devices and the fire panels behind them, zones mapped to "
                    "loops and points as the inventory's zones say (loop, points), so the "
                    "site map is typed once. Paste them under the gateway config's devices "
                    "(and set drivers.gb26875.listen).")
    gb.add_argument("file", metavar="FILE", help="inventory YAML")
    gb.add_argument("--gateway", required=True, metavar="GW", help="the gateway's id")
    gb.add_argument("--period", default="30s", metavar="DURATION",
                    help="the transmission devices' heartbeat (default 30s)")
    gb.set_defaults(func=_inventory_gb26875_devices)


def _load(args: argparse.Namespace) -> Any:
    from inventory import InventoryError, load_inventory

    try:
        return load_inventory(args.file)
    except InventoryError as exc:
        raise CommandError(str(exc)) from None


def _inventory_import(args: argparse.Namespace) -> int:
    async def body() -> int:
        from inventory import import_inventory

        inventory = _load(args)
        keys = _keys(args, inventory)
        url = database_url(args)
        conn = await connect(url)
        try:
            await require_migrated(conn)
            s = await import_inventory(conn, inventory, keys)
        finally:
            await conn.close()
        extra = f", {s.key_positions} key positions" if s.key_positions else ""
        kept = (f"; kept {s.kept_sheet_cameras} cameras imported from a camera sheet"
                if s.kept_sheet_cameras else "")
        print(f"imported community {s.community} from {args.file}: {s.compounds} compounds, "
              f"{s.buildings} buildings, {s.devices} devices{extra}{kept}")
        if s.residents or s.credentials:
            print(f"sealed {s.residents} residents and {s.credentials} device credentials "
                  f"under key {keys.current if keys else '?'}; {args.file} is their only plain "
                  "copy: keep it where only you can read it, or delete it")
        return 0

    return guarded(args, body)


def _keys(args: argparse.Namespace, inventory: Any) -> Any:
    """The key ring of --key-file / SCG_DATA_KEY_FILE (None without one); CommandError when
    it cannot be used, or when the inventory holds personal data and no key file is given."""
    from inventory.keyfile import KeyFileError, load_key_file
    from inventory.personal_store import NoDataKey, require_key

    ring = None
    if args.key_file:
        try:
            ring = load_key_file(Path(args.key_file).expanduser())
        except KeyFileError as exc:
            raise CommandError(str(exc)) from None
    try:
        require_key(inventory, ring)
    except NoDataKey as exc:
        raise CommandError(str(exc)) from None
    return ring


def _inventory_import_cameras(args: argparse.Namespace) -> int:
    async def body() -> int:
        from inventory.sheet import SheetError
        from inventory.sheet_store import CommunityMissing, import_camera_sheet
        from telemetry.topics import TopicError, check_id

        if args.gateway is not None:
            try:
                check_id(args.gateway, "gateway")
            except TopicError as exc:
                raise CommandError(f"--gateway: {exc}") from None
        url = database_url(args)
        conn = await connect(url)
        try:
            await require_migrated(conn)
            s = await import_camera_sheet(conn, args.community, Path(args.file),
                                          gateway=args.gateway, replace=args.replace)
        except (SheetError, CommunityMissing) as exc:
            raise CommandError(str(exc)) from None
        finally:
            await conn.close()
        removed = f", {s.removed} removed" if s.removed else ""
        print(f"imported {s.imported} cameras into community {s.community} from {args.file} "
              f"({s.added} new, {s.updated} updated{removed})")
        for line, message in s.warnings:
            print(f"  line {line}: note: {message}")
        if s.noncompliant:
            print(f"{len(s.noncompliant)} of them have a record that is not compliant "
                  f"(see /api/communities/{s.community}/cameras/records):")
            for camera, checks in s.noncompliant:
                print(f"  {camera}: {', '.join(checks)}")
        if s.refused:
            print(f"refused {len(s.refused)} row(s):", file=sys.stderr)
            for line, reason in s.refused:
                print(f"  line {line}: {reason}", file=sys.stderr)
            return 1
        return 0

    return guarded(args, body)


def _inventory_check(args: argparse.Namespace) -> int:
    async def body() -> int:
        inv = _load(args)
        kinds: dict[str, int] = {}
        for d in inv.devices:
            kinds[d.kind] = kinds.get(d.kind, 0) + 1
        listed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no devices"
        positions = f"{len(inv.key_positions)} key positions, " if inv.key_positions else ""
        print(f"{args.file}: community {inv.community.id} ({inv.community.name}), "
              f"{len(inv.compounds)} compounds, {len(inv.buildings)} buildings, {positions}"
              f"{listed}")
        if inv.has_personal_data:
            print(f"  personal data (sealed at import): {len(inv.residents)} residents, "
                  f"{len(inv.credentials)} device credentials")
        return 0

    return guarded(args, body)




def _inventory_gb26875_devices(args: argparse.Namespace) -> int:
    async def body() -> int:
        import yaml

        from inventory.gb26875 import gateway_devices

        inv = _load(args)
        rows = gateway_devices(inv, args.gateway, args.period)
        if not rows:
            raise CommandError(f"{args.file}: no gb26875 device is registered to gateway "
                               f"{args.gateway!r}")
        unmapped = [r["id"] for r in rows if r["profile"] != "transmission_device"
                    and "options" not in r]
        print(f"# gb26875 devices of gateway {args.gateway}, written from {args.file} by "
              "scg inventory gb26875-devices")
        if unmapped:
            print(f"# no zone of {', '.join(unmapped)} has a loop: their reports carry no "
                  "zone (add loop to the inventory's zones)")
        print(yaml.safe_dump({"devices": rows}, allow_unicode=True, sort_keys=False), end="")
        return 0

    return guarded(args, body)
