"""The render targets, in the order they run. Each is a module satisfying ``base.Target``;
adding one is a module, its templates, and a line here."""

from generator.rendering.targets import (
    argocd,
    consul,
    flux,
    gateway,
    jenkins,
    kubernetes,
    monitoring,
)
from generator.rendering.targets.base import Target

ALL_TARGETS: tuple[Target, ...] = (kubernetes, gateway, monitoring, jenkins, consul, flux, argocd)
