"""IoT collateral analytics: warning rules over telemetry windows, residual values, disposal plans."""
