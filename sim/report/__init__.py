"""The self-contained HTML report; reads only the results store."""
