"""Reports: sex-disaggregated statistics, plan vs actual, learning, exports and the statistics API."""
