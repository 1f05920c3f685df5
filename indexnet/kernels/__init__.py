r"""What a learner opens: the equations of UFLDL's backpropagation, one plain loop each.

- :mod:`~indexnet.kernels.loops`: one function per equation, its loops over the equation's own
  subscripts, each term under its ``$...$`` comment; then the composites that sequence them
  (forward, backward, a gradient step, whole training loops).
- :mod:`~indexnet.kernels.activations`: :math:`f` and :math:`f'`, written to stay finite.
- :mod:`~indexnet.kernels.layout`: the flat parameter vector :math:`\theta` and its views.

Import them from the stable public modules :mod:`indexnet.loops`, :mod:`indexnet.activations`
and :mod:`indexnet.layout`.
"""
