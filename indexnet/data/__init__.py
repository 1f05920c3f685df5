"""Data and training tasks: :mod:`~indexnet.data.datasets`, :mod:`~indexnet.data.tasks`
(``indexnet train``) and :mod:`~indexnet.data.display` (UFLDL's ``display_network``)."""
