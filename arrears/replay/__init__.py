"""Time (SPEC 9): backtests of a policy over a ledger, forecasts of the coming days, recorded history.

Below the command line and the service, above the engine: a ledger is read with the
snapshot readers, typed once, and replayed day by day with the row engine.
"""
