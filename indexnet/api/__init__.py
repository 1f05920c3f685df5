"""What a user calls: :mod:`~indexnet.api.network`, :mod:`~indexnet.api.train`,
:mod:`~indexnet.api.gradcheck`, :mod:`~indexnet.api.saving`, :mod:`~indexnet.api.sklearn`, and
the benchmark of ``indexnet bench`` (:mod:`~indexnet.api.bench`)."""
