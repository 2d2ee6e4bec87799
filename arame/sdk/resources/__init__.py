"""One small manager class per API resource."""
