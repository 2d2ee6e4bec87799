"""The control-plane benchmark's parts; bench/control_plane.py runs them."""
