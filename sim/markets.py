"""Market tags of flows: who the trains serve.

Corridor KPIs count the China–EU market; flows of any other market (``other``, and later
``belarus_china`` …) load the nodes and links they use and show in node KPIs.
"""

MARKET_CHINA_EU = "china_eu"
