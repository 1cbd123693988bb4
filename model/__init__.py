"""CA-SUM: network, configuration, data loading and training."""
