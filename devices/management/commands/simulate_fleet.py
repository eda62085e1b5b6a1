"""python manage.py simulate_fleet: serve a fleet of simulated AURA inverters on 127.0.0.1."""

import asyncio
import random
from datetime import datetime

from asgiref.sync import sync_to_async
from django.core.management.base import BaseCommand

from devices.models import Datalogger, Protocol, Reach
from devices.simulator import FleetSimulator, SimulatedInverter
from plants.models import BATTERY_USABLE_KWH, SystemType


class Command(BaseCommand):
    help = (
        "Serve simulated AURA inverters behind simulated dataloggers: Solarman V5 sticks on one port "
        "(told apart by serial number) and Modbus TCP devices by port and unit id. With --from-db, "
        "every datalogger of the database whose host is 127.0.0.1 or localhost is served with its "
        "plant's kWp, battery and time zone; with --count, that many synthetic V5 loggers are added "
        "(serials from --first-serial). Runs until interrupted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from-db", action="store_true", help="serve the database's local dataloggers")
        parser.add_argument("--count", type=int, default=0, help="add N synthetic V5 loggers")
        parser.add_argument(
            "--first-serial",
            type=int,
            default=3000000000,
            help="serial of the first synthetic logger (default 3000000000)",
        )
        parser.add_argument("--v5-port", type=int, default=8899, help="Solarman V5 port (default 8899)")
        parser.add_argument(
            "--tcp-port",
            type=int,
            action="append",
            default=None,
            help="Modbus TCP port(s) (default 1502, plus those of --from-db loggers)",
        )
        parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
        parser.add_argument(
            "--clock",
            type=datetime.fromisoformat,
            metavar="ISO_TIME",
            help="a fixed moment for every device (ISO 8601 with offset), e.g. local noon for a benchmark",
        )
        parser.add_argument(
            "--accept-any-serial",
            action="store_true",
            help="answer any V5 serial with a new simulated inverter (demo commissioning)",
        )
        parser.add_argument(
            "--call-in",
            metavar="HOST:PORT[,HOST:PORT…]",
            help="make the 'calls in' loggers of --from-db (or the --count sticks) call this logger hub "
            "in; with several hubs, the sticks are spread over them and each goes to the next after a "
            "drop, as through a TCP load balancer",
        )
        parser.add_argument(
            "--remote-control-off",
            action="append",
            default=[],
            metavar="SN",
            help="the inverter behind this logger has remote control off on its screen (the others on)",
        )
        parser.add_argument(
            "--always-awake",
            action="store_true",
            help="inverters never sleep at night (a demo shows remote writes at any hour; real ones "
            "sleep once their battery reaches its reserve)",
        )
        parser.add_argument(
            "--chaos",
            type=float,
            default=0.0,
            metavar="P",
            help="each minute, each inverter raises or clears a random W/F code with "
            "probability P (demo alarms)",
        )

    def handle(self, *args, **opts):
        self.callers = []
        self.opts = opts
        fixed = opts["clock"]
        clock = (lambda: fixed) if fixed else None
        sim = FleetSimulator(accept_any_serial=opts["accept_any_serial"], clock=clock)
        tcp_ports = set(opts["tcp_port"] or [1502])
        if opts["from_db"]:
            loggers = (
                Datalogger.objects.active()
                .filter(host__in=["127.0.0.1", "localhost"])
                .select_related("plant")
            )
            for logger in _calling_in():
                self.callers.append(sim.add_v5(self._device(logger)))
            for logger in loggers:
                device = self._device(logger)
                if logger.protocol == Protocol.SOLARMAN_V5:
                    sim.add_v5(device)
                else:
                    tcp_ports.add(logger.port)
                    sim.add_tcp(device, logger.port)
        for i in range(opts["count"]):
            serial = opts["first_serial"] + i
            device = sim.add_v5(SimulatedInverter(serial, f"AU{serial}", latency=opts["latency"]))
            if opts["call_in"] and not opts["from_db"]:
                self.callers.append(device)  # synthetic sticks call in too (the hub benchmark)
        asyncio.run(self._serve(sim, opts, sorted(tcp_ports)))

    def _device(self, logger):
        device = device_for(logger, self.opts["latency"], self.opts["remote_control_off"])
        device.sleeps_at_night = not self.opts["always_awake"]
        return device

    @property
    def hubs(self):
        """The --call-in addresses: [(host, port)]."""
        return [
            (host, int(port))
            for host, _c, port in (a.rpartition(":") for a in self.opts["call_in"].split(","))
        ]

    async def _serve(self, sim, opts, tcp_ports):
        await sim.start(v5_port=opts["v5_port"], tcp_ports=tcp_ports)
        calls = {}  # logger serial → its call-in task
        if opts["call_in"] and self.callers:
            tasks = await sim.call_in(*self.hubs[0], self.callers, others=self.hubs[1:])
            calls = {device.logger_serial: task for device, task in zip(self.callers, tasks, strict=True)}
            self.stdout.write(f"{len(self.callers)} sticks call in to the hub at {opts['call_in']}.")
        self.stdout.write(
            f"Serving {len(sim.v5_devices)} V5 loggers on 127.0.0.1:{sim.v5_port} and "
            f"{len(sim.tcp_devices)} Modbus TCP devices on ports {sim.tcp_ports}."
        )
        try:
            chaos_at = asyncio.get_running_loop().time()
            while True:
                await asyncio.sleep(FOLLOW_SECONDS)
                if opts["from_db"] and opts["call_in"]:
                    await self._follow_database(sim, calls)
                if opts["chaos"] and asyncio.get_running_loop().time() - chaos_at >= 60:
                    chaos_at = asyncio.get_running_loop().time()
                    _chaos(sim, opts["chaos"])
        finally:
            await sim.stop()

    async def _follow_database(self, sim, calls):
        """A stick added in the portal (its Server B set) calls in within seconds; one removed hangs
        up, as a real stick does once set up or unplugged."""
        wanted = {int(logger.serial_number): logger for logger in await sync_to_async(list)(_calling_in())}
        for serial in wanted.keys() - calls.keys():
            device = sim.v5_devices.get(serial) or sim.add_v5(self._device(wanted[serial]))
            (calls[serial],) = await sim.call_in(*self.hubs[0], [device], others=self.hubs[1:])
            self.stdout.write(f"Stick {serial} calls in (added in the portal).")
        for serial in calls.keys() - wanted.keys():
            calls.pop(serial).cancel()
            self.stdout.write(f"Stick {serial} hangs up (removed in the portal).")


# How a retrofit plant's declared kWp splits between AURA's PV inputs and the existing PV inverter on
# the AC side (a demo assumption: the portal does not record the existing inverter's size).
AC_SHARE = {
    SystemType.AC: 1.0,
    SystemType.AC_BACKUP: 1.0,
    SystemType.DC_AC: 0.5,
    SystemType.DC_AC_BACKUP: 0.5,
}


# How often the simulator looks at the database for sticks added or removed in the portal.
FOLLOW_SECONDS = 3


def _calling_in():
    return Datalogger.objects.active().filter(reach=Reach.HUB).select_related("plant")


def device_for(logger, latency, remote_control_off=()):
    plant = logger.plant
    kwp = float(plant.pv_power_kwp)
    ac_share = AC_SHARE.get(plant.system_type, 0.0)
    return SimulatedInverter(
        int(logger.serial_number),
        f"AU{logger.serial_number}",
        kwp=kwp * (1 - ac_share),
        ac_pv_kwp=kwp * ac_share,
        battery_kwh=float(BATTERY_USABLE_KWH.get(plant.battery_model, 10)),
        tz=plant.time_zone,
        latitude=plant.coordinates[0],
        longitude=plant.coordinates[1],
        unit_id=logger.unit_id,
        latency=latency,
        # Set on the inverter's screen (CONTRÔLE À DISTANCE); the demo leaves one off to show the
        # refusal and the guide's instruction.
        remote_control=logger.serial_number not in remote_control_off,
    )


def _chaos(sim, probability):
    """Demo alarms: now and then a code rises on a random inverter, and later clears."""
    for device in [*sim.v5_devices.values(), *sim.tcp_devices.values()]:
        if random.random() >= probability:
            continue
        if device.warning_bits or device.fault_bits:
            device.raise_codes()
        elif random.random() < 0.7:
            device.raise_codes(random.choice(["W00", "W07", "W12", "W20", "W28"]))
        else:
            device.raise_codes(random.choice(["F07", "F12", "F13"]))
