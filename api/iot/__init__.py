"""The IoT collateral service: signed device events, warnings, freezes, anchoring (DESIGN step 9)."""
