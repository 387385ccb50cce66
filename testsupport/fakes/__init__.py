"""Loopback stand-ins for systems that cannot run here, speaking their real APIs' shapes."""
