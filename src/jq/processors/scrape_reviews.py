"""The `scrape-reviews` task type (being built; see issue 3)."""
