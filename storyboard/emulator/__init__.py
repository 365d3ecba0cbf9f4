"""A local emulator of Runware's REST API that makes real, playable placeholder clips."""

from .server import Emulator, EmulatorConfig, Fault

__all__ = ["Emulator", "EmulatorConfig", "Fault"]
