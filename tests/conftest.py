"""Test configuration: the pytester fixture drives the plugin end to end."""

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

# These 2-core machines are shared: a property test's example can take 200 ms when other
# work runs beside it. Hypothesis' per-example deadline and slow-data health check time
# the machine, not the code, so both are off; the properties themselves still decide.
settings.register_profile(
    "shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("shared-machine")
