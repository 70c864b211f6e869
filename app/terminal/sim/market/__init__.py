"""The simulated market: a seeded price model, bar series for every timeframe, scripted prices and snapshots."""
