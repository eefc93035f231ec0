"""The report's sections, one module each: a small function per table or block, from the
trial's results (``trialreport.report.results.Results``) to Markdown."""
