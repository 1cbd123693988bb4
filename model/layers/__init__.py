"""The CA-SUM network: the concentrated attention block and the summarizer around it."""
