"""Render targets, in the order they run. Each is a module satisfying targets.base.Target."""

from generator.targets import consul, gateway, jenkins, kubernetes
from generator.targets.base import Target

ALL_TARGETS: tuple[Target, ...] = (kubernetes, gateway, jenkins, consul)
