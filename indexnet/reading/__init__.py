"""Reading the kernels beside the math: ``indexnet show`` and the kernels page
(:mod:`~indexnet.reading.showcase`), ``indexnet explain`` (:mod:`~indexnet.reading.explain` and
its renderers) and the symbolic checks (:mod:`~indexnet.reading.symbolic`)."""
