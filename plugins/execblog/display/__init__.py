"""From a fence's values to HTML: the worker captures, the host renders.

Worker side: ``protocol`` (the session names ``xp``/``backend`` and IPython's display
protocol), ``mpl`` (every matplotlib figure a fence leaves open), ``after_import`` (patches
pyplot and IPython when a fence imports them). Host side: ``html``, one renderer per mime
type, captured text always escaped.
"""
