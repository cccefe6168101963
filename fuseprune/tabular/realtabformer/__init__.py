"""REaLTabFormer models in and out: import a tabular REaLTabFormer save, export a TabularGPT back.

- :func:`import_realtabformer` (also ``TabularGPT.from_realtabformer``): a folder written by
  REaLTabFormer's ``save()`` -> a TabularGPT whose codec is an :class:`RtfCodec`;
- :func:`export_realtabformer` (also ``TabularGPT.to_realtabformer``): any TabularGPT -> a folder
  ``REaLTabFormer.load_from_dir`` loads and samples from;
- :func:`peer_python`: the side environment's Python, where REaLTabFormer itself runs.
"""

from __future__ import annotations

from fuseprune.tabular.realtabformer.codec import RtfCodec, RtfColumn
from fuseprune.tabular.realtabformer.exporter import export_realtabformer
from fuseprune.tabular.realtabformer.importer import import_realtabformer
from fuseprune.tabular.realtabformer.peer import PeerNotFoundError, peer_python

__all__ = ["PeerNotFoundError", "RtfCodec", "RtfColumn", "export_realtabformer", "import_realtabformer",
           "peer_python"]
